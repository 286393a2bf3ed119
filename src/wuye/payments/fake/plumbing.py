"""What the fake platforms share: China time, the platforms' fee, and the HTTP handler's plumbing
(sending an answer, reading a request body)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler

CST = datetime.timezone(datetime.timedelta(hours=8))
FEE_RATE = Decimal("0.006")


def cst_now() -> datetime.datetime:
    return datetime.datetime.now(CST).replace(microsecond=0)


def platform_fee(amount: Decimal) -> Decimal:
    return (amount * FEE_RATE).quantize(Decimal("0.01"))


class BaseHandler(BaseHTTPRequestHandler):
    """Quiet, HTTP/1.1, with the two helpers every route uses. ``platforms`` (the ``FakePlatforms``
    being served) is set on the subclass ``FakePlatforms`` makes."""

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
