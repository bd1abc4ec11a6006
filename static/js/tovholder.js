/* Tovholder browser glue: live screens over socket.io, keyboard, answer forms, timers.
 * Needs htmx 4 (static/vendor/htmx.min.js) and socket.io's io() (static/vendor/socket.io.min.js,
 * or on the phone our small static/js/socket.js) loaded before it; works under
 * "script-src 'self'; style-src 'self'" (no inline code, no eval). */
(function () {
  "use strict";

  var body = document.body;
  var role = body.dataset.role || "other";
  var run = body.dataset.run || "";
  var clockOffset = 0;   // server time minus local time, in ms
  var connState = null;  // "online" | "offline" once the socket has said something
  var forms = new WeakMap();  // form[data-answer] -> {key, submitter, tries, timer, inflight, netFail}
  var MAX_RETRIES = 5, RETRY_MS = 2000;

  function fail(what, err) { console.error("tovholder: " + what, err); }

  // ---- CSRF: every htmx request carries the token from <meta name="csrf-token"> ----
  // htmx 4: htmx:config:request, detail.ctx.request.headers (fires for triggers and htmx.ajax).
  document.addEventListener("htmx:config:request", function (e) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && e.detail && e.detail.ctx) e.detail.ctx.request.headers["X-CSRF-Token"] = meta.content;
  });
  // 4xx responses: htmx 4 swaps every status except htmx.config.noSwap ([204, 304] by default),
  // so the server's error fragment lands in the target without any extra code.

  // ---- Live screens ----
  function currentVersion() { return parseInt(body.dataset.version, 10) || 0; }

  function applyScreen(p) {
    if (!p || typeof p.html !== "string" || !p.region) return;
    var el = document.getElementById(p.region);
    if (!el) return;
    var version = parseInt(p.version, 10) || 0;
    // A region swapped in by htmx (the reply to Next) carries its own data-version, newer than the
    // page's: a push rendered before that change and delivered after it must not undo it.
    if (version < Math.max(currentVersion(), parseInt(el.dataset.version, 10) || 0)) return;
    body.dataset.version = String(version);
    // outerMorph keeps unchanged nodes (no flicker); htmx.swap() runs htmx.process() on the result,
    // which fires htmx:after:process -> init() below.
    return htmx.swap({target: el, sourceElement: el, text: p.html, swap: "outerMorph"})
      .catch(function (err) { fail("swap failed", err); });
  }

  // Keep the page's version in step with a region htmx swapped in, so sync() asks from there.
  document.addEventListener("htmx:after:swap", function () {
    var region = document.querySelector("#console[data-version], #stage[data-version], #phone[data-version]");
    var version = region ? parseInt(region.dataset.version, 10) || 0 : 0;
    if (version > currentVersion()) body.dataset.version = String(version);
  });

  function setConn(state) {
    connState = state;
    var el = document.getElementById("conn");
    if (!el) return;
    el.dataset.state = state;
    var text = el.getAttribute("data-" + state);
    if (text !== null && el.textContent !== text) el.textContent = text;
  }

  function connect() {
    if (typeof io !== "function") { fail("socket.io client missing"); return; }
    var socket = io({transports: ["websocket"], auth: {role: role, run: run}, reconnectionDelayMax: 5000});
    // After the first reply is swapped in, the page is what the server says it is: data-synced.
    function synced(p) {
      Promise.resolve(applyScreen(p)).then(function () { body.dataset.synced = "1"; });
    }
    function sync() { socket.emit("sync", {version: currentVersion()}, synced); }
    socket.on("connect", function () { setConn("online"); sync(); resendWaiting(); });  // and on every reconnect
    socket.on("disconnect", function () { setConn("offline"); });
    socket.on("connect_error", function () {
      setConn("offline");
      // A refusal by the server's auth check leaves the socket inactive: socket.io stops retrying.
      if (!socket.active) setTimeout(function () { socket.connect(); }, 5000);
    });
    socket.on("screen", function (p) {
      // "sync": the open step changed for everyone; this phone's own screen comes from the server.
      if (p && p.region === "sync") socket.emit("sync", {version: -1}, applyScreen);
      else applyScreen(p);
    });
    // A phone waking up may hold a socket that still looks connected: ask for the current screen.
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible" && socket.connected) sync();
    });
  }

  // ---- Keyboard (projector, console) ----
  var KEYS = {ArrowRight: "next", PageDown: "next", ArrowLeft: "back", PageUp: "back", " ": "reveal", j: "join", J: "join"};
  function onKey(e) {
    var name = KEYS[e.key];
    if (!name || e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey || (e.shiftKey && e.key !== "J")) return;
    var t = e.target;
    if (t && (t.isContentEditable || (t.closest && t.closest("input, textarea, select")))) return;
    var btn = document.querySelector('[data-key="' + name + '"]');
    if (!btn) return;
    e.preventDefault();
    if (!e.repeat && !btn.disabled) btn.click();
  }

  // ---- A budget to spend across a form's fields (dots): "Dots left: 3", updated as people tap ----
  function updateBudget(form) {
    var el = form && form.querySelector("[data-budget]");
    if (!el) return;
    var prefix = el.getAttribute("data-budget-prefix") || "", spent = 0;
    var inputs = form.querySelectorAll("input");
    for (var i = 0; i < inputs.length; i++) {
      var inp = inputs[i];
      if (inp.name.indexOf(prefix) !== 0 || ((inp.type === "radio" || inp.type === "checkbox") && !inp.checked)) continue;
      spent += parseInt(inp.value, 10) || 0;
    }
    var left = (parseInt(el.getAttribute("data-budget"), 10) || 0) - spent;
    var text = left >= 0 ? el.getAttribute("data-left") : el.getAttribute("data-over");
    el.textContent = (text || "").replace("{num}", String(Math.abs(left)));
    el.classList.toggle("is-over", left < 0);
    el.hidden = false;
  }
  document.addEventListener("input", function (e) { if (e.target.form) updateBudget(e.target.form); });
  document.addEventListener("change", function (e) { if (e.target.form) updateBudget(e.target.form); });

  // ---- Answer forms (phones): idempotency key, sending state, retry on network error ----
  function newKey() {
    var bytes = new Uint8Array(18);  // 144 bits -> 24 URL-safe chars (getRandomValues works on plain http)
    crypto.getRandomValues(bytes);
    return btoa(String.fromCharCode.apply(null, bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function keyInput(form) { return form.querySelector('input[name="key"]'); }
  function retryNote(form) { return form.querySelector('[data-role="retry-note"]'); }

  function setButtons(form, disabled) {
    var list = form.querySelectorAll('button:not([type]), button[type="submit"], input[type="submit"]');
    for (var i = 0; i < list.length; i++) list[i].disabled = disabled;
  }

  function setNote(form, shown) { var n = retryNote(form); if (n) n.hidden = !shown; }

  function setState(form, state) {
    if (state) form.dataset.state = state; else delete form.dataset.state;
    setButtons(form, state === "sending");
  }

  function pending(st) { return st && (st.inflight || st.timer); }

  function initForm(form) {
    var input = keyInput(form), st = forms.get(form);
    if (input && !input.value) input.value = newKey();  // resend() puts a retried submission's key back
    if (pending(st)) {  // re-rendered (morphed) while its submission is in flight or waiting to retry
      setState(form, "sending");
      if (st.timer) setNote(form, true);
    }
  }

  function answerForm(e) {
    var ctx = e.detail && e.detail.ctx, src = ctx && ctx.sourceElement;
    return src && src.closest ? src.closest("form[data-answer]") : null;
  }

  function stateOf(form) {
    var st = forms.get(form);
    if (!st) { st = {tries: 0, timer: 0}; forms.set(form, st); }
    return st;
  }

  document.addEventListener("htmx:before:request", function (e) {
    var form = answerForm(e);
    if (!form) return;
    var st = stateOf(form), input = keyInput(form);
    clearTimeout(st.timer);
    st.timer = 0;
    st.inflight = true;
    st.netFail = false;
    st.key = input ? input.value : "";
    st.submitter = e.detail.ctx.request.submitter || null;
    setState(form, "sending");
  });

  document.addEventListener("htmx:error", function (e) {
    var form = answerForm(e);
    // No response at all (network error or timeout); errors after a response have ctx.response.
    if (form && !e.detail.ctx.response) stateOf(form).netFail = true;
  });

  // A console form marked data-reset (a new group's name) is emptied once its action is done.
  document.addEventListener("htmx:finally:request", function (e) {
    var form = e.target && e.target.closest ? e.target.closest("form[data-reset]") : null;
    var ctx = e.detail && e.detail.ctx;
    if (form && form.isConnected && ctx && ctx.response && ctx.response.status < 400) form.reset();
  });

  document.addEventListener("htmx:finally:request", function (e) {
    var form = answerForm(e);
    if (!form) return;
    var st = stateOf(form), ctx = e.detail.ctx;
    st.inflight = false;
    if (!form.isConnected) return;  // replaced by the response: nothing left to reset
    if (st.netFail && (st.tries < MAX_RETRIES || navigator.onLine === false)) {  // offline: wait on
      st.tries++;
      setNote(form, true);
      st.timer = setTimeout(function () { resend(form); }, RETRY_MS);
      return;  // stays "sending" with its key
    }
    var gaveUp = st.netFail;
    st.tries = 0;
    st.netFail = false;
    if (gaveUp) { setState(form, "failed"); return; }  // the retry note stays visible
    setNote(form, false);
    setState(form, null);
    // Answer accepted and the form is still on the page: the next submission is a new answer.
    // (A morph keeps what was typed in the fields: empty them, so a sent word is not sent twice.)
    if (ctx.response && ctx.response.status < 400) {
      form.reset();
      var input = keyInput(form);
      if (input) input.value = newKey();
    }
  });

  function resend(form) {
    var st = stateOf(form);
    st.timer = 0;
    if (!form.isConnected) return;
    var input = keyInput(form);
    if (input && st.key) input.value = st.key;
    // Same trigger as the user's submit (htmx listens for "submit" on the form), same submitter.
    form.dispatchEvent(new SubmitEvent("submit", {bubbles: true, cancelable: true, submitter: st.submitter}));
  }

  // Back online (the browser says so, or the socket is back): what waits goes at once, with its key.
  function resendWaiting() {
    var list = document.querySelectorAll("form[data-answer]");
    for (var i = 0; i < list.length; i++) {
      var st = forms.get(list[i]);
      if (st && !st.inflight && (st.timer || list[i].dataset.state === "failed")) {
        clearTimeout(st.timer);
        st.tries = 0;
        resend(list[i]);
      }
    }
  }
  window.addEventListener("online", resendWaiting);

  // ---- #flash: the server retargets error messages here (HX-Retarget); a new request clears them ----
  var flashTimer = 0;
  document.addEventListener("htmx:before:request", function () {
    var flash = document.getElementById("flash");
    if (flash && flash.firstChild) flash.replaceChildren();
  });
  document.addEventListener("htmx:after:swap", function () {
    var flash = document.getElementById("flash");
    if (!flash || !flash.firstChild) return;
    clearTimeout(flashTimer);
    flashTimer = setTimeout(function () { flash.replaceChildren(); }, 8000);
  });

  // ---- Timers: [data-ends-at] shows mm:ss, one interval for all ----
  function pad(n) { return n < 10 ? "0" + n : String(n); }

  function tick() {
    var now = Date.now() + clockOffset;
    var list = document.querySelectorAll("[data-ends-at]");
    for (var i = 0; i < list.length; i++) {
      var el = list[i], end = Date.parse(el.dataset.endsAt);
      if (isNaN(end)) continue;
      var left = Math.max(0, Math.ceil((end - now) / 1000));
      var text = pad(Math.floor(left / 60)) + ":" + pad(left % 60);
      if (el.textContent !== text) el.textContent = text;
      if (left === 0) { if (el.dataset.state !== "ended") el.dataset.state = "ended"; }
      else if (el.dataset.state === "ended") delete el.dataset.state;
    }
  }

  // ---- A phone finds itself in lists pushed to every phone (its group, its role) ----
  function markMine(root) {
    var me = body.dataset.me;
    if (!me) return;
    var list = root.querySelectorAll("[data-members]");
    for (var i = 0; i < list.length; i++) {
      var mine = (" " + list[i].getAttribute("data-members") + " ").indexOf(" " + me + " ") >= 0;
      if (mine) list[i].setAttribute("data-mine", ""); else list[i].removeAttribute("data-mine");
    }
    var roles = root.querySelectorAll("[data-role-of]");
    for (var j = 0; j < roles.length; j++) roles[j].hidden = roles[j].getAttribute("data-role-of") !== me;
  }

  // ---- Init on page load and on every piece of content htmx processes ----
  function init(root) {
    var budgets = (root.querySelectorAll ? root : document).querySelectorAll("[data-budget]");
    for (var b = 0; b < budgets.length; b++) updateBudget(budgets[b].closest("form"));
    if (!root || !root.querySelectorAll) return;
    markMine(root.closest ? (root.closest("#phone") || root) : root);
    var list = root.querySelectorAll("form[data-answer]");
    for (var i = 0; i < list.length; i++) initForm(list[i]);
    if (root.matches && root.matches("form[data-answer]")) initForm(root);
    if (connState) setConn(connState);  // #conn may have been re-rendered
    tick();
  }

  var serverNow = Date.parse(body.dataset.serverNow || "");
  if (!isNaN(serverNow)) {
    // Compare with the moment the page arrived, not when this deferred script runs (later).
    var nav = window.performance && performance.getEntriesByType && performance.getEntriesByType("navigation")[0];
    var arrived = nav && performance.timeOrigin ? performance.timeOrigin + nav.responseStart : Date.now();
    clockOffset = serverNow - arrived;
  }

  document.addEventListener("htmx:after:process", function (e) { init(e.target); });  // htmx 2: htmx:load
  if (role === "projector" || role === "console") document.addEventListener("keydown", onKey);
  // The phone's page can come as the reply to the join form (/j/CODE): the address bar then says
  // /p/CODE, so a reload or a bookmark asks for the phone's page, never for a second join.
  if (role === "phone" && run && window.history && history.replaceState && location.pathname.indexOf("/j/") === 0) {
    history.replaceState(null, "", "/p/" + encodeURIComponent(run));
  }
  init(body);
  setInterval(tick, 1000);
  if (run && (role === "projector" || role === "console" || role === "phone")) connect();
})();
