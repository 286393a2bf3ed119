"""A withholding month in the browser: finance makes the month's batch, downloads the file for the bank,
imports the bank's return file and sees the failures; a steward then sees the bank's reason on today's
list and on the case page."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from tests.banking.test_withholding import answers
from tests.dunning import factories
from wuye.banking import withholding_authorizations
from wuye.banking.models import WithholdingBatch
from wuye.core.roles import Role
from wuye.ledger.models import Payment

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
DAY = datetime.timedelta(days=1)
PASSWORD = "wuye-e2e-pass"


@pytest.fixture
def seeded(project, make_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    finance = make_user("caiwu", Role.FINANCE, project)
    steward = make_user("guanjia", Role.STEWARD, project)
    for user in (finance, steward):
        user.set_password(PASSWORD)
        user.save()
    today = timezone.localdate()
    item = factories.fee_item(project)
    homes = []
    for code, owner, card in (
        ("3-2-1502", "张三", "6222020200112233445"),
        ("3-2-1602", "李四", "6222020200998877665"),
    ):
        acct = factories.debtor(project, code, steward=steward, owner=owner)
        factories.bill(acct, item, "100.00", today - 60 * DAY, today - 40 * DAY)
        factories.bill(acct, item, "100.00", today - 30 * DAY, today - 20 * DAY)
        withholding_authorizations.authorization_add(
            user=finance,
            account=acct,
            bank="工商银行",
            account_number=card,
            holder=owner,
            signed_on=today - 100 * DAY,
        )
        homes.append(acct)
    factories.run(project, today)
    return homes


def login(page, live_server, username):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")


def test_a_withholding_month(browser, live_server, seeded, screenshot_dir, tmp_path):
    _, failing = seeded
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    login(page, live_server, "caiwu")
    page.click("nav summary:has-text('收费')")
    page.get_by_role("link", name="银行代扣").click()
    expect(page.locator("h1")).to_contain_text("银行代扣")
    page.get_by_role("button", name="生成批次").click()
    expect(page.locator(".messages")).to_contain_text("已生成代扣批次")
    expect(page.locator("#control")).to_contain_text("总笔数 2，总金额 400.00 元")
    expect(page.locator("#lines")).to_contain_text("6222 **** **** 3445")
    expect(page.locator("#lines")).not_to_contain_text("6222020200112233445")
    page.screenshot(path=str(screenshot_dir / "withholding-batch.png"), full_page=True)

    with page.expect_download() as download:
        page.click("#download-file")
    batch = WithholdingBatch.objects.get()
    assert download.value.suggested_filename == f"{batch.number}.xlsx"

    path = tmp_path / "回盘.xlsx"
    path.write_bytes(answers(batch, {2: "余额不足"}))
    page.get_by_role("link", name="银行代扣").first.click()
    page.set_input_files("#id_ret-file", str(path))
    page.get_by_role("button", name="上传并预览").click()
    expect(page.locator("h1")).to_contain_text("回盘导入预览")
    expect(page.locator("#success-count")).to_have_text("1")
    expect(page.locator("#failure-count")).to_have_text("1")
    page.screenshot(path=str(screenshot_dir / "withholding-return-preview.png"), full_page=True)
    page.get_by_role("button", name="确认导入回盘").click()
    expect(page.locator(".messages")).to_contain_text("扣款成功 1 笔（已入账），失败 1 笔")
    page.get_by_role("link", name="查看批次明细").click()
    failed = page.locator("#lines tr.result-failure")
    expect(failed).to_have_count(1)
    expect(failed).to_contain_text("余额不足")
    expect(failed).to_contain_text("3-2-1602")
    page.screenshot(path=str(screenshot_dir / "withholding-batch-returned.png"), full_page=True)
    assert Payment.objects.count() == 1
    context.close()

    context = browser.new_context(viewport={"width": 412, "height": 915})
    page = context.new_page()
    login(page, live_server, "guanjia")
    page.goto(live_server.url + reverse("dunning:today"))
    case = factories.case_of(failing)
    card = page.locator(f"#case-{case.pk}")
    expect(card).to_contain_text("代扣失败：余额不足")
    page.screenshot(path=str(screenshot_dir / "withholding-steward-today.png"), full_page=True)
    page.goto(live_server.url + reverse("dunning:case", args=[case.pk]))
    expect(page.locator("#withholding-results")).to_contain_text("余额不足")
    expect(page.locator("#bank-results")).not_to_contain_text("6222020200998877665")
    page.locator("#bank-results").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "withholding-steward-case.png"), full_page=True)
    context.close()
