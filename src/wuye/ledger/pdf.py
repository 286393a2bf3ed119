"""Receipts (收据), payment notices (缴费通知单) and statements (对账单) as PDF.

The builders take plain dataclasses, not ORM objects, so the layout can be tested and reused (window,
owner portal, batch notices) without a database.
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass, field
from decimal import Decimal

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from wuye.core.money import amount_in_words
from wuye.core.pdf import cjk_font, render_a4

ROLL_WIDTH = 80 * mm


def _styles(base: float = 10) -> dict[str, ParagraphStyle]:
    font = cjk_font()
    return {
        "title": ParagraphStyle(
            "title", fontName=font, fontSize=base + 6, leading=base + 10, alignment=1
        ),
        "sub": ParagraphStyle(
            "sub",
            fontName=font,
            fontSize=base - 1,
            leading=base + 3,
            alignment=1,
            textColor=colors.HexColor("#555555"),
        ),
        "body": ParagraphStyle("body", fontName=font, fontSize=base, leading=base + 5),
        "small": ParagraphStyle(
            "small",
            fontName=font,
            fontSize=base - 2,
            leading=base + 2,
            textColor=colors.HexColor("#555555"),
        ),
        "mark": ParagraphStyle(
            "mark",
            fontName=font,
            fontSize=base + 4,
            leading=base + 8,
            textColor=colors.HexColor("#c62828"),
            alignment=2,
        ),
    }


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _para(text: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph of plain text: names, reasons and instructions are printed as written, never read
    as reportlab markup (a ``<a href>`` would be a live link, an unbalanced ``<b>`` stops the PDF)."""
    return Paragraph(_escape(text), style)


def _yuan(value: Decimal) -> str:
    return f"{value:,.2f}"


def _table(
    rows: list[list], widths: list[float], font_size: float = 9, numeric_cols: tuple[int, ...] = ()
) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    style = [
        ("FONT", (0, 0), (-1, -1), cjk_font(), font_size),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f6")),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa5b1")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    for col in numeric_cols:
        style.append(("ALIGN", (col, 0), (col, -1), "RIGHT"))
    table.setStyle(TableStyle(style))
    return table


# --- receipts ------------------------------------------------------------------------------------


@dataclass
class ReceiptLine:
    item: str
    period: str
    amount: Decimal


@dataclass
class ReceiptData:
    company: str
    project: str
    receipt_no: int
    room_code: str
    payer: str
    business_date: datetime.date  # 收款日期: the payment's business day (may be before the entry)
    entered_at: datetime.datetime  # 录入时间: when the cashier recorded it
    cashier: str
    lines: list[ReceiptLine]
    methods: list[tuple[str, Decimal]]
    total: Decimal
    prepaid_deposit: Decimal = Decimal("0.00")
    prepaid_balance: Decimal = Decimal("0.00")
    is_reprint: bool = False
    is_view: bool = False  # opened to look at, not printed: marked so it cannot pass for a receipt
    reversed_note: str = ""
    service_phone: str = ""


VIEW_MARK = "查看件 · 非收款凭证"
ROLL_MARGIN = 4 * mm


