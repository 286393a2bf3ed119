"""Excel import of the registry: both layouts, messy real content, every kind of bad row, all-or-nothing,
idempotence and the column mapping. Workbooks are built in memory with openpyxl."""

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from wuye.core.errors import ValidationFailed
from wuye.core.models import AuditEntry
from wuye.registry import services
from wuye.registry.enums import OccupancyRole, OccupancyState, PersonKind, RoomUse
from wuye.registry.importing import import_commit, import_preview, import_remap
from wuye.registry.models import (
    Building,
    ImportBatch,
    ImportStatus,
    Occupancy,
    Person,
    Phone,
    Room,
    Unit,
)
from wuye.registry.normalize import parse_date, parse_floor, parse_yes_no

pytestmark = pytest.mark.django_db

ROOM_HEAD = [
    "房号",
    "楼层",
    "建筑面积",
    "套内面积",
    "用途",
    "是否收楼",
    "收楼日期",
    "使用状态",
    "备注",
]
PERSON_HEAD = ["姓名", "类型", "证件类型", "证件号码", "电话", "家庭住址", "工作单位地址", "邮寄地址",
               "方便联系时间", "仅书面联系", "备注"]  # fmt: skip
OCC_HEAD = ["房号", "姓名", "电话", "身份", "起始日期", "是否缴费人"]
FLAT_HEAD = ["房间号", "建筑面积(㎡)", "套内面积", "业主姓名", "联系电话", "身份证号", "交房日期",
             "房屋状态", "租户姓名", "租户电话"]  # fmt: skip
ID_ZHANG = "11010519491231002X"  # valid check digit


