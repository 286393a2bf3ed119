"""Bank withholding (银行代扣/托收): authorisations, monthly batches, the bank's return files.

* **Authorisations** (代扣授权) per household: bank, account number (stored in full for the bank's
  file, masked everywhere else with ``core.masking.mask_bank_account``), holder, signed date, the
  scanned agreement (checked by content through ``core.uploads``), active or cancelled; audited.
* **A batch** (代扣批次) per project, bank and month: one line per household with an active
  authorisation and open bills due up to the end of that month, a batch number and control totals
  (笔数, 金额). Its file is written from the bank's column template (``WithholdingTemplate``; xlsx
  through ``core.xlsx`` or csv). While the batch is in flight its households are not chased:
  dunning asks ``chase_holds`` through ``WUYE_CHASE_HOLDS``.
* **The return file** (回盘文件) is read on ``core.importing`` (header detection, synonyms, row errors
  with row numbers) and committed all-or-nothing. A success posts one payment through
  ``ledger.services.payments.payment_record`` (method 银行代扣, reference = batch number + line, idempotency
  key per line): a second import of the same file posts nothing. A failure is kept on the line with
  the bank's reason and recorded on the household's arrears case (``dunning.casework.case_bank_result``).
  Unknown batches or lines, amounts that differ from the batch line, duplicate lines and results that
  contradict an earlier return are row errors: nothing is written.

Dates: a success is posted on the deduction date the bank gives (else the import day); when the
importing user has closed that day, on today with the deduction date in the note — as for transfers.
No late fee is charged on withheld money.
"""

from __future__ import annotations

import calendar
import csv
import datetime
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from wuye.banking.enums import BatchState, LineResult
from wuye.banking.models import (
    WithholdingAuthorization,
    WithholdingBatch,
    WithholdingLine,
    WithholdingReturn,
    WithholdingTemplate,
)
from wuye.billing.models import Account, Bill
from wuye.core import uploads, xlsx
from wuye.core.audit import audit_record
from wuye.core.errors import NotInScope, ValidationFailed
from wuye.core.importing import (
    ALL_FORMATS,
    Column,
    RowError,
    RowStream,
    SheetSpec,
    cell_text,
    check_readable,
    halfwidth,
    make_layout,
    mapping_errors,
    read_sheets,
)
from wuye.core.importing.batch import Analysis, batch_commit, batch_new, batch_preview
from wuye.core.masking import mask_bank_account
from wuye.core.models import Project, User
from wuye.core.money import ZERO, money
from wuye.core.roles import Role
from wuye.core.scope import role_in
from wuye.dunning import casework
from wuye.ledger.enums import PaymentMethod
from wuye.ledger.selectors.closing import day_is_closed
from wuye.ledger.selectors.outstanding import bill_outstanding
from wuye.ledger.services.payments import payment_record

# Finance manages authorisations and batches (SPEC §1); supervisors and managers may too.
MANAGE_ROLES = frozenset({Role.FINANCE, Role.COMPANY_ADMIN, Role.PROJECT_MANAGER, Role.SUPERVISOR})
AGREEMENT_KINDS = (uploads.JPEG, uploads.PNG, uploads.WEBP, uploads.HEIC, uploads.PDF)
AGREEMENT_ACCEPT = "image/jpeg,image/png,image/webp,image/heic,.heic,application/pdf"

# What a batch file's column may hold: field → its usual header.
TEMPLATE_FIELDS = {
    "seq": "序号",
    "reference": "业务编号",
    "account_number": "扣款账号",
    "holder": "户名",
    "amount": "金额",
    "room": "房号",
    "month": "代扣月份",
    "bank": "扣款银行",
    "purpose": "用途",
    "batch": "批次号",
}
DEFAULT_COLUMNS = [
    ["seq", "序号"],
    ["reference", "业务编号"],
    ["account_number", "扣款账号"],
    ["holder", "户名"],
    ["amount", "金额"],
    ["purpose", "用途"],
]
# The reasons banks give, as the pages and the demo name them (the return file's text is kept as is).
REASONS = ("余额不足", "账户冻结", "户名不符", "账户已销户", "账号不存在", "授权已撤销")


