"""Text in the receipts, notices and statements (PDF) is printed as written: a payer's name, a
reversal or adjustment reason, the payment instructions are not read as reportlab markup (a name
with ``<a href=…>`` became a live link in the PDF; an unbalanced ``<b>`` broke the printing)."""

import datetime
from decimal import Decimal

from wuye.ledger.pdf import (
    NoticeData,
    ReceiptData,
    ReceiptLine,
    StatementData,
    StatementLine,
    notices_pdf,
    receipt_pdf,
    statement_pdf,
)

LINK = '张<a href="https://evil.example/pay">点此缴费</a>'
BROKEN = "收错户 <b>退回"
NOW = datetime.datetime(2025, 3, 1, 9, 0, tzinfo=datetime.UTC)


def _clean(pdf: bytes) -> None:
    assert pdf.startswith(b"%PDF")
    assert b"evil.example" not in pdf and b"/URI" not in pdf


def test_receipt_text_is_not_markup():
    for paper in ("a4", "roll"):
        data = ReceiptData(
            company="<font size=60>公司</font>",
            project="锦绣花园",
            receipt_no=1,
            room_code="3-2-1502",
            payer=LINK,
            business_date=NOW.date(),
            entered_at=NOW,
            cashier=BROKEN,
            lines=[ReceiptLine("物业服务费", "2025-01", Decimal("100.00"))],
            methods=[("现金", Decimal("100.00"))],
            total=Decimal("100.00"),
            reversed_note=BROKEN + LINK,
        )
        _clean(receipt_pdf(data, paper=paper))


def test_notice_text_is_not_markup():
    notice = NoticeData(
        company="示范物业",
        project="锦绣花园",
        room_code="3-2-1502",
        payer=LINK,
        issued_on=NOW.date(),
        lines=[],
        total=Decimal("100.00"),
        payment_instructions=BROKEN,
    )
    _clean(notices_pdf([notice]))


def test_statement_text_is_not_markup():
    data = StatementData(
        company="示范物业",
        project="锦绣花园",
        room_code="3-2-1502",
        payer=LINK,
        date_from=NOW.date(),
        date_to=NOW.date(),
        opening=Decimal("0.00"),
        lines=[
            StatementLine(
                date=NOW.date(),
                description="减免（" + BROKEN + LINK + "）",
                charge=None,
                credit=Decimal("1.00"),
                balance=Decimal("-1.00"),
            )
        ],
    )
    _clean(statement_pdf(data))