def receipt_pdf(data: ReceiptData, paper: str = "a4") -> bytes:
    """A receipt on A4 (a half page, for the binder) or on 80 mm receipt paper.

    Fee names and periods are paragraphs, so a long name (物业服务费滞纳金（2025-09）) wraps inside
    its column instead of running over the next one; the roll's length follows what is drawn."""
    roll = paper == "roll"
    st = _styles(8 if roll else 10)
    width = ROLL_WIDTH - 2 * ROLL_MARGIN if roll else A4[0] - 36 * mm
    story = []
    if data.is_view:
        story.append(_para(VIEW_MARK, st["mark"]))
    elif data.is_reprint:
        story.append(_para("补打", st["mark"]))
    if data.reversed_note:
        story.append(_para(f"已冲红：{data.reversed_note}", st["mark"]))
    story += [
        _para(f"{data.company}", st["sub"]),
        _para("收  据", st["title"]),
        _para(f"{data.project}　No. {data.receipt_no:08d}", st["sub"]),
        Spacer(1, 3 * mm),
    ]
    head = [
        ["房号", data.room_code, "交款人", data.payer],
        ["收款日期", f"{data.business_date:%Y-%m-%d}", "收款人", data.cashier],
        ["录入时间", f"{data.entered_at:%Y-%m-%d %H:%M}", "", ""],
    ]
    if roll:
        pairs = [head[0][:2], head[0][2:], head[1][:2], head[2][:2], head[1][2:]]
        story += [_para(f"{k}：{v}", st["body"]) for k, v in pairs]
    else:
        story.append(_table(head, [width * 0.15, width * 0.35, width * 0.15, width * 0.35], 10))
    story.append(Spacer(1, 3 * mm))
    cell = ParagraphStyle(
        "cell", parent=st["body"], fontSize=8 if roll else 10, leading=10 if roll else 13
    )
    rows = [["收费项目", "所属期间", "金额(元)"]]
    rows += [
        [
            _para(line.item, cell),
            _para(line.period, cell),
            _yuan(line.amount),
        ]
        for line in data.lines
    ]
    if data.prepaid_deposit:
        rows.append(["预存款", "", _yuan(data.prepaid_deposit)])
    rows.append(["合计", "", _yuan(data.total)])
    story.append(_table(rows, [width * 0.38, width * 0.34, width * 0.28], 8 if roll else 10, (2,)))
    story.append(Spacer(1, 2 * mm))
    story.append(_para(f"金额大写：人民币{amount_in_words(data.total)}", st["body"]))
    methods = "，".join(f"{label} {_yuan(amount)}" for label, amount in data.methods)
    story.append(_para(f"支付方式：{methods}", st["body"]))
    if data.prepaid_balance:
        story.append(_para(f"预存款余额：{_yuan(data.prepaid_balance)} 元", st["body"]))
    story.append(Spacer(1, 2 * mm))
    story.append(
        _para(
            "本收据为收款凭证，不作为税务发票；如需发票请向收费员申请。"
            + (f"服务电话：{data.service_phone}" if data.service_phone else ""),
            st["small"],
        )
    )
    buffer = io.BytesIO()
    if roll:
        drawn = sum(
            f.wrap(width, 10_000)[1] + f.getSpaceBefore() + f.getSpaceAfter() for f in story
        )
        height = drawn + 2 * ROLL_MARGIN + 12 * mm  # slack for the tear-off edge
        doc = SimpleDocTemplate(
            buffer,
            pagesize=(ROLL_WIDTH, height),
            leftMargin=ROLL_MARGIN,
            rightMargin=ROLL_MARGIN,
            topMargin=ROLL_MARGIN,
            bottomMargin=ROLL_MARGIN,
            title=f"收据 {data.receipt_no:08d}",
        )
    else:
        doc = SimpleDocTemplate(
            buffer,
            pagesize=A4,
            leftMargin=18 * mm,
            rightMargin=18 * mm,
            topMargin=16 * mm,
            bottomMargin=16 * mm,
            title=f"收据 {data.receipt_no:08d}",
        )
    doc.build(story)
    return buffer.getvalue()


# --- payment notices -----------------------------------------------------------------------------


@dataclass
class NoticeLine:
    item: str
    period: str
    due_date: datetime.date
    amount: Decimal


@dataclass
class NoticeData:
    company: str
    project: str
    room_code: str
    payer: str
    issued_on: datetime.date
    lines: list[NoticeLine]
    total: Decimal
    late_fee: Decimal = Decimal("0.00")
    payment_instructions: str = ""
    service_phone: str = ""
    bank_details: str = (
        ""  # the receiving account and the reference to write (WUYE_NOTICE_BANK_DETAILS)
    )
    pay_link: str = ""  # the household's own pay page (WUYE_NOTICE_PAY_LINK), printed as a QR code


def _qr(url: str, size: float = 32 * mm) -> Drawing:
    widget = QrCodeWidget(url, barLevel="M")
    x1, y1, x2, y2 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x2 - x1), 0, 0, size / (y2 - y1), 0, 0])
    drawing.add(widget)
    return drawing


