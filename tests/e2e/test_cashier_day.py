"""Issue 17, done when: a cashier's day end to end in the browser. At 10:00 the cashier takes a
payment; at 17:30 closes the day (日结); a late owner comes: the window says at the top that today is
closed for this cashier, with the ways forward, and does not invite payment; a colleague whose day is
open takes it; the next morning the window is open again and the payment is dated that day.
Screenshots under var/screenshots/cashier-day-*.png."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.clock import ProjectClock
from tests.ledger import factories
from tests.ledger.factories import D
from wuye.core.roles import Role
from wuye.ledger.models import Payment

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
DAY = datetime.timedelta(days=1)


@pytest.fixture
def seeded(project, make_user):
    for name, role in (("shouyin", Role.CASHIER), ("shouyin2", Role.CASHIER)):
        user = make_user(name, role, project)
        user.set_password("wuye-e2e-pass")
        user.save()
    item = factories.fee_item(project)
    first = factories.account(project, "3-2-1502", owner="张三")
    factories.bill(first, item, "256.30", D(2024, 1, 1))
    late = factories.account(project, "3-2-1501", owner="李四")
    factories.bill(late, item, "180.00", D(2024, 1, 1))
    return first, late


def login(page, url, username):
    page.goto(f"{url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "wuye-e2e-pass")
    page.press("#id_password", "Enter")


def test_the_cashiers_day_pay_close_then_next_day(browser, live_server, seeded, screenshot_dir):
    first, late = seeded
    today = timezone.localdate()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    with ProjectClock(context) as clock:
        clock.set(today, 10, 0)
        page = context.new_page()
        login(page, live_server.url, "shouyin")

        # 10:00: a payment at the window.
        page.goto(f"{live_server.url}/ledger/window/rooms/{first.room_id}/")
        expect(page.locator("#day-closed")).to_have_count(0)
        page.keyboard.press("F4")
        expect(page.locator("#receipt-no")).to_contain_text("No.00000001")

        # 17:30: 日结.
        clock.set(today, 17, 30)
        page.goto(f"{live_server.url}/ledger/closing/")
        expect(page.locator("#handed-over")).to_have_text("256.30")
        page.once("dialog", lambda dialog: dialog.accept())
        page.locator("#close-day").click()
        expect(page.locator("#closed-badge")).to_have_text("已日结")

        # 17:45: a late owner. The window says first that today is closed, and how to go on.
        clock.set(today, 17, 45)
        page.goto(f"{live_server.url}/ledger/window/")
        expect(page.locator("#day-closed")).to_contain_text("今天已日结")
        page.goto(f"{live_server.url}/ledger/window/rooms/{late.room_id}/")
        banner = page.locator("#day-closed")
        expect(banner).to_be_in_viewport()
        expect(banner).to_contain_text("17:30 日结")
        expect(banner).to_contain_text("今天尚未日结的同事")
        expect(banner).to_contain_text("明天")
        expect(page.locator("#pay")).to_be_disabled()
        expect(page.locator("#summary")).not_to_contain_text("金额正好")
        expect(page.locator("#summary")).to_contain_text("今天已日结")
        page.screenshot(
            path=str(screenshot_dir / "cashier-day-1-closed-window.png"), full_page=True
        )
        sent = []
        page.on("request", lambda r: sent.append(r.url) if r.url.endswith("/pay/") else None)
        page.keyboard.press("F2")
        page.keyboard.press("F4")  # the hot key sends nothing on a closed day
        page.keyboard.press("Enter")  # nor does Enter in the amount box
        page.wait_for_timeout(500)
        assert sent == []
        assert not Payment.objects.filter(account=late).exists()

        # A colleague whose day is open takes the money.
        colleague = browser.new_context(viewport={"width": 1280, "height": 900})
        colleague.clock.set_fixed_time(clock.moment)
        other = colleague.new_page()
        login(other, live_server.url, "shouyin2")
        other.goto(f"{live_server.url}/ledger/window/rooms/{late.room_id}/")
        expect(other.locator("#day-closed")).to_have_count(0)
        other.keyboard.press("F4")
        expect(other.locator("#receipt-no")).to_contain_text("No.00000002")
        colleague.close()
        taken = Payment.objects.get(account=late)
        assert taken.cashier.username == "shouyin2" and taken.business_date == today

        # The next morning the first cashier's window is open again, dated that day.
        clock.set(today + DAY, 8, 30)
        page.goto(f"{live_server.url}/ledger/window/rooms/{first.room_id}/")
        expect(page.locator("#day-closed")).to_have_count(0)
        expect(page.locator("#pay")).to_be_enabled()
        page.keyboard.press("F2")
        page.keyboard.type("50")
        expect(page.locator("#surplus-note")).to_contain_text("预存款")
        page.screenshot(path=str(screenshot_dir / "cashier-day-2-next-morning.png"))
        page.keyboard.press("Enter")
        expect(page.locator("#confirm-surplus")).to_be_visible()
        page.keyboard.press("F4")
        expect(page.locator("#receipt-no")).to_contain_text("No.00000003")
        assert Payment.objects.get(receipt_no=3).business_date == today + DAY
    context.close()