def workbook(sheets: dict[str, list[list]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        ws = book.create_sheet(title)
        for row in rows:
            ws.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def flat(*rows: list, head: list | None = None) -> bytes:
    return workbook({"Sheet1": [head or FLAT_HEAD, *rows]})


def preview(user, project, content: bytes, **kw) -> ImportBatch:
    return import_preview(user=user, project=project, filename="test.xlsx", content=content, **kw)


def texts(batch: ImportBatch) -> list[str]:
    return [e["text"] for e in batch.report["errors"]]


def counts(batch: ImportBatch) -> dict[str, tuple[int, int, int]]:
    return {
        kind: (c["created"], c["updated"], c["unchanged"])
        for kind, c in batch.report["counts"].items()
    }


def object_counts() -> tuple[int, ...]:
    return (
        Room.objects.count(),
        Person.objects.count(),
        Phone.objects.count(),
        Occupancy.objects.count(),
        Building.objects.count(),
        Unit.objects.count(),
    )


def template_file() -> bytes:
    return workbook(
        {
            "房屋": [
                ROOM_HEAD,
                [
                    "3-2-1502",
                    15,
                    89.5,
                    75.2,
                    "住宅",
                    "是",
                    datetime.date(2020, 6, 1),
                    "入住",
                    "朝南",
                ],
                ["3-2-1501", None, "120.00", None, "住宅", "否", None, "空置", ""],
                ["12-S101", 1, 45, None, "商铺", "是", "2019/3/8", "出租", None],
            ],
            "客户": [
                PERSON_HEAD,
                [
                    "张三",
                    "个人",
                    "居民身份证",
                    ID_ZHANG,
                    "13812345678/0755-86001234",
                    "深圳市南山区",
                    "",
                    "",
                    "晚上7点后",
                    "否",
                    "",
                ],  # fmt: skip
                ["某某贸易有限公司", "单位", "", "", "13912345678", "", "", "", "", "是", "租商铺"],
                ["王五", "", "", "", "", "", "", "", "", "", ""],
            ],
            "房屋关系": [
                OCC_HEAD,
                ["3-2-1502", "张三", "13812345678", "业主", "2020-06-01", "是"],
                ["3-2-1502", "王五", "", "住户", None, "否"],
                ["12-S101", "张三", "", "业主", "2019年3月8日", ""],
                ["12-S101", "某某贸易有限公司", "", "租户", datetime.date(2021, 1, 1), "是"],
            ],
        }
    )


# --- a good template file ------------------------------------------------------------------------


def test_template_preview_counts_and_writes_nothing(steward, project):
    batch = preview(steward, project, template_file())
    assert batch.status == ImportStatus.PREVIEWED
    assert batch.kind == "template"
    assert texts(batch) == []
    assert counts(batch) == {
        "rooms": (3, 0, 0),
        "people": (3, 0, 0),
        "phones": (3, 0, 0),
        "occupancies": (4, 0, 0),
    }
    assert batch.report["new_buildings"] == ["3", "12"]
    assert batch.sha256 and bytes(batch.content)
    assert object_counts() == (0, 0, 0, 0, 0, 0)


def test_template_commit_writes_everything_with_search_keys_and_audit(steward, project):
    batch = import_commit(user=steward, batch=preview(steward, project, template_file()))
    assert batch.status == ImportStatus.COMMITTED
    assert batch.committed_at is not None

    room = Room.objects.get(project=project, code="3-2-1502")
    assert (room.floor, room.gross_area, room.inner_area) == (
        15,
        Decimal("89.50"),
        Decimal("75.20"),
    )
    assert room.handover_date == datetime.date(2020, 6, 1)
    assert (room.note, room.code_key, room.number_rev) == ("朝南", "3-2-1502", "2051")
    assert room.unit.name == "2单元"
    vacant = Room.objects.get(code="3-2-1501")
    assert (vacant.handed_over, vacant.occupancy_state, vacant.floor) == (False, "vacant", 15)
    shop = Room.objects.get(code="12-S101")
    assert (shop.use, shop.unit, shop.occupancy_state) == (RoomUse.SHOP, None, "rented")
    assert shop.handover_date == datetime.date(2019, 3, 8)

    zhang = Person.objects.get(name="张三")
    assert zhang.id_number == ID_ZHANG
    assert (zhang.name_pinyin, zhang.name_initials) == ("zhangsan", "zs")
    assert zhang.preferred_contact_times == "晚上7点后"
    assert [(p.number, p.is_primary) for p in zhang.phones.all()] == [
        ("13812345678", True),
        ("075586001234", False),
    ]
    assert zhang.phones.first().number_rev == "87654321831"
    company = Person.objects.get(name="某某贸易有限公司")
    assert (company.kind, company.written_contact_only) == (PersonKind.ORGANISATION, True)

    payer = Occupancy.objects.get(room=room, is_payer=True)
    assert (payer.person, payer.role, payer.start_date) == (
        zhang,
        "owner",
        datetime.date(2020, 6, 1),
    )
    assert Occupancy.objects.get(room=room, person__name="王五").role == OccupancyRole.RESIDENT
    assert Occupancy.objects.get(room=shop, is_payer=True).person == company

    actions = list(AuditEntry.objects.values_list("action", flat=True))
    assert actions.count("房屋新增") == 3
    assert actions.count("客户新增") == 3
    assert actions.count("电话新增") == 3
    assert actions.count("房屋关系新增") == 4
    assert actions.count("批量导入") == 1
    entry = AuditEntry.objects.get(action="房屋新增", object_id=str(room.pk))
    assert entry.user == steward and entry.project_id == project.pk
    assert entry.changes["import_batch"] == batch.pk


def test_template_with_only_rooms(steward, project):
    batch = preview(steward, project, workbook({"房屋": [ROOM_HEAD, ["1-1-101", None, 80]]}))
    assert texts(batch) == []
    assert counts(batch)["rooms"] == (1, 0, 0)


# --- the flat layout with what real files hold ----------------------------------------------------


def messy_flat_file() -> bytes:
    return workbook(
        {
            "业主信息": [
                ["锦绣花园业主信息表（2024年导出）"],
                ["制表：客服中心"],
                [],
                FLAT_HEAD,
                [
                    "3栋2单元1502",
                    "89.5㎡",
                    80,
                    "张三/李四",
                    "138 1234 5678/+86 139-1234-5678",
                    ID_ZHANG + "/",
                    datetime.datetime(2021, 5, 1),
                    "入住",
                    None,
                    None,
                ],  # fmt: skip
                [
                    "３-２-１５０１",
                    101.25,
                    None,
                    "王五",
                    13812345679.0,
                    None,
                    "2021/5/1",
                    "已出租",
                    "赵六",
                    "13700001111",
                ],  # fmt: skip
                [
                    "3-2-1401",
                    "  95 平方米 ",
                    None,
                    "孙七/周八",
                    "13600001111/13600002222/13600003333",
                    None,
                    "2021年5月1日",
                    "空置",
                    None,
                    None,
                ],  # fmt: skip
                ["3-2-1402", 95, None, None, None, None, 44317, "未收楼", None, None],
                ["3-2-1301", 95, None, "张三", "13812345678", None, "20210501", "装修", None, None],
                [None] * 10,
                [],
                ["合计", None, None, None, None, None, None, None, None, None],
                [None, None, None, None, None, None, None, None, None, None],
            ]
        }
    )


def test_flat_file_with_messy_content(steward, project):
    batch = preview(steward, project, messy_flat_file())
    assert texts(batch) == []
    assert batch.kind == "flat"
    sheet = batch.report["sheets"][0]
    assert sheet["header_row"] == 4
    assert sheet["mapping"]["code"] == 1 and sheet["mapping"]["owner_phone"] == 5
    assert batch.report["data_rows"] == 5
    # 张三 of 1502 and 1301 is one person: same name, same phone.
    assert counts(batch) == {
        "rooms": (5, 0, 0),
        "people": (6, 0, 0),
        "phones": (7, 0, 0),
        "occupancies": (7, 0, 0),
    }
    first = batch.report["preview"][0]["rows"][0]
    assert first["row"] == 5 and first["ok"]
    assert "3-2-1502" in first["cells"] and "13812345678/13912345678" in first["cells"]
    assert "110105********002X" in first["cells"]  # ID numbers are masked in the preview

    import_commit(user=steward, batch=batch)
    codes = set(Room.objects.values_list("code", flat=True))
    assert codes == {"3-2-1502", "3-2-1501", "3-2-1401", "3-2-1402", "3-2-1301"}
    r1502 = Room.objects.get(code="3-2-1502")
    assert r1502.gross_area == Decimal("89.50") and r1502.handover_date == datetime.date(2021, 5, 1)
    assert Room.objects.get(code="3-2-1401").gross_area == Decimal("95.00")
    assert {r.handover_date for r in Room.objects.all()} == {datetime.date(2021, 5, 1)}
    states = dict(Room.objects.values_list("code", "occupancy_state"))
    assert states["3-2-1501"] == OccupancyState.RENTED
    assert states["3-2-1301"] == OccupancyState.DECORATING
    r1402 = Room.objects.get(code="3-2-1402")
    assert (r1402.handed_over, r1402.occupancy_state) == (False, "vacant")

    # Two owners in one cell, two phones: paired in order; the second is a co-owner.
    zhang, li = Person.objects.get(name="张三"), Person.objects.get(name="李四")
    assert list(zhang.phones.values_list("number", flat=True)) == ["13812345678"]
    assert list(li.phones.values_list("number", flat=True)) == ["13912345678"]
    assert zhang.id_number == ID_ZHANG and li.id_number == ""
    assert Occupancy.objects.get(room=r1502, person=li).role == OccupancyRole.CO_OWNER
    assert set(zhang.occupancies.values_list("room__code", flat=True)) == {"3-2-1502", "3-2-1301"}
    # Two owners, three phones: the counts differ, so every phone goes to the first owner.
    sun = Person.objects.get(name="孙七")
    assert sun.phones.count() == 3 and Person.objects.get(name="周八").phones.count() == 0
    # A float phone and a tenant with their phone.
    assert Phone.objects.filter(person__name="王五", number="13812345679").exists()
    assert Occupancy.objects.get(person__name="赵六").role == OccupancyRole.TENANT
    assert not Occupancy.objects.filter(is_payer=True).exists()
    assert not Occupancy.objects.filter(room=r1402).exists()


def test_flat_file_with_separate_building_and_unit_columns(steward, project):
    content = flat(
        ["3栋", "2单元", "1502", 89.5, "张三"],
        ["A座", "", "101", 60, "李四"],
        head=["楼栋", "单元", "房号", "面积", "姓名"],
    )
    batch = import_commit(user=steward, batch=preview(steward, project, content))
    assert texts(batch) == []
    assert set(Room.objects.values_list("code", flat=True)) == {"3-2-1502", "A-101"}


def test_header_row_found_below_merged_titles(steward, project):
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["锦绣花园房屋清单"])
    ws.merge_cells("A1:D1")
    ws.append(["单位：平方米", None, None, "打印日期：2024-01-01"])
    ws.append(["序号", "房号", "计费面积", "户主"])
    ws.append([1, "1-1-101", 88, "张三"])
    buffer = io.BytesIO()
    book.save(buffer)
    batch = preview(steward, project, buffer.getvalue())
    assert texts(batch) == []
    assert batch.report["sheets"][0]["header_row"] == 3
    assert batch.report["sheets"][0]["mapping"] == {"code": 2, "gross_area": 3, "owner_name": 4}
    assert counts(batch)["rooms"] == (1, 0, 0)


# --- bad rows ------------------------------------------------------------------------------------


def test_every_bad_row_is_reported_with_row_column_and_reason(steward, project):
    content = flat(
        ["1-1-101", 80, None, "甲", "13800000001"],  # row 2: good
        ["不知道", 80, None, "乙", ""],  # row 3
        ["1-1-103", "abc", None, "丙", ""],  # row 4
        ["1-1-104", -5, None, "丁", ""],  # row 5
        ["1-1-105", 80, 95, "戊", ""],  # row 6
        ["1-1-106", 80, None, "己", "12345"],  # row 7
        ["1-1-101", 70, None, "庚", ""],  # row 8: duplicate of row 2
        ["1-1-108", 80, None, "辛", "", None, "明年五一"],  # row 9
        ["1-1-109", 80, None, "壬", "", None, "2021-02-30"],  # row 10
        ["1-1-110", 80, None, "癸", "", None, None, "别墅"],  # row 11
        ["1-1-111", 80, None, "", "13800000002"],  # row 12: a phone without a name
        ["1-1-112", 80, None, "子", "", "110105194912310021"],  # row 13: wrong check digit
    )
    batch = preview(steward, project, content)
    errors = {(e["row"], e["column"]): e["message"] for e in batch.report["errors"]}
    assert "无法识别的房号“不知道”" in errors[(3, "房间号")]
    assert errors[(4, "建筑面积(㎡)")] == "面积“abc”不是数字"
    assert "第4行「建筑面积(㎡)」：面积“abc”不是数字" in texts(batch)
    assert "不能为负数" in errors[(5, "建筑面积(㎡)")]
    assert errors[(6, "套内面积")] == "套内面积 95.00 大于建筑面积 80.00"
    assert "电话“12345”" in errors[(7, "联系电话")]
    assert errors[(8, "房间号")] == "房号 1-1-101 与第2行重复"
    assert "日期“明年五一”无法识别" in errors[(9, "交房日期")]
    assert errors[(10, "交房日期")] == "日期“2021-02-30”不存在"
    assert "使用状态“别墅”不是可选值" in errors[(11, "房屋状态")]
    assert "有电话但没有姓名" in errors[(12, "联系电话")]
    assert "身份证号“110105194912310021”无效" in errors[(13, "身份证号")]
    assert len(batch.report["errors"]) == 11 == batch.report["error_count"]
    assert object_counts() == (0, 0, 0, 0, 0, 0)


def test_bad_cells_in_template_sheets_name_the_sheet(steward, project):
    content = workbook(
        {
            "房屋": [ROOM_HEAD, ["1-1-101", "十五", 80, None, "别墅", "也许", None, "入住"]],
            "客户": [PERSON_HEAD, ["张三", "个人", "护照", "", "12", "", "", "", "", "", ""]],
            "房屋关系": [
                OCC_HEAD,
                ["1-1-101", "张三", "", "房东", None, None],
                ["9-9-999", "李四", "", "业主", None, None],
            ],
        }
    )
    batch = preview(steward, project, content)
    found = texts(batch)
    assert "「房屋」表第2行「楼层」：楼层“十五”不是整数" in found
    assert any(t.startswith("「房屋」表第2行「用途」：用途“别墅”不是可选值") for t in found)
    assert "「房屋」表第2行「是否收楼」：“也许”应为“是”或“否”" in found
    assert any(t.startswith("「客户」表第2行「电话」：电话“12”") for t in found)
    assert any(t.startswith("「房屋关系」表第2行「身份」：身份“房东”不是可选值") for t in found)
    assert "「房屋关系」表第3行「房号」：房号 9-9-999 不在「房屋」表中，系统中也没有" in found


def test_not_handed_over_room_cannot_be_occupied(steward, project):
    content = workbook(
        {"房屋": [ROOM_HEAD, ["1-1-101", None, 80, None, "住宅", "否", None, "入住"]]}
    )
    assert texts(preview(steward, project, content)) == [
        "「房屋」表第2行「使用状态」：未收楼的房屋使用状态只能是“空置”，不能是“入住”"
    ]


def test_two_payers_for_one_room_is_an_error(steward, project):
    content = workbook(
        {
            "房屋": [ROOM_HEAD, ["1-1-101", None, 80]],
            "房屋关系": [
                OCC_HEAD,
                ["1-1-101", "张三", "13800000001", "业主", None, "是"],
                ["1-1-101", "李四", "13800000002", "租户", None, "是"],
            ],
        }
    )
    assert texts(preview(steward, project, content)) == [
        "「房屋关系」表第3行「是否缴费人」：与第2行同为房屋 1-1-101 的缴费人，一户只能有一个缴费人"
    ]


def test_a_second_payer_beside_a_stored_one_is_an_error(steward, project):
    room = services.room_create(user=None, project=project, code="1-1-101")
    old = services.person_create(user=None, project=project, name="老业主", phones=["13800000009"])
    services.occupancy_create(user=None, room=room, person=old, role="owner", is_payer=True)
    content = workbook(
        {"房屋关系": [OCC_HEAD, ["1-1-101", "张三", "13800000001", "租户", None, "是"]]}
    )
    assert texts(preview(steward, project, content)) == [
        "「房屋关系」表第2行「是否缴费人」：房屋 1-1-101 已有缴费人“老业主”，一户只能有一个缴费人"
        "（请先在房屋页面结束原缴费关系）"
    ]


def test_same_name_in_customer_sheet_needs_a_phone_to_tell_apart(steward, project):
    content = workbook(
        {
            "房屋": [ROOM_HEAD, ["1-1-101", None, 80], ["1-1-102", None, 80]],
            "客户": [
                PERSON_HEAD,
                ["张伟", "", "", "", "13800000001"],
                ["张伟", "", "", "", "13800000002"],
            ],
            "房屋关系": [
                OCC_HEAD,
                ["1-1-101", "张伟", "13800000002", "业主"],
                ["1-1-102", "张伟", "", "业主"],
            ],
        }
    )
    batch = preview(steward, project, content)
    assert texts(batch) == [
        "「房屋关系」表第3行「姓名」：「客户」表中有 2 位“张伟”，请在「电话」中填写其中一位的电话以区分"
    ]


def test_missing_key_column_is_reported_for_the_sheet(steward, project):
    batch = preview(steward, project, flat(["x", 1], head=["编号", "面积"]))
    assert texts(batch) == ["「房号」：未找到「房号」列，请在“列对应”中指定"]


def test_unreadable_file_is_refused(steward, project):
    with pytest.raises(ValidationFailed, match="无法读取文件"):
        preview(steward, project, b"not an excel file")
    assert not ImportBatch.objects.exists()


def test_masked_export_is_refused_as_a_whole(steward, project):
    from wuye.registry.import_parsing import MASKED_NOTE

    content = workbook({"客户": [[MASKED_NOTE], PERSON_HEAD, ["张三", "", "", "", "138****5678"]]})
    assert texts(preview(steward, project, content))[0].startswith("这是脱敏后的导出文件")


# --- all-or-nothing ------------------------------------------------------------------------------


def test_one_bad_row_blocks_the_whole_file(steward, project):
    content = flat(["1-1-101", 80, None, "甲"], ["1-1-102", 80, None, "乙"], ["1-1-103", "abc"])
    batch = preview(steward, project, content)
    assert batch.report["error_count"] == 1
    assert counts(batch)["rooms"] == (2, 0, 0)  # what the good rows would do
    with pytest.raises(ValidationFailed, match="还有错误"):
        import_commit(user=steward, batch=batch)
    assert object_counts() == (0, 0, 0, 0, 0, 0)
    assert not AuditEntry.objects.exists()


def test_commit_rereads_and_fails_whole_when_data_changed_since_preview(steward, project):
    content = workbook(
        {
            "房屋": [ROOM_HEAD, ["1-1-101", None, 80], ["1-1-102", None, 80]],
            "房屋关系": [OCC_HEAD, ["1-1-101", "张三", "13800000001", "业主", None, "是"]],
        }
    )
    batch = preview(steward, project, content)
    assert texts(batch) == []
    # Meanwhile someone records another payer for the room.
    room = services.room_create(user=None, project=project, code="1-1-101")
    other = services.person_create(user=None, project=project, name="李四")
    services.occupancy_create(user=None, room=room, person=other, role="owner", is_payer=True)
    before, audits = object_counts(), AuditEntry.objects.count()

    batch = import_commit(user=steward, batch=batch)
    assert batch.status == ImportStatus.FAILED
    assert "已有缴费人“李四”" in texts(batch)[0]
    assert object_counts() == before  # 1-1-102 and 张三 were not written either
    assert AuditEntry.objects.count() == audits


def test_a_batch_cannot_be_committed_twice(steward, project):
    batch = import_commit(user=steward, batch=preview(steward, project, flat(["1-1-101", 80])))
    with pytest.raises(ValidationFailed, match="已经导入"):
        import_commit(user=steward, batch=batch)


# --- idempotence and updates ---------------------------------------------------------------------


@pytest.mark.parametrize("make", [template_file, messy_flat_file])
def test_importing_the_same_file_again_changes_nothing(steward, project, make):
    content = make()
    first = import_commit(user=steward, batch=preview(steward, project, content))
    before, audits = object_counts(), AuditEntry.objects.count()

    again = preview(steward, project, content)
    assert again.report["same_file_committed"]["id"] == first.pk
    assert all(c[0] == 0 and c[1] == 0 for c in counts(again).values())
    assert counts(again) == {k: (0, 0, v[0]) for k, v in counts(first).items()}
    again = import_commit(user=steward, batch=again)
    assert again.status == ImportStatus.COMMITTED
    assert object_counts() == before
    assert AuditEntry.objects.count() == audits


def test_changed_values_update_the_room_and_are_audited(steward, project):
    import_commit(user=steward, batch=preview(steward, project, flat(["1-1-101", 80, None, "甲"])))
    batch = preview(steward, project, flat(["1-1-101", "82.5", 70, "甲", "13800000001"]))
    assert counts(batch) == {
        "rooms": (0, 1, 0),
        "people": (0, 0, 1),
        "phones": (1, 0, 0),
        "occupancies": (0, 0, 1),
    }
    import_commit(user=steward, batch=batch)
    room = Room.objects.get(code="1-1-101")
    assert (room.gross_area, room.inner_area) == (Decimal("82.50"), Decimal("70.00"))
    entry = AuditEntry.objects.get(action="房屋修改")
    assert entry.changes["gross_area"] == ["80.00", "82.50"]
    assert entry.changes["inner_area"] == [None, "70.00"]
    # 甲 had no phone: matched by name and room, and the phone was added to them.
    assert Person.objects.get(name="甲").phones.get().is_primary


def test_blank_cells_do_not_clear_stored_values(steward, project):
    import_commit(user=steward, batch=preview(steward, project, flat(["1-1-101", 80, 70, "甲"])))
    batch = preview(steward, project, flat(["1-1-101", None, None, "甲"]))
    assert counts(batch)["rooms"] == (0, 0, 1)


def test_people_match_stored_ones_by_name_and_phone(steward, project):
    room = services.room_create(user=None, project=project, code="1-1-101")
    zhang = services.person_create(user=None, project=project, name="张三", phones=["13812345678"])
    services.occupancy_create(user=None, room=room, person=zhang, role="owner")
    content = flat(
        ["1-1-101", None, None, "张三", "138-1234-5678"],
        # Same name, another phone, another room: a different person.
        ["1-1-102", None, None, "张三", "13900000000"],
    )
    batch = preview(steward, project, content)
    assert counts(batch)["people"] == (1, 0, 1)
    assert counts(batch)["occupancies"] == (1, 0, 1)


def test_not_handed_over_sets_a_stored_room_vacant(steward, project):
    services.room_create(user=None, project=project, code="1-1-101")
    content = workbook({"房屋": [ROOM_HEAD, ["1-1-101", None, None, None, None, "否"]]})
    import_commit(user=steward, batch=preview(steward, project, content))
    room = Room.objects.get(code="1-1-101")
    assert (room.handed_over, room.occupancy_state) == (False, "vacant")


# --- column mapping ------------------------------------------------------------------------------


def test_mapping_override_picks_columns_the_detector_missed(steward, project):
    content = flat(["1-1-101", 88, "张三"], head=["编号", "大小", "户主名"])
    batch = preview(steward, project, content)
    assert batch.report["error_count"] == 1
    title = batch.report["sheets"][0]["title"]

    batch = import_remap(
        user=steward,
        batch=batch,
        mapping={title: {"code": 1, "gross_area": "2", "owner_name": 3, "note": None}},
    )
    assert texts(batch) == []
    assert batch.mapping == {title: {"code": 1, "gross_area": 2, "owner_name": 3}}
    import_commit(user=steward, batch=batch)
    assert Room.objects.get(code="1-1-101").gross_area == Decimal("88.00")
    assert Occupancy.objects.get().person.name == "张三"


def test_mapping_override_given_at_upload_replaces_detection(steward, project):
    content = flat(["1-1-101", 88], head=["房号", "面积"])
    batch = preview(steward, project, content, mapping={"Sheet1": {"code": 1, "inner_area": 2}})
    import_commit(user=steward, batch=batch)
    room = Room.objects.get()
    assert (room.gross_area, room.inner_area) == (None, Decimal("88.00"))


def test_one_column_cannot_feed_two_fields(steward, project):
    batch = preview(steward, project, flat(["1-1-101", 88], head=["房号", "面积"]))
    batch = import_remap(
        user=steward, batch=batch, mapping={"Sheet1": {"code": 1, "gross_area": 2, "inner_area": 2}}
    )
    assert texts(batch) == ["「面积」：同一列不能同时作为「建筑面积」和「套内面积」"]


# --- cell parsers added for the importer ---------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2021-05-01", datetime.date(2021, 5, 1)),
        ("2021/5/1", datetime.date(2021, 5, 1)),
        ("2021年5月1日", datetime.date(2021, 5, 1)),
        ("２０２１．５．１", datetime.date(2021, 5, 1)),
        (44317, datetime.date(2021, 5, 1)),
        (20210501, datetime.date(2021, 5, 1)),
        (datetime.datetime(2021, 5, 1, 8, 30), datetime.date(2021, 5, 1)),
        ("", None),
        (None, None),
    ],
)
def test_dates_as_spreadsheets_hold_them(value, expected):
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    "value, expected", [(15, 15), (15.0, 15), ("15层", 15), ("15F", 15), ("B1", -1), ("负2", -2)]
)
def test_floors(value, expected):
    assert parse_floor(value) == expected


