"""Excel export of the registry: it re-imports as unchanged, and masks what the role may not see."""

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest

from wuye.core.models import AuditEntry
from wuye.core.roles import Role
from wuye.registry import services
from wuye.registry.exporting import export_registry, import_template_workbook
from wuye.registry.import_parsing import MASKED_NOTE
from wuye.registry.importing import import_commit, import_preview
from wuye.registry.models import Occupancy, Person, Phone, Room

pytestmark = pytest.mark.django_db

ID_ZHANG = "11010519491231002X"


@pytest.fixture
def registry(project):
    """Two households, a shop, customers with and without phones, a tenant and a payer."""
    r1502 = services.room_create(
        user=None,
        project=project,
        code="3-2-1502",
        gross_area=Decimal("89.50"),
        inner_area=Decimal("75.20"),
        handover_date=datetime.date(2020, 6, 1),
        note="朝南",
    )
    r1501 = services.room_create(user=None, project=project, code="3-2-1501", handed_over=False)
    shop = services.room_create(user=None, project=project, code="12-S101", use="shop", floor=1)
    zhang = services.person_create(
        user=None,
        project=project,
        name="张三",
        phones=["13812345678", "075586001234"],
        id_number=ID_ZHANG,
        home_address="深圳市南山区，科技园",
        written_contact_only=True,
        notes="第一行\n第二行",
    )
    wang = services.person_create(user=None, project=project, name="王五")  # no phone
    company = services.person_create(
        user=None,
        project=project,
        name="某某贸易有限公司",
        kind="organisation",
        id_type="",
        phones=["13912345678"],
    )
    services.occupancy_create(
        user=None,
        room=r1502,
        person=zhang,
        role="owner",
        is_payer=True,
        start_date=datetime.date(2020, 6, 1),
    )
    services.occupancy_create(user=None, room=r1502, person=wang, role="resident")
    services.occupancy_create(user=None, room=shop, person=zhang, role="owner")
    services.occupancy_create(user=None, room=shop, person=company, role="tenant", is_payer=True)
    # A tie that has ended is history, not part of the export.
    ended = services.occupancy_create(user=None, room=r1501, person=wang, role="tenant")
    services.occupancy_end(user=None, occupancy=ended, end_date=datetime.date(2023, 1, 1))
    return project


def sheet_rows(content: bytes, title: str) -> list[tuple]:
    book = openpyxl.load_workbook(io.BytesIO(content))
    return [tuple(row) for row in book[title].iter_rows(values_only=True)]


def test_template_workbook_has_the_chinese_headers():
    content = import_template_workbook()
    book = openpyxl.load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["房屋", "客户", "房屋关系", "说明"]
    assert sheet_rows(content, "房屋")[0] == (
        "房号", "楼层", "建筑面积", "套内面积", "用途", "是否收楼", "收楼日期", "使用状态", "备注"
    )  # fmt: skip
    assert sheet_rows(content, "客户")[0] == (
        "姓名", "类型", "证件类型", "证件号码", "电话", "家庭住址", "工作单位地址", "邮寄地址",
        "方便联系时间", "仅书面联系", "备注",
    )  # fmt: skip
    assert sheet_rows(content, "房屋关系")[0] == (
        "房号", "姓名", "电话", "身份", "起始日期", "是否缴费人"
    )  # fmt: skip
    lists = [dv.formula1 for dv in book["房屋"].data_validations.dataValidation]
    assert '"住宅,商铺,写字楼,公寓,车位"' in lists
    assert '"空置,装修,入住,出租"' in lists


def test_empty_template_imports_as_nothing(steward, project):
    batch = import_preview(
        user=steward, project=project, filename="t.xlsx", content=import_template_workbook()
    )
    assert batch.report["errors"] == []
    assert all(
        c == {"created": 0, "updated": 0, "unchanged": 0} for c in batch.report["counts"].values()
    )


