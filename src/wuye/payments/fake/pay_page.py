"""The fake platforms' pay page ("确认支付", which the demo owner clicks) and the stand-in for
WeChat's JS bridge."""

from __future__ import annotations

import html
from decimal import Decimal

from wuye.payments.fake.plumbing import BaseHandler

PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:420px;margin:40px auto;padding:0 16px;text-align:center}}
.amount{{font-size:40px;margin:24px 0}}button{{font-size:20px;padding:12px 40px;background:{color};
color:#fff;border:0;border-radius:6px}}.note{{color:#888;font-size:13px;margin-top:24px}}</style></head>
<body><h2>{title}</h2><div>{description}</div><div class="amount">¥{amount}</div>{body}
<p class="note">本地模拟支付平台（测试用，不产生真实扣款）</p></body></html>"""


# Served at /jsbridge.js: a stand-in for WeChat's built-in WeixinJSBridge, which the owner page loads
# only when it talks to this fake. invoke('getBrandWCPayRequest', params, cb) posts the parameters
# to the fake, which checks paySign as WeChat does, pays the prepay id and sends the signed callback.
JS_BRIDGE = """(function () {
  "use strict";
  if (window.WeixinJSBridge) { return; }
  window.WeixinJSBridge = {
    invoke: function (name, params, callback) {
      if (name !== "getBrandWCPayRequest") {
        callback({ err_msg: name + ":fail" });
        return;
      }
      fetch("__BASE__/jsapi/pay", {
        method: "POST",
        headers: { "Content-Type": "text/plain" },
        body: JSON.stringify(params)
      }).then(function (r) { return r.json(); })
        .then(function (answer) { callback(answer); })
        .catch(function () { callback({ err_msg: "get_brand_wcpay_request:fail" }); });
    }
  };
  document.dispatchEvent(new Event("WeixinJSBridgeReady"));
})();
"""


class PayPageRoutes(BaseHandler):
    """The pay page's routes of the fake's HTTP handler (``server._Handler``)."""

    def _pay_page(self, channel: str, no: str, back: str = ""):
        if channel == "wechat":
            trade = self.platforms.wechat.trades.get(no)
            amount = f"{Decimal(trade['total']) / 100:.2f}" if trade else ""
            description = trade["description"] if trade else ""
            paid = trade and trade["state"] != "NOTPAY"
            title, color = "微信支付", "#07c160"
        else:
            trade = self.platforms.alipay.trades.get(no)
            amount = trade["total_amount"] if trade else ""
            description = trade["subject"] if trade else ""
            paid = trade and trade["status"] != "WAIT_BUYER_PAY"
            title, color = "支付宝", "#1677ff"
        if trade is None:
            return self._send(404, "订单不存在", "text/plain; charset=utf-8")
        if paid:
            body = "<p>订单已支付或已关闭</p>"
        else:
            body = (
                f'<form method="post" action="/pay/{channel}/{html.escape(no)}">'
                f'<input type="hidden" name="return" value="{html.escape(back)}">'
                '<button type="submit" id="confirm-pay">确认支付</button></form>'
            )
        page = PAGE.format(
            title=title, description=html.escape(description), amount=amount, body=body, color=color
        )
        return self._send(200, page, "text/html; charset=utf-8")

    def _pay_confirm(self, channel: str, no: str, form: dict):
        platforms = self.platforms
        notify = form.get("notify", "1") != "0"
        back = form.get("return", "")
        if channel == "wechat":
            trade = platforms.wechat.trades.get(no)
            if trade is None:
                return self._send(404, "订单不存在", "text/plain; charset=utf-8")
            platforms.wechat.pay(no)
            if notify and trade.get("notify_url"):
                headers, body = platforms.wechat.pay_notification(no)
                platforms.post(trade["notify_url"], headers, body)
        else:
            trade = platforms.alipay.trades.get(no)
            if trade is None:
                return self._send(404, "订单不存在", "text/plain; charset=utf-8")
            platforms.alipay.pay(no)
            if notify and trade.get("notify_url"):
                body = platforms.alipay.notification(no)
                platforms.post(
                    trade["notify_url"],
                    {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
                    body,
                )
            back = back or trade.get("return_url", "")
        if back.startswith(("http://127.0.0.1", "http://localhost", "/")):
            self.send_response(303)
            self.send_header("Location", back)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        page = PAGE.format(
            title="支付成功",
            description="",
            amount="",
            body="<p>支付成功，请返回缴费页面查看收据</p>",
            color="#07c160",
        )
        return self._send(200, page, "text/html; charset=utf-8")
