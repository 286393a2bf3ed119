"""A steward logs in, types `zs` in the search box and opens 张三's household file."""

import datetime

import pytest
from playwright.sync_api import expect

from tests.factories import household
from wuye.core.roles import Role
from wuye.registry import services

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def seeded(project, make_user):
    user = make_user("louguan", Role.STEWARD, project)
    user.set_password("wuye-e2e-pass")
    user.save()
    room, person = household(project, "3-2-1502", "张三", ("13812345678", "0755-86001234"))
    services.person_update(user=None, person=person, preferred_contact_times="早出晚归，晚上7点后")
    services.legacy_issue_create(
        user=None,
        room=room,
        title="卫生间楼板渗漏",
        responsible_party="developer",
        reported_on=datetime.date(2024, 6, 3),
        description="楼上防水层施工缺陷，开发商承诺维修",
    )
    services.ticket_create(user=None, room=room, category="complaint", subject="电梯经常停运")
    household(project, "3-2-1501", "李四", ("13900001111",))
    household(project, "5-1-301", "赵珊珊", ("13700002222",))
    return user


def test_steward_finds_household_by_pinyin_initials(live_server, page, seeded, screenshot_dir):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "louguan")
    page.fill("#id_password", "wuye-e2e-pass")
    page.click("button[type=submit]")
    expect(page.locator(".topbar")).to_contain_text("锦绣花园")
    page.wait_for_load_state("load")  # htmx (deferred) listens to the box only once loaded

    page.fill("#q", "zs")
    hits = page.locator("#search-results a.hit")
    expect(hits).to_have_count(2)
    expect(hits.first).to_contain_text("张三")
    page.screenshot(path=str(screenshot_dir / "search-zs.png"))

    hits.filter(has_text="张三").click()
    expect(page.locator("h1")).to_contain_text("3-2-1502")
    expect(page.locator("#people")).to_contain_text("13812345678")
    expect(page.locator("#legacy-issues")).to_contain_text("卫生间楼板渗漏")
    expect(page.locator(".alert")).to_contain_text("1")
    page.screenshot(path=str(screenshot_dir / "household.png"), full_page=True)


def test_keyboard_enter_opens_first_hit(live_server, page, seeded):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "louguan")
    page.fill("#id_password", "wuye-e2e-pass")
    page.press("#id_password", "Enter")
    expect(page.locator("#q")).to_be_visible()
    # The box can be painted before base.js and htmx have bound their handlers (the script sits at
    # the end of the body): a "/" pressed in that moment reaches nothing. A person cannot be that quick.
    page.wait_for_load_state("load")
    page.keyboard.press("/")
    page.keyboard.type("5678")
    expect(page.locator("#search-results a.hit")).to_have_count(1)
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("3-2-1502")
    # The household page loads its cards (催缴记录 …) after it is shown: let them arrive before the
    # test ends, or the database is emptied under a request still being served (SQLite: "table is
    # locked", and the next test starts on the rows left behind).
    page.wait_for_load_state("networkidle")
