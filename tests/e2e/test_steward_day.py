"""Issue 17, done when: a phone-sized walk through the steward's day. The steward logs in and lands
on 我的今日催缴 with a folded header; sees the contact hours; at 10:30 records a call with a promise
and sees the promise task; at 20:30 tries a call with a photo attached — the browser refuses it beside
the button, keeping the number, the words and the photo, and so does the server when the browser's
check is bypassed; the steward switches to 短信 in one tap and records it with the photo; the case
page shows the records as cards with the evidence in view; the day before the promise the case is
back on the list. Screenshots under var/screenshots/steward-day-*.png."""

import datetime

import pytest
from playwright.sync_api import expect

from tests import uploads
from tests.dunning import factories
from tests.e2e.clock import ProjectClock
from wuye.core.roles import Role
from wuye.dunning.models import ContactRecord

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
DAY = datetime.timedelta(days=1)
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def seeded(project, make_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    user = make_user("louguan", Role.STEWARD, project)
    user.set_password("wuye-e2e-pass")
    user.save()
    today = factories.today()
    item = factories.fee_item(project)
    first = factories.debtor(
        project, "3-2-1502", steward=user, phones=("13812345678", "13700001234")
    )
    factories.bill(first, item, "1280.00", today - 60 * DAY, today - 40 * DAY)
    second = factories.debtor(
        project, "3-2-1501", steward=user, owner="李四", phones=("13900001111",)
    )
    factories.bill(second, item, "320.00", today - 45 * DAY, today - 25 * DAY)
    factories.run(project)
    photo = tmp_path / "门上通知.jpg"
    photo.write_bytes(uploads.JPEG)
    return factories.case_of(first), factories.case_of(second), photo


def test_the_stewards_day_on_a_phone(browser, live_server, seeded, screenshot_dir):
    first, second, photo = seeded
    today = factories.today()
    promise = today + 3 * DAY
    shots = screenshot_dir
    context = browser.new_context(**PHONE)
    with ProjectClock(context) as clock:
        clock.set(today, 10, 30)
        page = context.new_page()
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", "louguan")
        page.fill("#id_password", "wuye-e2e-pass")
        page.click("button[type=submit]")

        # Lands on today's list; the header is short, scrolls away, and its menu is folded.
        expect(page).to_have_url(f"{live_server.url}/dunning/today/")
        header = page.locator(".topbar")
        assert header.bounding_box()["height"] < 844 * 0.15
        assert header.evaluate("el => getComputedStyle(el).position") == "static"
        expect(page.locator("#site-nav")).to_be_hidden()
        expect(page.locator("#hours-today")).to_contain_text("09:00–12:00、14:00–19:00")
        card = page.locator(f"#case-{second.pk}")
        expect(card.locator(".hours")).to_contain_text("现在可以拨打")
        page.screenshot(path=str(shots / "steward-day-1-list.png"))
        page.click("[data-nav-toggle]")
        expect(page.locator("#site-nav")).to_be_visible()
        page.screenshot(path=str(shots / "steward-day-2-menu.png"))
        page.click("[data-nav-toggle]")

        # 10:30, inside the hours: a call with a promise; the card shows the promise task.
        card.locator("a", has_text="登记结果").click()
        amount = card.locator("input[name=promise_amount]")
        expect(amount).to_have_value("")
        assert amount.get_attribute("placeholder") is None
        card.locator("input[name=promise_date]").fill(promise.isoformat())
        card.locator("textarea[name=owner_said]").fill("周五发工资后交")
        card.locator("button[value=promise]").click()
        done = page.locator(f"#case-{second.pk}.done")
        expect(done).to_contain_text("A 近期交纳")
        expect(done).to_contain_text(f"承诺日前一天提醒 {promise - DAY:%Y-%m-%d}")
        done.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "steward-day-3-promise.png"))

        # 20:30, past the call window (winter 14:00–19:00): the browser refuses before uploading.
        clock.set(today, 20, 30)
        page.reload()
        card = page.locator(f"#case-{first.pk}")
        expect(card.locator(".hours")).to_contain_text("明天 09:00 后再拨")
        card.locator("a", has_text="登记结果").click()
        card.locator("input[name=phone]").nth(1).check()
        card.locator("textarea[name=owner_said]").fill("门口贴了通知")
        card.locator("input[name=photos]").set_input_files(str(photo))
        card.locator("button[value=no_answer]").click()
        refusal = card.locator(f"#refusal-{first.pk}")
        expect(refusal).to_contain_text("未登记")
        expect(refusal).to_contain_text("明天 09:00 后再拨")
        expect(refusal).to_be_in_viewport()
        # Beside the buttons pressed, not above the form.
        assert refusal.evaluate("el => el.previousElementSibling.classList.contains('outcomes')")
        expect(card.locator("input[name=phone]").nth(1)).to_be_checked()
        expect(card.locator("textarea[name=owner_said]")).to_have_value("门口贴了通知")
        assert card.locator("input[name=photos]").evaluate("el => el.files.length") == 1
        page.screenshot(path=str(shots / "steward-day-4-refused-by-the-page.png"))

        # The server refuses too when the page's check is bypassed, into the same box.
        card.locator("form.contact-form").evaluate("f => f.removeAttribute('data-hours')")
        card.locator("button[value=no_answer]").click()
        expect(refusal).to_contain_text("不在可联系时段")
        expect(refusal).to_contain_text("改为登记短信")
        expect(refusal).to_be_in_viewport()
        assert card.locator("input[name=photos]").evaluate("el => el.files.length") == 1
        expect(card.locator("input[name=phone]").nth(1)).to_be_checked()
        assert not ContactRecord.objects.filter(case=first).exists()
        first.refresh_from_db()
        assert first.next_action_on <= today  # the case stays on today's list
        page.screenshot(path=str(shots / "steward-day-5-refused-by-the-server.png"))

        # One tap to 短信 (allowed to 21:00), then 已发出: recorded with the photo.
        refusal.locator("[data-set-channel=sms]").click()
        expect(card.locator("select[name=channel]")).to_have_value("sms")
        card.locator("button[value=sent]").click()
        expect(page.locator(f"#case-{first.pk}.done")).to_contain_text("已登记：短信")
        page.screenshot(path=str(shots / "steward-day-5b-sms-recorded.png"))
        record = ContactRecord.objects.get(case=first)
        assert record.attachments.count() == 1 and record.phone.number == "13700001234"

        # The case page: records as cards, the evidence in view without scrolling sideways.
        page.goto(f"{live_server.url}/dunning/cases/{first.pk}/")
        expect(page.locator(f"#refusal-{first.pk}")).to_be_hidden()  # no empty red box
        evidence = page.locator("#contact-records td.evidence").first
        evidence.scroll_into_view_if_needed()
        expect(evidence).to_contain_text("照片")
        box = evidence.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(shots / "steward-day-6-case-records.png"))

        # The day before the promise, the promised case is back on the list, flagged.
        clock.set(promise - DAY, 9, 30)
        page.goto(f"{live_server.url}/dunning/today/")
        back = page.locator(f"#case-{second.pk}")
        expect(back).to_contain_text("承诺明天缴费")
        page.screenshot(path=str(shots / "steward-day-7-promise-eve.png"))

        # Keyboard hints are not shown on a touch screen (the fee window, which stewards may use).
        page.goto(f"{live_server.url}/ledger/window/")
        expect(page.locator(".keys")).to_be_hidden()
    context.close()
