"""Every date input the system renders carries an ISO date (2026-12-04): a browser discards any
other value of ``<input type="date">`` (zh-hans's ``2026/12/04`` left the window's 收款日期 empty)."""

from __future__ import annotations

import datetime
import importlib
import pkgutil
import re
from pathlib import Path

import pytest
from django import forms
from django.utils import translation

import wuye

DAY = datetime.date(2026, 12, 4)
MOMENT = datetime.datetime(2026, 12, 4, 9, 5)
SRC = Path(wuye.__file__).resolve().parent


def _form_modules():
    for info in pkgutil.walk_packages(wuye.__path__, "wuye."):
        leaf = info.name.rsplit(".", 1)[-1]
        if leaf == "forms" or leaf.endswith("_forms"):
            yield importlib.import_module(info.name)


def _forms():
    found = []
    for module in _form_modules():
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, forms.BaseForm)
                and value.__module__ == module.__name__
            ):
                found.append(value)
    return found


def _date_fields():
    rows = []
    for form in _forms():
        for name, field in form.base_fields.items():
            if isinstance(field, (forms.DateField, forms.DateTimeField)):
                rows.append(pytest.param(form, name, field, id=f"{form.__name__}.{name}"))
    return rows


DATE_FIELDS = _date_fields()


def test_the_scan_finds_the_forms_with_date_fields():
    names = {p.id for p in DATE_FIELDS}
    assert "PaymentForm.business_date" in names  # the fee window's 收款日期
    assert len(names) >= 10


@pytest.mark.parametrize("form,name,field", DATE_FIELDS)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_date_field_renders_a_date_input_with_an_iso_value(form, name, field, language):
    widget = field.widget
    is_datetime = isinstance(field, forms.DateTimeField)
    with translation.override(language):
        html = widget.render(name, MOMENT if is_datetime else DAY)
    expected_type = "datetime-local" if is_datetime else "date"
    assert f'type="{expected_type}"' in html, f"{form.__name__}.{name}: {html}"
    value = re.search(r'value="([^"]*)"', html).group(1)
    if is_datetime:
        assert value == "2026-12-04T09:05", f"{form.__name__}.{name}: {html}"
    else:
        assert value == "2026-12-04", f"{form.__name__}.{name}: {html}"


def test_a_plain_date_input_renders_iso_in_chinese_too():
    """A widget someone adds later without a format still gets ISO (settings.FORMAT_MODULE_PATH)."""
    with translation.override("zh-hans"):
        assert 'value="2026-12-04"' in forms.DateInput().render("d", DAY)
        assert forms.DateField().clean("2026/12/04") == DAY  # typed by hand: still read


_DATE_INPUT = re.compile(r'<input[^>]*type="(?:date|datetime-local)"[^>]*>')
_VALUE = re.compile(r'value="\{\{\s*([^}]*?)\s*\}\}"')


def test_every_hand_written_date_input_in_a_template_formats_its_value_as_iso():
    """Templates that write ``<input type="date" value="{{ … }}">`` by hand format the value with
    ``|date:'Y-m-d'`` (or pass a bound form's own value through)."""
    bad = []
    for path in SRC.rglob("templates/**/*.html"):
        for tag in _DATE_INPUT.findall(path.read_text(encoding="utf-8")):
            match = _VALUE.search(tag)
            if match is None:
                continue
            expr = match.group(1)
            iso = re.search(r"""\|date:['"]Y-m-d['"]""", expr) or re.search(
                r"""\|date:['"]Y-m-d\\TH:i['"]""", expr
            )
            if not iso and not re.match(r"form\.\w+\.value\b", expr):
                bad.append(f"{path.relative_to(SRC)}: {tag}")
    assert not bad, "\n".join(bad)


def test_the_fee_window_fills_its_date_input_with_an_iso_date():
    from wuye.ledger.window_forms import PaymentForm

    form = PaymentForm(initial={"business_date": DAY})
    with translation.override("zh-hans"):
        html = str(form["business_date"])
    assert 'type="date"' in html and 'value="2026-12-04"' in html