def _require(user: User, project_id: int, roles: frozenset[Role], doing: str) -> Role:
    if user is None or not user.is_authenticated or not user.is_active:
        raise ValidationFailed(f"{doing}需要登录的操作人", field="user")
    role = role_in(user, project_id)
    if role is None:
        raise NotInScope("您没有该项目的权限。")
    if role not in roles:
        raise ValidationFailed(f"{user}（{role.label}）不能{doing}", field="user")
    return role


def _digits(number: object) -> str:
    return re.sub(r"[\s\-]", "", halfwidth(str(number or "")))


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def month_end(day: datetime.date) -> datetime.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


# --- authorisations --------------------------------------------------------------------------------


def authorization_add(
    *,
    user: User,
    account: Account,
    bank: str,
    account_number: str,
    holder: str,
    signed_on: datetime.date | None,
    agreement=None,
) -> WithholdingAuthorization:
    """登记代扣授权 for a household. Refused: a blank bank or holder, an account number that is not
    8–30 digits, a signing date in the future, an agreement file that is not a picture or PDF (by its
    content), a household that already has an active authorisation (cancel it first)."""
    _require(user, account.project_id, MANAGE_ROLES, "登记代扣授权")
    bank = (bank or "").strip()
    holder = (holder or "").strip()
    number = _digits(account_number)
    if not bank:
        raise ValidationFailed("请填写扣款银行", field="bank")
    if len(bank) > 60:
        raise ValidationFailed("扣款银行最多 60 字", field="bank")
    if not re.fullmatch(r"[0-9]{8,30}", number):
        raise ValidationFailed("扣款账号应为 8–30 位数字", field="account_number")
    if not holder:
        raise ValidationFailed("请填写账户户名", field="holder")
    if len(holder) > 100:
        raise ValidationFailed("账户户名最多 100 字", field="holder")
    if signed_on is None:
        raise ValidationFailed("请填写签约日期", field="signed_on")
    if signed_on > timezone.localdate():
        raise ValidationFailed("签约日期不能晚于今天", field="signed_on")
    kind = None
    if agreement is not None:
        kind = uploads.check_upload(agreement, field="agreement", allowed=AGREEMENT_KINDS)
    with transaction.atomic():
        Account.objects.select_for_update(of=("self",)).filter(pk=account.pk).first()
        active = WithholdingAuthorization.objects.filter(account=account, is_active=True).first()
        if active is not None:
            raise ValidationFailed(
                f"该户已有有效的代扣授权（{active.bank} {mask_bank_account(active.account_number)}），"
                "请先取消原授权再登记新的",
                field="account",
                code="banking.withholding_exists",
            )
        auth = WithholdingAuthorization(
            project_id=account.project_id,
            account=account,
            bank=bank,
            account_number=number,
            holder=holder,
            signed_on=signed_on,
            created_by=user,
        )
        if agreement is not None and kind is not None:
            auth.agreement.save(uploads.stored_name(agreement.name, kind), agreement, save=False)
        auth.save()
        audit_record(
            user=user,
            action="代扣授权登记",
            obj=auth,
            project=account.project_id,
            changes={
                "room": account.room.code,
                "bank": bank,
                "account_number": mask_bank_account(number),
                "holder": holder,
                "signed_on": signed_on,
                "agreement": bool(agreement),
            },
        )
    return auth


def authorization_cancel(
    *, user: User, authorization: WithholdingAuthorization, reason: str
) -> WithholdingAuthorization:
    """取消代扣授权 (the owner withdrew it, or changed card). A line already in a batch stays: the
    bank answers it."""
    _require(user, authorization.project_id, MANAGE_ROLES, "取消代扣授权")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("请填写取消原因", field="reason")
    if len(reason) > 200:
        raise ValidationFailed("原因最多 200 字", field="reason")
    with transaction.atomic():
        locked = WithholdingAuthorization.objects.select_for_update(of=("self",)).get(
            pk=authorization.pk
        )
        if not locked.is_active:
            raise ValidationFailed("该授权已取消", field="authorization")
        locked.is_active = False
        locked.cancelled_on = timezone.localdate()
        locked.cancel_reason = reason
        locked.save(update_fields=["is_active", "cancelled_on", "cancel_reason"])
        audit_record(
            user=user,
            action="代扣授权取消",
            obj=locked,
            project=locked.project_id,
            changes={"reason": reason, "account_number": mask_bank_account(locked.account_number)},
        )
    return locked


