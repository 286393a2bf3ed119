"""A lower app's template never names a higher app (decision 0016): no ``{% include %}`` or
``{% extends %}`` of ``"<app>/…"``, no ``{% load %}`` of a higher app's tag library, no
``{% url '<app>:…' %}``. A higher app adds its card through a panel setting instead
(``WUYE_CASE_PANELS`` …). The order of the apps is the import-linter ``layers`` contract in
pyproject.toml — the one place it is written; apps on one layer (``a | b``) name neither each other.
The site's own templates (``wuye/templates``: the layout every page extends) stand with core."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "wuye"
SITE = "site"

NAMED = re.compile(
    r"""\{%-?\s*(?:include|extends)\s+(?P<q1>["'])(?P<template>[a-z_]+)/[^"']*(?P=q1)"""
    r"""|\{%-?\s*url\s+(?P<q2>["'])(?P<url>[a-z_]+):[^"']*(?P=q2)"""
    r"""|\{%-?\s*load\s+(?P<load>[^%]+?)\s*-?%\}"""
)


def layers() -> dict[str, int]:
    """{app: its layer, 0 the lowest} from the import-linter layers contract."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    [contract] = [
        c for c in config["tool"]["importlinter"]["contracts"] if c.get("type") == "layers"
    ]
    order = list(reversed(contract["layers"]))  # the contract lists the highest first
    found = {}
    for level, layer in enumerate(order):
        for module in layer.split("|"):
            found[module.strip().removeprefix("wuye.")] = level
    return found


def tag_libraries() -> dict[str, str]:
    """{library name: the app that defines it}."""
    return {
        path.stem: path.parent.parent.name
        for path in SRC.glob("*/templatetags/*.py")
        if path.stem != "__init__"
    }


def named_apps(text: str, libraries: dict[str, str]) -> list[tuple[int, str, str]]:
    """(line, app, what) for every app ``text`` names."""
    found = []
    for match in NAMED.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        if match["template"]:
            found.append((line, match["template"], match.group(0)))
        elif match["url"]:
            found.append((line, match["url"], match.group(0)))
        else:
            words = match["load"].split()
            names = words[words.index("from") + 1 :] if "from" in words else words
            found += [(line, libraries[n], match.group(0)) for n in names if n in libraries]
    return found


def upward(owner: str, text: str, order: dict[str, int], libraries: dict[str, str]) -> list[str]:
    """What ``text``, a template of app ``owner``, names above or beside it."""
    mine = order["core"] if owner == SITE else order[owner]
    return [
        f"line {line}: {what} names {app}"
        for line, app, what in named_apps(text, libraries)
        if app != owner and app in order and order[app] >= mine
    ]


def templates() -> list[tuple[str, Path]]:
    found = [(SITE, path) for path in sorted((SRC / "templates").rglob("*.html"))]
    for app_dir in sorted(p for p in SRC.iterdir() if (p / "templates").is_dir()):
        found += [(app_dir.name, path) for path in sorted((app_dir / "templates").rglob("*.html"))]
    return found


def test_the_layers_come_from_the_import_contract():
    order = layers()
    assert order["core"] < order["registry"] < order["billing"] < order["ledger"]
    assert order["ledger"] < order["dunning"] < order["messaging"] < order["alerts"]
    assert order["messaging"] == order["scoring"]
    assert {app for app, _ in templates()} - {SITE} <= set(order)


def test_no_template_of_a_lower_app_names_a_higher_app():
    order, libraries = layers(), tag_libraries()
    problems = [
        f"{path.relative_to(ROOT)} {problem}"
        for owner, path in templates()
        for problem in upward(owner, path.read_text("utf-8"), order, libraries)
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("owner", "text"),
    [
        ("dunning", '{% include "credit/_case_segment.html" %}'),
        ("dunning", "{% include 'messaging/_talking_points.html' with tp_open=True %}"),
        ("registry", "{% load wuye ledger_window %}"),
        ("messaging", "{% load stories_for_points from alerts_tags %}"),
        ("registry", "<a href=\"{% url 'billing:room_adjust' room.id %}\">"),
        ("core", '{% extends "registry/base.html" %}'),
        (SITE, "hx-get=\"{% url 'registry:search' %}\""),
        ("messaging", '{% include "reports/_x.html" %}'),  # one layer: neither names the other
    ],
)
def test_each_way_of_naming_a_higher_app_is_caught(owner, text):
    assert upward(owner, text, layers(), tag_libraries())


@pytest.mark.parametrize(
    ("owner", "text"),
    [
        ("dunning", '{% include "dunning/_task.html" %}{% include "registry/_x.html" %}'),
        ("registry", "{% load wuye humanize static %}{% url 'registry:household' 1 %}"),
        (SITE, "{% url 'home' %}{% url 'admin:index' %}{% load django_htmx %}"),
        ("credit", "{% url 'dunning:case' case.id %}{% load dunning %}"),
    ],
)
def test_naming_oneself_or_a_lower_app_is_fine(owner, text):
    assert not upward(owner, text, layers(), tag_libraries())
