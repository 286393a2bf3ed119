// Meter readings sheet (抄表录入).
(function () {
  "use strict";
// Enter in a reading moves to the next room's reading; Enter in the last one saves the sheet.
document.querySelectorAll("#sheet input.current").forEach((input, i, all) => {
  input.addEventListener("keydown", (e) => {
    if (e.key !== "Enter") return;
    e.preventDefault();
    if (all[i + 1]) { all[i + 1].focus(); all[i + 1].select(); } else { input.form.requestSubmit(); }
  });
});
const first = document.querySelector("#sheet tr.row-error input.current") || document.querySelector("#sheet input.current");
if (first) first.focus();
})();
