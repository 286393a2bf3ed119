"""Login throttling (django-axes): the Chinese lockout answer and the audit entry of a lockout.

Settings: ``AXES_*`` in settings.py (``WUYE_LOGIN_FAILURE_LIMIT``, ``WUYE_LOGIN_LOCK_MINUTES``).
An administrator unlocks from 系统配置 → Axes → Access attempts (delete the row) or with
``python -m wuye axes_reset_username <user name>`` (docs/operations/security.md).
"""

from __future__ import annotations

import datetime

from axes.models import AccessAttempt
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from wuye.core.audit import audit_record
from wuye.core.models import User


def locked_until(*, username: str, ip_address: str | None) -> datetime.datetime | None:
    """When the lock on this user name from this address ends (``None``: not locked)."""
    attempts = AccessAttempt.objects.filter(
        username=username,
        ip_address=ip_address,
        failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
    ).order_by("-attempt_time")
    last = attempts.values_list("attempt_time", flat=True).first()
    if last is None:
        return None
    until = last + settings.AXES_COOLOFF_TIME
    return until if until > timezone.now() else None


def lockout_message(*, username: str, ip_address: str | None, who: str = "该账号") -> str:
    """「该账号……请于 14:35 后再试」 in local time; the date too when it is not today."""
    until = locked_until(username=username, ip_address=ip_address)
    if until is None:
        until = timezone.now() + settings.AXES_COOLOFF_TIME
    local = timezone.localtime(until)
    # Round up to the next minute so "after 14:35" is never a minute early.
    if local.second or local.microsecond:
        local = local.replace(second=0, microsecond=0) + datetime.timedelta(minutes=1)
    today = timezone.localdate()
    when = local.strftime("%H:%M") if local.date() == today else local.strftime("%Y-%m-%d %H:%M")
    return (
        f"{who}密码连续输错 {settings.AXES_FAILURE_LIMIT} 次，已暂时锁定。"
        f"请于 {when} 后再试；如需立即解锁，请联系系统管理员。"
    )


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials=None
) -> HttpResponse:
    """The login page again, with the lockout message instead of the form error (HTTP 429)."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    message = lockout_message(
        username=username, ip_address=getattr(request, "axes_ip_address", None)
    )
    return render(request, "registration/login.html", {"lockout": message}, status=429)


def on_user_locked_out(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    """Writes the lockout to the audit trail once, when it starts (not for each refused attempt
    during it). ``axes_failures_since_start`` is set only on the attempt that counted."""
    if request is not None and getattr(request, "axes_failures_since_start", None) is None:
        return
    target = User.objects.filter(username=username).first() if username else None
    audit_record(
        user=None,
        action="登录锁定",
        obj=target,
        model="core.User",
        changes={
            "username": username or "",
            "ip_address": ip_address or "",
            "path": getattr(request, "path", ""),
            "failures": getattr(request, "axes_failures_since_start", None),
        },
    )
