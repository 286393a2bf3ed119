import pytest

from tests.factories import household
from wuye.registry import services
from wuye.registry.selectors import search_households

pytestmark = pytest.mark.django_db


@pytest.fixture
def homes(project):
    zhang, _ = household(project, "3-2-1502", "张三", ("13812345678",))
    li, _ = household(project, "3-2-1501", "李四", ("13900001111",))
    shop, _ = household(project, "S-101", "王五", ("13700002222",))
    return {"zhang": zhang, "li": li, "shop": shop}


def codes(hits):
    return [h.code for h in hits]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("zs", ["3-2-1502"]),
        ("ZS", ["3-2-1502"]),
        ("zhangs", ["3-2-1502"]),
        ("张", ["3-2-1502"]),
        ("张三", ["3-2-1502"]),
        ("5678", ["3-2-1502"]),
        ("1111", ["3-2-1501"]),
        ("3-2-150", ["3-2-1501", "3-2-1502"]),
        ("3栋2单元1502", ["3-2-1502"]),
        ("1502", ["3-2-1502"]),
        ("s-1", ["S-101"]),
        ("ww", ["S-101"]),
    ],
)
def test_search_finds_by_code_name_initials_or_phone_tail(homes, project, text, expected):
    assert codes(search_households(project=project, text=text)) == expected


def test_search_misses_return_nothing(homes, project):
    assert search_households(project=project, text="zzz") == []
    assert search_households(project=project, text="   ") == []


def test_search_shows_owner_names_and_phones(homes, project):
    [hit] = search_households(project=project, text="zs")
    assert hit.people == ["张三"]
    assert hit.phones == ["13812345678"]


def test_search_stays_inside_the_project(homes, project, other_project):
    household(other_project, "3-2-1502", "张三", ("13812349999",))
    hits = search_households(project=other_project, text="zs")
    assert [h.phones for h in hits] == [["13812349999"]]


def test_search_uses_a_fixed_number_of_queries(homes, project, django_assert_max_num_queries):
    for n in range(20):
        household(project, f"7-1-{100 + n}", "张伟", (f"1380000{1000 + n}",))
    with django_assert_max_num_queries(8):
        hits = search_households(project=project, text="zw")
    assert len(hits) == 20


def test_ended_occupancy_is_not_shown_as_current(project):
    import datetime

    room, owner = household(project)
    tie = owner.occupancies.get()
    services.occupancy_end(user=None, occupancy=tie, end_date=datetime.date(2025, 1, 1))
    assert search_households(project=project, text="zs") == []
    assert search_households(project=project, text="3-2-1502")[0].people == []


@pytest.fixture
def four_1502s(project):
    for code in ("10-1-1502", "2-1-1502", "1-1-11502", "1-1-1502"):
        household(project, code, "业主", ())


def test_room_number_search_lists_the_rooms_in_natural_order(four_1502s, project):
    hits = search_households(project=project, text="1502")
    assert codes(hits) == ["1-1-1502", "1-1-11502", "2-1-1502", "10-1-1502"]


def test_room_number_search_cut_by_the_limit_keeps_the_exact_number_first(four_1502s, project):
    # 11502 also ends in 1502, but a cashier typing 1502 means room 1502 of some building.
    hits = search_households(project=project, text="1502", limit=3)
    assert codes(hits) == ["1-1-1502", "2-1-1502", "10-1-1502"]


def test_room_keeps_its_code_in_natural_order_for_search(project):
    from wuye.core.sorting import natural_key
    from wuye.registry.models import Room

    room, _ = household(project, "12-3-802", "业主", ())
    stored = Room.objects.get(pk=room.pk).code_sort
    assert stored == natural_key("12-3-802", 10)
    assert stored < Room.objects.get(pk=household(project, "12-10-101", "业主", ())[0].pk).code_sort
