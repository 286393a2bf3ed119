"""A local fake of WeChat Pay (API v3) and Alipay (openapi gateway) on 127.0.0.1, for tests and the
demo. It checks the merchant's request signatures, signs its answers, callbacks and statements as
the real platforms do — with test key pairs made at start-up — and serves a tiny pay page
("确认支付") the demo owner clicks.

Started by ``python -m wuye payments_fake`` (``scripts/run`` starts it) or, in tests, by the
``payments_fake`` fixture in a thread. It writes its merchant configuration (the test keys, its
address) to ``WUYE_PAYMENTS['fake_config_file']``, where the channels read it when no real merchant
is configured.
"""

from __future__ import annotations

import base64
import csv
import datetime
import gzip
import hashlib
import html
import io
import json
import secrets
import threading
import time
import urllib.request
import zipfile
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote_plus, urlencode, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from wuye.payments.fake.keys import KeyPair, self_signed_certificate

CST = datetime.timezone(datetime.timedelta(hours=8))
FEE_RATE = Decimal("0.006")


def _now() -> datetime.datetime:
    return datetime.datetime.now(CST).replace(microsecond=0)


def _fee(amount: Decimal) -> Decimal:
    return (amount * FEE_RATE).quantize(Decimal("0.01"))


# WeChat Pay's two ways for a merchant to check the platform's signatures (WUYE_WECHATPAY_VERIFY_MODE):
# 微信支付公钥 (a public key and its PUB_KEY_ID_…) or 平台证书 (certificates downloaded from
# /v3/certificates, encrypted with the API v3 key, named by their serial number).
PUBLIC_KEY, PLATFORM_CERT = "public_key", "platform_cert"


