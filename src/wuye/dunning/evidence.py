"""A case's evidence as one ZIP for the lawyer (LAW.md "Evidence"): ``index.pdf`` lists the household,
the overdue bills with their limitation deadlines, every contact record (time, staff, channel, number or
address used, outcome, delivery, attachment names and SHA-256 fingerprints) and the recorded limitation
interruptions; the attachment files follow under ``attachments/`` so the fingerprints can be checked.

The export holds personal information (LAW.md §2): staff with the case in scope only, and every export
is audited.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import zipfile
from dataclasses import dataclass
from xml.sax.saxutils import escape

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

from wuye.core.audit import audit_record
from wuye.core.models import User
from wuye.core.pdf import cjk_font, render_a4
from wuye.dunning.enums import WRITTEN_CHANNELS
from wuye.dunning.limitation import case_clock
from wuye.dunning.models import (
    ArrearsCase,
    ContactAttachment,
    ContactRecord,
    LimitationInterruption,
)


@dataclass
class Export:
    filename: str
    content: bytes
    files: int


def _styles() -> dict[str, ParagraphStyle]:
    font = cjk_font()
    return {
        "title": ParagraphStyle("t", fontName=font, fontSize=15, leading=20),
        "h": ParagraphStyle("h", fontName=font, fontSize=11, leading=16, spaceBefore=6),
        "body": ParagraphStyle("b", fontName=font, fontSize=8, leading=11),
    }


def _table(rows: list[list[str]], widths: list[float], style: ParagraphStyle) -> Table:
    cells = [[Paragraph(escape(str(c)), style) for c in row] for row in rows]
    table = Table(cells, colWidths=[w * mm for w in widths], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _stored_name(att: ContactAttachment | LimitationInterruption, n: int) -> str:
    # Numbered: two photos called "IMG_0001.jpg" must not overwrite each other in the ZIP.
    return f"attachments/{n:03d}_{att.original_name}"


def _outcome(c: ContactRecord) -> str:
    if c.reached:
        parts = ["已联系上"]
    elif c.channel in WRITTEN_CHANNELS:
        parts = []  # paper has no "reached": its delivery column says what happened
    else:
        parts = [f"未联系上（{c.get_unreached_reason_display() or '—'}）"]
    if c.owner_said:
        parts.append(f"业主反馈：{c.owner_said}")
    if c.promise_date:
        parts.append(
            f"承诺 {c.promise_date:%Y-%m-%d}"
            + (f" ¥{c.promise_amount}" if c.promise_amount else "")
        )
    if c.refusal_reason:
        parts.append(f"拒缴理由：{c.get_refusal_reason_display()}")
    if c.demand_deadline:
        parts.append(f"催告期限 {c.demand_deadline:%Y-%m-%d}")
    if c.corrects_id:
        parts.append(f"更正第 {c.corrects_id} 号记录")
    if c.note:
        parts.append(f"备注：{c.note}")
    return "；".join(parts)


def _read(field) -> bytes:
    with field.open("rb") as fh:
        return fh.read()


def evidence_export(*, user: User, case: ArrearsCase, on: datetime.date | None = None) -> Export:
    """Builds the ZIP. The caller has checked that ``user`` may see ``case`` (views: ``_case_in_scope``)."""
    on = on or timezone.localdate()
    case = ArrearsCase.objects.select_related("room", "account__payer", "project", "assignee").get(
        pk=case.pk
    )
    contacts = list(
        ContactRecord.objects.filter(case__account_id=case.account_id)
        .select_related("by")
        .prefetch_related("attachments")
        .order_by("at", "id")
    )
    interruptions = list(
        LimitationInterruption.objects.filter(case__account_id=case.account_id)
        .select_related("by")
        .order_by("on_date", "id")
    )
    clock = case_clock(case, on)
    st = _styles()
    files: list[tuple[str, bytes]] = []
    n = 0

    def add(att) -> tuple[str, str]:
        nonlocal n
        n += 1
        data = _read(att.file)
        name = _stored_name(att, n)
        files.append((name, data))
        actual = hashlib.sha256(data).hexdigest()
        # A fingerprint that no longer matches the stored one is shown, never hidden.
        mark = "" if actual == att.sha256 else f"（与登记时指纹不符：{att.sha256}）"
        return name, actual + mark

    story = [
        Paragraph(f"催缴证据目录 · {escape(case.room.code)}", st["title"]),
        Paragraph(
            escape(
                f"项目：{case.project.name}　缴费人：{case.account.payer.name}　"
                f"案件号：{case.pk}　立案：{case.opened_on:%Y-%m-%d}　"
                f"欠费本金：¥{case.overdue_amount}（截至 {case.amounts_as_of or on:%Y-%m-%d}）　"
                f"导出：{timezone.localtime():%Y-%m-%d %H:%M} {user}"
            ),
            st["body"],
        ),
        Paragraph("一、欠费账单与诉讼时效", st["h"]),
        _table(
            [["账单", "到期日", "欠费", "最近中断", "时效届满"]]
            + [
                [
                    b.label,
                    f"{b.due_date:%Y-%m-%d}",
                    str(b.outstanding),
                    f"{b.last_interruption.on:%Y-%m-%d} {b.last_interruption.label}"
                    if b.last_interruption
                    else "无",
                    f"{b.deadline:%Y-%m-%d}",
                ]
                for b in clock.bills
            ],
            [45, 25, 22, 55, 25],
            st["body"],
        ),
        Paragraph("二、催缴记录", st["h"]),
    ]
    rows = [["#", "时间", "员工", "方式/号码", "结果", "送达", "附件（文件名 · SHA-256）"]]
    for c in contacts:
        atts = [f"{name} · {digest}" for name, digest in (add(a) for a in c.attachments.all())]
        rows.append(
            [
                str(c.pk),
                f"{timezone.localtime(c.at):%Y-%m-%d %H:%M}",
                str(c.by),
                f"{c.get_channel_display()} {c.used}".strip(),
                _outcome(c),
                " ".join(
                    x for x in [c.get_delivery_status_display(), c.delivery_ref] if x and x != "—"
                )
                or "—",
                "\n".join(atts) or "—",
            ]
        )
    story.append(_table(rows, [8, 20, 16, 24, 45, 20, 45], st["body"]))
    story.append(Paragraph("三、诉讼时效中断（书面确认、起诉、支付令等）", st["h"]))
    rows = [["日期", "事由", "说明", "登记人", "证据（文件名 · SHA-256）"]]
    for i in interruptions:
        name, digest = add(i)
        rows.append(
            [
                f"{i.on_date:%Y-%m-%d}",
                i.get_kind_display(),
                i.note or "—",
                str(i.by),
                f"{name} · {digest}",
            ]
        )
    if not interruptions:
        rows.append(["—", "无", "", "", ""])
    story.append(_table(rows, [20, 28, 40, 18, 70], st["body"]))
    story.append(Spacer(1, 4 * mm))
    story.append(
        Paragraph(
            "本目录含债务人个人信息，仅供律师及有需要的员工使用，不得公开（《个人信息保护法》第25条）。",
            st["body"],
        )
    )
    pdf_bytes = render_a4(story, title="催缴证据目录", margin_mm=12)

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("index.pdf", pdf_bytes)
        for name, data in files:
            zf.writestr(name, data)
    audit_record(
        user=user,
        action="导出催缴证据",
        obj=case,
        project=case.project_id,
        changes={"contacts": len(contacts), "files": len(files)},
    )
    return Export(f"证据_{case.room.code}_{on:%Y%m%d}.zip", out.getvalue(), len(files))
