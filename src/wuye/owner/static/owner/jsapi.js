/* WeChat Pay JSAPI on the owner's order page (inside WeChat): getBrandWCPayRequest with the
   parameters the server signed (appId, timeStamp, nonceStr, package, signType RSA, paySign).
   Whether the money arrived is decided by the server (callback or order query), never by this
   answer: on "ok" the page reloads and shows what the server knows. */
(function () {
  "use strict";
  var button = document.getElementById("jsapi-pay");
  var data = document.getElementById("jsapi-params");
  if (!button || !data) { return; }
  var params = JSON.parse(data.textContent);
  var note = document.getElementById("jsapi-note");

  function pay() {
    button.disabled = true;
    window.WeixinJSBridge.invoke("getBrandWCPayRequest", params, function (answer) {
      if (answer && answer.err_msg === "get_brand_wcpay_request:ok") {
        window.location.reload();
        return;
      }
      button.disabled = false;
      if (note) { note.hidden = false; }
    });
  }

  button.addEventListener("click", function () {
    if (typeof window.WeixinJSBridge === "undefined") {
      document.addEventListener("WeixinJSBridgeReady", pay, { once: true });
    } else {
      pay();
    }
  });
})();
