// The payment-code form at the fee window takes the bills ticked and the 预交 chosen in the window's
// payment form; its total (and the hidden "expected" the server checks) follows the window's server
// quote (window.js fills the data-follows="window-due" elements after each summary).
(function () {
  "use strict";
  var form = document.getElementById("micropay-form");
  var payForm = document.getElementById("pay-form");
  if (!form || !payForm) return;
  var sent = false;
  form.addEventListener("submit", function (e) {
    if (sent) { e.preventDefault(); return; }  // a scanner's second Enter: one order per scan
    Array.prototype.forEach.call(form.querySelectorAll("input[name=bill]"), function (el) {
      el.remove();
    });
    Array.prototype.forEach.call(payForm.querySelectorAll("input.bill:checked"), function (box) {
      var hidden = document.createElement("input");
      hidden.type = "hidden";
      hidden.name = "bill";
      hidden.value = box.value;
      form.appendChild(hidden);
    });
    var ahead = document.getElementById("ahead");
    document.getElementById("micropay-ahead").value = ahead ? ahead.value : "";
    sent = true;
    document.getElementById("micropay").setAttribute("disabled", "disabled");
  });
})();
