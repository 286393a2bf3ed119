"""Alipay through ``python-alipay-sdk`` (RSA2): phone-website pay (alipay.trade.wap.pay), QR
precreate, trade query and close, bar-code pay (付款码), refunds, and the day's bill
(alipay.data.dataservice.bill.downloadurl.query). Notifications are checked with Alipay's public key.

The SDK is pointed at ``base_url`` (the real gateway, or the local fake) by setting its gateway.
"""

from __future__ import annotations

import csv
import datetime
import io
import urllib.request
import zipfile
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl

from alipay import AliPay
from django.utils import timezone

from wuye.payments.channels.base import (
    BadNotification,
    BaseChannel,
    ChannelError,
    Notice,
    PlatformTrade,
    RefundResult,
    StatementRow,
    read_secret,
)

CST = datetime.timezone(datetime.timedelta(hours=8))  # Alipay's times are Beijing time
_STATES = {
    "TRADE_SUCCESS": "paid",
    "TRADE_FINISHED": "paid",
    "WAIT_BUYER_PAY": "open",
    "TRADE_CLOSED": "closed",
}


def _amount(text) -> Decimal | None:
    try:
        return Decimal(str(text)) if text not in (None, "") else None
    except InvalidOperation:
        return None


def _time(text: str | None) -> datetime.datetime | None:
    if not text:
        return None
    try:
        naive = datetime.datetime.strptime(text, "%Y-%m-%d %H:%M:%S")  # noqa: DTZ007 - Beijing time
        return naive.replace(tzinfo=CST)
    except ValueError:
        return None


