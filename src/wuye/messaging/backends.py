"""SMS backends, chosen by the ``WUYE_SMS_BACKEND`` setting (a dotted class path).

A backend's ``send(to, body)`` returns a ``Sent`` (the provider's message id, and whether the message
left the machine) or raises ``SmsError`` with a reason for the outbox.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)

DEFAULT_BACKEND = "wuye.messaging.backends.OutboxBackend"


class SmsError(Exception):
    pass


@dataclass(frozen=True)
class Sent:
    provider_id: str = ""


class OutboxBackend:
    """A fresh machine has no SMS provider: the message stays in the outbox, marked sent, and staff
    can read it there."""

    # The outbox is where this backend's messages are read: a one-time code is kept readable.
    delivers_to_outbox = True

    def send(self, to: str, body: str) -> Sent:
        return Sent("")


class ConsoleBackend:
    """Writes each message to the log (development)."""

    def send(self, to: str, body: str) -> Sent:
        log.warning("SMS to %s: %s", to, body)
        print(f"[SMS] {to}: {body}")  # noqa: T201 - the point of this backend
        return Sent("")


class HttpSmsBackend:
    """A JSON HTTP provider: ``POST WUYE_SMS_URL`` with ``{"to", "text", "sender"}`` and the header
    ``X-Api-Key: WUYE_SMS_API_KEY``; a 2xx answer carries ``{"message_id": ...}`` (or ``"id"``).
    Delivery receipts come back to ``messaging:sms_receipt``."""

    def __init__(self) -> None:
        self.url = getattr(settings, "WUYE_SMS_URL", "")
        self.key = getattr(settings, "WUYE_SMS_API_KEY", "")
        self.sender = getattr(settings, "WUYE_SMS_SENDER", "")
        self.timeout = float(getattr(settings, "WUYE_SMS_TIMEOUT", 10))

    def send(self, to: str, body: str) -> Sent:
        if not self.url:
            raise SmsError("未配置短信服务地址 WUYE_SMS_URL")
        data = json.dumps({"to": to, "text": body, "sender": self.sender}).encode()
        request = urllib.request.Request(  # noqa: S310 - the URL is the operator's setting
            self.url,
            data=data,
            method="POST",
            headers={"Content-Type": "application/json", "X-Api-Key": self.key},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:200].decode("utf-8", "replace")
            raise SmsError(f"短信服务商拒绝（HTTP {exc.code}）：{detail}") from exc
        except (TimeoutError, urllib.error.URLError) as exc:
            raise SmsError(f"短信服务商无响应：{exc}") from exc
        except ValueError as exc:
            raise SmsError("短信服务商的应答不是 JSON") from exc
        provider_id = str(answer.get("message_id") or answer.get("id") or "")
        if not provider_id:
            raise SmsError(f"短信服务商应答中没有消息号：{str(answer)[:200]}")
        return Sent(provider_id)


@cache
def _backend_class(path: str):
    return import_string(path)


def backend():
    return _backend_class(backend_path())()


def backend_path() -> str:
    return getattr(settings, "WUYE_SMS_BACKEND", "") or DEFAULT_BACKEND


def delivers_to_outbox() -> bool:
    """Whether messages are read in the outbox (no provider): there a code must stay readable;
    with a provider the outbox keeps a code masked, so that staff who see the outbox cannot use
    it to open an owner's page."""
    return bool(getattr(_backend_class(backend_path()), "delivers_to_outbox", False))
