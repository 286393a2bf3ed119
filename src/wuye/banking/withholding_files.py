"""代扣文件 (docs/user/银行代扣.md): the file a withholding batch is sent to the bank in, written from the
bank's column template (``WithholdingTemplate``, else ``DEFAULT_COLUMNS``; xlsx through ``core.xlsx``
or csv): a control row (批次号, 总笔数, 总金额), the header, one row per line. The only place the full
account numbers leave the system: finance only, each download audited.
"""

from __future__ import annotations

import csv
import io

from wuye.banking.models import WithholdingBatch, WithholdingLine, WithholdingTemplate
from wuye.core import xlsx
from wuye.core.audit import audit_record
from wuye.core.errors import ValidationFailed
from wuye.core.models import Project, User
from wuye.core.roles import BANK_FINANCE_ROLES
from wuye.core.scope import actor_role

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
    actor_role(user, project.pk, BANK_FINANCE_ROLES, "设置代扣文件模板")
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
    actor_role(user, batch.project_id, BANK_FINANCE_ROLES, "下载代扣文件")
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
