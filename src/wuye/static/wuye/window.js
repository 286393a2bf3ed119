// The fee window (收银台): keyboard-first. The server checks every figure again (summary box and
// payment_record); this script only saves keystrokes and shows the selected total at once.
(function () {
  "use strict";

  // Amounts in fen (integers), so 0.1 + 0.2 is 30 fen, not 0.30000000000000004 yuan.
  function fen(text) {
    const clean = String(text || "").replace(/[,，\s]/g, "");
    if (!/^\d+(\.\d{0,2})?$/.test(clean)) return null;
    const [yuan, cents = ""] = clean.split(".");
    return parseInt(yuan, 10) * 100 + parseInt((cents + "00").slice(0, 2), 10);
  }
  function yuan(f) {
    const sign = f < 0 ? "-" : "";
    f = Math.abs(f);
    return sign + Math.floor(f / 100) + "." + String(f % 100).padStart(2, "0");
  }
  function typing(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT");
  }

  // --- hot keys: elements with data-hotkey="Alt+P" are clicked by that key ----------------------
  function keyName(e) {
    // e.code, not e.key, for letters: Alt+N on a Mac types "˜" but is still KeyN.
    const key = /^Key[A-Z]$/.test(e.code) ? e.code.slice(3) : e.key;
    return (e.altKey ? "Alt+" : "") + (e.ctrlKey ? "Ctrl+" : "") + key;
  }
  document.addEventListener("keydown", (e) => {
    const target = document.querySelector(`[data-hotkey="${keyName(e)}"]`);
    if (target) { e.preventDefault(); target.click(); }
  });

  // --- finding the household: "/" focuses the box, arrows move, Enter opens, Esc clears ----------
  const q = document.getElementById("window-q");
  const results = document.getElementById("window-results");
  if (q && results) {
    const hits = () => Array.from(results.querySelectorAll("a.hit"));
    // Capture phase on window: runs before the top bar's own "/" handler, which would take the focus.
    window.addEventListener("keydown", (e) => {
      if (e.key === "/" && !typing(document.activeElement)) {
        e.preventDefault(); e.stopPropagation(); q.focus(); q.select();
      }
    }, true);
    function move(delta) {
      const list = hits(); if (!list.length) return;
      let i = list.indexOf(document.activeElement);
      i = i < 0 ? (delta > 0 ? 0 : list.length - 1) : Math.min(Math.max(i + delta, 0), list.length - 1);
      list[i].focus();
    }
    document.addEventListener("keydown", (e) => {
      if (!results.contains(document.activeElement) && document.activeElement !== q) return;
      if (e.key === "ArrowDown") { e.preventDefault(); move(1); }
      else if (e.key === "ArrowUp") { e.preventDefault(); move(-1); }
      else if (e.key === "Escape") { results.innerHTML = ""; q.focus(); }
      else if (e.key === "Enter" && document.activeElement === q) {
        e.preventDefault();
        const first = hits()[0]; if (first) first.click();
      }
    });
    document.addEventListener("click", (e) => { if (!e.target.closest(".window-search")) results.innerHTML = ""; });
  }

  // --- one household's window -------------------------------------------------------------------
  const form = document.getElementById("pay-form");
  if (!form) return;
  const withReference = JSON.parse(document.getElementById("methods-with-reference").textContent);
  const lines = document.getElementById("lines");
  const bills = () => Array.from(form.querySelectorAll("input.bill"));
  const amounts = () => Array.from(lines.querySelectorAll("input.amount"));
  const balanceEl = document.getElementById("prepaid-balance");
  const prepaidBalance = balanceEl ? fen(balanceEl.dataset.balance) || 0 : 0;
  const set = (id, text) => { const el = document.getElementById(id); if (el) el.textContent = text; };
  const refreshServer = () => document.body.dispatchEvent(new Event("lines-changed"));

  function selectedDue() {
    let count = 0, principal = 0, late = 0;
    for (const box of bills()) {
      if (!box.checked) continue;
      count += 1; principal += fen(box.dataset.principal) || 0; late += fen(box.dataset.late) || 0;
    }
    return { count, principal, late, due: principal + late };
  }
  // 预交: what the months ahead cost, as the server last quoted them (the summary box says it).
  let aheadFen = 0;
  function readAhead() {
    const el = document.getElementById("ahead-quote");
    aheadFen = el ? fen(el.dataset.amount) || 0 : 0;
  }
  readAhead();
  // Panels beside the form (the payment code's total, wuye.payments) show the server's figure:
  // data-follows="window-due" gets 应收合计 (open bills ticked + 预交), "window-ahead" the 预交 text.
  function followServer() {
    const due = document.getElementById("server-due");
    const aheadEl = document.getElementById("ahead-quote");
    const text = aheadEl ? `含预交 ${aheadEl.dataset.amount} 元：${aheadEl.dataset.text || ""}` : "";
    for (const el of document.querySelectorAll('[data-follows="window-due"]')) {
      if (!due) continue;
      if (el.tagName === "INPUT") el.value = due.textContent; else el.textContent = due.textContent;
    }
    for (const el of document.querySelectorAll('[data-follows="window-ahead"]')) el.textContent = text;
  }
  function totalDue() { return selectedDue().due + aheadFen; }
  function followTotal() {
    const list = amounts();
    if (list.length !== 1 || list[0].dataset.touched) return false;
    const s = selectedDue();
    list[0].value = s.count || aheadFen ? yuan(s.due + aheadFen) : "";
    return true;
  }
  function entered(except) {
    return amounts().filter((a) => a !== except).reduce((sum, a) => sum + (fen(a.value) || 0), 0);
  }
  function showReference(line) {
    const method = line.querySelector("select.method").value;
    line.querySelector(".ref").hidden = !withReference.includes(method);
  }
  // While the cashier has not typed an amount, a single line follows the selected total.
  function updateTotals() {
    const s = selectedDue();
    set("sel-count", s.count); set("sel-principal", yuan(s.principal));
    set("sel-late", yuan(s.late)); set("sel-due", yuan(s.due));
    const all = document.getElementById("all-bills");
    if (all) all.checked = bills().length > 0 && s.count === bills().length;
    followTotal();
    refreshServer();
  }
  // A new 预交 choice is priced by the server: the single untouched line follows the new total.
  document.body.addEventListener("htmx:afterSwap", (e) => {
    if (!e.detail.target || e.detail.target.id !== "summary") return;
    const before = aheadFen;
    readAhead();
    followServer();
    if (before !== aheadFen && followTotal()) refreshServer();
  });

  for (const line of lines.querySelectorAll(".pay-line")) showReference(line);
  form.addEventListener("change", (e) => {
    if (e.target.matches("input.bill")) updateTotals();
    if (e.target.id === "all-bills") { for (const b of bills()) b.checked = e.target.checked; updateTotals(); }
    if (e.target.matches("select.method")) {
      const line = e.target.closest(".pay-line");
      showReference(line);
      const amount = line.querySelector("input.amount");
      if (e.target.value === "prepaid") {
        // Prepaid balance pays what is left, as far as the balance goes.
        const left = Math.max(totalDue() - entered(amount), 0);
        amount.value = yuan(Math.min(prepaidBalance, left)); amount.dataset.touched = "1";
        refreshServer();
      }
    }
  });
  form.addEventListener("input", (e) => { if (e.target.matches("input.amount")) e.target.dataset.touched = "1"; });

  function addLine() {
    if (amounts().length >= 6) return;
    const line = document.getElementById("line-template").content.firstElementChild.cloneNode(true);
    lines.appendChild(line);
    const amount = line.querySelector("input.amount");
    for (const a of amounts()) a.dataset.touched = "1";
    const left = totalDue() - entered(amount);
    amount.value = left > 0 ? yuan(left) : "";
    showReference(line);
    line.querySelector("select.method").focus();
    refreshServer();
  }
  document.getElementById("add-line").addEventListener("click", addLine);
  lines.addEventListener("click", (e) => {
    const button = e.target.closest(".remove-line"); if (!button) return;
    if (amounts().length > 1) { button.closest(".pay-line").remove(); } else { amounts()[0].value = ""; }
    refreshServer();
  });

  let submitted = false;
  // The cashier's day is closed (the pay button comes disabled): F4 and Enter send nothing either.
  const closed = document.getElementById("pay").disabled;
  form.addEventListener("submit", (e) => {
    if (closed || submitted) { e.preventDefault(); return; }  // the idempotency key would catch a repeat
    submitted = true;
    document.getElementById("pay").setAttribute("disabled", "disabled");
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "F2") { e.preventDefault(); const a = amounts()[0]; if (a) { a.focus(); a.select(); } }
    else if (e.key === "F4") { e.preventDefault(); form.requestSubmit(); }
    else if (e.altKey && e.code === "KeyN") { e.preventDefault(); addLine(); }
    else if (e.altKey && e.code === "KeyA") {
      e.preventDefault();
      const all = document.getElementById("all-bills");
      if (all) { all.checked = !all.checked; all.dispatchEvent(new Event("change", { bubbles: true })); }
    }
  });
})();
