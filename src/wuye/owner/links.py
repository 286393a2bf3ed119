"""The household's signed link: ``/o/<id>.<key>:<timestamp>:<signature>/``.

The signature (``django.core.signing.TimestampSigner``, keyed by SECRET_KEY) makes the id and key
unforgeable and dates the link; the link is refused after ``WUYE_OWNER_LINK_DAYS`` days, and at once
when the household's ``OwnerLink`` row is revoked (its key then matches no live row). The same
signer dates a verified session: ``verified_token`` after a correct SMS code.
"""

from __future__ import annotations

import datetime
import hmac
import secrets
from collections.abc import Iterable

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse

from wuye.billing.models import Account
from wuye.core.errors import WuyeError
from wuye.owner.models import OwnerLink

LINK_SALT = "wuye.owner.link"
VERIFIED_SALT = "wuye.owner.verified"


class LinkRefused(WuyeError):
    """A link that is altered, expired or revoked (answered 403/404 without saying whose it was)."""


def link_days() -> int:
    return int(getattr(settings, "WUYE_OWNER_LINK_DAYS", 60))


def verified_minutes() -> int:
    return int(getattr(settings, "WUYE_OWNER_VERIFIED_MINUTES", 30))


def _value(link: OwnerLink) -> str:
    return f"{link.pk}.{link.key}"


def token_for(link: OwnerLink) -> str:
    return signing.TimestampSigner(salt=LINK_SALT).sign(_value(link))


def url_for(link: OwnerLink) -> str:
    base = getattr(settings, "WUYE_SITE_URL", "").rstrip("/")
    return base + reverse("owner:page", args=[token_for(link)])


def _live(value: str) -> OwnerLink:
    link_id, _, key = value.partition(".")
    link = (
        OwnerLink.objects.filter(pk=int(link_id) if link_id.isdigit() else 0)
        .select_related("account__room", "account__payer", "project__company")
        .first()
    )
    if link is None or not hmac.compare_digest(link.key, key):
        raise LinkRefused("链接无效，请使用缴费通知单或短信中的最新链接", code="owner.link_invalid")
    if link.revoked_at is not None:
        raise LinkRefused(
            "此链接已停用，请使用最新的缴费通知单或联系物业服务中心", code="owner.link_revoked"
        )
    return link


def link_read(token: str) -> OwnerLink:
    """The live link of ``token``, or ``LinkRefused`` (altered, expired, revoked)."""
    try:
        value = signing.TimestampSigner(salt=LINK_SALT).unsign(
            token, max_age=datetime.timedelta(days=link_days())
        )
    except signing.SignatureExpired as exc:
        raise LinkRefused(
            "此链接已过期，请使用最新的缴费通知单或联系物业服务中心", code="owner.link_expired"
        ) from exc
    except signing.BadSignature as exc:
        raise LinkRefused(
            "链接无效，请使用缴费通知单或短信中的最新链接", code="owner.link_invalid"
        ) from exc
    return _live(value)


def verified_token(link: OwnerLink) -> str:
    return signing.TimestampSigner(salt=VERIFIED_SALT).sign(_value(link))


def is_verified(link: OwnerLink, token: str) -> bool:
    """Whether ``token`` (kept in the session, or sent by the API client) verifies ``link`` now."""
    if not token:
        return False
    try:
        value = signing.TimestampSigner(salt=VERIFIED_SALT).unsign(
            token, max_age=datetime.timedelta(minutes=verified_minutes())
        )
    except signing.BadSignature:
        return False
    return hmac.compare_digest(value, _value(link)) and link.revoked_at is None


# --- the live row of an account ----------------------------------------------------------------------


def _new_key() -> str:
    return secrets.token_urlsafe(9)


def links_for(accounts: Iterable[Account]) -> dict[int, OwnerLink]:
    """The live link of each account, made where missing (two queries, three when some are new)."""
    accounts = list(accounts)
    found = {
        link.account_id: link
        for link in OwnerLink.objects.filter(
            account_id__in=[a.pk for a in accounts], revoked_at__isnull=True
        )
    }
    missing = [
        OwnerLink(project_id=a.project_id, account_id=a.pk, key=_new_key())
        for a in accounts
        if a.pk not in found
    ]
    if missing:
        try:
            with transaction.atomic():
                OwnerLink.objects.bulk_create(missing)
        except IntegrityError:
            # Another request made some of them at the same moment: one by one, then read again.
            for link in missing:
                try:
                    with transaction.atomic():
                        OwnerLink.objects.bulk_create([link])
                except IntegrityError:
                    pass
            return {
                link.account_id: link
                for link in OwnerLink.objects.filter(
                    account_id__in=[a.pk for a in accounts], revoked_at__isnull=True
                )
            }
        found.update({link.account_id: link for link in missing})
    return found


def link_for(account: Account) -> OwnerLink:
    return links_for([account])[account.pk]


# --- the hooks lower apps call ----------------------------------------------------------------------


def notice_links(*, accounts: list[Account]) -> dict[int, str]:
    """WUYE_NOTICE_PAY_LINK: the link printed as a QR code on each household's payment notice."""
    return {account_id: url_for(link) for account_id, link in links_for(accounts).items()}


def sms_link(*, account_id: int) -> str:
    """WUYE_SMS_PAY_LINK: the value of ``{缴费链接}`` in a message template."""
    account = Account.objects.filter(pk=account_id).first()
    return url_for(link_for(account)) if account is not None else ""
