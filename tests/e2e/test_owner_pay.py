"""An owner pays from a phone: opens the link printed on the payment notice, verifies with the SMS
code from the outbox, pays two bills with the fake WeChat Pay, sees the receipt — and the case is
off the steward's list."""

import datetime
import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.dunning import factories
from wuye.core.roles import Role
from wuye.dunning.models import ArrearsCase
from wuye.ledger.selectors.notices import notices_for
from wuye.messaging.models import OutboxMessage, OutboxPurpose

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
DAY = datetime.timedelta(days=1)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


@pytest.fixture
def seeded(project, make_user, settings, live_server):
    settings.WUYE_SITE_URL = live_server.url
    steward = make_user("guanjia", Role.STEWARD, project)
    steward.set_password("wuye-e2e-pass")
    steward.save()
    today = factories.today()
    item = factories.fee_item(project, late_fee_applies=False)
    account = factories.debtor(project, "3-2-1502", steward=steward, owner="张三")
    factories.bill(account, item, "120.00", today - 70 * DAY, today - 50 * DAY)
    factories.bill(account, item, "130.00", today - 40 * DAY, today - 20 * DAY)
    factories.run(project, today)
    assert factories.case_of(account).state == "open"
    return account


def test_owner_pays_two_bills_from_the_notice_link(
    browser, live_server, seeded, fake_platforms, screenshot_dir
):
    account = seeded
    case = ArrearsCase.objects.get(account=account)
    staff = browser.new_page(viewport={"width": 1280, "height": 900})
    staff.goto(f"{live_server.url}/login/")
    staff.fill("#id_username", "guanjia")
    staff.fill("#id_password", "wuye-e2e-pass")
    staff.click("button[type=submit]")
    staff.goto(live_server.url + reverse("dunning:today"))
    expect(staff.locator(f"#case-{case.pk}")).to_be_visible()  # on the list before paying

    notice = notices_for(account.project, building_id=account.room.building_id)[0]
    assert notice.pay_link.startswith(live_server.url)  # what the notice's QR code holds

    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, user_agent=IPHONE, is_mobile=True, has_touch=True
    ).new_page()
    phone.goto(notice.pay_link)
    expect(phone.locator("#owed")).to_have_text("¥250.00")
    expect(phone.locator("header")).to_contain_text("张*")
    expect(phone.locator("#bills")).to_have_count(0)
    phone.screenshot(path=str(screenshot_dir / "owner_1_link.png"), full_page=True)

    phone.click("#send-code")
    expect(phone.locator(".messages")).to_contain_text("验证码已发送")
    sms = OutboxMessage.objects.filter(purpose=OutboxPurpose.CODE).latest("id")
    phone.fill("input[name=code]", re.search(r"\d{6}", sms.body).group(0))
    phone.click("#verify-code")
    expect(phone.locator("#bills .bill")).to_have_count(2)
    phone.screenshot(path=str(screenshot_dir / "owner_2_verified.png"), full_page=True)

    phone.click("#pay-wechat")
    expect(phone.locator("#order")).to_have_attribute("data-status", "open")
    phone.click("#go-pay")  # to the fake WeChat Pay page
    expect(phone.locator("#confirm-pay")).to_be_visible()
    phone.screenshot(path=str(screenshot_dir / "owner_3_fake_wechat.png"), full_page=True)
    phone.click("#confirm-pay")  # the platform calls back, then sends the owner back
    expect(phone.locator("#paid")).to_be_visible(timeout=15000)
    receipt = phone.locator("#receipt")
    expect(receipt).to_be_visible()
    phone.screenshot(path=str(screenshot_dir / "owner_4_paid.png"), full_page=True)
    pdf = phone.request.get(live_server.url + receipt.get_attribute("href"))
    assert pdf.headers["content-type"] == "application/pdf" and pdf.body()[:4] == b"%PDF"

    phone.goto(notice.pay_link)
    expect(phone.locator("#owed")).to_have_text("¥0.00")
    expect(phone.locator("#history")).to_contain_text("250.00")

    staff.reload()
    expect(staff.locator(f"#case-{case.pk}")).to_have_count(0)
    staff.screenshot(path=str(screenshot_dir / "owner_5_steward_list.png"), full_page=True)
    case.refresh_from_db()
    assert case.state == "closed"