class FakeWechat:
    def __init__(self, mode: str = PUBLIC_KEY):
        self.mode = mode
        self.merchant = KeyPair()  # the merchant's API key pair (商户 API 证书私钥)
        self.platform = KeyPair()  # 微信支付公钥
        self.cert_key = KeyPair()  # the key of the 平台证书
        self.certificate = self_signed_certificate(self.cert_key, "Tenpay.com Root CA (fake)")
        self.cert_serial = format(self.certificate.serial_number, "X")
        self.mchid = "1900000109"
        self.appid = "wxfake0000000001"
        self.serial_no = "FAKE" + secrets.token_hex(8).upper()
        self.public_key_id = "PUB_KEY_ID_FAKE" + secrets.token_hex(6).upper()
        self.apiv3_key = secrets.token_hex(16)  # 32 characters
        self.app_secret = secrets.token_hex(16)  # the official account's AppSecret
        self.oauth_codes: dict[str, tuple[str, float]] = {}  # code → (openid, issued at)
        self.trades: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self.bills: dict[str, bytes] = {}
        self.lock = threading.Lock()

    def config(self, base_url: str) -> dict:
        return {
            "merchant_id": self.mchid,
            "app_id": self.appid,
            "apiv3_key": self.apiv3_key,
            "cert_serial_no": self.serial_no,
            "private_key": self.merchant.private_pem,
            **(
                {"public_key": self.platform.public_pem, "public_key_id": self.public_key_id}
                if self.mode == PUBLIC_KEY
                else {"public_key": "", "public_key_id": ""}
            ),
            "verify_mode": self.mode,
            "base_url": base_url,
            "app_secret": self.app_secret,
            "oauth_url": f"{base_url}/connect/oauth2/authorize",
            "sns_url": f"{base_url}/sns/oauth2/access_token",
            "fake": True,
        }

    # --- the official account's OAuth (snsapi_base) and the JSAPI bridge ------------------------

    def oauth_code(self, openid: str) -> str:
        """A one-time code for ``openid`` (what WeChat appends to the redirect after 授权)."""
        code = "fakecode" + secrets.token_hex(12)
        with self.lock:
            self.oauth_codes[code] = (openid, time.time())
        return code

    def oauth_exchange(self, query: dict) -> dict:
        """sns/oauth2/access_token: the code (once, within 5 minutes) for the payer's openid."""
        if query.get("appid") != self.appid:
            return {"errcode": 40013, "errmsg": "invalid appid"}
        if query.get("secret") != self.app_secret:
            return {"errcode": 40125, "errmsg": "invalid appsecret"}
        if query.get("grant_type") != "authorization_code":
            return {"errcode": 40002, "errmsg": "invalid grant_type"}
        with self.lock:
            found = self.oauth_codes.pop(query.get("code", ""), None)
        if found is None or time.time() - found[1] > 300:
            return {"errcode": 40029, "errmsg": "invalid code"}
        return {
            "access_token": "fake-token-" + secrets.token_hex(8),
            "expires_in": 7200,
            "refresh_token": "fake-refresh-" + secrets.token_hex(8),
            "openid": found[0],
            "scope": "snsapi_base",
        }

    def jsapi_pay(self, params: dict) -> tuple[str, str | None]:
        """What WeChat does on getBrandWCPayRequest: checks the merchant's paySign (SHA256withRSA
        over appId, timeStamp, nonceStr, package, one per line) and the prepay id, then pays.
        Returns (err_msg, out_trade_no)."""
        text = "".join(
            f"{params.get(k, '')}\n" for k in ("appId", "timeStamp", "nonceStr", "package")
        )
        if params.get("appId") != self.appid or params.get("signType") != "RSA":
            return "get_brand_wcpay_request:fail", None
        if not self.merchant.verify(text, params.get("paySign", "")):
            return "get_brand_wcpay_request:fail", None
        prepay = str(params.get("package", "")).removeprefix("prepay_id=")
        trade = next((t for t in self.trades.values() if t.get("prepay_id") == prepay), None)
        if trade is None or trade["state"] != "NOTPAY":
            return "get_brand_wcpay_request:fail", None
        self.pay(trade["out_trade_no"])
        return "get_brand_wcpay_request:ok", trade["out_trade_no"]

    # --- signing as the platform ---------------------------------------------------------------

    def signed_headers(self, body: str) -> dict[str, str]:
        """Signed as the platform signs in the merchant's mode: with the 微信支付公钥 (serial = its
        PUB_KEY_ID_…) or with the 平台证书's key (serial = the certificate's serial number, hex)."""
        stamp, nonce = str(int(time.time())), secrets.token_hex(16)
        key, serial = (
            (self.platform, self.public_key_id)
            if self.mode == PUBLIC_KEY
            else (self.cert_key, self.cert_serial)
        )
        return {
            "Wechatpay-Timestamp": stamp,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Signature": key.sign(f"{stamp}\n{nonce}\n{body}\n"),
            "Wechatpay-Serial": serial,
            "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
        }

    def certificates(self) -> dict:
        """GET /v3/certificates: the platform certificates, each encrypted with the API v3 key."""
        pem = self.certificate.public_bytes(serialization.Encoding.PEM).decode()
        encrypted = self.encrypt_text(pem, "certificate")
        return {
            "data": [
                {
                    "serial_no": self.cert_serial,
                    "effective_time": self.certificate.not_valid_before_utc.isoformat(),
                    "expire_time": self.certificate.not_valid_after_utc.isoformat(),
                    "encrypt_certificate": encrypted,
                }
            ]
        }

    def check_authorization(self, method: str, path: str, body: str, header: str) -> bool:
        if not header.startswith("WECHATPAY2-SHA256-RSA2048 "):
            return False
        parts = dict(
            item.split("=", 1) for item in header[len("WECHATPAY2-SHA256-RSA2048 ") :].split(",")
        )
        parts = {k.strip(): v.strip().strip('"') for k, v in parts.items()}
        if parts.get("mchid") != self.mchid or parts.get("serial_no") != self.serial_no:
            return False
        text = f"{method}\n{path}\n{parts.get('timestamp')}\n{parts.get('nonce_str')}\n{body}\n"
        return self.merchant.verify(text, parts.get("signature", ""))

    def encrypt(self, resource: dict, original_type: str) -> dict:
        return self.encrypt_text(json.dumps(resource, ensure_ascii=False), original_type)

    def encrypt_text(self, text: str, original_type: str) -> dict:
        nonce = secrets.token_hex(6)  # 12 characters, as the platform sends
        associated = original_type
        plain = text.encode()
        cipher = AESGCM(self.apiv3_key.encode()).encrypt(nonce.encode(), plain, associated.encode())
        return {
            "algorithm": "AEAD_AES_256_GCM",
            "ciphertext": base64.b64encode(cipher).decode(),
            "nonce": nonce,
            "associated_data": associated,
            "original_type": original_type,
        }

    def notification(self, resource: dict, event_type: str) -> tuple[dict[str, str], bytes]:
        """A callback as WeChat Pay sends it: encrypted resource, signed headers."""
        original = "refund" if event_type.startswith("REFUND.") else "transaction"
        body = json.dumps(
            {
                "id": secrets.token_hex(16),
                "create_time": _now().isoformat(),
                "resource_type": "encrypt-resource",
                "event_type": event_type,
                "summary": "支付成功" if original == "transaction" else "退款成功",
                "resource": self.encrypt(resource, original),
            },
            ensure_ascii=False,
        )
        headers = {"Content-Type": "application/json", **self.signed_headers(body)}
        return headers, body.encode()

    # --- trades ----------------------------------------------------------------------------------

    def resource(self, trade: dict) -> dict:
        data = {
            "appid": self.appid,
            "mchid": self.mchid,
            "out_trade_no": trade["out_trade_no"],
            "trade_type": trade["trade_type"],
            "trade_state": trade["state"],
            "trade_state_desc": {"SUCCESS": "支付成功", "NOTPAY": "未支付"}.get(trade["state"], ""),
            "amount": {
                "total": trade["total"],
                "payer_total": trade.get("paid", trade["total"]),
                "currency": "CNY",
                "payer_currency": "CNY",
            },
            "attach": "",
        }
        if trade.get("transaction_id"):
            data["transaction_id"] = trade["transaction_id"]
            data["success_time"] = trade["success_time"]
            data["bank_type"] = "OTHERS"
            data["payer"] = {"openid": trade.get("openid") or "o-fake-payer"}
        return data

    def pay(self, out_trade_no: str, *, paid: int | None = None) -> dict:
        """The payer confirms: the trade succeeds (``paid`` fen, default the order's total)."""
        with self.lock:
            trade = self.trades[out_trade_no]
            if trade["state"] == "NOTPAY":
                trade["state"] = "SUCCESS"
                trade["transaction_id"] = "4200" + "".join(
                    str(secrets.randbelow(10)) for _ in range(24)
                )
                trade["success_time"] = _now().isoformat()
                trade["paid"] = trade["total"] if paid is None else paid
            return trade

    def pay_notification(self, out_trade_no: str) -> tuple[dict[str, str], bytes]:
        return self.notification(self.resource(self.trades[out_trade_no]), "TRANSACTION.SUCCESS")

    def refund_notification(self, out_refund_no: str) -> tuple[dict[str, str], bytes]:
        refund = self.refunds[out_refund_no]
        return self.notification(refund, "REFUND.SUCCESS")

    def statement(self, day: datetime.date) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(
            [
                "交易时间",
                "公众账号ID",
                "商户号",
                "特约商户号",
                "设备号",
                "微信订单号",
                "商户订单号",
                "用户标识",
                "交易类型",
                "交易状态",
                "付款银行",
                "货币种类",
                "应结订单金额",
                "代金券金额",
                "微信退款单号",
                "商户退款单号",
                "退款金额",
                "充值券退款金额",
                "退款类型",
                "退款状态",
                "商品名称",
                "商户数据包",
                "手续费",
                "费率",
                "订单金额",
                "申请退款金额",
                "费率备注",
            ]
        )
        count, total, refunded, fees = 0, Decimal(0), Decimal(0), Decimal(0)
        for trade in list(self.trades.values()):
            if trade.get("state") not in ("SUCCESS", "REFUND") or not trade.get("success_time"):
                continue
            if datetime.datetime.fromisoformat(trade["success_time"]).date() != day:
                continue
            amount = Decimal(trade["paid"]) / 100
            fee = _fee(amount)
            count, total, fees = count + 1, total + amount, fees + fee
            writer.writerow(
                "`" + str(v)
                for v in [
                    trade["success_time"].replace("T", " ")[:19],
                    self.appid,
                    self.mchid,
                    "0",
                    "",
                    trade["transaction_id"],
                    trade["out_trade_no"],
                    trade.get("openid") or "o-fake-payer",
                    trade["trade_type"],
                    "SUCCESS",
                    "OTHERS",
                    "CNY",
                    f"{amount:.2f}",
                    "0.00",
                    "0",
                    "0",
                    "0.00",
                    "0.00",
                    "",
                    "",
                    trade["description"],
                    "",
                    f"{fee:.5f}",
                    "0.60%",
                    f"{amount:.2f}",
                    "0.00",
                    "",
                ]
            )
        for refund in list(self.refunds.values()):
            if datetime.datetime.fromisoformat(refund["success_time"]).date() != day:
                continue
            trade = self.trades.get(refund["out_trade_no"], {})
            amount = Decimal(refund["amount"]["refund"]) / 100
            fee = -_fee(amount)
            count, refunded, fees = count + 1, refunded + amount, fees + fee
            writer.writerow(
                "`" + str(v)
                for v in [
                    refund["success_time"].replace("T", " ")[:19],
                    self.appid,
                    self.mchid,
                    "0",
                    "",
                    refund["transaction_id"],
                    refund["out_trade_no"],
                    trade.get("openid") or "o-fake-payer",
                    trade.get("trade_type", "NATIVE"),
                    "REFUND",
                    "OTHERS",
                    "CNY",
                    "0.00",
                    "0.00",
                    refund["refund_id"],
                    refund["out_refund_no"],
                    f"{amount:.2f}",
                    "0.00",
                    "ORIGINAL",
                    "SUCCESS",
                    trade.get("description", ""),
                    "",
                    f"{fee:.5f}",
                    "0.60%",
                    "0.00",
                    f"{amount:.2f}",
                    "",
                ]
            )
        writer.writerow(
            [
                "总交易单数",
                "应结订单总金额",
                "退款总金额",
                "充值券退款总金额",
                "手续费总金额",
                "订单总金额",
                "申请退款总金额",
            ]
        )
        writer.writerow(
            "`" + v
            for v in [
                str(count),
                f"{total:.2f}",
                f"{refunded:.2f}",
                "0.00",
                f"{fees:.5f}",
                f"{total:.2f}",
                f"{refunded:.2f}",
            ]
        )
        return out.getvalue().encode("utf-8")


