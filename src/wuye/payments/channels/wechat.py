"""WeChat Pay API v3 through ``wechatpayv3``: JSAPI (inside WeChat, with the payer's openid), H5
(other phone browsers), Native (QR code), codepay (付款码 at the window); callbacks checked with the
platform's public key (WECHATPAY2-SHA256-RSA2048) and decrypted (AEAD_AES_256_GCM with the API v3
key); refunds; the trade bill (交易账单) of a day.

The SDK is pointed at ``base_url`` (the real gateway, or the local fake) by setting its gateway.
The platform's signatures are checked in one of WeChat Pay's two modes, chosen by settings only
(``verify_mode``, env ``WUYE_WECHATPAY_VERIFY_MODE``):

- ``public_key`` (default): the 微信支付公钥 and its ``PUB_KEY_ID_…``, which WeChat Pay gives every
  merchant since 2024; a signature whose ``Wechatpay-Serial`` is that id is checked with that key.
- ``platform_cert``: the 平台证书 of older merchants, kept in ``cert_dir`` (env
  ``WUYE_WECHATPAY_CERT_DIR``); the SDK downloads them from ``/v3/certificates`` (encrypted with the
  API v3 key) when the directory has none valid, or when a signature names a serial it does not
  know, and checks each signature with the certificate of that serial.

In both modes a signature by any other key or serial is refused (and nothing is posted).
"""

from __future__ import annotations

import csv
import datetime
import gzip
import hashlib
import io
import json
import secrets
import time
from decimal import Decimal

from django.utils import timezone
from wechatpayv3 import WeChatPay, WeChatPayType

from wuye.payments.channels.base import (
    BadNotification,
    BaseChannel,
    ChannelError,
    Notice,
    PlatformTrade,
    RefundResult,
    StatementRow,
    fen,
    payments_settings,
    read_secret,
    yuan,
)

PUBLIC_KEY, PLATFORM_CERT = "public_key", "platform_cert"
VERIFY_MODES = (PUBLIC_KEY, PLATFORM_CERT)

# A callback older than this is refused (WeChat Pay advises checking the timestamp against replay).
MAX_CLOCK_SKEW = 300
_STATES = {
    "SUCCESS": "paid",
    "REFUND": "paid",
    "NOTPAY": "open",
    "USERPAYING": "paying",
    "CLOSED": "closed",
    "REVOKED": "closed",
    "PAYERROR": "failed",
}
_HEADERS = (
    "Wechatpay-Signature",
    "Wechatpay-Timestamp",
    "Wechatpay-Nonce",
    "Wechatpay-Serial",
    "Wechatpay-Signature-Type",
)


def _stand_in_key(private_pem: str) -> str:
    """The merchant's own public key in PEM: only to build the SDK client before switching it to
    platform certificates (never used to check the platform's signatures)."""
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415

    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _time(text: str | None) -> datetime.datetime | None:
    if not text:
        return None
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        return None


def _message(code: int, text) -> str:
    try:
        data = json.loads(text)
        return f"微信支付返回 {code}：{data.get('code', '')} {data.get('message', '')}".strip()
    except (TypeError, ValueError):
        return f"微信支付返回 {code}"


