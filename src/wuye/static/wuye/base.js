// Behaviour shared by every page, in a static file so the Content-Security-Policy needs no
// 'unsafe-inline' for scripts (docs/operations/settings.md). Templates ask for behaviour with data
// attributes instead of inline handlers (onclick=, onchange=), which the policy would block:
//   data-autosubmit            on a <select>/<input>: submit its form when it changes
//   data-clear="unit"          with data-autosubmit: empty that field of the form first
//   data-confirm="问题？"       on a button/link: ask first; cancel stops the click
//   data-print                 on a button: print the page
//   data-check-all="case"      on a checkbox: tick or untick every input[name=case]
//   data-autofocus-ready       on any focusable element: focus it once the page has loaded
//   data-back                  on a button: go back one page (the error pages)
//   data-nav-toggle            the header's 菜单 button on phones: opens and closes the top menu
document.documentElement.classList.add("js");  // phones fold the menu only when this script runs
(function () {
  "use strict";
  document.addEventListener("change", (e) => {
    const el = e.target.closest("[data-autosubmit]");
    if (!el || !el.form) return;
    const clear = el.dataset.clear;
    if (clear && el.form.elements[clear]) el.form.elements[clear].value = "";
    el.form.submit();
  });
  document.addEventListener("click", (e) => {
    const ask = e.target.closest("[data-confirm]");
    if (ask && !window.confirm(ask.dataset.confirm)) { e.preventDefault(); e.stopImmediatePropagation(); return; }
    if (e.target.closest("[data-print]")) { e.preventDefault(); window.print(); return; }
    if (e.target.closest("[data-back]")) { e.preventDefault(); window.history.back(); return; }
    const toggle = e.target.closest("[data-nav-toggle]");
    if (toggle) {
      const bar = toggle.closest(".topbar");
      const open = bar.classList.toggle("nav-open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      return;
    }
    const all = e.target.closest("[data-check-all]");
    if (all) {
      document.querySelectorAll(`input[name="${all.dataset.checkAll}"]`).forEach((c) => { c.checked = all.checked; });
    }
  });
  const focusReady = () => { const el = document.querySelector("[data-autofocus-ready]"); if (el) el.focus(); };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", focusReady);
  else focusReady();
})();
// Keyboard-first search: "/" focuses the box, arrows move through results, Enter opens, Esc closes.
(function () {
  const q = document.getElementById("q");
  if (!q) return;
  const box = document.getElementById("search-results");
  const items = () => Array.from(box.querySelectorAll("a.hit"));
  document.addEventListener("keydown", (e) => {
    if (e.key === "/" && document.activeElement.tagName !== "INPUT" && document.activeElement.tagName !== "TEXTAREA") {
      e.preventDefault(); q.focus(); q.select();
    }
  });
  function move(delta) {
    const list = items(); if (!list.length) return;
    let i = list.indexOf(document.activeElement);
    i = i < 0 ? (delta > 0 ? 0 : list.length - 1) : Math.min(Math.max(i + delta, 0), list.length - 1);
    list[i].focus();
  }
  document.addEventListener("keydown", (e) => {
    if (!box.contains(document.activeElement) && document.activeElement !== q) return;
    if (e.key === "ArrowDown") { e.preventDefault(); move(1); }
    else if (e.key === "ArrowUp") { e.preventDefault(); move(-1); }
    else if (e.key === "Escape") { box.innerHTML = ""; q.focus(); }
    else if (e.key === "Enter" && document.activeElement === q) {
      const first = items()[0]; if (first) { e.preventDefault(); first.click(); }
    }
  });
  document.addEventListener("click", (e) => { if (!e.target.closest(".search")) box.innerHTML = ""; });
})();
// Top menus: one open at a time; a click elsewhere or Esc closes them.
(function () {
  const menus = Array.from(document.querySelectorAll("details.menu"));
  const closeAll = (except) => menus.forEach((m) => { if (m !== except) m.open = false; });
  menus.forEach((m) => m.addEventListener("toggle", () => { if (m.open) closeAll(m); }));
  document.addEventListener("click", (e) => { if (!e.target.closest("details.menu")) closeAll(null); });
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") closeAll(null); });
})();