class AlipayChannel(BaseChannel):
    name = "alipay"

    def __init__(self, config: dict):
        super().__init__(config)
        try:
            self.client = AliPay(
                appid=config["app_id"],
                app_notify_url=self.notify_url(),
                app_private_key_string=read_secret(
                    config.get("private_key", ""), config.get("private_key_file", "")
                ),
                alipay_public_key_string=read_secret(
                    config.get("public_key", ""), config.get("public_key_file", "")
                ),
                sign_type="RSA2",
            )
        except Exception as exc:  # noqa: BLE001 - key parsing errors of the SDK
            raise ChannelError(f"支付宝商户配置有误：{exc}") from exc
        self.client._gateway = config["base_url"]

    def _call(self, what: str, fn, *args, **kwargs) -> dict:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - network errors, AliPayException, bad signatures
            raise ChannelError(f"支付宝{what}失败：{exc}") from exc

    @staticmethod
    def _refused(what: str, data: dict) -> ChannelError:
        return ChannelError(
            f"支付宝{what}失败：{data.get('code')} {data.get('sub_code', '')} "
            f"{data.get('sub_msg') or data.get('msg', '')}".strip()
        )

    def create(self, order, *, openid: str = "", client_ip: str = "", return_url: str = "") -> dict:
        expire = timezone.localtime(order.expires_at).strftime("%Y-%m-%d %H:%M:%S")
        total = f"{order.amount:.2f}"
        if order.scene == "wap":
            query = self.client.api_alipay_trade_wap_pay(
                subject=order.description,
                out_trade_no=order.out_trade_no,
                total_amount=total,
                return_url=return_url or None,
                notify_url=self.notify_url(),
                time_expire=expire,
            )
            return {"pay_url": f"{self.client._gateway}?{query}"}
        data = self._call(
            "预下单",
            self.client.api_alipay_trade_precreate,
            subject=order.description,
            out_trade_no=order.out_trade_no,
            total_amount=total,
            notify_url=self.notify_url(),
            time_expire=expire,
        )
        if data.get("code") != "10000":
            raise self._refused("预下单", data)
        return {"code_url": data["qr_code"]}

    def _trade(self, out_trade_no: str, data: dict) -> PlatformTrade:
        return PlatformTrade(
            state=_STATES.get(data.get("trade_status", ""), "open"),
            out_trade_no=out_trade_no,
            transaction_id=data.get("trade_no", "") or "",
            amount=_amount(data.get("total_amount")),
            paid_at=_time(data.get("send_pay_date") or data.get("gmt_payment")),
        )

    def query(self, order) -> PlatformTrade:
        data = self._call(
            "查单", self.client.api_alipay_trade_query, out_trade_no=order.out_trade_no
        )
        if data.get("code") == "40004" and data.get("sub_code") == "ACQ.TRADE_NOT_EXIST":
            return PlatformTrade(state="missing", out_trade_no=order.out_trade_no)
        if data.get("code") != "10000":
            raise self._refused("查单", data)
        return self._trade(order.out_trade_no, data)

    def close(self, order) -> None:
        data = self._call(
            "关单", self.client.api_alipay_trade_close, out_trade_no=order.out_trade_no
        )
        if data.get("code") == "40004" and data.get("sub_code") == "ACQ.TRADE_NOT_EXIST":
            return  # never scanned: nothing to close on the platform
        if data.get("code") != "10000":
            raise self._refused("关单", data)

    def micropay(self, order, auth_code: str) -> PlatformTrade:
        data = self._call(
            "付款码收款",
            self.client.api_alipay_trade_pay,
            out_trade_no=order.out_trade_no,
            scene="bar_code",
            auth_code=auth_code,
            subject=order.description,
            total_amount=f"{order.amount:.2f}",
        )
        if data.get("code") == "10003":
            return PlatformTrade(state="paying", out_trade_no=order.out_trade_no)
        if data.get("code") != "10000":
            raise self._refused("付款码收款", data)
        return PlatformTrade(
            state="paid",
            out_trade_no=order.out_trade_no,
            transaction_id=data.get("trade_no", ""),
            amount=_amount(data.get("total_amount")),
            paid_at=_time(data.get("gmt_payment")),
        )

    def parse_notification(self, headers: dict, body: bytes) -> Notice:
        try:
            data = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError as exc:
            raise BadNotification("通知不是 UTF-8") from exc
        signature = data.pop("sign", "")
        if not signature:
            raise BadNotification("缺少签名")
        fields = dict(data)
        try:
            valid = self.client.verify(fields, signature)
        except Exception as exc:  # noqa: BLE001 - unknown sign type, bad base64
            raise BadNotification(f"验签失败：{exc}") from exc
        if not valid:
            raise BadNotification("验签失败")
        if data.get("app_id") != self.config["app_id"]:
            raise BadNotification("应用 ID 不符")
        if data.get("refund_fee") and data.get("out_biz_no"):
            return Notice(
                kind="refund",
                out_trade_no=data.get("out_trade_no", ""),
                transaction_id=data.get("trade_no", ""),
                amount=_amount(data.get("refund_fee")),
                success=True,
                out_refund_no=data["out_biz_no"],
                refund_id=data.get("trade_no", ""),
                raw=data,
            )
        trade = self._trade(data.get("out_trade_no", ""), data)
        return Notice(
            kind="pay",
            out_trade_no=trade.out_trade_no,
            transaction_id=trade.transaction_id,
            amount=trade.amount,
            paid_at=trade.paid_at,
            success=trade.state == "paid",
            raw=data,
        )

    def answer(self, ok: bool, message: str = "") -> tuple[int, bytes, str]:
        return 200, (b"success" if ok else b"failure"), "text/plain"

    def refund(self, order, *, out_refund_no: str, amount: Decimal, reason: str) -> RefundResult:
        try:
            data = self.client.api_alipay_trade_refund(
                refund_amount=f"{amount:.2f}",
                out_trade_no=order.out_trade_no,
                out_request_no=out_refund_no,
                refund_reason=reason[:80],
            )
        except Exception as exc:  # noqa: BLE001
            return RefundResult(state="failed", message=f"支付宝退款失败：{exc}")
        if data.get("code") != "10000":
            return RefundResult(state="failed", message=str(self._refused("退款", data)))
        # Alipay refunds synchronously: fund_change Y is the money going back.
        return RefundResult(state="success", refund_id=data.get("trade_no", ""), message="")

    def statement(self, day: datetime.date) -> list[StatementRow]:
        data = self._call(
            "下载账单",
            self.client.server_api,
            "alipay.data.dataservice.bill.downloadurl.query",
            {"bill_type": "trade", "bill_date": day.isoformat()},
        )
        if data.get("code") == "40004" and "BILL_NOT_EXIST" in str(data.get("sub_code", "")):
            return []
        if data.get("code") != "10000":
            raise self._refused("下载账单", data)
        url = data["bill_download_url"]
        if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ChannelError("支付宝账单地址不是 HTTPS")
        try:
            with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - checked above
                content = response.read()
        except OSError as exc:
            raise ChannelError(f"支付宝账单下载失败：{exc}") from exc
        return parse_bill_zip(content)


def parse_bill_zip(content: bytes) -> list[StatementRow]:
    """Alipay's bill: a zip of GBK CSV files; the 业务明细 file (not 汇总) has one row per trade or
    refund, between '#' comment lines."""
    rows: list[StatementRow] = []
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name in archive.namelist():
            if "汇总" in name or not name.endswith(".csv"):
                continue
            text = archive.read(name).decode("gbk")
            lines = [line for line in text.splitlines() if line and not line.startswith("#")]
            reader = csv.reader(lines)
            header = [h.strip() for h in next(reader, [])]
            index = {h: i for i, h in enumerate(header)}
            for raw in reader:
                cells = [c.strip() for c in raw]
                if len(cells) < len(header) or cells[0].startswith("#"):
                    continue

                def get(name: str, cells=cells, index=index) -> str:
                    i = index.get(name)
                    return cells[i] if i is not None else ""

                kind = "refund" if get("业务类型") == "退款" else "pay"
                amount = abs(Decimal(get("订单金额（元）") or "0"))
                rows.append(
                    StatementRow(
                        kind=kind,
                        out_trade_no=get("商户订单号"),
                        transaction_id=get("支付宝交易号"),
                        amount=amount,
                        fee=-Decimal(get("服务费（元）") or "0"),
                        time=get("完成时间") or get("创建时间"),
                        out_refund_no=get("退款批次号/请求号") if kind == "refund" else "",
                    )
                )
    return rows
