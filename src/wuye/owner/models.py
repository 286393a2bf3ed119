"""The owner page (业主自助缴费): a signed link per household, one-time SMS codes, invoice requests.

A link belongs to one payer account (a room and its payer): when the room changes hands the new
payer gets a new account and a new link, and the old link shows nothing of theirs.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wuye.billing.models import Account
from wuye.core.models import Project
from wuye.ledger.models import Payment


class OwnerLink(models.Model):
    """The secret part of a household's link. Revoking it stops every link printed or sent so
    far; the next notice or message carries a new one."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="owner_links")
    key = models.CharField(max_length=24, unique=True)
    created_at = models.DateTimeField(_("生成时间"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("停用时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoke_reason = models.CharField(_("停用原因"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("业主缴费链接")
        verbose_name_plural = _("业主缴费链接")
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(revoked_at__isnull=True),
                name="owner_one_live_link_per_account",
            )
        ]

    def __str__(self) -> str:
        return f"缴费链接 {self.account_id}"


class OwnerCode(models.Model):
    """A one-time SMS code (only its hash is kept) for one link and one phone on file."""

    link = models.ForeignKey(OwnerLink, on_delete=models.CASCADE, related_name="codes")
    phone = models.CharField(max_length=20)
    code_hash = models.CharField(max_length=128)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)
    expires_at = models.DateTimeField()
    tries = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("短信验证码")
        verbose_name_plural = _("短信验证码")
        indexes = [
            models.Index(fields=["link", "created_at"], name="owner_code_link_idx"),
            models.Index(fields=["ip", "created_at"], name="owner_code_ip_idx"),
        ]

    def __str__(self) -> str:
        return f"验证码 {self.link_id}"


class InvoiceStatus(models.TextChoices):
    REQUESTED = "requested", _("待开票")
    ISSUED = "issued", _("已开票")


class OwnerInvoiceRequest(models.Model):
    """开票申请 an owner made on the owner page, for finance (LAW.md §12: we record requests; the
    invoice is issued on the tax platform)."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("发票抬头"), max_length=100)
    tax_number = models.CharField(_("税号"), max_length=20, blank=True)
    email = models.EmailField(_("接收邮箱"))
    status = models.CharField(
        _("状态"), max_length=10, choices=InvoiceStatus.choices, default=InvoiceStatus.REQUESTED
    )
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    issued_at = models.DateTimeField(_("开票时间"), null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("业主开票申请")
        verbose_name_plural = _("业主开票申请")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title