# --- templates and batches -------------------------------------------------------------------------


def template_for(project_id: int, bank: str) -> tuple[list[list[str]], str, str]:
    """(columns, file format, csv encoding) of the bank's batch file: its template, else the default."""
    found = WithholdingTemplate.objects.filter(project_id=project_id, bank=bank).first()
    if found is None:
        return [list(c) for c in DEFAULT_COLUMNS], "xlsx", "gbk"
    return [list(c) for c in found.columns], found.file_format, found.encoding


def template_columns(columns) -> list[list[str]]:
    """A template's columns, checked: ``[[field, header], …]`` with known fields, the account number,
    the amount, and the reference or the sequence (the return file is matched by it)."""
    try:
        pairs = [(str(key), str(header or "")) for key, header in columns]
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(
            '列应写成 [["字段", "列名"], …]，如 [["seq", "序号"], ["amount", "金额"]]',
            field="columns",
        ) from exc
    cleaned = []
    for key, header in pairs:
        if key not in TEMPLATE_FIELDS:
            known = "、".join(f"{k}（{v}）" for k, v in TEMPLATE_FIELDS.items())
            raise ValidationFailed(f"未知的列“{key}”，可用：{known}", field="columns")
        cleaned.append([key, (header or TEMPLATE_FIELDS[key]).strip()[:30]])
    keys = [k for k, _ in cleaned]
    for needed in ("account_number", "amount"):
        if needed not in keys:
            raise ValidationFailed(f"模板须包含「{TEMPLATE_FIELDS[needed]}」列", field="columns")
    if "reference" not in keys and "seq" not in keys:
        raise ValidationFailed(
            "模板须包含「业务编号」或「序号」列（回盘按它对应）", field="columns"
        )
    return cleaned


def template_set(
    *,
    user: User,
    project: Project,
    bank: str,
    columns: list[tuple[str, str]],
    file_format: str,
    encoding: str = "gbk",
) -> WithholdingTemplate:
    """Sets the bank's batch file template: ``columns`` of (field, header)."""
    _require(user, project.pk, MANAGE_ROLES, "设置代扣文件模板")
    bank = (bank or "").strip()
    if not bank:
        raise ValidationFailed("请填写扣款银行", field="bank")
    cleaned = template_columns(columns)
    if file_format not in ("xlsx", "csv"):
        raise ValidationFailed("文件格式应为 xlsx 或 csv", field="file_format")
    if encoding not in ("gbk", "utf-8"):
        raise ValidationFailed("CSV 编码应为 GBK 或 UTF-8", field="encoding")
    template, _ = WithholdingTemplate.objects.update_or_create(
        project=project,
        bank=bank,
        defaults={"columns": cleaned, "file_format": file_format, "encoding": encoding},
    )
    audit_record(
        user=user,
        action="代扣文件模板设置",
        obj=template,
        project=project,
        changes={"bank": bank, "columns": cleaned, "format": file_format},
    )
    return template


@dataclass
class Candidate:
    authorization: WithholdingAuthorization
    amount: Decimal
    bill_ids: list[int] = field(default_factory=list)


def in_flight_accounts(project_id: int, account_ids: list[int] | None = None) -> dict[int, object]:
    """{account id: its pending line} for the households in a batch the bank has not answered yet."""
    rows = WithholdingLine.objects.filter(
        batch__project_id=project_id, batch__state=BatchState.SENT, result=LineResult.PENDING
    ).select_related("batch")
    if account_ids is not None:
        rows = rows.filter(account_id__in=account_ids)
    return {line.account_id: line for line in rows}


