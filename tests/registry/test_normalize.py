from decimal import Decimal

import pytest

from wuye.registry.normalize import (
    normalize_phone,
    parse_area,
    parse_room_code,
    pinyin_keys,
    split_names,
    split_phones,
)


@pytest.mark.parametrize(
    "text, parts",
    [
        ("3-2-1502", ("3", "2", "1502")),
        ("3栋2单元1502", ("3", "2", "1502")),
        ("3号楼2单元1502室", ("3", "2", "1502")),
        ("３栋２单元１５０２", ("3", "2", "1502")),
        ("3#2-1502", ("3", "2", "1502")),
        ("A座1单元101", ("A", "1", "101")),
        ("S-101", ("S", "", "101")),
        (" 3 - 2 - 1502 ", ("3", "2", "1502")),
    ],
)
def test_room_codes_as_spreadsheets_write_them(text, parts):
    assert parse_room_code(text) == parts


@pytest.mark.parametrize("text", ["", "abc def", "3栋", "一栋二单元"])
def test_unreadable_room_codes_raise(text):
    with pytest.raises(ValueError):
        parse_room_code(text)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("89.5㎡", "89.50"),
        ("89.5 平方米", "89.50"),
        ("1,089.5", "1089.50"),
        (89.5, "89.50"),
        ("８９.５", "89.50"),
    ],
)
def test_areas_with_units_and_full_width_digits(value, expected):
    assert parse_area(value) == Decimal(expected)


def test_blank_area_is_none_and_garbage_raises():
    assert parse_area("") is None
    with pytest.raises(ValueError, match="不是数字"):
        parse_area("八十")
    with pytest.raises(ValueError, match="负数"):
        parse_area("-3")


@pytest.mark.parametrize(
    "value, expected",
    [
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("13812345678.0", "13812345678"),
        ("0755-86001234", "075586001234"),
    ],
)
def test_phones_as_typed(value, expected):
    assert normalize_phone(value) == expected


@pytest.mark.parametrize("value", ["12345", "1381234567", "abc", "23812345678"])
def test_invalid_phones_raise(value):
    with pytest.raises(ValueError):
        normalize_phone(value)


def test_two_owners_in_one_cell():
    assert split_names("张三/李四") == ["张三", "李四"]
    assert split_names("张三、李四") == ["张三", "李四"]
    assert split_phones("13812345678/13912345678") == ["13812345678", "13912345678"]


def test_pinyin_keys():
    assert pinyin_keys("张三") == ("zhangsan", "zs")
