// The payment-code form at the fee window takes the bills ticked in the window's payment form.
(function () {
  "use strict";
  var form = document.getElementById("micropay-form");
  var payForm = document.getElementById("pay-form");
  if (!form || !payForm) return;
  form.addEventListener("submit", function () {
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
  });
})();
