"""The HTTP SMS provider adapter against a fake provider on 127.0.0.1, and the signed delivery-receipt
webhook that stores the receipt as evidence."""

import contextlib
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse

from wuye.messaging import backends
from wuye.messaging.models import OutboxMessage, OutboxStatus, TemplateKind
from wuye.messaging.services import send_sms

pytestmark = pytest.mark.django_db
SECRET = "shared-secret"


class FakeProvider(BaseHTTPRequestHandler):
    mode = "ok"
    received: list = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeProvider.received.append((self.headers.get("X-Api-Key"), body))
        if FakeProvider.mode == "slow":
            time.sleep(1.5)
        if FakeProvider.mode == "error":
            self.send_response(422)
            answer = {"error": "invalid number"}
        else:
            self.send_response(200)
            answer = {"message_id": "MSG-42"}
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        # The slow answer arrives after the client gave up: its socket may be gone.
        with contextlib.suppress(OSError):
            self.wfile.write(json.dumps(answer).encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def provider(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeProvider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeProvider.mode, FakeProvider.received = "ok", []
    settings.WUYE_SMS_BACKEND = "wuye.messaging.backends.HttpSmsBackend"
    settings.WUYE_SMS_URL = f"http://127.0.0.1:{server.server_address[1]}/send"
    settings.WUYE_SMS_API_KEY = "key-1"
    settings.WUYE_SMS_TIMEOUT = 0.5
    settings.WUYE_SMS_WEBHOOK_SECRET = SECRET
    yield FakeProvider
    server.shutdown()
    server.server_close()


def test_the_provider_gets_the_number_text_and_api_key_and_its_message_id_is_kept(
    provider, steward, case, morning
):
    message = send_sms(case, TemplateKind.SMS, steward, now=morning)

    key, body = provider.received[0]
    assert key == "key-1"
    assert body["to"] == "13812345678" and body["text"] == message.body
    assert message.status == OutboxStatus.SENT
    assert message.provider_id == "MSG-42"


def test_a_provider_error_marks_the_message_failed_with_the_reason(
    provider, steward, case, morning
):
    provider.mode = "error"

    message = send_sms(case, TemplateKind.SMS, steward, now=morning)

    assert message.status == OutboxStatus.FAILED
    assert "422" in message.error and "invalid number" in message.error


def test_a_provider_that_does_not_answer_in_time_marks_the_message_failed(
    provider, steward, case, morning
):
    provider.mode = "slow"

    message = send_sms(case, TemplateKind.SMS, steward, now=morning)

    assert message.status == OutboxStatus.FAILED
    assert "无响应" in message.error


def test_an_unconfigured_url_fails_without_sending(settings):
    settings.WUYE_SMS_URL = ""

    with pytest.raises(backends.SmsError, match="WUYE_SMS_URL"):
        backends.HttpSmsBackend().send("13800000000", "x")


def _post_receipt(client, payload, secret=SECRET):
    body = json.dumps(payload).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return client.post(
        reverse("messaging:sms_receipt"),
        data=body,
        content_type="application/json",
        headers={"X-Wuye-Signature": signature},
    )


def test_a_signed_delivery_receipt_marks_the_message_delivered_and_is_kept(
    provider, client, steward, case, morning
):
    send_sms(case, TemplateKind.SMS, steward, now=morning)
    receipt = {"message_id": "MSG-42", "status": "delivered", "at": "2026-11-23T10:00:05+08:00"}

    answer = _post_receipt(client, receipt)

    assert answer.status_code == 200
    message = OutboxMessage.objects.get()
    assert message.status == OutboxStatus.DELIVERED
    assert message.receipt == receipt
    assert message.delivered_at is not None


def test_a_receipt_with_a_wrong_signature_is_rejected(provider, client, steward, case, morning):
    send_sms(case, TemplateKind.SMS, steward, now=morning)

    answer = _post_receipt(client, {"message_id": "MSG-42", "status": "delivered"}, "guess")

    assert answer.status_code == 403
    assert OutboxMessage.objects.get().status == OutboxStatus.SENT


def test_a_receipt_for_an_unknown_message_is_a_bad_request(provider, client):
    assert _post_receipt(client, {"message_id": "nope", "status": "delivered"}).status_code == 400


def test_a_delivered_receipt_is_kept_on_the_contact_and_interrupts_the_limitation_period(
    provider, client, steward, case, morning
):
    from wuye.dunning.limitation import case_clock

    message = send_sms(case, TemplateKind.SMS, steward, now=morning)

    _post_receipt(client, {"message_id": "MSG-42", "status": "delivered"})

    receipt = message.contact.receipts.get()
    assert (receipt.status, receipt.provider_ref) == ("delivered", "MSG-42")
    clock = case_clock(case, morning.date())
    assert any(i.contact_id == message.contact_id for i in clock.interruptions)