def batch_candidates(project_id: int, bank: str, month: datetime.date) -> list[Candidate]:
    """The households a batch for ``bank`` and ``month`` would take: an active authorisation signed by
    the end of the month, open bills due up to it, and no line of another batch still in flight."""
    end = month_end(month)
    auths = list(
        WithholdingAuthorization.objects.filter(
            project_id=project_id, bank=bank, is_active=True, signed_on__lte=end
        )
        .select_related("account__room")
        .order_by("account__room__code", "id")
    )
    busy = in_flight_accounts(project_id, [a.account_id for a in auths])
    auths = [a for a in auths if a.account_id not in busy]
    owed: dict[int, list[tuple[int, Decimal]]] = {}
    ids = [a.account_id for a in auths]
    for start in range(0, len(ids), 500):
        rows = (
            bill_outstanding(
                Bill.objects.filter(account_id__in=ids[start : start + 500], due_date__lte=end)
            )
            .filter(outstanding__gt=0)
            .order_by("account_id", "due_date", "id")
            .values_list("account_id", "id", "outstanding")
        )
        for account_id, bill_id, outstanding in rows:
            owed.setdefault(account_id, []).append((bill_id, money(outstanding)))
    found = []
    for auth in auths:
        bills = owed.get(auth.account_id)
        if bills:
            total = sum((x for _, x in bills), ZERO)
            found.append(Candidate(auth, total, [b for b, _ in bills]))
    return found


def _batch_number(project: Project, month: datetime.date) -> str:
    n = WithholdingBatch.objects.filter(project=project, month=month).count() + 1
    while True:
        code = re.sub(r"[^0-9A-Za-z]", "", project.code).upper()
        number = f"DK{code}{month:%Y%m}{n:02d}"
        if not WithholdingBatch.objects.filter(number=number).exists():
            return number
        n += 1


def batch_create(
    *, user: User, project: Project, bank: str, month: datetime.date
) -> WithholdingBatch:
    """生成代扣批次 for the project, bank and month (any day of it). Refused: a month after next, a
    batch for that bank and month that is not cancelled, no household to take."""
    _require(user, project.pk, MANAGE_ROLES, "生成代扣批次")
    bank = (bank or "").strip()
    if not bank:
        raise ValidationFailed("请选择扣款银行", field="bank")
    month = month_start(month)
    today = timezone.localdate()
    if month > month_start(month_end(today) + datetime.timedelta(days=1)):
        raise ValidationFailed("代扣月份最晚为下个月", field="month")
    columns, file_format, encoding = template_for(project.pk, bank)
    try:
        with transaction.atomic():
            list(
                Project.objects.select_for_update(of=("self",))
                .filter(pk=project.pk)
                .values_list("pk")
            )
            existing = (
                WithholdingBatch.objects.filter(project=project, bank=bank, month=month)
                .exclude(state=BatchState.CANCELLED)
                .first()
            )
            if existing is not None:
                raise ValidationFailed(
                    f"{bank} {month:%Y年%m月} 已有代扣批次 {existing.number}（{existing.get_state_display()}），"
                    "不能重复生成；如需重做请先作废该批次",
                    field="month",
                    code="banking.batch_exists",
                )
            candidates = batch_candidates(project.pk, bank, month)
            if not candidates:
                raise ValidationFailed(
                    f"{bank} 没有可代扣的住户（有效授权且 {month:%Y年%m月} 前到期的欠费）",
                    field="bank",
                )
            batch = WithholdingBatch.objects.create(
                project=project,
                bank=bank,
                month=month,
                number=_batch_number(project, month),
                line_count=len(candidates),
                total_amount=sum((c.amount for c in candidates), ZERO),
                columns=columns,
                file_format=file_format,
                encoding=encoding,
                created_by=user,
            )
            WithholdingLine.objects.bulk_create(
                [
                    WithholdingLine(
                        batch=batch,
                        seq=n,
                        authorization=c.authorization,
                        account_id=c.authorization.account_id,
                        amount=c.amount,
                        bill_ids=c.bill_ids,
                    )
                    for n, c in enumerate(candidates, start=1)
                ]
            )
            audit_record(
                user=user,
                action="代扣批次生成",
                obj=batch,
                project=project,
                changes={
                    "number": batch.number,
                    "bank": bank,
                    "month": month,
                    "count": batch.line_count,
                    "total": batch.total_amount,
                },
            )
    except IntegrityError as exc:  # two finance users at the same moment
        raise ValidationFailed(
            "同一银行同一月份的代扣批次刚由他人生成，请刷新", field="month"
        ) from exc
    return batch