class FakeAlipay:
    def __init__(self):
        self.app = KeyPair()  # 应用私钥 (the merchant's)
        self.platform = KeyPair()  # 支付宝公钥
        self.app_id = "2021000000000001"
        self.trades: dict[str, dict] = {}
        self.lock = threading.Lock()

    def config(self, base_url: str) -> dict:
        return {
            "merchant_id": self.app_id,
            "app_id": self.app_id,
            "private_key": self.app.private_pem,
            "public_key": self.platform.public_pem,
            "base_url": base_url,
        }

    @staticmethod
    def sign_text(params: dict, skip=("sign", "sign_type")) -> str:
        """The string Alipay signs: sorted key=value pairs; a request's signature covers sign_type
        too, a notification's does not."""
        return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in skip)

    def check(self, params: dict) -> bool:
        return params.get("app_id") == self.app_id and self.app.verify(
            self.sign_text(params, skip=("sign",)), params.get("sign", "")
        )

    def response(self, method: str, payload: dict) -> str:
        inner = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        key = method.replace(".", "_") + "_response"
        return f'{{"{key}":{inner},"sign":"{self.platform.sign(inner)}"}}'

    def pay(self, out_trade_no: str, *, paid: str | None = None) -> dict:
        with self.lock:
            trade = self.trades[out_trade_no]
            if trade["status"] == "WAIT_BUYER_PAY":
                trade["status"] = "TRADE_SUCCESS"
                trade["trade_no"] = "2026" + "".join(str(secrets.randbelow(10)) for _ in range(24))
                trade["gmt_payment"] = _now().strftime("%Y-%m-%d %H:%M:%S")
                trade["paid"] = paid or trade["total_amount"]
            return trade

    def notification(self, out_trade_no: str, **extra) -> bytes:
        trade = self.trades[out_trade_no]
        params = {
            "notify_time": _now().strftime("%Y-%m-%d %H:%M:%S"),
            "notify_type": "trade_status_sync",
            "notify_id": secrets.token_hex(16),
            "app_id": self.app_id,
            "charset": "utf-8",
            "version": "1.0",
            "trade_no": trade["trade_no"],
            "out_trade_no": out_trade_no,
            "trade_status": trade["status"],
            "total_amount": trade["paid"],
            "receipt_amount": trade["paid"],
            "buyer_pay_amount": trade["paid"],
            "gmt_create": trade["gmt_create"],
            "gmt_payment": trade["gmt_payment"],
            "subject": trade["subject"],
            **extra,
        }
        params["sign"] = self.platform.sign(self.sign_text(params))
        params["sign_type"] = "RSA2"
        return urlencode(params).encode()

    def statement(self, day: datetime.date) -> bytes:
        header = (
            "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,"
            "终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,"
            "商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,"
            "退款批次号/请求号,服务费（元）,分润（元）,备注"
        )
        lines = [
            f"#支付宝业务明细查询\n#账号：[{self.app_id}]",
            f"#起始日期：[{day:%Y年%m月%d日}]",
            header,
        ]
        for trade in list(self.trades.values()):
            if trade["status"] not in ("TRADE_SUCCESS", "TRADE_FINISHED"):
                continue
            if trade["gmt_payment"][:10] == day.isoformat():
                amount = Decimal(trade["paid"])
                lines.append(
                    ",".join(
                        [trade["trade_no"], trade["out_trade_no"], "交易", trade["subject"]]
                        + [trade["gmt_create"], trade["gmt_payment"], "", "", "", "", "buyer@fake"]
                        + [f"{amount:.2f}", f"{amount:.2f}", "0.00", "0.00", "0.00", "0.00"]
                        + ["0.00", "", "0.00", "0.00", "", f"{-_fee(amount):.2f}", "0.00", ""]
                    )
                )
            for refund in trade.get("refunds", []):
                if refund["time"][:10] != day.isoformat():
                    continue
                amount = Decimal(refund["amount"])
                lines.append(
                    ",".join(
                        [trade["trade_no"], trade["out_trade_no"], "退款", trade["subject"]]
                        + [trade["gmt_create"], refund["time"], "", "", "", "", "buyer@fake"]
                        + [f"{-amount:.2f}", f"{-amount:.2f}", "0.00", "0.00", "0.00", "0.00"]
                        + ["0.00", "", "0.00", "0.00", refund["no"], f"{_fee(amount):.2f}", "0.00"]
                        + [""]
                    )
                )
        lines.append("#-----------------------------------------业务明细列表结束")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(
                f"{self.app_id}_{day:%Y%m%d}_业务明细.csv", "\n".join(lines).encode("gbk")
            )
            archive.writestr(
                f"{self.app_id}_{day:%Y%m%d}_业务明细(汇总).csv", "#汇总\n".encode("gbk")
            )
        return buffer.getvalue()


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


