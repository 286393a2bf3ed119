"""Today's list in the browser: a written-only owner's card offers no dial button; a broken promise
is flagged; the case page says why a photographed door notice does not interrupt limitation."""

import datetime
import os
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from tests import uploads
from tests.dunning import factories
from wuye.core.roles import Role
from wuye.dunning.contacts import contact_record
from wuye.registry import services as registry

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
DAY = datetime.timedelta(days=1)
SHOTS = Path(os.environ.get("WUYE_SHOTS", "/tmp/shots"))  # noqa: S108 (screenshots only)


@pytest.fixture
def seeded(project, make_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    user = make_user("guanjia", Role.STEWARD, project)
    user.set_password("wuye-e2e-pass")
    user.save()
    today = timezone.localdate()
    item = factories.fee_item(project)
    written = factories.debtor(project, "3-2-1502", steward=user, owner="张三")
    registry.person_update(user=None, person=written.payer, written_contact_only=True)
    factories.bill(written, item, "300.00", today - 60 * DAY, today - 40 * DAY)
    broken = factories.debtor(
        project, "3-2-1503", steward=user, owner="李四", phones=("13900001111",)
    )
    factories.bill(broken, item, "200.00", today - 60 * DAY, today - 40 * DAY)
    factories.run(project, today - 10 * DAY)
    case = factories.case_of(broken)
    at = factories.at(today - 9 * DAY, 10)
    contact_record(
        user=user, case=case, channel="phone", reached=True, promise_date=today - 3 * DAY,
        at=at, now=at,
    )  # fmt: skip
    at = factories.at(today - 2 * DAY, 15)
    contact_record(
        user=user, case=case, channel="door_notice", reached=False, delivery_status="delivered",
        attachments=[SimpleUploadedFile("door.jpg", uploads.JPEG, content_type="image/jpeg")],
        at=at, now=at,
    )  # fmt: skip
    factories.run(project, today)
    return factories.case_of(written), factories.case_of(broken)


def test_todays_list_and_the_case_page(browser, live_server, seeded):
    written, broken = seeded
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "guanjia")
    page.fill("#id_password", "wuye-e2e-pass")
    page.click("button[type=submit]")

    page.goto(live_server.url + reverse("dunning:today"))
    card = page.locator(f"#case-{written.pk}")
    expect(card).to_contain_text("仅以书面方式联系")
    expect(card.locator("a.tel")).to_have_count(0)
    expect(page.locator(f"#case-{broken.pk}")).to_contain_text("承诺未兑现")
    page.screenshot(path=str(SHOTS / "dunning_today.png"), full_page=True)

    page.goto(live_server.url + reverse("dunning:case", args=[broken.pk]))
    page.locator("#limitation details summary").first.click()
    expect(page.locator("#not-counted")).to_be_visible()
    page.screenshot(path=str(SHOTS / "dunning_case.png"), full_page=True)
