"""导入回盘文件 (docs/user/银行代扣.md): the bank's return file read on ``core.importing`` (header
detection, synonyms, row errors with row numbers) and committed all-or-nothing.

A success posts one payment through ``ledger.services.payments.payment_record`` (method 银行代扣,
reference = batch number + line, idempotency key per line): a second import of the same file posts
nothing. A failure is kept on the line with the bank's reason and recorded on the household's arrears
case (``dunning.casework.case_bank_result``). Unknown batches or lines, amounts that differ from the
batch line, duplicate lines and results that contradict an earlier return are row errors: nothing is
written.

Dates: a success is posted on the deduction date the bank gives (else the import day); when the
importing user has closed that day, on today with the deduction date in the note — as for transfers.
No late fee is charged on withheld money.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone

from wuye.banking.bank_files import file_remap, file_upload
from wuye.banking.enums import BatchState, LineResult
from wuye.banking.models import WithholdingBatch, WithholdingLine, WithholdingReturn
from wuye.banking.statements import parse_money, parse_when
from wuye.banking.withholding_authorizations import account_digits
from wuye.core.audit import audit_record
from wuye.core.errors import ValidationFailed
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
from wuye.core.importing.batch import Analysis, batch_commit
from wuye.core.masking import mask_bank_account
from wuye.core.models import Project, User
from wuye.core.money import ZERO, money
from wuye.core.roles import BANK_FINANCE_ROLES
from wuye.core.scope import actor_role
from wuye.dunning import casework
from wuye.ledger.enums import PaymentMethod
from wuye.ledger.selectors.closing import day_is_closed
from wuye.ledger.services.payments import payment_record

# The reasons banks give, as the pages and the demo name them (the return file's text is kept as is).
REASONS = ("余额不足", "账户冻结", "户名不符", "账户已销户", "账号不存在", "授权已撤销")

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
    amount = parse_money(value)
    if amount is None or amount <= 0:
        raise ValueError("金额应为大于 0 的数字")
    return amount


def _parse_day(value: object) -> datetime.date | None:
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
                given = account_digits(cell_text(row.raw("account_number")))
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
    actor_role(user, project.pk, BANK_FINANCE_ROLES, "导入回盘文件")
    if batch is not None and batch.project_id != project.pk:
        raise ValidationFailed("批次不属于本项目", field="batch")
    check_readable(content, ALL_FORMATS, unreadable=UNREADABLE)
    return file_upload(
        WithholdingReturn,
        _analyse_return,
        user=user,
        project=project,
        filename=filename,
        content=content,
        default_name="回盘.xlsx",
        batch=batch,
    )


def return_remap(
    *, user: User, ret: WithholdingReturn, mapping: dict[str, int | None]
) -> WithholdingReturn:
    actor_role(user, ret.project_id, BANK_FINANCE_ROLES, "导入回盘文件")
    return file_remap(ret, RETURN_SHEET, mapping, _analyse_return)


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
    actor_role(user, ret.project_id, BANK_FINANCE_ROLES, "导入回盘文件")

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