class FakePlatforms:
    """Both fakes behind one small HTTP server."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        auto_notify: bool = True,
        wechat_mode: str = PUBLIC_KEY,
    ):
        self.wechat = FakeWechat(wechat_mode)
        self.alipay = FakeAlipay()
        self.auto_notify = auto_notify
        self.payer_openid = "o-fake-" + secrets.token_hex(10)  # who "opens" the page in WeChat
        self.notify_log: list[tuple[str, int]] = []
        fake = self

        class Handler(_Handler):
            platforms = fake

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://{host}:{self.server.server_address[1]}"
        self.thread: threading.Thread | None = None

    def config(self) -> dict:
        return {
            "wechat": self.wechat.config(self.base_url),
            "alipay": self.alipay.config(f"{self.base_url}/gateway.do"),
        }

    def write_config(self, path) -> None:
        from pathlib import Path  # noqa: PLC0415

        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.config(), ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.chmod(0o600)
        tmp.replace(target)

    def start(self) -> FakePlatforms:
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def post(self, url: str, headers: dict[str, str], body: bytes) -> int:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - local URLs
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError:
            status = 0
        self.notify_log.append((url, status))
        return status


class _Handler(BaseHTTPRequestHandler):
    platforms: FakePlatforms
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def _send(self, status: int, body: bytes | str, content_type: str, headers: dict | None = None):
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    # --- WeChat Pay -----------------------------------------------------------------------------

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
                "success_time": _now().isoformat(),
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

    # --- Alipay ---------------------------------------------------------------------------------

    def _alipay(self, params: dict):
        ali = self.platforms.alipay
        method = params.get("method", "")
        if not ali.check(params):
            error = {
                "code": "40002",
                "msg": "Invalid Arguments",
                "sub_code": "isv.invalid-signature",
            }
            return self._send(200, ali.response(method, error), "application/json;charset=utf-8")
        biz = json.loads(params.get("biz_content") or "{}")
        ok = {"code": "10000", "msg": "Success"}
        no = biz.get("out_trade_no", "")
        missing = {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST"}

        def answer(payload):
            return self._send(200, ali.response(method, payload), "application/json;charset=utf-8")

        if method in ("alipay.trade.wap.pay", "alipay.trade.precreate", "alipay.trade.pay"):
            trade = ali.trades.get(no)
            if trade is None:
                trade = ali.trades[no] = {
                    "out_trade_no": no,
                    "total_amount": biz["total_amount"],
                    "subject": biz["subject"],
                    "status": "WAIT_BUYER_PAY",
                    "gmt_create": _now().strftime("%Y-%m-%d %H:%M:%S"),
                    "notify_url": params.get("notify_url", ""),
                    "return_url": params.get("return_url", ""),
                    "refunds": [],
                }
            if method == "alipay.trade.wap.pay":
                return self._pay_page("alipay", no)
            if method == "alipay.trade.precreate":
                return answer(
                    {
                        **ok,
                        "out_trade_no": no,
                        "qr_code": f"{self.platforms.base_url}/pay/alipay/{no}",
                    }
                )
            if biz.get("auth_code", "").endswith("0000"):
                return answer({"code": "10003", "msg": "等待用户付款", "out_trade_no": no})
            ali.pay(no)
            return answer(
                {
                    **ok,
                    "trade_no": trade["trade_no"],
                    "out_trade_no": no,
                    "total_amount": trade["paid"],
                    "gmt_payment": trade["gmt_payment"],
                }
            )
        trade = ali.trades.get(no)
        if method == "alipay.trade.query":
            if trade is None:
                return answer(missing)
            payload = {
                **ok,
                "out_trade_no": no,
                "trade_status": trade["status"],
                "total_amount": trade["total_amount"],
            }
            if trade.get("trade_no"):
                payload.update(
                    trade_no=trade["trade_no"],
                    total_amount=trade["paid"],
                    send_pay_date=trade["gmt_payment"],
                )
            return answer(payload)
        if method == "alipay.trade.close":
            if trade is None:
                return answer(missing)
            if trade["status"] != "WAIT_BUYER_PAY":
                return answer(
                    {
                        "code": "40004",
                        "msg": "Business Failed",
                        "sub_code": "ACQ.TRADE_STATUS_ERROR",
                    }
                )
            trade["status"] = "TRADE_CLOSED"
            return answer({**ok, "out_trade_no": no})
        if method == "alipay.trade.refund":
            if trade is None or not trade.get("trade_no"):
                return answer(missing)
            trade["refunds"].append(
                {
                    "no": biz.get("out_request_no", ""),
                    "amount": biz["refund_amount"],
                    "time": _now().strftime("%Y-%m-%d %H:%M:%S"),
                }
            )
            return answer(
                {
                    **ok,
                    "trade_no": trade["trade_no"],
                    "out_trade_no": no,
                    "fund_change": "Y",
                    "refund_fee": biz["refund_amount"],
                }
            )
        if method == "alipay.data.dataservice.bill.downloadurl.query":
            day = biz.get("bill_date", "")
            return answer(
                {**ok, "bill_download_url": f"{self.platforms.base_url}/alipay/bill/{day}.zip"}
            )
        return answer(
            {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.METHOD_NOT_FAKED"}
        )

    # --- the pay page ---------------------------------------------------------------------------

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

    # --- dispatch -------------------------------------------------------------------------------

    def do_GET(self):  # noqa: N802 - http.server's name
        path = urlsplit(self.path).path
        query = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
        if path.startswith("/v3/"):
            return self._wechat("GET", b"")
        if path == "/gateway.do":
            return self._alipay(query)
        if path.startswith("/pay/"):
            parts = path.split("/")
            if len(parts) == 4 and parts[2] in ("wechat", "alipay"):
                return self._pay_page(parts[2], parts[3], query.get("redirect_url", ""))
        if path.startswith("/alipay/bill/") and path.endswith(".zip"):
            day = datetime.date.fromisoformat(path.rsplit("/", 1)[1][:-4])
            return self._send(200, self.platforms.alipay.statement(day), "application/zip")
        if path == "/connect/oauth2/authorize":
            return self._oauth_authorize(query)
        if path == "/sns/oauth2/access_token":
            answer = self.platforms.wechat.oauth_exchange(query)
            return self._send(200, json.dumps(answer), "application/json; charset=utf-8")
        if path == "/jsbridge.js":
            script = JS_BRIDGE.replace("__BASE__", self.platforms.base_url)
            return self._send(200, script, "application/javascript; charset=utf-8")
        if path == "/health":
            return self._send(200, "ok", "text/plain")
        return self._send(404, "not found", "text/plain")

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

    def do_POST(self):  # noqa: N802
        path = urlsplit(self.path).path
        body = self._body()
        if path.startswith("/v3/"):
            return self._wechat("POST", body)
        if path == "/jsapi/pay":
            return self._jsapi_pay(body)
        if path == "/gateway.do":
            params = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
            params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
            return self._alipay(params)
        if path.startswith("/pay/"):
            parts = path.split("/")
            query = dict(parse_qsl(urlsplit(self.path).query))
            form = {**query, **dict(parse_qsl(body.decode("utf-8")))}
            if len(parts) == 4 and parts[2] in ("wechat", "alipay"):
                return self._pay_confirm(parts[2], parts[3], form)
        return self._send(404, "not found", "text/plain")


def quote_url(value: str) -> str:
    return quote_plus(value)