def batch_cancel(*, user: User, batch: WithholdingBatch, reason: str) -> WithholdingBatch:
    """作废 a batch the bank has not answered at all (e.g. the file was never sent): its households
    may be chased again and a new batch may be made for the month."""
    _require(user, batch.project_id, MANAGE_ROLES, "作废代扣批次")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("请填写作废原因", field="reason")
    with transaction.atomic():
        locked = WithholdingBatch.objects.select_for_update(of=("self",)).get(pk=batch.pk)
        if locked.state != BatchState.SENT:
            raise ValidationFailed(f"该批次{locked.get_state_display()}，不能作废", field="batch")
        if locked.lines.exclude(result=LineResult.PENDING).exists():
            raise ValidationFailed("该批次已有银行回盘结果，不能作废", field="batch")
        locked.state = BatchState.CANCELLED
        locked.save(update_fields=["state"])
        audit_record(
            user=user,
            action="代扣批次作废",
            obj=locked,
            project=locked.project_id,
            changes={"reason": reason[:200]},
        )
    return locked


_CSV_TRIGGERS = xlsx.FORMULA_TRIGGERS


def _cell(key: str, batch: WithholdingBatch, line: WithholdingLine) -> object:
    auth = line.authorization
    return {
        "seq": line.seq,
        "reference": line.reference,
        "account_number": auth.account_number,
        "holder": auth.holder,
        "amount": line.amount,
        "room": line.account.room.code,
        "month": f"{batch.month:%Y%m}",
        "bank": batch.bank,
        "purpose": f"物业费{batch.month:%Y%m}",
        "batch": batch.number,
    }[key]


def batch_file(*, user: User, batch: WithholdingBatch) -> tuple[str, str, bytes]:
    """The batch file for the bank, from the batch's column template: a control row (批次号, 总笔数,
    总金额), the header, one row per line. (filename, content type, bytes). The only place the full
    account numbers leave the system, so only finance may download it, and each download is audited."""
    _require(user, batch.project_id, MANAGE_ROLES, "下载代扣文件")
    lines = list(batch.lines.select_related("authorization", "account__room").order_by("seq"))
    control = ["批次号", batch.number, "总笔数", batch.line_count, "总金额", batch.total_amount]
    header = [h for _, h in batch.columns]
    rows = [[_cell(k, batch, line) for k, _ in batch.columns] for line in lines]
    name = f"{batch.number}.{batch.file_format}"
    if batch.file_format == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        for row in [control, header, *rows]:
            writer.writerow(
                [f"'{v}" if isinstance(v, str) and v.startswith(_CSV_TRIGGERS) else v for v in row]
            )
        content = out.getvalue().encode(batch.encoding, errors="replace")
        content_type = f"text/csv; charset={batch.encoding}"
    else:
        book = xlsx.workbook()
        sheet = book.create_sheet("代扣明细")
        sheet.append(control)
        sheet.append(header)
        for row in rows:
            # Account numbers as text: a spreadsheet would show 19 digits as 6.22202E+18.
            sheet.append([str(v) if isinstance(v, str) else v for v in row])
        content = xlsx.save(book)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    audit_record(
        user=user,
        action="代扣文件下载",
        obj=batch,
        project=batch.project_id,
        changes={"number": batch.number, "count": len(lines), "format": batch.file_format},
    )
    return name, content_type, content


# --- return files ----------------------------------------------------------------------------------

RETURN_SHEET = "return"
RETURN = SheetSpec(
    RETURN_SHEET,
    "回盘文件",
    (
        Column(
            "reference",
            "业务编号",
            ("业务参考号", "客户参考号", "商户流水号", "参考号", "业务流水号", "合同号"),
        ),
        Column("batch", "批次号", ("批号", "文件批次号", "批次")),
        Column("seq", "序号", ("明细序号", "记录序号", "序列号", "行号")),
        Column("account_number", "扣款账号", ("账号", "付款账号", "卡号", "账户", "客户账号")),
        Column("holder", "户名", ("账户名称", "付款人", "客户名称", "姓名", "账户户名")),
        Column("amount", "金额", ("扣款金额", "交易金额", "应扣金额", "实扣金额"), required=True),
        Column(
            "result",
            "扣款结果",
            ("结果", "处理结果", "交易状态", "状态", "处理状态", "扣款状态"),
            required=True,
        ),
        Column(
            "reason",
            "失败原因",
            ("原因", "返回信息", "错误信息", "返回说明", "备注", "说明", "失败描述"),
        ),
        Column("date", "扣款日期", ("交易日期", "处理日期", "日期", "清算日期")),
    ),
)
UNREADABLE = "无法读取回盘文件：请上传银行返回的 .xlsx、.xls 或 .csv 文件"
_SUCCESS = {"成功", "扣款成功", "交易成功", "处理成功", "已扣款", "S", "SUCCESS", "0000", "00"}
_FAILURE = {"失败", "扣款失败", "交易失败", "处理失败", "未扣款", "F", "FAIL", "FAILED", "FAILURE"}
_REFERENCE = re.compile(r"(DK[0-9A-Za-z\-]+)-([0-9]{1,6})")