class WechatChannel(BaseChannel):
    name = "wechat"

    def __init__(self, config: dict):
        super().__init__(config)
        mode = config.get("verify_mode") or PUBLIC_KEY
        if mode not in VERIFY_MODES:
            raise ChannelError(
                f"微信支付验签模式“{mode}”无效，可选：{PUBLIC_KEY}（微信支付公钥）、"
                f"{PLATFORM_CERT}（平台证书）"
            )
        private_key = read_secret(config.get("private_key", ""), config.get("private_key_file", ""))
        if mode == PUBLIC_KEY:
            public_key = read_secret(
                config.get("public_key", ""), config.get("public_key_file", "")
            )
            public_key_id = config.get("public_key_id", "")
            if not (public_key and public_key_id):
                raise ChannelError(
                    "微信支付公钥模式需要 WUYE_WECHATPAY_PUBLIC_KEY(_FILE) 和 WUYE_WECHATPAY_PUBLIC_KEY_ID"
                )
            cert_dir = None
        else:
            cert_dir = config.get("cert_dir") or payments_settings()["wechat"].get("cert_dir", "")
            if not cert_dir:
                raise ChannelError(
                    "微信支付平台证书模式需要 WUYE_WECHATPAY_CERT_DIR（平台证书存放目录）"
                )
            # The SDK fetches certificates as it is built, from WeChat's own gateway; build it with a
            # stand-in key first, point it at ``base_url``, then load/fetch the certificates there.
            public_key, public_key_id = _stand_in_key(private_key), "stand-in"
        try:
            self.client = WeChatPay(
                wechatpay_type=WeChatPayType.NATIVE,
                mchid=config["merchant_id"],
                private_key=private_key,
                cert_serial_no=config["cert_serial_no"],
                appid=config["app_id"],
                apiv3_key=config["apiv3_key"],
                notify_url=self.notify_url(),
                cert_dir=cert_dir,
                public_key=public_key,
                public_key_id=public_key_id,
                timeout=(5, 20),
            )
            core = self.client._core
            core._gate_way = config["base_url"].rstrip("/")
            if mode == PLATFORM_CERT:
                core._public_key = core._public_key_id = None
                core._init_certificates()  # cert_dir, else GET /v3/certificates (API v3 key)
        except Exception as exc:  # noqa: BLE001 - the SDK raises bare Exceptions on bad keys
            raise ChannelError(f"微信支付商户配置有误：{exc}") from exc
        self.verify_mode = mode

    def _call(self, what: str, fn, *args, **kwargs) -> tuple[int, object]:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - network errors and the SDK's signature errors
            raise ChannelError(f"微信支付{what}失败：{exc}") from exc

    # --- paying ---------------------------------------------------------------------------------

    def create(self, order, *, openid: str = "", client_ip: str = "", return_url: str = "") -> dict:
        kinds = {
            "jsapi": WeChatPayType.JSAPI,
            "h5": WeChatPayType.H5,
            "native": WeChatPayType.NATIVE,
        }
        extra: dict = {}
        if order.scene == "jsapi":
            extra["payer"] = {"openid": openid}
        if order.scene == "h5":
            extra["scene_info"] = {
                "payer_client_ip": client_ip or "127.0.0.1",
                "h5_info": {"type": "Wap"},
            }
        code, text = self._call(
            "下单",
            self.client.pay,
            description=order.description,
            out_trade_no=order.out_trade_no,
            amount={"total": fen(order.amount), "currency": "CNY"},
            time_expire=timezone.localtime(order.expires_at).isoformat(timespec="seconds"),
            pay_type=kinds[order.scene],
            **extra,
        )
        if code != 200:
            raise ChannelError(_message(code, text))
        data = json.loads(text)
        if order.scene == "native":
            return {"code_url": data["code_url"]}
        if order.scene == "h5":
            url = data["h5_url"]
            if return_url:
                from urllib.parse import quote  # noqa: PLC0415

                url += ("&" if "?" in url else "?") + "redirect_url=" + quote(return_url, safe="")
            return {"h5_url": url}
        package = f"prepay_id={data['prepay_id']}"
        stamp, nonce = str(int(time.time())), secrets.token_hex(16)
        app_id = self.config["app_id"]
        params: dict = {}
        if self.config.get("fake"):  # no WeChat JS bridge outside WeChat: the fake's pay page
            params["pay_page"] = f"{self.config['base_url']}/pay/wechat/{order.out_trade_no}"
        return {
            **params,
            "jsapi": {
                "appId": app_id,
                "timeStamp": stamp,
                "nonceStr": nonce,
                "package": package,
                "signType": "RSA",
                "paySign": self.client.sign([app_id, stamp, nonce, package]),
            },
        }

    def _trade(self, out_trade_no: str, data: dict) -> PlatformTrade:
        amount = data.get("amount") or {}
        total = amount.get("payer_total", amount.get("total"))
        return PlatformTrade(
            state=_STATES.get(data.get("trade_state", ""), "open"),
            out_trade_no=out_trade_no,
            transaction_id=data.get("transaction_id", "") or "",
            amount=yuan(total) if total is not None else None,
            paid_at=_time(data.get("success_time")),
        )

    def query(self, order) -> PlatformTrade:
        code, text = self._call("查单", self.client.query, out_trade_no=order.out_trade_no)
        if code == 404:
            return PlatformTrade(state="missing", out_trade_no=order.out_trade_no)
        if code != 200:
            raise ChannelError(_message(code, text))
        return self._trade(order.out_trade_no, json.loads(text))

    def close(self, order) -> None:
        code, text = self._call("关单", self.client.close, out_trade_no=order.out_trade_no)
        if code not in (200, 204):
            raise ChannelError(_message(code, text))

    def micropay(self, order, auth_code: str) -> PlatformTrade:
        code, text = self._call(
            "付款码收款",
            self.client.pay,
            description=order.description,
            out_trade_no=order.out_trade_no,
            amount={"total": fen(order.amount), "currency": "CNY"},
            payer={"auth_code": auth_code},
            scene_info={"store_info": {"out_id": str(order.project_id)}},
            pay_type=WeChatPayType.CODEPAY,
        )
        if code == 202 or (code != 200 and "USERPAYING" in str(text)):
            return PlatformTrade(state="paying", out_trade_no=order.out_trade_no)
        if code != 200:
            raise ChannelError(_message(code, text))
        return self._trade(order.out_trade_no, json.loads(text))

    # --- callbacks ------------------------------------------------------------------------------

    def parse_notification(self, headers: dict, body: bytes) -> Notice:
        wanted = {h.lower(): h for h in _HEADERS}
        found = {wanted[k.lower()]: v for k, v in headers.items() if k.lower() in wanted}
        try:
            stamp = int(found.get("Wechatpay-Timestamp", ""))
        except ValueError as exc:
            raise BadNotification("缺少或无效的 Wechatpay-Timestamp") from exc
        if abs(time.time() - stamp) > MAX_CLOCK_SKEW:
            raise BadNotification("通知时间戳超出 5 分钟，拒绝（防重放）")
        try:
            data = self.client.callback(found, body)
        except Exception as exc:  # noqa: BLE001 - the SDK raises bare Exceptions
            raise BadNotification(f"验签或解密失败：{exc}") from exc
        if not data:
            raise BadNotification("验签或解密失败")
        resource = data.get("resource") or {}
        event = data.get("event_type", "")
        if resource.get("mchid") not in (None, self.config["merchant_id"]):
            raise BadNotification("商户号不符")
        if event.startswith("REFUND."):
            amount = resource.get("amount") or {}
            return Notice(
                kind="refund",
                out_trade_no=resource.get("out_trade_no", ""),
                transaction_id=resource.get("transaction_id", ""),
                amount=yuan(amount["refund"]) if "refund" in amount else None,
                success=resource.get("refund_status") == "SUCCESS",
                out_refund_no=resource.get("out_refund_no", ""),
                refund_id=resource.get("refund_id", ""),
                raw=resource,
            )
        if resource.get("appid") not in (None, self.config["app_id"]):
            raise BadNotification("应用 ID 不符")
        trade = self._trade(resource.get("out_trade_no", ""), resource)
        return Notice(
            kind="pay",
            out_trade_no=trade.out_trade_no,
            transaction_id=trade.transaction_id,
            amount=trade.amount,
            paid_at=trade.paid_at,
            success=trade.state == "paid",
            raw=resource,
        )

    def answer(self, ok: bool, message: str = "") -> tuple[int, bytes, str]:
        if ok:
            return 204, b"", "application/json"
        body = json.dumps({"code": "FAIL", "message": message or "失败"}, ensure_ascii=False)
        return 400, body.encode(), "application/json"

    # --- refunds and statements ----------------------------------------------------------------

    def refund(self, order, *, out_refund_no: str, amount: Decimal, reason: str) -> RefundResult:
        code, text = self._call(
            "退款",
            self.client.refund,
            out_refund_no=out_refund_no,
            amount={"refund": fen(amount), "total": fen(order.paid_amount), "currency": "CNY"},
            transaction_id=order.transaction_id,
            reason=reason[:80],
            notify_url=self.notify_url(),
        )
        if code != 200:
            return RefundResult(state="failed", message=_message(code, text))
        data = json.loads(text)
        status = data.get("status", "PROCESSING")
        state = {"SUCCESS": "success", "PROCESSING": "processing"}.get(status, "failed")
        return RefundResult(state=state, refund_id=data.get("refund_id", ""), message=status)

    def statement(self, day: datetime.date) -> list[StatementRow]:
        code, text = self._call("下载账单", self.client.trade_bill, bill_date=day.isoformat())
        if code == 400 and "NO_STATEMENT_EXIST" in str(text):
            return []
        if code != 200:
            raise ChannelError(_message(code, text))
        meta = json.loads(text)
        code, content = self._call("下载账单", self.client.download_bill, meta["download_url"])
        if code != 200:
            raise ChannelError(f"微信支付下载账单失败：{code}")
        if isinstance(content, str):
            content = content.encode()
        digest = hashlib.sha1(content).hexdigest()  # noqa: S324 - WeChat's choice of digest
        if meta.get("hash_type", "SHA1") == "SHA1" and meta.get("hash_value", digest) != digest:
            raise ChannelError("微信支付账单摘要不符，可能在传输中被改动")
        if content[:2] == b"\x1f\x8b":
            content = gzip.decompress(content)
        return parse_trade_bill(content.decode("utf-8-sig"))


