"""A local fake of WeChat Pay (API v3) and Alipay (openapi gateway) on 127.0.0.1, for tests and the
demo. It checks the merchant's request signatures, signs its answers, callbacks and statements as
the real platforms do — with test key pairs made at start-up — and serves a tiny pay page
("确认支付") the demo owner clicks.

Started by ``python -m wuye payments_fake`` (``scripts/run`` starts it) or, in tests, by the
``payments_fake`` fixture in a thread. It writes its merchant configuration (the test keys, its
address) to ``WUYE_PAYMENTS['fake_config_file']``, where the channels read it when no real merchant
is configured.

Here: ``FakePlatforms`` (both fakes behind one HTTP server) and the dispatch of requests. The parts:
``wechat`` and ``alipay`` (each platform's keys, signatures, trades and statements), ``wechat_api``
and ``alipay_gateway`` (their HTTP endpoints), ``pay_page`` (the pay page and WeChat's JS bridge
stand-in), ``plumbing`` (what they share), ``keys`` (the test key pairs).
"""

from __future__ import annotations

import datetime
import json
import secrets
import threading
import urllib.request
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from wuye.payments.fake.alipay import FakeAlipay
from wuye.payments.fake.alipay_gateway import AlipayRoutes
from wuye.payments.fake.pay_page import JS_BRIDGE, PayPageRoutes
from wuye.payments.fake.wechat import PUBLIC_KEY, FakeWechat
from wuye.payments.fake.wechat_api import WechatRoutes


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


class _Handler(WechatRoutes, AlipayRoutes, PayPageRoutes):
    """Sends each request to its platform's routes (``WechatRoutes``, ``AlipayRoutes``) or to the
    pay page (``PayPageRoutes``)."""

    platforms: FakePlatforms

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