@pytest.mark.parametrize("value, expected", [("是", True), ("否", False), ("Y", True), ("√", True),
                                             (False, False), (1, True), ("", None)])  # fmt: skip
def test_yes_no(value, expected):
    assert parse_yes_no(value) == expected


# --- the pages -----------------------------------------------------------------------------------


def upload_file(client, content: bytes, name: str = "业主清单.xlsx"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        reverse("registry:import_upload"), {"file": SimpleUploadedFile(name, content)}
    )


def test_pages_upload_preview_remap_commit_and_result(client, steward, project):
    client.force_login(steward)
    page = client.get(reverse("registry:import_upload"))
    assert page.status_code == 200
    assert "上传并预览" in page.content.decode()

    response = upload_file(client, flat(["1-1-101", 88, "张三"], head=["房号", "大小", "户主"]))
    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("registry:import_preview", args=[batch.pk])
    assert batch.filename == "业主清单.xlsx" and batch.user == steward

    html = client.get(response.url).content.decode()
    assert "没有发现错误" in html
    assert "一行一户格式" in html and "表头在第 1 行" in html
    assert 'value="3" selected' in html  # 户主 → 业主
    assert "1-1-101" in html  # the first parsed rows

    # Map 大小 (column B) to the gross area, then commit.
    client.post(response.url, {"map-0-code": "1", "map-0-gross_area": "2", "map-0-owner_name": "3"})
    batch.refresh_from_db()
    assert batch.mapping["Sheet1"]["gross_area"] == 2
    done = client.post(reverse("registry:import_commit", args=[batch.pk]))
    assert done.status_code == 302
    result = client.get(done.url).content.decode()
    assert "导入完成" in result
    assert Room.objects.get(code="1-1-101").gross_area == Decimal("88.00")


