/* The projector never scrolls and never clips. A box inside the results that cannot hold its list
 * (a group's cards) shows what fits and "+N" for the rest; when the results are more than the
 * screen holds, their longest list is shown a page at a time, turning by itself, and the footer
 * says "Page 1 of 3". Runs after every swap of the stage and on every resize. The key P pauses
 * the turning and starts it again (WCAG 2.2.2); the up and down arrows turn one page. No inline code. */
(function () {
  "use strict";

  var state = {key: "", page: 0, pages: [], list: null, timer: null};
  var paused = false;  // the tovholder's choice: kept across swaps of the stage, until P again

  function clips(el) {
    return el.scrollHeight > el.clientHeight + 1 || el.scrollWidth > el.clientWidth + 1;
  }

  // The body, and every element inside it that hides what overflows it.
  function clippers(body) {
    var found = [body];
    var all = body.querySelectorAll("*");
    for (var i = 0; i < all.length; i++) {
      var cs = getComputedStyle(all[i]);
      if (cs.overflowY !== "visible" || cs.overflowX !== "visible") found.push(all[i]);
    }
    return found;
  }

  function anyClips(list) {
    for (var i = 0; i < list.length; i++) if (clips(list[i])) return true;
    return false;
  }

  // The list to page: the one with the most items that no inner box holds (those show "+N").
  function listToPage(body, inner) {
    var best = null, most = 1;
    var lists = body.querySelectorAll("ul, ol, tbody, [data-pageable]");
    for (var i = 0; i < lists.length; i++) {
      var l = lists[i], n = l.children.length, held = false;
      if (n <= most) continue;
      for (var j = 0; j < inner.length; j++) if (inner[j] !== l && inner[j].contains(l)) held = true;
      if (!held) { best = l; most = n; }
    }
    return best;
  }

  function hide(el, hidden) {
    el.hidden = hidden;
    if (hidden) el.setAttribute("data-fit-hidden", "");
    else el.removeAttribute("data-fit-hidden");
  }

  function showOnly(items, from, to) {
    for (var i = 0; i < items.length; i++) hide(items[i], i < from || i >= to);
  }

  function pagesOf(list, box) {
    var items = Array.prototype.slice.call(list.children), pages = [], start = 0;
    while (start < items.length) {
      var end = start + 1;
      showOnly(items, start, end);
      while (end < items.length) {
        showOnly(items, start, end + 1);
        if (anyClips(box)) break;
        end++;
      }
      pages.push([start, end]);
      start = end;
    }
    return pages;
  }

  function label(stage) {
    var el = stage.querySelector("[data-pager]");
    if (!el) return;
    if (state.pages.length < 2) { el.hidden = true; return; }
    el.hidden = false;
    var text = paused ? el.getAttribute("data-label-paused") : el.getAttribute("data-label");
    el.textContent = (text || "{num} / {total}")
      .replace("{num}", String(state.page + 1)).replace("{total}", String(state.pages.length));
  }

  function show(stage) {
    var items = state.list ? state.list.children : [];
    var p = state.pages[state.page];
    if (p) showOnly(items, p[0], p[1]);
    label(stage);
  }

  // The turning by itself: every data-turn-ms (on the pager), unless paused.
  function turn(stage) {
    if (state.timer) { clearInterval(state.timer); state.timer = null; }
    if (paused || state.pages.length < 2) return;
    var pager = stage.querySelector("[data-pager]");
    var every = parseInt(pager && pager.getAttribute("data-turn-ms"), 10) || 9000;
    state.timer = setInterval(function () {
      state.page = (state.page + 1) % state.pages.length;
      show(stage);
    }, every);
  }

  function onKey(e) {
    if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey || e.repeat) return;
    var stage = document.getElementById("stage");
    if (!stage || state.pages.length < 2) return;
    if (e.key === "p" || e.key === "P") {
      paused = !paused;
      e.preventDefault();
      later();  // measured again: the paused label may take another line
      return;
    } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      var n = state.pages.length;
      state.page = (state.page + (e.key === "ArrowDown" ? 1 : n - 1)) % n;
      show(stage);
    } else {
      return;
    }
    e.preventDefault();
    label(stage);
    turn(stage);  // a page turned by hand stays its full time
  }
  document.addEventListener("keydown", onKey);

  function largestList(el) {
    var best = null, most = 1, lists = [el].concat(Array.prototype.slice.call(el.querySelectorAll("*")))
      .filter(function (l) { return l.matches("ul, ol, tbody, [data-pageable]"); });
    for (var i = 0; i < lists.length; i++) {
      if (lists[i].children.length > most) { best = lists[i]; most = lists[i].children.length; }
    }
    return best;
  }

  // A box inside the results that clips its list keeps the items that fit, and says how many not.
  function truncate(inner) {
    var list = largestList(inner);
    if (!list) return;
    var items = list.children, shown = items.length;
    while (shown > 0 && clips(inner)) {
      shown--;
      hide(items[shown], true);
      list.setAttribute("data-more", "+" + (items.length - shown));
    }
  }

  function reset(stage) {
    var hidden = stage.querySelectorAll("[data-fit-hidden]");
    for (var i = 0; i < hidden.length; i++) hide(hidden[i], false);
    var more = stage.querySelectorAll("[data-more]");
    for (var j = 0; j < more.length; j++) more[j].removeAttribute("data-more");
  }

  function fit() {
    var stage = document.getElementById("stage");
    var body = stage && stage.querySelector(".stage__body");
    if (state.timer) { clearInterval(state.timer); state.timer = null; }
    if (!body) { if (stage && ready) stage.setAttribute("data-fitted", ""); return; }
    var key = (stage.dataset.step || "") + "|" + window.innerWidth + "x" + window.innerHeight;
    var keep = key === state.key ? state.page : 0;
    state = {key: key, page: 0, pages: [], list: null, timer: null};
    reset(stage);
    var inner = clippers(body).slice(1);
    for (var i = inner.length - 1; i >= 0; i--) if (clips(inner[i])) truncate(inner[i]);
    var box = clippers(body);
    if (anyClips(box)) {
      var list = listToPage(body, inner);
      if (list) {
        state.list = list;
        // The pager's line takes its room in the footer before the pages are measured: a label
        // that wraps after measuring would clip the last item of every page.
        state.pages = [[0, 0], [0, 0]];
        label(stage);
        state.pages = pagesOf(list, box);
        state.page = keep < state.pages.length ? keep : 0;
        show(stage);
        turn(stage);
      }
    }
    label(stage);
    if (ready) stage.setAttribute("data-fitted", "");
  }

  var ready = false;  // the fonts are in: measuring now measures what the room sees
  function later() {
    var stage = document.getElementById("stage");
    if (stage) stage.removeAttribute("data-fitted");
    window.requestAnimationFrame(fit);
  }

  document.addEventListener("htmx:after:process", later);
  window.addEventListener("resize", later);
  function go() { ready = true; later(); }
  if (document.fonts && document.fonts.ready) document.fonts.ready.then(go);
  else go();
})();
