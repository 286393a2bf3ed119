"""The registry import as real flat exports are (issue 16 item 6): rooms without area are warned and
listed, a developer holding unsold rooms is one person and can be recorded as the project's developer,
and a note written into the name cell goes to the note."""

import pytest
from django.urls import reverse

from wuye.registry.enums import PersonKind
from wuye.registry.importing import import_commit, import_preview
from wuye.registry.models import Occupancy, Person, Room
from wuye.registry.selectors import room_payer

pytestmark = pytest.mark.django_db

HEAD = ["房号", "建筑面积", "房屋状态", "业主姓名", "联系电话"]
DEVELOPER = "锦绣置业有限公司"


def flat_file(*rows: list) -> bytes:
    from tests.registry.test_import import workbook

    return workbook({"Sheet1": [HEAD, *rows]})


def preview(user, project, content: bytes):
    return import_preview(user=user, project=project, filename="导出.xlsx", content=content)


def test_a_room_without_area_is_warned_and_listed_but_not_refused(steward, project):
    batch = preview(
        steward,
        project,
        flat_file(
            ["1-1-101", 88, "入住", "张三", "13800000001"],
            ["1-1-102", None, "入住", "李四", "13800000002"],  # row 3
            ["1-1-103", "", "空置", None, None],  # row 4
        ),
    )
    report = batch.report
    assert report["error_count"] == 0
    assert report["rooms_without_area"] == ["1-1-102", "1-1-103"]
    assert [w["text"] for w in report["warnings"]] == [
        "第3行「建筑面积」：房屋 1-1-102 没有面积，按面积计费的收费项目对它不会产生账单",
        "第4行「建筑面积」：房屋 1-1-103 没有面积，按面积计费的收费项目对它不会产生账单",
    ]
    assert batch.status == "previewed"
    import_commit(user=steward, batch=batch)
    assert Room.objects.get(code="1-1-102").gross_area is None


def test_a_room_whose_stored_area_stays_is_not_warned(steward, project):
    import_commit(user=steward, batch=preview(steward, project, flat_file(["1-1-101", 88])))
    batch = preview(steward, project, flat_file(["1-1-101", None, "入住", "张三"]))
    assert batch.report["warnings"] == [] and batch.report["rooms_without_area"] == []


def test_the_preview_page_lists_rooms_without_area(client, steward, project):
    client.force_login(steward)
    batch = preview(steward, project, flat_file(["1-1-102", None, "入住", "李四"]))
    page = client.get(reverse("registry:import_preview", args=[batch.pk])).content.decode()
    assert "1 套房屋没有面积" in page and "1-1-102" in page


def unsold_rooms_file() -> bytes:
    return flat_file(
        ["1-1-101", 88, "入住", "张三", "13800000001"],
        ["1-1-102", 88, "未收楼", DEVELOPER, None],
        ["1-1-103", 88, "未收楼", DEVELOPER, None],
        ["1-1-104", 88, "未收楼", f"  {DEVELOPER} ", None],
    )


def test_an_organisation_on_several_rows_without_phone_is_one_person(steward, project):
    batch = preview(steward, project, unsold_rooms_file())
    assert batch.report["counts"]["people"]["created"] == 2  # 张三 and the developer, once
    import_commit(user=steward, batch=batch)
    developer = Person.objects.get(name=DEVELOPER)
    assert developer.kind == PersonKind.ORGANISATION
    assert developer.occupancies.count() == 3
    # a second import of the same export finds the same organisation
    again = preview(steward, project, unsold_rooms_file())
    assert again.report["counts"]["people"] == {"created": 0, "updated": 0, "unchanged": 2}


def test_individuals_of_one_name_on_different_rooms_without_phone_stay_apart(steward, project):
    batch = preview(
        steward,
        project,
        flat_file(["1-1-101", 88, "入住", "王芳"], ["2-1-101", 88, "入住", "王芳"]),
    )
    assert batch.report["counts"]["people"]["created"] == 2


def test_the_preview_offers_the_organisation_owning_unsold_rooms_as_developer(
    client, steward, project
):
    batch = preview(steward, project, unsold_rooms_file())
    offer = batch.report["developer_offer"]
    assert offer == {"name": DEVELOPER, "rooms": ["1-1-102", "1-1-103", "1-1-104"]}
    client.force_login(steward)
    page = client.get(reverse("registry:import_preview", args=[batch.pk])).content.decode()
    assert f"登记“{DEVELOPER}”为本项目的开发建设单位" in page
    client.post(reverse("registry:import_commit", args=[batch.pk]), {"record_developer": "1"})
    result = client.get(reverse("registry:import_preview", args=[batch.pk])).content.decode()
    assert f"已登记“{DEVELOPER}”为本项目的开发建设单位，其名下 3 套未收楼房屋由其缴费" in result
    developer = Person.objects.get(name=DEVELOPER)
    assert developer.is_developer
    assert room_payer(Room.objects.get(code="1-1-103")) == developer


def test_without_the_users_consent_the_developer_is_not_recorded(steward, project):
    batch = import_commit(user=steward, batch=preview(steward, project, unsold_rooms_file()))
    assert batch.status == "committed"
    assert not Person.objects.filter(is_developer=True).exists()
    assert room_payer(Room.objects.get(code="1-1-103")) is None


def test_no_developer_offer_when_the_project_has_one_or_rooms_are_handed_over(steward, project):
    from wuye.registry.services import developer_get_or_create

    handed = flat_file(["1-1-102", 88, "入住", DEVELOPER], ["1-1-103", 88, "入住", DEVELOPER])
    assert preview(steward, project, handed).report["developer_offer"] is None
    developer_get_or_create(user=steward, project=project, name="另一开发公司")
    assert preview(steward, project, unsold_rooms_file()).report["developer_offer"] is None


@pytest.mark.parametrize(
    ("cell", "name", "note"),
    [
        ("王强（商铺）", "王强", "商铺"),
        ("王强(商铺)", "王强", "商铺"),
        ("李娜 租户", "李娜", "租户"),
        ("李娜　已故", "李娜", "已故"),
        ("张三", "张三", ""),
        ("某某银行（深圳分行）", "某某银行(深圳分行)", ""),  # an organisation keeps its name
    ],
)
def test_a_note_in_the_name_cell_goes_to_the_note(steward, project, cell, name, note):
    import_commit(
        user=steward, batch=preview(steward, project, flat_file(["1-1-101", 88, "入住", cell]))
    )
    person = Occupancy.objects.get().person
    assert (person.name, person.notes) == (name, note)


def test_a_name_note_never_overwrites_a_stored_note(steward, project):
    import_commit(
        user=steward, batch=preview(steward, project, flat_file(["1-1-101", 88, "入住", "王强"]))
    )
    Person.objects.filter(name="王强").update(notes="晚上联系")
    batch = preview(steward, project, flat_file(["1-1-101", 88, "入住", "王强（商铺）"]))
    assert batch.report["counts"]["people"] == {"created": 0, "updated": 0, "unchanged": 1}
    import_commit(user=steward, batch=batch)
    assert Person.objects.get(name="王强").notes == "晚上联系"


def test_two_names_with_a_note_each_are_split_in_order(steward, project):
    content = flat_file(
        ["1-1-101", 88, "入住", "王强（户主）/李娜 租户", "13800000001/13800000002"]
    )
    import_commit(user=steward, batch=preview(steward, project, content))
    notes = dict(Person.objects.values_list("name", "notes"))
    assert notes == {"王强": "户主", "李娜": "租户"}
