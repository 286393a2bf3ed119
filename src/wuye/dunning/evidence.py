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
from wuye.dunning.selectors import linked_issues


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


def _delivery(c: ContactRecord, why: str | None) -> str:
    """The delivery column: the status as entered, every provider receipt (LAW.md "Evidence"), and
    why a demand does not interrupt the limitation period when it does not."""
    parts = [x for x in [c.get_delivery_status_display(), c.delivery_ref] if x and x != "—"]
    for r in c.receipts.all():
        parts.append(
            f"短信回执：{r.get_status_display()} {timezone.localtime(r.received_at):%Y-%m-%d %H:%M}"
            + (f"（服务商消息号 {r.provider_ref}）" if r.provider_ref else "")
        )
    if why:
        parts.append(f"不计入时效中断：{why}")
    return "\n".join(parts) or "—"


def _read(field) -> bytes:
    with field.open("rb") as fh:
        return fh.read()


@dataclass
class Section:
    title: str
    header: list[str]
    rows: list[list[str]]
    widths: list[float]


@dataclass
class EvidenceIndex:
    """What ``index.pdf`` says, as data: the PDF is drawn from it and the tests read it."""

    title: str
    heading: str
    sections: list[Section]
    files: list[tuple[str, bytes]]


def evidence_index(*, user: User, case: ArrearsCase, on: datetime.date) -> EvidenceIndex:
    """Every section of the pack from one limitation computation (``case_clock``): the bills'
    deadlines, the contacts (with why a demand does not count) and the interruptions agree."""
    case = ArrearsCase.objects.select_related("room", "account__payer", "project", "assignee").get(
        pk=case.pk
    )
    contacts = list(
        ContactRecord.objects.filter(case__account_id=case.account_id)
        .select_related("by")
        .prefetch_related("attachments", "receipts")
        .order_by("at", "id")
    )
    recorded = {
        row.pk: row
        for row in LimitationInterruption.objects.filter(
            case__account_id=case.account_id
        ).select_related("by")
    }
    clock = case_clock(case, on)
    not_counted = {n.contact_id: n.why for n in clock.not_counted}
    files: list[tuple[str, bytes]] = []
    stored: dict[tuple[str, int], str] = {}

    def add(att) -> str:
        """The attachment's name in the ZIP and its fingerprint (a mismatch is shown, not hidden)."""
        key = (type(att).__name__, att.pk)
        if key not in stored:
            data = _read(att.file)
            name = _stored_name(att, len(files) + 1)
            files.append((name, data))
            actual = hashlib.sha256(data).hexdigest()
            mark = "" if actual == att.sha256 else f"（与登记时指纹不符：{att.sha256}）"
            stored[key] = f"{name} · {actual}{mark}"
        return stored[key]

    bills = Section(
        "一、欠费账单与诉讼时效",
        ["账单", "到期日", "欠费", "最近中断", "时效届满"],
        [
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
    )
    rows = []
    for c in contacts:
        atts = [add(a) for a in c.attachments.all()]
        rows.append(
            [
                str(c.pk),
                f"{timezone.localtime(c.at):%Y-%m-%d %H:%M}",
                f"{timezone.localtime(c.recorded_at):%Y-%m-%d %H:%M}",
                str(c.by),
                f"{c.get_channel_display()} {c.used}".strip(),
                _outcome(c),
                _delivery(c, not_counted.get(c.pk)),
                "\n".join(atts) or "—",
            ]
        )
    contact_section = Section(
        "二、催缴记录",
        [
            "#",
            "联系时间",
            "登记时间",
            "员工",
            "方式/号码",
            "结果",
            "送达",
            "附件（文件名 · SHA-256）",
        ],
        rows,
        [8, 18, 18, 14, 22, 40, 28, 38],
    )
    rows = []
    for i in clock.interruptions:
        if i.contact_id is not None:
            source, proof = f"催缴记录 #{i.contact_id}", "见第二部分该记录的附件与回执"
        elif i.recorded_id is not None:
            row = recorded[i.recorded_id]
            source = f"{row.note or '—'}（登记人 {row.by}）"
            proof = add(row)
        else:
            source, proof = "—", "—"
        rows.append([f"{i.on:%Y-%m-%d}", i.label, source, proof])
    paid = {
        (b.last_interruption.on, b.label)
        for b in clock.bills
        if b.last_interruption and b.last_interruption.bill_id is not None
    }
    for day, label in sorted(paid):
        rows.append([f"{day:%Y-%m-%d}", "部分缴费", label, "收款记录"])
    for n in clock.not_counted:
        rows.append(
            [f"{n.on:%Y-%m-%d}", f"（不计入）{n.label}", n.why, f"催缴记录 #{n.contact_id}"]
        )
    if not rows:
        rows.append(["—", "无", "", ""])
    interruption_section = Section(
        "三、诉讼时效中断（送达的催告、业主承诺、书面确认、起诉、支付令等）",
        ["日期", "事由", "来源 / 说明", "证据（文件名 · SHA-256）"],
        rows,
        [20, 40, 55, 70],
    )
    rows = []
    for link in linked_issues(case.pk):
        issue = link.issue
        cited = (
            f"业主在 {timezone.localtime(link.contact.at):%Y-%m-%d} 的催缴记录 #{link.contact_id} 中提出"
            if link.contact_id
            else f"{link.by} {timezone.localtime(link.at):%Y-%m-%d} 关联"
        )
        history = [
            f"{timezone.localtime(e.at):%Y-%m-%d} "
            f"{e.get_from_state_display() or '—'}→{e.get_to_state_display()}"
            + (f"：{e.note}" if e.note else "")
            for e in issue.events.all()
        ]
        rows.append(
            [
                f"{issue.title}\n{issue.description}".strip(),
                f"{issue.get_responsible_party_display()}；{issue.get_state_display()}；"
                f"登记 {issue.reported_on:%Y-%m-%d}"
                + (f"；解决 {issue.resolved_on:%Y-%m-%d}" if issue.resolved_on else ""),
                cited + (f"：{link.note}" if link.note else ""),
                "\n".join(history) or "—",
            ]
        )
    if not rows:
        rows.append(["无", "", "", ""])
    issue_section = Section(
        "四、业主提出的历史遗留问题及处理经过",
        ["问题", "责任方 / 状态", "如何关联", "处理经过"],
        rows,
        [45, 40, 45, 55],
    )
    heading = (
        f"项目：{case.project.name}　缴费人：{case.account.payer.name}　"
        f"案件号：{case.pk}　立案：{case.opened_on:%Y-%m-%d}　"
        f"欠费本金：¥{case.overdue_amount}（截至 {case.amounts_as_of or on:%Y-%m-%d}）　"
        f"导出：{timezone.localtime():%Y-%m-%d %H:%M} {user}"
    )
    return EvidenceIndex(
        f"催缴证据目录 · {case.room.code}",
        heading,
        [bills, contact_section, interruption_section, issue_section],
        files,
    )


def evidence_export(*, user: User, case: ArrearsCase, on: datetime.date | None = None) -> Export:
    """Builds the ZIP. The caller has checked that ``user`` may see ``case`` (views: ``_case_in_scope``)."""
    on = on or timezone.localdate()
    index = evidence_index(user=user, case=case, on=on)
    st = _styles()
    story = [
        Paragraph(escape(index.title), st["title"]),
        Paragraph(escape(index.heading), st["body"]),
    ]
    for section in index.sections:
        story.append(Paragraph(escape(section.title), st["h"]))
        story.append(_table([section.header, *section.rows], section.widths, st["body"]))
    story.append(Spacer(1, 4 * mm))
    story.append(
        Paragraph(
            "本目录含债务人个人信息，仅供律师及有需要的员工使用，不得公开（《个人信息保护法》第二十五条）。",
            st["body"],
        )
    )
    pdf_bytes = render_a4(story, title="催缴证据目录", margin_mm=12)

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("index.pdf", pdf_bytes)
        for name, data in index.files:
            zf.writestr(name, data)
    contacts = ContactRecord.objects.filter(case__account_id=case.account_id).count()
    audit_record(
        user=user,
        action="导出催缴证据",
        obj=case,
        project=case.project_id,
        changes={"contacts": contacts, "files": len(index.files)},
    )
    return Export(f"证据_{case.room.code}_{on:%Y%m%d}.zip", out.getvalue(), len(index.files))