def test_export_holds_rooms_current_people_and_occupancies(registry, manager):
    content = export_registry(user=manager, project=registry)
    rooms = sheet_rows(content, "房屋")
    assert len(rooms) == 4
    assert (
        "3-2-1502",
        15,
        89.5,
        75.2,
        "住宅",
        "是",
        datetime.datetime(2020, 6, 1),
        "入住",
        "朝南",
    ) in rooms
    assert ("3-2-1501", 15, None, None, "住宅", "否", None, "空置", None) in rooms
    people = {row[0]: row for row in sheet_rows(content, "客户")[1:]}
    assert set(people) == {"张三", "王五", "某某贸易有限公司"}
    assert people["张三"][3:5] == (ID_ZHANG, "13812345678/075586001234")
    assert people["张三"][9] == "是"
    occupancies = sheet_rows(content, "房屋关系")[1:]
    assert len(occupancies) == 4  # the ended tenancy is left out
    assert (
        "3-2-1502",
        "张三",
        "13812345678",
        "业主",
        datetime.datetime(2020, 6, 1),
        "是",
    ) in occupancies
    assert AuditEntry.objects.filter(action="导出一户一档", user=manager).exists()


def test_export_then_import_changes_nothing(registry, manager):
    content = export_registry(user=manager, project=registry)
    before = (
        Room.objects.count(),
        Person.objects.count(),
        Phone.objects.count(),
        Occupancy.objects.count(),
        AuditEntry.objects.count(),
    )
    batch = import_preview(user=manager, project=registry, filename="export.xlsx", content=content)
    assert batch.report["errors"] == []
    assert batch.kind == "template"
    assert {k: (c["created"], c["updated"]) for k, c in batch.report["counts"].items()} == {
        "rooms": (0, 0),
        "people": (0, 0),
        "phones": (0, 0),
        "occupancies": (0, 0),
    }
    assert batch.report["counts"]["rooms"]["unchanged"] == 3
    assert batch.report["counts"]["occupancies"]["unchanged"] == 4
    import_commit(user=manager, batch=batch)
    after = (
        Room.objects.count(),
        Person.objects.count(),
        Phone.objects.count(),
        Occupancy.objects.count(),
        AuditEntry.objects.count(),
    )
    assert after == before


def test_export_masks_phones_and_ids_for_a_cashier(registry, make_user):
    cashier = make_user("cashier2", Role.CASHIER, registry)
    content = export_registry(user=cashier, project=registry)
    people = sheet_rows(content, "客户")
    assert people[0][0] == MASKED_NOTE
    zhang = next(row for row in people if row[0] == "张三")
    assert zhang[3] == "110105********002X"
    assert zhang[4] == "138****5678/075****1234"
    occupancies = sheet_rows(content, "房屋关系")
    assert occupancies[0][0] == MASKED_NOTE
    assert (
        "3-2-1502",
        "张三",
        "138****5678",
        "业主",
        datetime.datetime(2020, 6, 1),
        "是",
    ) in occupancies
    for title in ("房屋", "客户", "房屋关系"):
        assert "13812345678" not in str(sheet_rows(content, title))
        assert ID_ZHANG not in str(sheet_rows(content, title))
    assert AuditEntry.objects.get(action="导出一户一档").changes["phones_masked"] is True


def test_export_shows_phones_to_a_steward_but_masks_id_numbers(registry, steward):
    content = export_registry(user=steward, project=registry)
    people = sheet_rows(content, "客户")
    assert people[0][0] == MASKED_NOTE  # ID numbers are masked for stewards
    zhang = next(row for row in people if row[0] == "张三")
    assert zhang[4] == "13812345678/075586001234"
    assert zhang[3] == "110105********002X"


def test_export_is_unmasked_for_a_project_manager(registry, manager):
    people = sheet_rows(export_registry(user=manager, project=registry), "客户")
    assert people[0][0] == "姓名"


def test_masked_export_cannot_be_imported(registry, make_user, manager):
    cashier = make_user("cashier2", Role.CASHIER, registry)
    content = export_registry(user=cashier, project=registry)
    batch = import_preview(user=manager, project=registry, filename="masked.xlsx", content=content)
    assert batch.report["error_count"] == 1
    assert batch.report["errors"][0]["text"].startswith("这是脱敏后的导出文件")


def test_export_covers_only_the_given_project(registry, other_project, manager):
    services.room_create(user=None, project=other_project, code="9-9-909")
    rooms = sheet_rows(export_registry(user=manager, project=registry), "房屋")
    assert "9-9-909" not in {row[0] for row in rooms}
