"""core.sql's bulk writes: many rows saved exactly as the ORM would save them, on both databases."""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest

from tests.factories import household
from wuye.core.sql import UPDATE_CHUNK, update_rows
from wuye.registry.models import Room

pytestmark = pytest.mark.django_db


FIELDS = ["gross_area", "handover_date", "handed_over", "note", "unit_id", "floor"]


def test_update_rows_saves_what_save_would(project):
    rooms = [household(project, f"1-1-{100 + i}", "业主", ())[0] for i in range(3)]
    for i, room in enumerate(rooms):
        room.gross_area = Decimal("88.5") + i
        room.handover_date = datetime.date(2024, 1, 1 + i) if i else None
        room.note = f"朝南 {i}" if i != 1 else ""
        room.unit_id = None
        room.floor = 7 + i
    update_rows(rooms, FIELDS)
    for i, room in enumerate(rooms):
        saved = Room.objects.get(pk=room.pk)
        assert [getattr(saved, f) for f in FIELDS] == [getattr(room, f) for f in FIELDS], i


def test_update_rows_takes_plain_rows_with_the_model_named(project):
    room, _ = household(project, "2-1-101", "业主", ())
    row = SimpleNamespace(pk=room.pk, note="已核对", gross_area=Decimal("120.00"))
    update_rows([row], ["note", "gross_area"], model=Room)
    saved = Room.objects.get(pk=room.pk)
    assert (saved.note, saved.gross_area) == ("已核对", Decimal("120.00"))


def test_update_rows_leaves_other_rows_and_fields_alone(project):
    changed, _ = household(project, "3-1-101", "业主", ())
    other, _ = household(project, "3-1-102", "业主", ())
    changed.note = "改"
    update_rows([changed], ["note"])
    assert Room.objects.get(pk=other.pk).note == ""
    assert Room.objects.get(pk=changed.pk).code == "3-1-101"


def test_update_rows_past_one_statement_writes_every_row(project, monkeypatch):
    from wuye.core import sql

    monkeypatch.setattr(sql, "UPDATE_CHUNK", 2)  # several statements on PostgreSQL
    rooms = [household(project, f"4-1-{100 + i}", "业主", ())[0] for i in range(5)]
    for i, room in enumerate(rooms):
        room.floor = 20 + i
    update_rows(rooms, ["floor"])
    assert sorted(Room.objects.filter(code__startswith="4-1-").values_list("floor", flat=True)) == [
        20,
        21,
        22,
        23,
        24,
    ]
    assert UPDATE_CHUNK > 2


def test_id_sets_find_every_row_of_a_long_list(project):
    from wuye.core.sql import id_sets

    rooms = [household(project, f"5-1-{100 + i}", "业主", ())[0].pk for i in range(7)]
    found = set()
    for part in id_sets([*rooms, 10**9], size=3):  # an id that does not exist is simply not found
        found |= set(Room.objects.filter(pk__in=part).values_list("pk", flat=True))
    assert found == set(rooms)
    assert list(id_sets([])) == []
