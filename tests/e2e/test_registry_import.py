"""A steward uploads an old system's flat export with a developer's unsold rooms and rooms without
area: the preview lists the rooms without area, offers the developer, and the commit records it."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.registry.test_import_real_exports import DEVELOPER, flat_file
from wuye.core.roles import Role
from wuye.registry.models import Person

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_steward_imports_a_flat_export_and_records_the_developer(
    live_server, page, project, make_user, screenshot_dir, tmp_path
):
    user = make_user("louguan", Role.STEWARD, project)
    user.set_password("wuye-e2e-pass")
    user.save()
    upload = tmp_path / "旧系统导出.xlsx"
    upload.write_bytes(
        flat_file(
            ["1-1-101", 88, "入住", "王强（商铺）", "13800000001"],
            ["1-1-102", None, "入住", "李娜 租户", "13800000002"],
            ["1-1-103", 88, "未收楼", DEVELOPER, None],
            ["1-1-104", 88, "未收楼", DEVELOPER, None],
        )
    )
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "louguan")
    page.fill("#id_password", "wuye-e2e-pass")
    page.click("button[type=submit]")
    page.goto(live_server.url + reverse("registry:import_upload"))
    page.set_input_files("input[type=file]", str(upload))
    page.locator("form button.primary, form button[type=submit]").first.click()
    expect(page.locator("h1")).to_contain_text("导入预览")
    expect(page.locator("body")).to_contain_text("1 套房屋没有面积")
    expect(page.locator("body")).to_contain_text(f"登记“{DEVELOPER}”为本项目的开发建设单位")
    page.screenshot(path=str(screenshot_dir / "registry-import-preview.png"), full_page=True)
    page.check("input[name=record_developer]")
    page.click("button:has-text('确认导入')")
    expect(page.locator("h1")).to_contain_text("导入完成")
    expect(page.locator("body")).to_contain_text("其名下 2 套未收楼房屋由其缴费")
    page.screenshot(path=str(screenshot_dir / "registry-import-result.png"), full_page=True)
    assert Person.objects.get(name=DEVELOPER).is_developer
    assert Person.objects.get(name="王强").notes == "商铺"