def _code(value: object) -> str:
    return re.sub(r"\s+", "", halfwidth(cell_text(value))).upper()


def parse_result(value: object) -> str:
    text = halfwidth(cell_text(value)).strip().upper()
    if text in _SUCCESS:
        return LineResult.SUCCESS
    if text in _FAILURE:
        return LineResult.FAILURE
    raise ValueError(f"无法识别的扣款结果“{cell_text(value)}”，应为 成功 或 失败")


def _parse_amount(value: object) -> Decimal:
    from wuye.banking.statements import parse_money

    amount = parse_money(value)
    if amount is None or amount <= 0:
        raise ValueError("金额应为大于 0 的数字")
    return amount


def _parse_day(value: object) -> datetime.date | None:
    from wuye.banking.statements import parse_when

    if cell_text(value) == "":
        return None
    return parse_when(value)[0]


@dataclass
class ReturnRow:
    row: int
    line: WithholdingLine
    result: str
    reason: str
    day: datetime.date | None


@dataclass
class ReturnPlan:
    rows: list[ReturnRow]
    already: int


def _line_of(project_id: int, batches: dict[str, WithholdingBatch | None], row, chosen):
    """The batch line a return row names: by 业务编号 (batch number + line), by 批次号 + 序号, or by
    序号 within the batch chosen at upload. Returns (line or None, message)."""
    reference = _code(row.raw("reference")) if row.has("reference") else ""
    number, seq = "", None
    if reference:
        m = _REFERENCE.fullmatch(reference)
        if m is None:
            return None, "reference", f"业务编号“{reference}”不是本系统生成的代扣编号"
        number, seq = m.group(1), int(m.group(2))
    else:
        if row.has("batch"):
            number = _code(row.raw("batch"))
        if not number and chosen is not None:
            number = chosen.number
        seq_text = cell_text(row.raw("seq")) if row.has("seq") else ""
        if not number:
            return None, "batch", "没有批次号：请在上传时选择批次，或使用含业务编号的回盘文件"
        if not seq_text.isdigit():
            return None, "seq", "序号应为数字"
        seq = int(seq_text)
    if number not in batches:
        batches[number] = WithholdingBatch.objects.filter(
            project_id=project_id, number=number
        ).first()
    batch = batches[number]
    if batch is None:
        return None, "batch", f"批次 {number} 不存在于本项目"
    if chosen is not None and batch.pk != chosen.pk:
        return None, "batch", f"该行属于批次 {number}，不是所选的批次 {chosen.number}"
    if batch.state == BatchState.CANCELLED:
        return None, "batch", f"批次 {number} 已作废"
    line = (
        WithholdingLine.objects.filter(batch=batch, seq=seq)
        .select_related("batch", "authorization", "account__room")
        .first()
    )
    if line is None:
        return None, "seq", f"批次 {number} 没有第 {seq} 笔"
    return line, "", ""