def notices_pdf(notices: list[NoticeData]) -> bytes:
    """One A4 page per household. The address block sits above a fold line and the amounts below it,
    so a folded notice in a mailbox or on a door shows nothing but the addressee (LAW.md §2)."""
    st = _styles(11)
    width = A4[0] - 36 * mm
    story = []
    for index, notice in enumerate(notices):
        if index:
            story.append(PageBreak())
        story += [
            _para(f"{notice.project} 物业服务中心", st["sub"]),
            Spacer(1, 10 * mm),
            _para(f"致：{notice.room_code} 户　{notice.payer} 先生/女士（亲启）", st["body"]),
            Spacer(1, 40 * mm),
            _para(
                "- - - - - - - - - - - - - - - - 请沿此线折叠 - - - - - - - - - - - - - - - -",
                st["small"],
            ),
            Spacer(1, 8 * mm),
            _para("缴费通知单", st["title"]),
            Spacer(1, 4 * mm),
            _para(
                f"尊敬的 {notice.payer}：您好！截至 {notice.issued_on:%Y年%m月%d日}，"
                f"您名下 {notice.room_code} 的以下费用尚未缴纳，请于到期日前缴纳。感谢您对我们工作的支持。",
                st["body"],
            ),
            Spacer(1, 4 * mm),
        ]
        rows = [["收费项目", "所属期间", "到期日", "金额(元)"]]
        rows += [
            [ln.item, ln.period, f"{ln.due_date:%Y-%m-%d}", _yuan(ln.amount)] for ln in notice.lines
        ]
        rows.append(["合计", "", "", _yuan(notice.total)])
        story.append(_table(rows, [width * 0.3, width * 0.25, width * 0.2, width * 0.25], 10, (3,)))
        if notice.late_fee:
            story.append(Spacer(1, 2 * mm))
            story.append(
                _para(
                    f"按合同约定另计滞纳金 {_yuan(notice.late_fee)} 元（已按法定上限计算）。",
                    st["small"],
                )
            )
        story.append(Spacer(1, 5 * mm))
        if notice.payment_instructions:
            story.append(_para(f"缴费方式：{notice.payment_instructions}", st["body"]))
        if notice.bank_details:
            story.append(_para(notice.bank_details, st["body"]))
        if notice.pay_link:
            # Below the fold with the amounts: the link opens this household's page (LAW.md §2).
            story.append(Spacer(1, 3 * mm))
            story.append(
                Table(
                    [
                        [
                            _qr(notice.pay_link),
                            _para(
                                "手机扫码在线缴费：用微信或手机浏览器扫描左侧二维码，可查看本户账单并用"
                                "微信支付、支付宝缴纳，缴费后即可查看电子收据。此码仅供本户使用，请勿转发。",
                                st["body"],
                            ),
                        ]
                    ],
                    colWidths=[36 * mm, width - 36 * mm],
                    style=TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]),
                )
            )
        if notice.service_phone:
            story.append(
                _para(f"如对账单有疑问，请致电物业服务中心：{notice.service_phone}", st["body"])
            )
        story.append(Spacer(1, 6 * mm))
        story.append(_para(f"{notice.company}　{notice.issued_on:%Y年%m月%d日}", st["body"]))
    return render_a4(story or [Spacer(1, 1)], title="缴费通知单", margin_mm=18)


# --- statements ----------------------------------------------------------------------------------


@dataclass
class StatementLine:
    date: datetime.date
    description: str
    charge: Decimal | None
    credit: Decimal | None
    balance: Decimal


@dataclass
class StatementData:
    company: str
    project: str
    room_code: str
    payer: str
    date_from: datetime.date
    date_to: datetime.date
    opening: Decimal
    lines: list[StatementLine] = field(default_factory=list)
    closing: Decimal = Decimal("0.00")
    prepaid_balance: Decimal = Decimal("0.00")


def statement_pdf(data: StatementData) -> bytes:
    st = _styles(10)
    width = A4[0] - 30 * mm
    story = [
        _para(data.company, st["sub"]),
        _para("对  账  单", st["title"]),
        _para(
            f"{data.project}　{data.room_code}　{data.payer}　{data.date_from:%Y-%m-%d} 至 {data.date_to:%Y-%m-%d}",
            st["sub"],
        ),
        Spacer(1, 4 * mm),
    ]
    rows = [["日期", "摘要", "应收", "已收/减免", "欠费余额"]]
    rows.append([f"{data.date_from:%Y-%m-%d}", "期初余额", "", "", _yuan(data.opening)])
    for line in data.lines:
        rows.append(
            [
                f"{line.date:%Y-%m-%d}",
                _para(line.description, st["small"]),
                _yuan(line.charge) if line.charge is not None else "",
                _yuan(line.credit) if line.credit is not None else "",
                _yuan(line.balance),
            ]
        )
    charged = sum((line.charge for line in data.lines if line.charge is not None), Decimal("0"))
    credited = sum((line.credit for line in data.lines if line.credit is not None), Decimal("0"))
    rows.append(["", "本期合计", _yuan(charged), _yuan(credited), ""])
    rows.append([f"{data.date_to:%Y-%m-%d}", "期末余额", "", "", _yuan(data.closing)])
    story.append(
        _table(
            rows,
            [width * 0.14, width * 0.38, width * 0.16, width * 0.16, width * 0.16],
            9,
            (2, 3, 4),
        )
    )
    story.append(Spacer(1, 4 * mm))
    story.append(KeepTogether([_para(f"预存款余额：{_yuan(data.prepaid_balance)} 元", st["body"])]))
    return render_a4(story, title=f"对账单 {data.room_code}", margin_mm=15)
