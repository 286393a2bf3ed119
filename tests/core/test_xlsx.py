"""Text in an exported workbook stays text: a value that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return (a name like ``=HYPERLINK("http://…","点我")``, stored through any route) is written as
an explicit string cell, never a formula, while numbers stay numbers. One helper (``core/xlsx.py``)
makes every workbook; the walk below plants such a value in every text field of the database and
opens every export."""

import datetime
import io
import pathlib
import re
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from django.apps import apps
from django.db import DatabaseError, models, transaction
from django.urls import reverse

from tests.dunning import factories
from wuye.core import xlsx
from wuye.core.roles import Role
from wuye.dunning.contacts import contact_record
from wuye.dunning.models import CollectionTeam
from wuye.registry.importing import import_commit, import_preview
from wuye.registry.models import Person
from wuye.reports import forms as report_forms

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)
SRC = pathlib.Path(__file__).resolve().parents[2] / "src" / "wuye"
HYPERLINK = 'HYPERLINK("http://evil.example/{}","点我")'


def planted(value: object) -> bool:
    # A carriage return reads back as a line feed (XML normalises line ends).
    return (
        isinstance(value, str) and value[:1] in (*xlsx.FORMULA_TRIGGERS, "\n") and "HYPER" in value
    )


def plant_everywhere() -> int:
    """Every free-text column of every wuye table (no choices, no passwords) gets a formula-like
    value, each row its own, cycling through the six leading characters; append-only tables refuse
    and keep what they hold. Returns how many values were planted."""
    triggers = xlsx.FORMULA_TRIGGERS
    count = 0
    for model in apps.get_models():
        if not model.__module__.startswith("wuye."):
            continue
        fields = [
            f
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField)
            and not f.choices
            and not f.primary_key
            and f.name not in ("password",)
        ]
        if not fields:
            continue
        for pk in model.objects.values_list("pk", flat=True):
            values = {}
            for f in fields:
                text = triggers[count % len(triggers)] + HYPERLINK.format(
                    f"{model._meta.label}.{f.name}.{pk}"
                )
                values[f.name] = text[: f.max_length] if f.max_length else text
                count += 1
            try:
                with transaction.atomic():
                    model.objects.filter(pk=pk).update(**values)
            except DatabaseError:  # append-only tables refuse updates (PostgreSQL: by a RAISE)
                break
    return count


@pytest.fixture
def today():
    return factories.today()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def world(project, steward, cashier, manager, make_user, today):
    """Debtors with cases, a promise, a refusal, a payment and a team, then the text planted."""
    supervisor = make_user("supervisor", Role.SUPERVISOR, project)
    item = factories.fee_item(project)
    first = factories.debtor(project, "3-2-1502", steward=steward, owner="张三")
    second = factories.debtor(project, "5-1-0101", steward=steward, owner="李四", phones=())
    for acct in (first, second):
        factories.bill(acct, item, "80.00", today - 400 * DAY, today - 380 * DAY)
        factories.bill(acct, item, "100.00", today - 90 * DAY, today - 70 * DAY)
        factories.bill(acct, item, "120.50", today - 60 * DAY, today - 40 * DAY)
    factories.run(project)
    case_one, case_two = factories.case_of(first), factories.case_of(second)
    contact_record(
        user=steward,
        case=case_one,
        channel="phone",
        at=factories.at(today - 2 * DAY, 10),
        now=factories.at(today - 2 * DAY, 11),
        reached=True,
        promise_date=today + 5 * DAY,
        promise_amount="100.00",
        note="业主答应下周来交",
    )
    contact_record(
        user=steward,
        case=case_two,
        channel="phone",
        at=factories.at(today - 2 * DAY, 10),
        now=factories.at(today - 2 * DAY, 11),
        reached=True,
        refusal_reason="leak",
    )
    factories.pay(cashier, first, "50.00", business_date=today - DAY)
    team = CollectionTeam.objects.create(
        project=project,
        name="一组",
        leader=supervisor,
        target_amount=Decimal("1000.00"),
        starts_on=today - 30 * DAY,
        ends_on=today + 30 * DAY,
    )
    team.members.add(steward)
    assert plant_everywhere() > 50
    return first


def cells_of(content: bytes, what: str) -> list[openpyxl.cell.cell.Cell]:
    """Every cell of the workbook, after checking that its XML holds no formula at all."""
    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in zf.read(name) and b"<f " not in zf.read(name), (what, name)
    book = openpyxl.load_workbook(io.BytesIO(content))
    return [c for ws in book.worksheets for line in ws.iter_rows() for c in line]


