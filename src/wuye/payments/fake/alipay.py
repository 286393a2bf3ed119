"""The fake Alipay (openapi gateway): the app's and the platform's keys, request signature checks,
signed answers and notifications, the trades and refunds, and the daily statement (业务明细, zipped)."""

from __future__ import annotations

import datetime
import io
import json
import secrets
import threading
import zipfile
from decimal import Decimal
from urllib.parse import urlencode

from wuye.payments.fake.keys import KeyPair
from wuye.payments.fake.plumbing import cst_now, platform_fee


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
                trade["gmt_payment"] = cst_now().strftime("%Y-%m-%d %H:%M:%S")
                trade["paid"] = paid or trade["total_amount"]
            return trade

    def notification(self, out_trade_no: str, **extra) -> bytes:
        trade = self.trades[out_trade_no]
        params = {
            "notify_time": cst_now().strftime("%Y-%m-%d %H:%M:%S"),
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
                        + [
                            "0.00",
                            "",
                            "0.00",
                            "0.00",
                            "",
                            f"{-platform_fee(amount):.2f}",
                            "0.00",
                            "",
                        ]
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
                        + [
                            "0.00",
                            "",
                            "0.00",
                            "0.00",
                            refund["no"],
                            f"{platform_fee(amount):.2f}",
                            "0.00",
                        ]
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
