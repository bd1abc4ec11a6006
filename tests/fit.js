// What the screen tests measure on the projector, in the page: the page must not scroll, no
// element may reach past the window or clip its content, and the text sizes the room reads.
() => {
  const H = window.innerHeight, W = window.innerWidth, problems = [], sizes = [];
  const name = (el) => el.tagName.toLowerCase() + (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : "");
  const root = document.documentElement;
  if (root.scrollHeight > H || root.scrollWidth > W) problems.push(`the page scrolls: ${root.scrollWidth}x${root.scrollHeight} in ${W}x${H}`);
  for (const el of document.querySelectorAll("#stage *")) {
    if (el.closest(".keys, .visually-hidden, svg")) continue;
    const cs = getComputedStyle(el);
    if (cs.display === "none" || cs.visibility === "hidden") continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (r.bottom > H + 1 || r.right > W + 1 || r.top < -1 || r.left < -1)
      problems.push(`${name(el)} reaches past the window (${Math.round(r.left)},${Math.round(r.top)} to ${Math.round(r.right)},${Math.round(r.bottom)})`);
    const clipsY = cs.overflowY !== "visible" && el.scrollHeight > el.clientHeight + 2;
    const clipsX = cs.overflowX !== "visible" && el.scrollWidth > el.clientWidth + 2;
    if (clipsY || clipsX) problems.push(`${name(el)} clips its content (${el.scrollWidth}x${el.scrollHeight} in ${el.clientWidth}x${el.clientHeight}): ${el.textContent.trim().slice(0, 60)}`);
    const own = Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim());
    if (own) sizes.push([name(el), parseFloat(cs.fontSize), el.textContent.trim().slice(0, 40)]);
  }
  const size = (sel) => { const el = document.querySelector(sel); return el ? parseFloat(getComputedStyle(el).fontSize) : null; };
  return {problems, sizes, title: size("#stage .stage__title"), body: size("#stage .stage__body")};
}
