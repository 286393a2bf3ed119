"""One interface for every payment platform; each platform is a module of its own (``wechat``,
``alipay``) that speaks through the platform's maintained SDK.

Configuration comes only from settings (``WUYE_PAYMENTS``, filled from the environment; see
docs/operations/online-payment.md). When a platform has no merchant configured, the channel talks
to the local fake (``python -m wuye payments_fake``), reading the fake's test keys from the file
the fake writes at start-up — never from the database or the repository.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings

from wuye.core.money import money


class ChannelError(Exception):
    """The platform refused or could not be reached; the message is shown to staff (Chinese)."""


class BadNotification(Exception):
    """A callback whose signature, decryption or content does not check out."""


@dataclass(frozen=True)
class PlatformTrade:
    """What the platform says about an order (主动查单, micropay)."""

    state: str  # paid | open | closed | failed | missing | paying
    out_trade_no: str
    transaction_id: str = ""
    amount: Decimal | None = None
    paid_at: datetime.datetime | None = None


@dataclass(frozen=True)
class Notice:
    """A verified callback."""

    kind: str  # pay | refund
    out_trade_no: str
    transaction_id: str = ""
    amount: Decimal | None = None
    paid_at: datetime.datetime | None = None
    success: bool = True
    out_refund_no: str = ""
    refund_id: str = ""
    raw: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RefundResult:
    state: str  # success | processing | failed
    refund_id: str = ""
    message: str = ""


@dataclass(frozen=True)
class StatementRow:
    """A line of the platform's statement for a day (trade bill)."""

    kind: str  # pay | refund
    out_trade_no: str
    transaction_id: str
    amount: Decimal  # positive, yuan
    fee: Decimal
    time: str
    out_refund_no: str = ""


class BaseChannel:
    name = ""

    def __init__(self, config: dict):
        self.config = config

    def notify_url(self) -> str:
        base = payments_settings()["notify_base_url"].rstrip("/")
        return f"{base}/payments/notify/{self.name}/"

    # Each platform module implements these.
    def create(self, order, *, openid: str = "", client_ip: str = "", return_url: str = "") -> dict:
        raise NotImplementedError

    def query(self, order) -> PlatformTrade:
        raise NotImplementedError

    def close(self, order) -> None:
        raise NotImplementedError

    def micropay(self, order, auth_code: str) -> PlatformTrade:
        raise NotImplementedError

    def parse_notification(self, headers: dict, body: bytes) -> Notice:
        raise NotImplementedError

    def answer(self, ok: bool, message: str = "") -> tuple[int, bytes, str]:
        raise NotImplementedError

    def refund(self, order, *, out_refund_no: str, amount: Decimal, reason: str) -> RefundResult:
        raise NotImplementedError

    def statement(self, day: datetime.date) -> list[StatementRow]:
        raise NotImplementedError


def fen(amount: Decimal) -> int:
    return int(money(amount) * 100)


def yuan(fen_value: int | str) -> Decimal:
    return money(Decimal(int(fen_value)) / 100)


def payments_settings() -> dict:
    return settings.WUYE_PAYMENTS


def fake_config_path() -> Path:
    return Path(payments_settings()["fake_config_file"])


def _fake_config(name: str) -> dict:
    path = fake_config_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ChannelError(
            f"未配置{'微信支付' if name == 'wechat' else '支付宝'}商户，且本地模拟支付平台未启动"
            "（python -m wuye payments_fake）"
        ) from exc
    return data[name]


def channel_config(name: str) -> dict:
    """The merchant configuration of a platform: from settings when a merchant is configured, else
    the local fake's (its test keys and its 127.0.0.1 address)."""
    config = payments_settings()[name]
    if config.get("merchant_id"):
        return config
    return _fake_config(name)


_CHANNELS: dict[tuple, BaseChannel] = {}


def channel_for(name: str) -> BaseChannel:
    """The channel of a platform, built once per configuration (loading and checking an RSA private
    key costs tens of milliseconds: not something to do for every callback)."""
    from wuye.payments.channels import alipay, wechat  # noqa: PLC0415 - the registry of modules

    modules = {"wechat": wechat.WechatChannel, "alipay": alipay.AlipayChannel}
    if name not in modules:
        raise ChannelError(f"未知的支付渠道“{name}”")
    config = channel_config(name)
    key = (name, payments_settings().get("notify_base_url"), *sorted(config.items()))
    channel = _CHANNELS.get(key)
    if channel is None:
        if len(_CHANNELS) > 16:
            _CHANNELS.clear()
        channel = _CHANNELS[key] = modules[name](config)
    return channel


def read_secret(value: str, path: str) -> str:
    """A key given inline (PEM text in the environment) or as a file path."""
    if value:
        return value
    if path:
        return Path(path).read_text(encoding="utf-8")
    return ""
