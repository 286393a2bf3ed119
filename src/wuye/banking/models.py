"""Bank statements (银行流水) and what became of each incoming line.

A statement line is stored once per receiving account: by the bank's serial number, or — where the bank
gives none — by a fingerprint of date, time, amount, counterparty and remark (with the line's rank among
identical lines of the same file), so overlapping exports and re-imports add nothing. A line is claimed
(认领) for one or several households by a ``Claim`` whose parts each posted one ledger payment; a claim
is undone only by reversing its payments (冲红), and the line goes back to the queue.

Bank withholding (银行代扣): authorisations per household, monthly batches with their lines, and the
bank's return files (see ``banking.withholding_authorizations``, ``withholding_batches``,
``withholding_files``, ``withholding_returns``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wuye.banking.enums import BatchState, Direction, LineResult, LineStatus, MatchSource
from wuye.billing.models import MONEY, Account
from wuye.core.importing.batch import ImportBatchBase
from wuye.core.models import Project
from wuye.ledger.models import Payment


class BankAccount(models.Model):
    """A project's receiving account (收款账户). ``mapping`` keeps the column mapping finance last
    confirmed for this account's statements (field → column header)."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="bank_accounts")
    number = models.CharField(_("账号"), max_length=40)
    name = models.CharField(_("户名"), max_length=100, blank=True)
    bank = models.CharField(_("开户行"), max_length=100, blank=True)
    mapping = models.JSONField(_("确认的列对应"), default=dict, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    on_notices = models.BooleanField(
        _("印在缴费通知单上"),
        default=True,
        help_text=_("缴费通知单写明此账户，并请业主转账时在附言中注明房号"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("收款账户")
        verbose_name_plural = _("收款账户")
        constraints = [
            models.UniqueConstraint(
                fields=["project", "number"], name="bank_account_unique_in_project"
            )
        ]

    def __str__(self) -> str:
        tail = self.number[-4:]
        return f"{self.bank or '银行账户'} 尾号{tail}"


class StatementImport(ImportBatchBase):
    """One uploaded statement file (on the project's import machinery: kept with its bytes, previewed
    with its column mapping, committed once) and what it brought. ``bank_account`` is known once the
    file names it, finance picks it, or the commit creates it."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    bank_account = models.ForeignKey(
        BankAccount, on_delete=models.PROTECT, null=True, blank=True, related_name="imports"
    )
    line_count = models.PositiveIntegerField(_("流水行数"), default=0)
    new_count = models.PositiveIntegerField(_("新增"), default=0)
    duplicate_count = models.PositiveIntegerField(_("重复"), default=0)
    auto_count = models.PositiveIntegerField(_("自动入账"), default=0)
    review_count = models.PositiveIntegerField(_("待认领"), default=0)
    # Matching and posting after the lines are stored (in the background for large statements).
    match_total = models.PositiveIntegerField(_("待匹配"), default=0)
    match_done = models.PositiveIntegerField(_("已匹配"), default=0)

    class Meta:
        verbose_name = _("流水导入")
        verbose_name_plural = _("流水导入")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.created_at:%Y-%m-%d})"

    @property
    def matching(self) -> bool:
        return self.match_done < self.match_total


class StatementLine(models.Model):
    bank_account = models.ForeignKey(BankAccount, on_delete=models.PROTECT, related_name="lines")
    statement_import = models.ForeignKey(
        StatementImport, on_delete=models.PROTECT, related_name="lines"
    )
    # "S:<serial>" or "F:<fingerprint>": the line's identity within the account.
    dedupe_key = models.CharField(max_length=80)
    serial = models.CharField(_("流水号"), max_length=64, blank=True)
    direction = models.CharField(_("收支"), max_length=3, choices=Direction.choices)
    txn_date = models.DateField(_("交易日期"), db_index=True)
    txn_time = models.TimeField(_("交易时间"), null=True, blank=True)
    amount = models.DecimalField(_("金额"), **MONEY)
    counterparty_name = models.CharField(_("对方户名"), max_length=100, blank=True)
    counterparty_account = models.CharField(_("对方账号"), max_length=40, blank=True)
    summary = models.CharField(_("摘要"), max_length=100, blank=True)
    remark = models.CharField(_("附言"), max_length=200, blank=True)
    balance = models.DecimalField(_("余额"), null=True, blank=True, **MONEY)
    status = models.CharField(
        _("状态"), max_length=10, choices=LineStatus.choices, default=LineStatus.REVIEW
    )
    decided = models.BooleanField(
        default=False
    )  # the matcher has seen it (a crashed import resumes)
    score = models.PositiveSmallIntegerField(_("匹配分"), default=0)
    # The matcher's view: [{"accounts": [id…], "amounts": ["…"], "rooms": [...], "score": n,
    # "reasons": [...]}], best first; refreshed whenever the line is matched again.
    suggestions = models.JSONField(_("建议"), default=list, blank=True)
    reasons = models.JSONField(_("理由"), default=list, blank=True)
    refund_reason = models.CharField(_("退回原因"), max_length=200, blank=True)
    refunded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    refund_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("银行流水")
        verbose_name_plural = _("银行流水")
        ordering = ["txn_date", "txn_time", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["bank_account", "dedupe_key"], name="statement_line_once_per_account"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="statement_line_amount_sign"),
        ]
        indexes = [
            models.Index(fields=["bank_account", "status", "txn_date"], name="line_queue_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.txn_date} {self.counterparty_name} {self.amount}"


class Claim(models.Model):
    """认领: a line posted to one or several households. ``undone_at`` is set when its payments were
    reversed; at most one claim of a line is in force."""

    line = models.ForeignKey(StatementLine, on_delete=models.PROTECT, related_name="claims")
    source = models.CharField(_("方式"), max_length=10, choices=MatchSource.choices)
    score = models.PositiveSmallIntegerField(_("匹配分"), default=0)
    reasons = models.JSONField(_("理由"), default=list, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(_("确认时间"), auto_now_add=True)
    undone_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("认领")
        verbose_name_plural = _("认领")
        constraints = [
            models.UniqueConstraint(
                fields=["line"], condition=Q(undone_at__isnull=True), name="one_claim_in_force"
            )
        ]

    def __str__(self) -> str:
        return f"认领 {self.line_id} ({self.get_source_display()})"


class ClaimPart(models.Model):
    """The share of a claimed line that went to one household, and the payment that posted it."""

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="parts")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(_("金额"), **MONEY)
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="bank_part")

    class Meta:
        verbose_name = _("认领明细")
        verbose_name_plural = _("认领明细")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="claim_part_positive")
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.amount}"


class PayerCard(models.Model):
    """A counterparty account (the card a household pays from), learned from every confirmed claim:
    the strongest signal for the next transfer from it."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    number = models.CharField(_("对方账号"), max_length=40)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    holder = models.CharField(_("对方户名"), max_length=100, blank=True)
    times = models.PositiveIntegerField(_("确认次数"), default=1)
    last_seen = models.DateField(_("最近一次"))

    class Meta:
        verbose_name = _("付款账号记忆")
        verbose_name_plural = _("付款账号记忆")
        constraints = [
            models.UniqueConstraint(
                fields=["project", "number", "account"], name="payer_card_once_per_household"
            )
        ]

    def __str__(self) -> str:
        return f"尾号{self.number[-4:]} → {self.account_id}"


def _agreement_path(instance: WithholdingAuthorization, filename: str) -> str:
    return f"withholding/{instance.project_id}/{filename}"


class WithholdingAuthorization(models.Model):
    """An owner's withholding authorisation (银行代扣授权): the bank may take the household's monthly
    bills from this account. The account number is stored in full (the bank's batch file needs it)
    and shown masked on every page and export (``core.masking.mask_bank_account``)."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    bank = models.CharField(_("扣款银行"), max_length=60)
    account_number = models.CharField(_("扣款账号"), max_length=40)
    holder = models.CharField(_("账户户名"), max_length=100)
    signed_on = models.DateField(_("签约日期"))
    agreement = models.FileField(
        _("授权书扫描件"), upload_to=_agreement_path, max_length=300, blank=True
    )
    is_active = models.BooleanField(_("有效"), default=True)
    cancelled_on = models.DateField(_("取消日期"), null=True, blank=True)
    cancel_reason = models.CharField(_("取消原因"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("代扣授权")
        verbose_name_plural = _("代扣授权")
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(is_active=True),
                name="one_active_withholding_per_household",
            )
        ]

    def __str__(self) -> str:
        return f"{self.bank} 尾号{self.account_number[-4:]}"


class WithholdingTemplate(models.Model):
    """The columns of one bank's batch file (代扣文件模板): ``columns`` is a list of
    ``[field, header]`` (fields: ``banking.withholding_files.TEMPLATE_FIELDS``); ``file_format``
    xlsx or csv (csv in ``encoding``)."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    bank = models.CharField(_("扣款银行"), max_length=60)
    columns = models.JSONField(_("列"), default=list)
    file_format = models.CharField(
        _("文件格式"), max_length=4, choices=[("xlsx", "Excel (.xlsx)"), ("csv", "CSV")]
    )
    encoding = models.CharField(
        _("CSV 编码"), max_length=10, choices=[("gbk", "GBK"), ("utf-8", "UTF-8")], default="gbk"
    )

    class Meta:
        verbose_name = _("代扣文件模板")
        verbose_name_plural = _("代扣文件模板")
        constraints = [
            models.UniqueConstraint(
                fields=["project", "bank"], name="one_withholding_template_per_bank"
            )
        ]

    def __str__(self) -> str:
        return f"{self.bank} 代扣文件模板"


class WithholdingBatch(models.Model):
    """代扣批次: one month's withholding for one project and bank, with its control totals (笔数,
    金额) and the template its file was made with. While ``sent``, its households are not chased for
    the bills in it (dunning asks through ``WUYE_CHASE_HOLDS``)."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    bank = models.CharField(_("扣款银行"), max_length=60)
    month = models.DateField(_("代扣月份"))
    number = models.CharField(_("批次号"), max_length=40, unique=True)
    state = models.CharField(
        _("状态"), max_length=10, choices=BatchState.choices, default=BatchState.SENT
    )
    line_count = models.PositiveIntegerField(_("笔数"), default=0)
    total_amount = models.DecimalField(_("金额合计"), default=0, **MONEY)
    success_count = models.PositiveIntegerField(_("成功笔数"), default=0)
    success_amount = models.DecimalField(_("成功金额"), default=0, **MONEY)
    failure_count = models.PositiveIntegerField(_("失败笔数"), default=0)
    columns = models.JSONField(_("文件列"), default=list)
    file_format = models.CharField(_("文件格式"), max_length=4, default="xlsx")
    encoding = models.CharField(_("CSV 编码"), max_length=10, default="gbk")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    returned_at = models.DateTimeField(_("回盘时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("代扣批次")
        verbose_name_plural = _("代扣批次")
        ordering = ["-month", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "bank", "month"],
                condition=~Q(state=BatchState.CANCELLED),
                name="one_withholding_batch_per_bank_month",
            )
        ]

    def __str__(self) -> str:
        return self.number


class WithholdingLine(models.Model):
    """One household's line in a batch: the amount asked (its open bills due up to the batch month)
    and what the bank answered. A success holds the ledger payment it posted."""

    batch = models.ForeignKey(WithholdingBatch, on_delete=models.PROTECT, related_name="lines")
    seq = models.PositiveIntegerField(_("序号"))
    authorization = models.ForeignKey(
        WithholdingAuthorization, on_delete=models.PROTECT, related_name="lines"
    )
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(_("金额"), **MONEY)
    bill_ids = models.JSONField(_("账单"), default=list)
    result = models.CharField(
        _("结果"), max_length=10, choices=LineResult.choices, default=LineResult.PENDING
    )
    reason = models.CharField(_("银行返回原因"), max_length=100, blank=True)
    returned_on = models.DateField(_("回盘日期"), null=True, blank=True)
    payment = models.OneToOneField(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="withholding_line"
    )

    class Meta:
        verbose_name = _("代扣明细")
        verbose_name_plural = _("代扣明细")
        ordering = ["batch", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "seq"], name="withholding_line_seq"),
            models.UniqueConstraint(fields=["batch", "account"], name="withholding_line_once"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="withholding_line_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.batch.number}-{self.seq:04d}"

    @property
    def reference(self) -> str:
        return f"{self.batch.number}-{self.seq:04d}"


class WithholdingReturn(ImportBatchBase):
    """A bank's return file (回盘文件), on the import machinery: previewed with its column mapping,
    committed once."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey(
        WithholdingBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="returns"
    )
    success_count = models.PositiveIntegerField(_("成功"), default=0)
    failure_count = models.PositiveIntegerField(_("失败"), default=0)
    already_count = models.PositiveIntegerField(_("已处理过"), default=0)

    class Meta:
        verbose_name = _("回盘导入")
        verbose_name_plural = _("回盘导入")
        ordering = ["-created_at", "-id"]
