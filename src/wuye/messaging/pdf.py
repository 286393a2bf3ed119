"""The written demand (催缴函) and lawyer letter (律师函) of one case, as an A4 PDF.

Addressed to the household only: its own bills, principal and the capped late fee in separate
columns (LAW.md §6), the deadline and how to pay.
"""

from __future__ import annotations

import datetime

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

from wuye.core.errors import ValidationFailed
from wuye.core.money import money
from wuye.core.pdf import cjk_font, render_a4
from wuye.dunning.models import ArrearsCase
from wuye.messaging import rendering, selectors
from wuye.messaging.models import TemplateKind
from wuye.messaging.selectors import DemandLine, demand_lines  # noqa: F401 - used by callers

FOLD_TEXT = "- - - - - - - - - - - - - - - - 请沿此线折叠 - - - - - - - - - - - - - - - -"


class FoldLine(Paragraph):
    """The fold: only what comes before it shows on a folded letter taped to a door."""


def demand_pdf(case: ArrearsCase, kind: str, deadline: datetime.date, on: datetime.date) -> bytes:
    title, story = demand_story(case, kind, deadline, on)
    return render_a4(story, title=f"{title} {case.room.code}", margin_mm=20)


def demand_story(
    case: ArrearsCase, kind: str, deadline: datetime.date, on: datetime.date
) -> tuple[str, list]:
    """The letter as flowables. Laid out as the payment notice is: the addressee alone above a fold
    line, the title, amounts and the word 欠费 below it, so a folded letter on a door or in a
    mailbox shows neighbours nothing of the debt (《个人信息保护法》第二十五条)."""
    font = cjk_font()
    title_style = ParagraphStyle("t", fontName=font, fontSize=18, leading=26, alignment=1)
    body_style = ParagraphStyle("b", fontName=font, fontSize=11, leading=18)
    small = ParagraphStyle("s", fontName=font, fontSize=9, leading=13)
    signed = selectors.signatories(case)
    if kind == TemplateKind.LAWYER_LETTER and not signed.law_firm:
        raise ValidationFailed(selectors.LAW_FIRM_MISSING, field="law_firm")
    title, template = selectors.template_for(case.project.company_id, case.project_id, kind)
    text = rendering.render(template, case, deadline, on)

    lines, principal, late = demand_lines(case, on)
    rows = [["账期", "收费项目", "到期日", "欠费本金", "滞纳金（已按上限）"]]
    for line in lines:
        rows.append(
            [
                line.period,
                line.item,
                f"{line.due_date:%Y-%m-%d}",
                f"{line.principal:.2f}",
                f"{line.late_fee:.2f}" if line.late_fee else "—",
            ]
        )
    rows.append(["合计", "", "", f"{money(principal):.2f}", f"{money(late):.2f}"])
    table = Table(rows, colWidths=[22 * mm, 45 * mm, 28 * mm, 30 * mm, 40 * mm], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), font),
                ("FONTSIZE", (0, 0), (-1, -1), 9),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                ("ALIGN", (3, 0), (-1, -1), "RIGHT"),
            ]
        )
    )
    story = [
        Paragraph(_escape(f"{case.project.name} 物业服务中心"), small),
        Spacer(1, 10 * mm),
        Paragraph(
            _escape(f"致：{case.room.code} 户　{case.account.payer.name} 先生/女士（亲启）"),
            body_style,
        ),
        Spacer(1, 40 * mm),
        FoldLine(FOLD_TEXT, small),
        Spacer(1, 8 * mm),
        Paragraph(title, title_style),
        Spacer(1, 8 * mm),
    ]
    story += [Paragraph(line or "&nbsp;", body_style) for line in _escape(text).split("\n")]
    story += [Spacer(1, 6 * mm), Paragraph("欠费明细", body_style), Spacer(1, 2 * mm), table]
    story += [
        Spacer(1, 3 * mm),
        Paragraph(
            "滞纳金单独列示，按法定上限计算；请以缴费时收费窗口的结算为准。如已缴纳，请忽略本函。",
            small,
        ),
        Spacer(1, 10 * mm),
    ]
    if kind == TemplateKind.LAWYER_LETTER:
        story += [
            Paragraph(_escape(f"{signed.law_firm}（盖章）"), body_style),
            Paragraph(_escape(f"承办律师：{signed.lawyer}"), body_style) if signed.lawyer else None,
            Paragraph(_escape(f"电话：{signed.law_firm_phone}"), body_style)
            if signed.law_firm_phone
            else None,
            Paragraph(_escape(f"委托人：{signed.principal}"), small),
        ]
    else:
        story += [
            Paragraph(_escape(signed.principal), body_style),
            Paragraph(_escape(f"{case.project.name} 物业服务中心"), body_style),
        ]
    story = [x for x in story if x is not None]
    story.append(Paragraph(f"{on.year}年{on.month}月{on.day}日", body_style))
    return title, story


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
