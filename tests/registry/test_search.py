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