def test_owner_pays_ahead_a_year_from_a_phone(
    browser, live_server, seeded, fake_platforms, screenshot_dir, project, make_user
):
    """预交: every open bill first, then twelve months at the project's 预交一年九五折, priced by the
    server; the callback bills the months ahead and pays them all at once."""
    from decimal import Decimal

    from wuye.billing import fee_settings, pay_ahead
    from wuye.billing.models import Bill
    from wuye.owner import links

    account = seeded
    item = Bill.objects.filter(account=account).first().fee_item
    fee_settings.fee_standard_add(
        user=None, fee_item=item, unit_price="100.00", valid_from=datetime.date(2020, 1, 1)
    )
    pay_ahead.pay_ahead_rule_add(
        user=None,
        fee_item=item,
        name="预交一年九五折",
        min_months=12,
        valid_from=datetime.date(2020, 1, 1),
        approved_by=make_user("jingli", Role.PROJECT_MANAGER, project),
        discount_rate="0.05",
    )
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, user_agent=IPHONE, is_mobile=True, has_touch=True
    ).new_page()
    phone.goto(links.url_for(links.link_for(account)))
    phone.click("#send-code")
    sms = OutboxMessage.objects.filter(purpose=OutboxPurpose.CODE).latest("id")
    phone.fill("input[name=code]", re.search(r"\d{6}", sms.body).group(0))
    phone.click("#verify-code")
    expect(phone.locator("#ahead-form")).to_be_visible()
    phone.select_option("#ahead-months", "12")
    phone.locator("#pay-ahead").scroll_into_view_if_needed()
    phone.screenshot(path=str(screenshot_dir / "owner_ahead_1_choose.png"), full_page=True)
    phone.click("#ahead-wechat")
    expect(phone.locator("#order-amount")).to_have_text("¥1390.00")  # 250 owed + 12 × 95
    expect(phone.locator("#order-ahead")).to_contain_text("预交 12 个月 ¥1140.00")
    phone.screenshot(path=str(screenshot_dir / "owner_ahead_2_order.png"), full_page=True)
    phone.click("#go-pay")
    phone.click("#confirm-pay")
    expect(phone.locator("#paid")).to_be_visible(timeout=15000)
    phone.screenshot(path=str(screenshot_dir / "owner_ahead_3_paid.png"), full_page=True)
    today = datetime.date.today().replace(day=1)
    assert Bill.objects.filter(account=account, period_start__gte=today).count() == 12
    payment = account.payments.get()
    assert payment.amount == Decimal("1390.00")


IN_WECHAT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 MicroMessenger/8.0.50(0x1800322d) NetType/WIFI Language/zh_CN"
)


def test_owner_pays_inside_wechat_with_jsapi(
    browser, live_server, seeded, fake_platforms, screenshot_dir
):
    """Inside WeChat: 微信支付 → the official account's OAuth step (the fake's authorize page sends
    the payer straight back with a code) → JSAPI order with the payer's openid → the page calls
    WeixinJSBridge getBrandWCPayRequest (the fake's stand-in) → paid, receipt, case closed."""
    from wuye.owner import links
    from wuye.payments.models import PaymentOrder

    account = seeded
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, user_agent=IN_WECHAT, is_mobile=True, has_touch=True
    ).new_page()
    phone.goto(links.url_for(links.link_for(account)))
    expect(phone.locator("#owed")).to_have_text("¥250.00")
    phone.click("#pay-all-wechat")
    expect(phone.locator("#jsapi-pay")).to_be_visible(timeout=15000)
    order = PaymentOrder.objects.get()
    assert order.scene == "jsapi" and order.openid == fake_platforms.payer_openid
    phone.screenshot(path=str(screenshot_dir / "owner_wechat_1_jsapi.png"), full_page=True)
    phone.click("#jsapi-pay")
    expect(phone.locator("#paid")).to_be_visible(timeout=15000)
    phone.screenshot(path=str(screenshot_dir / "owner_wechat_2_paid.png"), full_page=True)
    order.refresh_from_db()
    assert order.status == "paid" and order.payment.amount == 250
    assert ArrearsCase.objects.get(account=account).state == "closed"
