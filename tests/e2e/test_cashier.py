"""The fee window's acceptance test: a cashier logs in, finds a household by typing in the search,
pays two bills with WeChat plus cash, and opens the receipt PDF."""

import shutil
import subprocess
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.ledger import factories
from tests.ledger.factories import D
from wuye.core.roles import Role
from wuye.ledger.models import Payment, ReceiptPrint

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def seeded(project, make_user):
    user = make_user("shouyin", Role.CASHIER, project)
    user.set_password("wuye-e2e-pass")
    user.save()
    account = factories.account(project, "3-2-1502", owner="张三")
    item = factories.fee_item(project)
    factories.bill(account, item, "256.30", D(2024, 1, 1))
    factories.bill(account, item, "256.30", D(2024, 2, 1))
    factories.account(project, "3-2-1501", owner="李四")
    return account


def test_cashier_pays_two_bills_with_wechat_and_cash(live_server, page, seeded, screenshot_dir):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "shouyin")
    page.fill("#id_password", "wuye-e2e-pass")
    page.press("#id_password", "Enter")
    page.get_by_role("link", name="收银台").click()

    # Find the household by typing; Enter opens the first hit.
    expect(page.locator("#window-q")).to_be_focused()
    page.keyboard.type("zs")
    expect(page.locator("#window-results a.hit")).to_have_count(1)
    page.screenshot(path=str(screenshot_dir / "window-search.png"))
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("3-2-1502")
    expect(page.locator("input.bill:checked")).to_have_count(2)
    expect(page.locator("#sel-due")).to_have_text("512.60")

    # WeChat 500 with its transaction number, then a cash line for the rest (Alt+N).
    page.keyboard.press("F2")
    page.keyboard.type("500")
    page.select_option("#method-1", "wechat")
    page.fill("#reference-1", "4200001234202501")
    page.keyboard.press("Alt+N")
    cash_line = page.locator(".pay-line").nth(1)
    expect(cash_line.locator("input.amount")).to_have_value("12.60")
    cash_line.locator("select.method").select_option("cash")
    page.fill("#id_tendered", "20")
    expect(page.locator("#summary")).to_contain_text("找零：7.40")
    expect(page.locator("#summary")).to_contain_text("金额正好")
    page.evaluate("window.scrollTo(0, 0)")  # the sticky top bar would otherwise sit mid-page
    page.screenshot(path=str(screenshot_dir / "window.png"), full_page=True)

    page.keyboard.press("F4")
    expect(page.locator("#receipt-no")).to_contain_text("No.00000001")
    expect(page.locator("#change")).to_have_text("7.40")
    expect(page.locator("#next-household")).to_be_focused()
    page.screenshot(path=str(screenshot_dir / "window-done.png"), full_page=True)

    payment = Payment.objects.get()
    assert payment.amount == Decimal("512.60")
    assert sorted((x.method, x.amount) for x in payment.lines.all()) == [
        ("cash", Decimal("12.60")),
        ("wechat", Decimal("500.00")),
    ]

    # Viewing the receipt records nothing; the print button (a POST) prints the original.
    view = page.locator("#view-receipt").get_attribute("href")
    for _ in range(2):
        assert page.request.get(f"{live_server.url}{view}").body().startswith(b"%PDF")
    assert not ReceiptPrint.objects.filter(payment=payment).exists()
    form = page.locator("#print-a4").locator("xpath=ancestor::form")
    pdf = page.request.post(
        f"{live_server.url}{form.get_attribute('action')}",
        form={
            "paper": "a4",
            "csrfmiddlewaretoken": form.locator("[name=csrfmiddlewaretoken]").input_value(),
        },
        headers={"Referer": page.url},
    )
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
    assert ReceiptPrint.objects.filter(payment=payment, is_reprint=False).count() == 1
    target = screenshot_dir / "receipt.pdf"
    target.write_bytes(pdf.body())
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm:  # render the first page for a look; skipped where poppler is not installed
        subprocess.run(  # noqa: S603 - our own file, a fixed program
            [
                pdftoppm,
                "-png",
                "-r",
                "80",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                str(target),
                str(screenshot_dir / "receipt"),
            ],
            check=True,
        )

    # Next household: back to the search, focus in the box.
    page.keyboard.press("Enter")
    expect(page.locator("#window-q")).to_be_focused()


def test_overpayment_is_announced_and_confirmed_before_it_goes_to_prepaid(
    live_server, page, seeded, screenshot_dir
):
    factories.late_fee_rule(seeded.project)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "shouyin")
    page.fill("#id_password", "wuye-e2e-pass")
    page.press("#id_password", "Enter")
    page.goto(f"{live_server.url}/ledger/window/rooms/{seeded.room_id}/")
    late = page.locator("#sel-late")
    expect(late).not_to_have_text("0.00")  # capped late fees of the two overdue bills
    page.keyboard.press("F2")
    page.keyboard.type("2000")
    expect(page.locator("#surplus-note")).to_contain_text("预存款")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(screenshot_dir / "window-late-fees.png"), full_page=True)
    page.keyboard.press("Enter")
    expect(page.locator("#confirm-surplus")).to_contain_text("将存入预存款")
    assert not Payment.objects.exists()
    page.keyboard.press("F4")
    expect(page.locator("#receipt-no")).to_contain_text("No.00000001")
    expect(page.locator("main")).to_contain_text("存入预存款")


def test_cashier_records_an_invoice_request_from_the_result_page(
    live_server, page, seeded, screenshot_dir
):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "shouyin")
    page.fill("#id_password", "wuye-e2e-pass")
    page.press("#id_password", "Enter")
    page.goto(f"{live_server.url}/ledger/window/rooms/{seeded.room_id}/")
    page.keyboard.press("F4")
    expect(page.locator("#receipt-no")).to_contain_text("No.00000001")
    page.keyboard.press("Alt+I")
    expect(page.locator("#invoice-form")).to_be_visible()
    page.fill("#id_email", "zhangsan@example.com")
    page.click("#invoice-form button")
    expect(page.locator("#invoice")).to_contain_text("待开票")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(screenshot_dir / "payment.png"), full_page=True)
