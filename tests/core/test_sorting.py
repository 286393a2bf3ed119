"""Natural order of building, unit and room codes, in Python and in SQL (SQLite and PostgreSQL)."""

import random

import pytest

from wuye.core.sorting import NaturalKey, natural_key, natural_order, natural_sorted
from wuye.registry.models import Building

NATURAL = [
    "1栋",
    "2栋",
    "10栋",
    "11栋",
    "A2",
    "A10",
    "b3",
    "商铺1",
    "商铺12",
]


def test_buildings_sort_by_number_not_text():
    assert natural_sorted(["10栋", "1栋", "2栋"]) == ["1栋", "2栋", "10栋"]


def test_room_codes_compare_each_part_as_a_number():
    codes = ["5-10-101", "5-2-803", "5-1-1001", "5-1-803", "10-1-101"]
    assert natural_sorted(codes) == ["5-1-803", "5-1-1001", "5-2-803", "5-10-101", "10-1-101"]


def test_full_width_digits_sort_as_their_half_width_twins():
    assert natural_key("１０栋") == natural_key("10栋")
    assert natural_sorted(["１０栋", "２栋"]) == ["２栋", "１０栋"]


def test_leading_zeros_tie_and_keep_a_fixed_order():
    assert natural_key("01") == natural_key("1")
    assert natural_sorted(["1", "01"]) == ["01", "1"]


def test_a_digit_run_longer_than_the_padding_is_not_truncated():
    assert natural_key("1" * 50 + "2") != natural_key("1" * 50 + "3")


def test_none_and_empty_sort_first():
    assert natural_sorted(["1栋", None, ""], key=lambda c: c)[:2] in ([None, ""], ["", None])


def test_sort_by_a_key_function():
    rows = [{"b": "10栋"}, {"b": "9栋"}]
    assert natural_sorted(rows, key=lambda r: r["b"]) == [{"b": "9栋"}, {"b": "10栋"}]


@pytest.mark.django_db
def test_sql_order_matches_python_order(project):
    codes = [*NATURAL, "１２栋", "3栋", "20栋", "5-1-803", "5-10-101", "5-2-101", "01"]
    shuffled = codes[:]
    random.Random(7).shuffle(shuffled)
    for i, code in enumerate(shuffled):
        Building.objects.create(project=project, code=code, name=f"楼{i}")
    from_sql = list(
        Building.objects.filter(project=project)
        .order_by(*natural_order("code"))
        .values_list("code", flat=True)
    )
    assert from_sql == natural_sorted(codes)


@pytest.mark.django_db
def test_sql_key_equals_python_key(project):
    Building.objects.create(project=project, code="１0栋-a3", name="x")
    key = (
        Building.objects.filter(project=project)
        .annotate(k=NaturalKey("code"))
        .values_list("k", flat=True)
        .get()
    )
    assert key == natural_key("１0栋-a3")


@pytest.mark.django_db
def test_descending_natural_order(project):
    for code in ["1栋", "10栋", "2栋"]:
        Building.objects.create(project=project, code=code, name=code)
    got = Building.objects.order_by(*natural_order("code", descending=True)).values_list(
        "code", flat=True
    )
    assert list(got) == ["10栋", "2栋", "1栋"]


@pytest.mark.django_db
def test_the_registry_export_lists_rooms_in_natural_order(project):
    from wuye.registry import services
    from wuye.registry.exporting import _room_rows

    for code in ("10-1-101", "2-1-1001", "2-1-902", "2-10-101", "2-2-101"):
        services.room_create(user=None, project=project, code=code)
    assert [row[0] for row in _room_rows(project)] == [
        "2-1-902",
        "2-1-1001",
        "2-2-101",
        "2-10-101",
        "10-1-101",
    ]