def test_preview_page_lists_errors_and_disables_the_commit_button(client, steward, project):
    client.force_login(steward)
    response = upload_file(client, flat(["1-1-101", "abc"], ["1-1-101", 80]))
    html = client.get(response.url).content.decode()
    assert "发现 2 处错误" in html
    assert "面积“abc”不是数字" in html and "房号 1-1-101 与第2行重复" in html
    assert "disabled" in html
    client.post(reverse("registry:import_commit", args=[ImportBatch.objects.get().pk]))
    assert not Room.objects.exists()


def test_unreadable_upload_is_shown_on_the_form(client, steward, project):
    client.force_login(steward)
    page = upload_file(client, b"plain text", name="a.xlsx")
    assert page.status_code == 200
    assert "无法读取文件" in page.content.decode()
    assert "请上传 .xlsx" in upload_file(client, b"x", name="a.xls").content.decode()


def test_import_pages_are_refused_to_roles_that_cannot_edit_the_registry(
    client, cashier, project, steward
):
    batch = preview(steward, project, flat(["1-1-101", 80]))
    client.force_login(cashier)
    page = client.get(reverse("registry:import_upload"))
    assert page.status_code == 200  # the export is there for everyone
    assert "上传并预览" not in page.content.decode() and "导出一户一档" in page.content.decode()
    assert upload_file(client, flat(["1-1-102", 80])).status_code == 403
    assert client.get(reverse("registry:import_preview", args=[batch.pk])).status_code == 403
    assert client.post(reverse("registry:import_commit", args=[batch.pk])).status_code == 403
    assert not Room.objects.exists()


def test_a_batch_of_another_project_is_not_found(client, make_user, project, other_project):
    other_steward = make_user("s2", "steward", other_project)
    batch = preview(other_steward, other_project, flat(["1-1-101", 80]))
    client.force_login(make_user("s1", "steward", project))
    assert client.get(reverse("registry:import_preview", args=[batch.pk])).status_code == 404


def test_template_and_export_downloads(client, cashier, project):
    services.room_create(user=None, project=project, code="1-1-101")
    client.force_login(cashier)
    template = client.get(reverse("registry:import_template"))
    assert template.status_code == 200
    assert template["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in template["Content-Disposition"]
    export = client.get(reverse("registry:export"))
    assert export.status_code == 200
    rows = list(
        openpyxl.load_workbook(io.BytesIO(export.content))["房屋"].iter_rows(values_only=True)
    )
    assert rows[1][0] == "1-1-101"