def _analyse_return(ret: WithholdingReturn) -> Analysis:
    wanted = (ret.mapping or {}).get(RETURN_SHEET)
    sheets = read_sheets(bytes(ret.content), ALL_FORMATS, unreadable=UNREADABLE)
    best = None
    for sheet in sheets:
        layout = make_layout(RETURN, sheet, wanted)
        if best is None or len(layout.mapping) > len(best.mapping):
            best = layout
    if best is None:
        raise ValidationFailed("回盘文件中没有数据", field="file")
    errors: list[RowError] = mapping_errors(best)
    if not errors and not ({"reference", "seq"} & set(best.mapping)):
        errors.append(
            RowError("", None, "业务编号", "未找到「业务编号」或「序号」列，请在“列对应”中指定")
        )
    report = {"sheets": [best.report()], "preview": []}
    for sheet in report["sheets"]:
        sheet["title"] = RETURN_SHEET
    plan_rows: list[ReturnRow] = []
    already = 0
    counts = {"success": 0, "failure": 0, "already": 0, "amount": "0.00"}
    if not errors:
        stream = RowStream(best, errors)
        batches: dict[str, WithholdingBatch | None] = {}
        seen: dict[int, int] = {}
        today = timezone.localdate()
        total = ZERO
        for row in stream:
            amount = row.parse("amount", _parse_amount)
            result = row.parse("result", parse_result)
            day = row.parse("date", _parse_day) if row.has("date") else None
            reason = re.sub(r"\s+", " ", cell_text(row.raw("reason"))).strip()[:100]
            row.display["reason"] = reason
            row.display["holder"] = cell_text(row.raw("holder"))
            line, key, message = _line_of(ret.project_id, batches, row, ret.batch)
            if line is None:
                row.fail(key, message)
                continue
            row.display["reference"] = line.reference
            if line.pk in seen:
                row.fail("reference", f"与第 {seen[line.pk]} 行重复（同一笔 {line.reference}）")
                continue
            seen[line.pk] = row.number
            if amount is not None and amount != line.amount:
                row.fail("amount", f"金额 {amount} 元与批次中该笔的 {line.amount} 元不符")
            if row.has("account_number"):
                given = _digits(cell_text(row.raw("account_number")))
                if given and given[-4:] != line.authorization.account_number[-4:]:
                    row.fail("account_number", f"扣款账号与 {line.reference} 的授权账号不符")
                row.display["account_number"] = mask_bank_account(given)
            if day is not None and day > today:
                row.fail("date", "扣款日期晚于今天")
            if not row.ok or result is None:
                continue
            if line.result != LineResult.PENDING:
                if line.result != result:
                    row.fail(
                        "result",
                        f"{line.reference} 已于 {line.returned_on:%Y-%m-%d} 回盘为"
                        f"“{line.get_result_display()}”，本文件为“{LineResult(result).label}”，"
                        "请与银行核实",
                    )
                else:
                    already += 1
                continue
            if result == LineResult.FAILURE and not reason:
                reason = "银行未注明原因"
            plan_rows.append(ReturnRow(row.number, line, result, reason, day))
            total += line.amount if result == LineResult.SUCCESS else ZERO
        report["preview"] = [stream.preview()]
        counts = {
            "success": sum(1 for r in plan_rows if r.result == LineResult.SUCCESS),
            "failure": sum(1 for r in plan_rows if r.result == LineResult.FAILURE),
            "already": already,
            "amount": str(total),
        }
    report["errors"] = [e.as_dict() for e in errors]
    report["error_count"] = len(errors)
    report["counts"] = counts
    plan = None if errors else ReturnPlan(plan_rows, already)
    return Analysis(report, plan)


def return_upload(
    *,
    user: User,
    project: Project,
    filename: str,
    content: bytes,
    batch: WithholdingBatch | None = None,
) -> WithholdingReturn:
    """Keeps the bank's return file and previews it (columns found from the synonyms; each row's
    batch line, result and reason, and every row error); writes no result yet."""
    _require(user, project.pk, MANAGE_ROLES, "导入回盘文件")
    if batch is not None and batch.project_id != project.pk:
        raise ValidationFailed("批次不属于本项目", field="batch")
    check_readable(content, ALL_FORMATS, unreadable=UNREADABLE)
    ret = batch_new(
        WithholdingReturn,
        user=user,
        filename=filename,
        content=content,
        default_name="回盘.xlsx",
        project=project,
        batch=batch,
    )
    return batch_preview(ret, _analyse_return, same_file={"project_id": project.pk})


def return_remap(
    *, user: User, ret: WithholdingReturn, mapping: dict[str, int | None]
) -> WithholdingReturn:
    from wuye.core.importing.batch import batch_remap

    _require(user, ret.project_id, MANAGE_ROLES, "导入回盘文件")
    return batch_remap(ret, {RETURN_SHEET: mapping}, _analyse_return)