def parse_trade_bill(text: str) -> list[StatementRow]:
    """WeChat Pay's trade bill: a CSV whose fields start with a backquote, then a summary block."""
    rows: list[StatementRow] = []
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        return rows
    index = {name.strip(): i for i, name in enumerate(header)}
    for raw in reader:
        if not raw or not raw[0].startswith("`"):
            break  # the summary block (总交易单数, …) follows the lines
        cells = [c.lstrip("`").strip() for c in raw]

        def get(name: str, cells=cells) -> str:
            i = index.get(name)
            return cells[i] if i is not None and i < len(cells) else ""

        refund_no = get("商户退款单号")
        is_refund = get("交易状态") == "REFUND" or (refund_no not in ("", "0"))
        fee = Decimal(get("手续费") or "0")
        if is_refund:
            rows.append(
                StatementRow(
                    kind="refund",
                    out_trade_no=get("商户订单号"),
                    transaction_id=get("微信订单号"),
                    amount=Decimal(get("退款金额") or "0"),
                    fee=fee,
                    time=get("交易时间"),
                    out_refund_no=refund_no,
                )
            )
        else:
            rows.append(
                StatementRow(
                    kind="pay",
                    out_trade_no=get("商户订单号"),
                    transaction_id=get("微信订单号"),
                    amount=Decimal(get("应结订单金额") or "0"),
                    fee=fee,
                    time=get("交易时间"),
                )
            )
    return rows
