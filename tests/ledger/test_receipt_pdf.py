"""What a receipt says: the payment's business date and its entry time, and a layout where a long
fee name stays inside its own column (checked on the rendered PDF, not on the data)."""

from __future__ import annotations

import datetime
import shutil
import subprocess
from decimal import Decimal
from xml.etree import ElementTree

import pytest
from django.utils import timezone
from reportlab.lib.units import mm

from tests.ledger import factories
from tests.ledger.factories import D
from wuye.ledger.pdf import ROLL_MARGIN, ROLL_WIDTH, ReceiptData, ReceiptLine, receipt_pdf
from wuye.ledger.selectors.receipts import receipt_data

PDFTOTEXT = shutil.which("pdftotext")
needs_poppler = pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext (poppler-utils) not found")


def _words(content: bytes, tmp_path) -> list[tuple[str, float, float]]:
    """The words drawn in the receipt's table (header to 合计) with their left and right edge."""
    path = tmp_path / "receipt.pdf"
    path.write_bytes(content)
    html = subprocess.run(  # noqa: S603 - our own file, a fixed program
        [PDFTOTEXT, "-bbox", "-f", "1", "-l", "1", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    body = html[html.index("<doc>") : html.index("</doc>") + len("</doc>")]
    words = [
        (w.text or "", float(w.get("xMin")), float(w.get("xMax")), float(w.get("yMin")))
        for w in ElementTree.fromstring(body).iter("word")  # noqa: S314 - pdftotext's output
    ]
    top = next(y for text, _, _, y in words if text == "收费项目")
    bottom = next(y for text, _, _, y in words if text == "合计")
    return [(text, x0, x1) for text, x0, x1, y in words if top < y < bottom]


def _text(content: bytes, tmp_path) -> str:
    path = tmp_path / "r.pdf"
    path.write_bytes(content)
    return subprocess.run(  # noqa: S603 - our own file, a fixed program
        [PDFTOTEXT, "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def _data(lines: list[ReceiptLine]) -> ReceiptData:
    total = sum((x.amount for x in lines), Decimal("0.00"))
    return ReceiptData(
        company="锦绣物业服务有限公司",
        project="锦绣花园",
        receipt_no=42,
        room_code="3-2-1502",
        payer="王强",
        business_date=datetime.date(2025, 11, 30),
        entered_at=datetime.datetime(2025, 12, 4, 21, 25),
        cashier="收费员甲",
        lines=lines,
        methods=[("现金", total)],
        total=total,
    )


LONG = ReceiptLine("物业服务费滞纳金（2025-09）", "2025-10-15", Decimal("12.33"))


@needs_poppler
@pytest.mark.parametrize("paper", ["roll", "a4"])
def test_a_long_fee_name_stays_inside_the_item_column(paper, tmp_path):
    lines = [ReceiptLine("物业服务费", "2025-09", Decimal("300.00")), LONG] * 3
    content = receipt_pdf(_data(lines), paper=paper)
    if paper == "roll":
        left, width = ROLL_MARGIN, ROLL_WIDTH - 2 * ROLL_MARGIN
    else:
        left, width = 18 * mm, 210 * mm - 36 * mm
    item_right = left + width * 0.38
    period_right = left + width * 0.72
    words = _words(content, tmp_path)
    in_item = [w for w in words if left <= w[1] < item_right - 1]
    assert any("滞纳金" in w[0] for w in in_item), words
    for text, _x0, x1 in in_item:
        assert x1 <= item_right + 0.5, (
            f"“{text}” runs over the period column ({x1:.1f} > {item_right:.1f})"
        )
    in_period = [w for w in words if item_right <= w[1] < period_right - 1]
    for text, _x0, x1 in in_period:
        assert x1 <= period_right + 0.5, f"“{text}” runs over the amount column"
    # The whole name is still printed, only wrapped.
    flat = "".join(w[0] for w in in_item)
    assert flat.count("物业服务费滞纳金") == 3 and flat.count("（2025-09）") == 3


@needs_poppler
def test_a_roll_receipt_with_many_lines_fits_on_one_strip(tmp_path):
    content = receipt_pdf(_data([LONG] * 25), paper="roll")
    path = tmp_path / "long.pdf"
    path.write_bytes(content)
    info = subprocess.run(  # noqa: S603 - fixed program, our own file
        [shutil.which("pdfinfo") or "pdfinfo", str(path)], capture_output=True, text=True
    ).stdout
    assert "Pages:           1" in info
    assert "金额大写" in _text(content, tmp_path)


@needs_poppler
@pytest.mark.django_db
def test_receipt_prints_the_business_date_and_labels_the_entry_time(cashier, acct, item, tmp_path):
    """A payment taken on 11-30 and entered days later: 收款日期 is 11-30; the entry time is shown
    as 录入时间, never as the time money was received."""
    factories.bill(acct, item, "100.00", D(2024, 1, 1))
    today = timezone.localdate()
    day = today - datetime.timedelta(days=4)
    payment = factories.pay(cashier, acct, "100.00", business_date=day)
    data = receipt_data(payment)
    assert data.business_date == day
    for paper in ("a4", "roll"):
        text = _text(receipt_pdf(data, paper=paper), tmp_path)
        assert "收款日期" in text and f"{day:%Y-%m-%d}" in text
        assert (
            "录入时间" in text
            and f"{timezone.localtime(payment.received_at):%Y-%m-%d %H:%M}" in text
        )
        assert "收款时间" not in text