def _posting_day(
    project_id: int, user: User, day: datetime.date | None
) -> tuple[datetime.date, str]:
    today = timezone.localdate()
    day = day or today
    if day_is_closed(project_id, user.pk, day):
        return today, f"扣款日期 {day:%Y-%m-%d} 已日结，按今日入账"
    return day, ""


def return_commit(*, user: User, ret: WithholdingReturn) -> WithholdingReturn:
    """Writes the return file's results all-or-nothing: successes post payments (银行代扣, reference =
    batch number + line; idempotent per line), failures are kept with the bank's reason and recorded on
    the household's case. Lines answered by an earlier return are skipped (a second import of the same
    file posts nothing). A batch whose every line is answered becomes 已回盘."""
    _require(user, ret.project_id, MANAGE_ROLES, "导入回盘文件")

    def apply(locked: WithholdingReturn, plan: ReturnPlan) -> None:
        touched: set[int] = set()
        success = failure = 0
        for item in plan.rows:
            line = WithholdingLine.objects.select_for_update(of=("self",)).get(pk=item.line.pk)
            if line.result != LineResult.PENDING:
                continue  # answered meanwhile (the analysis read it before the lock)
            touched.add(line.batch_id)
            line.result, line.returned_on = item.result, item.day or timezone.localdate()
            if item.result == LineResult.SUCCESS:
                day, note = _posting_day(locked.project_id, user, item.day)
                text = f"银行代扣 {line.reference}"
                line.payment = payment_record(
                    user=user,
                    account=line.account,
                    lines=[(PaymentMethod.WITHHOLDING, line.amount, line.reference)],
                    business_date=day,
                    include_late_fees=False,
                    idempotency_key=f"withhold-{line.pk}",
                    note=f"{text}；{note}" if note else text,
                )
                success += 1
            else:
                line.reason = item.reason
                failure += 1
                casework.case_bank_result(
                    account_id=line.account_id,
                    text=f"代扣失败：{item.reason}（{line.batch.bank} 批次 {line.reference}，"
                    f"¥{line.amount}）"[:300],
                    on=line.returned_on,
                    by=user,
                )
            line.save(update_fields=["result", "returned_on", "reason", "payment"])
        for batch_id in touched:
            _refresh_batch(batch_id)
        locked.success_count, locked.failure_count = success, failure
        locked.already_count = plan.already
        if locked.batch_id is None and len(touched) == 1:  # found by the lines' references
            locked.batch_id = next(iter(touched))
        locked.save(update_fields=["success_count", "failure_count", "already_count", "batch"])
        audit_record(
            user=user,
            action="代扣回盘导入",
            obj=locked,
            project=locked.project_id,
            changes={
                "filename": locked.filename,
                "success": success,
                "failure": failure,
                "already": plan.already,
            },
        )

    return batch_commit(ret, analyse=_analyse_return, apply=apply, related=("batch",))


def _refresh_batch(batch_id: int) -> None:
    batch = WithholdingBatch.objects.select_for_update(of=("self",)).get(pk=batch_id)
    totals = batch.lines.aggregate(
        ok=Count("id", filter=Q(result=LineResult.SUCCESS)),
        ok_amount=Sum("amount", filter=Q(result=LineResult.SUCCESS)),
        failed=Count("id", filter=Q(result=LineResult.FAILURE)),
        pending=Count("id", filter=Q(result=LineResult.PENDING)),
    )
    batch.success_count = totals["ok"] or 0
    batch.success_amount = money(totals["ok_amount"] or ZERO)
    batch.failure_count = totals["failed"] or 0
    fields = ["success_count", "success_amount", "failure_count"]
    if not totals["pending"] and batch.state == BatchState.SENT:
        batch.state, batch.returned_at = BatchState.RETURNED, timezone.now()
        fields += ["state", "returned_at"]
    batch.save(update_fields=fields)


# --- what dunning asks ------------------------------------------------------------------------------


def chase_holds(*, project_id: int, account_ids: list[int] | None) -> dict[int, str]:
    """``WUYE_CHASE_HOLDS`` hook: the households in a withholding batch the bank has not answered."""
    return {
        account_id: f"银行代扣处理中（{line.batch.bank} 批次 {line.batch.number}，"
        f"{line.batch.month:%Y年%m月}，¥{line.amount}）"
        for account_id, line in in_flight_accounts(project_id, account_ids).items()
    }