def exports(client, account, today) -> dict[str, bytes]:
    """Every workbook the pages hand out, by a name for the failure message."""
    year = {"as_of": today.isoformat(), "window": "year"}
    wanted = {
        "registry export": (reverse("registry:export"), {}),
        "import template": (reverse("registry:import_template"), {}),
        "statement": (
            reverse("ledger:statement_xlsx", args=[account.pk]),
            {"date_from": (today - 120 * DAY).isoformat(), "date_to": today.isoformat()},
        ),
        "aging": (reverse("reports:aging"), year),
        "debtors (欠费大户)": (reverse("reports:debtors"), year),
        "breakdown": (reverse("reports:breakdown"), year),
        "promises": (reverse("reports:promises"), year),
    }
    for group in report_forms.GROUP_LABELS:
        wanted[f"rates by {group}"] = (reverse("reports:rates"), {**year, "group": group})
    for figure in report_forms.FIGURES:
        key = {"class": "A", "reason": "leak"}.get(figure, "")
        wanted[f"households {figure}"] = (
            reverse("reports:households"),
            {**year, "figure": figure, "key": key},
        )
    for period in ("day", "week", "month"):
        wanted[f"dunning {period} report"] = (
            reverse("dunning:report"),
            {"period": period, "date": (today - 2 * DAY).isoformat()},
        )
    found = {}
    for name, (url, params) in wanted.items():
        response = client.get(url, {**params, "format": "xlsx"})
        assert response.status_code == 200, (name, response.status_code)
        assert response["Content-Type"].startswith("application/vnd.openxmlformats"), name
        found[name] = response.content
    return found


def test_every_export_writes_planted_formulas_as_text_and_numbers_as_numbers(
    client, manager, world, today
):
    client.force_login(manager)
    workbooks = exports(client, world, today)

    shown = set()
    for name, content in workbooks.items():
        cells = cells_of(content, name)
        formulas = [(c.coordinate, c.value) for c in cells if c.data_type == "f"]
        assert formulas == [], name
        for c in cells:
            if planted(c.value):
                assert c.data_type == "s", (name, c.coordinate, c.value)
                shown.add(name)
    # Each export that shows stored text showed some planted value (the walk reached it) ...
    assert set(workbooks) - shown == {"import template", "breakdown", "rates by company"}
    # ... and every leading character came out as text somewhere.
    leading = {
        c.value[0]
        for content in workbooks.values()
        for c in cells_of(content, "")
        if planted(c.value)
    }
    assert leading >= {"=", "+", "-", "@", "\t"}  # a CR reads back as LF (XML line ends)


def test_money_stays_a_number_in_every_export(client, manager, world, today):
    client.force_login(manager)
    for name, content in exports(client, world, today).items():
        if name == "import template":
            continue
        numbers = [c for c in cells_of(content, name) if isinstance(c.value, int | float)]
        assert numbers, name
        assert all(c.data_type == "n" for c in numbers), name


def test_the_background_export_writes_text_as_text(client, manager, world, today, monkeypatch):
    monkeypatch.setattr(report_forms, "EXPORT_ASYNC_ROWS", 0)
    client.force_login(manager)
    response = client.get(
        reverse("reports:debtors"),
        {"as_of": today.isoformat(), "window": "year", "format": "xlsx"},
    )
    assert response.status_code == 302 and "/exports/" in response.url
    download = client.get(response.url + "download/")
    content = b"".join(download.streaming_content)
    cells = cells_of(content, "background debtors")
    assert any(planted(c.value) and c.data_type == "s" for c in cells)
    assert not [c for c in cells if c.data_type == "f"]


def test_a_formula_like_name_imports_as_text_and_exports_as_text_again(
    client, manager, project, today
):
    name = "=A1*2+EVIL"  # plain: the flat layout splits names at / , and reads (…) as a note
    book = xlsx.workbook(write_only=False)
    book.active.append(["房号", "建筑面积", "业主姓名", "联系电话"])
    book.active.append(["1-1-101", 88, name, "13812345678"])
    content = xlsx.save(book)
    batch = import_preview(user=manager, project=project, filename="a.xlsx", content=content)
    import_commit(user=manager, batch=batch)
    assert Person.objects.filter(name=name, occupancies__room__code="1-1-101").count() == 1

    client.force_login(manager)
    cells = cells_of(client.get(reverse("registry:export")).content, "registry export")
    named = [c for c in cells if c.value == name]  # in 客户 and in 房屋关系
    assert len(named) == 2 and all(c.data_type == "s" for c in named)


def test_the_helper_keeps_text_as_text_in_both_kinds_of_workbook():
    for write_only in (True, False):
        book = xlsx.workbook(write_only=write_only)
        ws = book.create_sheet("表") if write_only else book.active
        ws.append(["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "#N/A", 7, Decimal("1.50")])
        ws.append([xlsx.cell(ws, "=2+2", number_format="@")])
        if not write_only:
            ws["A3"] = "=3+3"  # written past the helper: save() still makes it text
        [*first, seven, money], second, *rest = (
            list(line)
            for line in openpyxl.load_workbook(io.BytesIO(xlsx.save(book)))
            .worksheets[0]
            .iter_rows()
        )
        assert [c.data_type for c in first] == ["s"] * 7
        assert (seven.value, seven.data_type, money.value, money.data_type) == (7, "n", 1.5, "n")
        assert (second[0].value, second[0].data_type) == ("=2+2", "s")
        if rest:
            assert (rest[0][0].value, rest[0][0].data_type) == ("=3+3", "s")


WORKBOOK_MAKERS = re.compile(
    r"\bWorkbook\s*\(|WriteOnlyCell|openpyxl\s+import\s+[^\n]*\bWorkbook\b"
)


def test_no_module_makes_a_workbook_past_the_helper():
    offenders = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if path.name != "xlsx.py" and WORKBOOK_MAKERS.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
