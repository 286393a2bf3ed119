"""Pages of online payment: the platforms' callbacks (no login: the signature is the check)."""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from wuye.payments import services

CONTENT_TYPES = {"wechat": "application/json", "alipay": "text/plain; charset=utf-8"}


def request_headers(request) -> dict[str, str]:
    """The request's HTTP headers under their own names (Wechatpay-Signature, …)."""
    return {key: value for key, value in request.headers.items()}


@csrf_exempt
@require_POST
def notify(request, channel: str):
    """支付/退款结果通知 of a platform: checked, posted exactly once, answered as it expects."""
    status, body = services.notification_accept(channel, request_headers(request), request.body)
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES.get(channel, "text/plain"))
