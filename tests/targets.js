// On a phone at 320 px: no sideways scroll, and every control at least 44x44 px (a radio button
// or checkbox by its label, which is what a thumb taps). One line per problem.
() => {
  const problems = [];
  const root = document.documentElement;
  if (root.scrollWidth > window.innerWidth) problems.push(`scrolls sideways: ${root.scrollWidth} in ${window.innerWidth}`);
  const controls = document.querySelectorAll("a[href], button, select, textarea, summary, input:not([type=hidden])");
  for (const el of controls) {
    if (el.closest("[hidden], .keys")) continue;
    let target = el;
    if (el.matches("input[type=radio], input[type=checkbox]")) target = el.closest("label") || el;
    const r = target.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.width < 44 || r.height < 44) {
      problems.push(`${target.tagName.toLowerCase()} "${(target.textContent || target.name || "").trim().slice(0, 30)}" is ${Math.round(r.width)}x${Math.round(r.height)}`);
    }
  }
  return problems;
}
