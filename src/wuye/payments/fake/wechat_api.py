"""The fake WeChat Pay's HTTP endpoints: API v3 (orders, queries, close, refunds, certificates,
trade bills), the official account's OAuth authorize page and the JSAPI bridge's pay call."""

from __future__ import annotations

import datetime
import gzip
import hashlib
import json
import secrets
import threading
from urllib.parse import parse_qsl, urlencode, urlsplit

from wuye.payments.fake.plumbing import BaseHandler, cst_now


class WechatRoutes(BaseHandler):
    """The WeChat Pay routes of the fake's HTTP handler (``server._Handler``)."""

    def _wx(self, status: int, payload: dict | None):
        body = json.dumps(payload, ensure_ascii=False) if payload is not None else ""
        headers = self.platforms.wechat.signed_headers(body)
        self._send(status, body, "application/json", headers)

    def _wx_error(self, status: int, code: str, message: str):
        self._wx(status, {"code": code, "message": message})

    def _wechat(self, method: str, body: bytes):
        wx = self.platforms.wechat
        text = body.decode("utf-8")
        if not wx.check_authorization(
            method, self.path, text, self.headers.get("Authorization", "")
        ):
            return self._wx_error(401, "SIGN_ERROR", "签名错误")
        path = urlsplit(self.path).path
        query = dict(parse_qsl(urlsplit(self.path).query))
        if method == "POST" and path.startswith("/v3/pay/transactions/") and path.count("/") == 4:
            kind = path.rsplit("/", 1)[1]
            data = json.loads(text)
            no = data["out_trade_no"]
            if no in wx.trades:
                return self._wx_error(400, "ORDERNO_USED", "商户订单号重复")
            trade = {
                "out_trade_no": no,
                "trade_type": {"codepay": "MICROPAY"}.get(kind, kind.upper()),
                "total": data["amount"]["total"],
                "state": "NOTPAY",
                "description": data["description"],
                "notify_url": data.get("notify_url", ""),
                "openid": (data.get("payer") or {}).get("openid", ""),
            }
            wx.trades[no] = trade
            page = f"{self.platforms.base_url}/pay/wechat/{no}"
            if kind == "codepay":
                code = (data.get("payer") or {}).get("auth_code", "")
                if code.endswith("0000"):
                    return self._wx(202, {"code": "USERPAYING", "message": "等待用户输入密码"})
                wx.pay(no)
                return self._wx(200, wx.resource(trade))
            if kind == "native":
                return self._wx(200, {"code_url": page})
            if kind == "h5":
                return self._wx(200, {"h5_url": page})
            trade["prepay_id"] = "wx" + secrets.token_hex(14)
            return self._wx(200, {"prepay_id": trade["prepay_id"]})
        if method == "GET" and path.startswith("/v3/pay/transactions/out-trade-no/"):
            no = path.rsplit("/", 1)[1]
            if query.get("mchid") != wx.mchid:
                return self._wx_error(400, "PARAM_ERROR", "mchid 错误")
            if no not in wx.trades:
                return self._wx_error(404, "ORDER_NOT_EXIST", "订单不存在")
            return self._wx(200, wx.resource(wx.trades[no]))
        if method == "POST" and path.endswith("/close"):
            no = path.split("/")[-2]
            trade = wx.trades.get(no)
            if trade is None:
                return self._wx_error(404, "ORDER_NOT_EXIST", "订单不存在")
            if trade["state"] == "SUCCESS":
                return self._wx_error(400, "ORDERPAID", "订单已支付")
            trade["state"] = "CLOSED"
            return self._wx(204, None)
        if method == "POST" and path == "/v3/refund/domestic/refunds":
            data = json.loads(text)
            trade = next(
                (
                    t
                    for t in wx.trades.values()
                    if t.get("transaction_id") == data.get("transaction_id")
                ),
                None,
            )
            if trade is None:
                return self._wx_error(404, "RESOURCE_NOT_EXISTS", "订单不存在")
            refund = {
                "mchid": wx.mchid,
                "out_trade_no": trade["out_trade_no"],
                "transaction_id": trade["transaction_id"],
                "out_refund_no": data["out_refund_no"],
                "refund_id": "5030" + "".join(str(secrets.randbelow(10)) for _ in range(24)),
                "refund_status": "SUCCESS",
                "success_time": cst_now().isoformat(),
                "amount": {
                    "total": data["amount"]["total"],
                    "refund": data["amount"]["refund"],
                    "payer_total": data["amount"]["total"],
                    "payer_refund": data["amount"]["refund"],
                },
                "notify_url": data.get("notify_url", ""),
            }
            wx.refunds[data["out_refund_no"]] = refund
            if self.platforms.auto_notify and refund["notify_url"]:
                resource = {k: v for k, v in refund.items() if k != "notify_url"}
                headers, body_ = wx.notification(resource, "REFUND.SUCCESS")
                threading.Timer(
                    0.5, self.platforms.post, (refund["notify_url"], headers, body_)
                ).start()
            return self._wx(
                200,
                {
                    "refund_id": refund["refund_id"],
                    "out_refund_no": refund["out_refund_no"],
                    "status": "PROCESSING",
                    "amount": refund["amount"],
                },
            )
        if method == "GET" and path == "/v3/certificates":
            return self._wx(200, wx.certificates())
        if method == "GET" and path == "/v3/bill/tradebill":
            day = datetime.date.fromisoformat(query["bill_date"])
            content = wx.statement(day)
            if query.get("tar_type") == "GZIP":
                content = gzip.compress(content)
            token = secrets.token_hex(8)
            wx.bills[token] = content
            return self._wx(
                200,
                {
                    "hash_type": "SHA1",
                    "hash_value": hashlib.sha1(content).hexdigest(),  # noqa: S324 - WeChat's format
                    "download_url": f"{self.platforms.base_url}/v3/billdownload/file?token={token}",
                },
            )
        if method == "GET" and path == "/v3/billdownload/file":
            content = wx.bills.get(query.get("token", ""))
            if content is None:
                return self._wx_error(404, "NOT_FOUND", "账单不存在")
            return self._send(200, content, "application/octet-stream")
        return self._wx_error(404, "NOT_FOUND", "接口不存在")

    def _oauth_authorize(self, query: dict):
        """open.weixin.qq.com/connect/oauth2/authorize with snsapi_base: silent, straight back to
        ``redirect_uri`` with a code and the state."""
        wx = self.platforms.wechat
        back = query.get("redirect_uri", "")
        if query.get("appid") != wx.appid or query.get("response_type") != "code":
            return self._send(400, "appid 或 response_type 错误", "text/plain; charset=utf-8")
        if query.get("scope") != "snsapi_base":
            return self._send(400, "本模拟只支持 snsapi_base", "text/plain; charset=utf-8")
        # WeChat sends back only to the account's registered domain (网页授权域名); here: local ones.
        if urlsplit(back).hostname not in ("127.0.0.1", "localhost", "testserver"):
            return self._send(400, "redirect_uri 域名未登记", "text/plain; charset=utf-8")
        openid = self.platforms.payer_openid
        code = wx.oauth_code(openid)
        sep = "&" if "?" in back else "?"
        target = f"{back}{sep}{urlencode({'code': code, 'state': query.get('state', '')})}"
        self.send_response(302)
        self.send_header("Location", target)
        self.send_header("Content-Length", "0")
        self.end_headers()
        return None

    def _jsapi_pay(self, body: bytes):
        """The JS bridge stand-in posts getBrandWCPayRequest's parameters here (cross-origin)."""
        platforms = self.platforms
        try:
            params = json.loads(body.decode("utf-8") or "{}")
        except ValueError:
            params = {}
        err_msg, no = platforms.wechat.jsapi_pay(params)
        if no is not None:
            trade = platforms.wechat.trades[no]
            if trade.get("notify_url"):
                headers, payload = platforms.wechat.pay_notification(no)
                platforms.post(trade["notify_url"], headers, payload)
        return self._send(
            200,
            json.dumps({"err_msg": err_msg}),
            "application/json",
            {"Access-Control-Allow-Origin": "*"},
        )
