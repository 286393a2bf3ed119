"""The fake WeChat Pay (API v3): the merchant's and the platform's keys, request signature checks,
signed answers and encrypted callbacks, the official account's OAuth and JSAPI bridge, the trades
and refunds, and the daily trade bill (交易账单)."""

from __future__ import annotations

import base64
import csv
import datetime
import io
import json
import secrets
import threading
import time
from decimal import Decimal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from wuye.payments.fake.keys import KeyPair, self_signed_certificate
from wuye.payments.fake.plumbing import cst_now, platform_fee

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
                "create_time": cst_now().isoformat(),
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
                trade["success_time"] = cst_now().isoformat()
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
            fee = platform_fee(amount)
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
            fee = -platform_fee(amount)
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
