"""The structure a newcomer relies on (issue 15, decisions 0014 and 0015): every module short enough to
hold in one's head, and every grant of who may do what defined once, in ``core.roles``.

The import direction between apps and inside an app is ``lint-imports`` (pyproject.toml); templates are
``test_layering_templates``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "wuye"
MOST_LINES = 700
ROLES_MODULE = SRC / "core" / "roles.py"


def modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "migrations" not in p.parts)


def names_a_grant(value: ast.expr | None) -> bool:
    """A value built from a grant (``roles.COLLECTOR_ROLES``, ``APPROVER_ROLES | {Role.FINANCE}``) or a
    set of roles (``frozenset({Role.FINANCE})``): a grant under another name, or a new one."""
    if isinstance(value, ast.Attribute):
        return value.attr.endswith("_ROLES")
    if isinstance(value, ast.Name):
        return value.id.endswith("_ROLES")
    if isinstance(value, ast.BinOp):
        return names_a_grant(value.left) or names_a_grant(value.right)
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
        return value.func.id in {"frozenset", "set"} and any(map(names_a_grant, value.args))
    if isinstance(value, ast.Set | ast.List | ast.Tuple):
        return any(
            isinstance(e, ast.Attribute) and isinstance(e.value, ast.Name) and e.value.id == "Role"
            for e in value.elts
        )
    return False


def grants_outside_roles(source: str) -> list[str]:
    """Module-level names that define or rename a grant (a ``*_ROLES`` set) outside core.roles."""
    found = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            if any(n.upper().endswith("_ROLES") for n in names) or names_a_grant(node.value):
                found += [f"line {node.lineno}: {n} = …" for n in names]
        elif isinstance(node, ast.ImportFrom):
            found += [
                f"line {node.lineno}: import {a.name} as {a.asname}"
                for a in node.names
                if a.asname and a.name.endswith("_ROLES")
            ]
    return found


def test_no_module_is_longer_than_a_newcomer_can_hold():
    long = []
    for path in modules():
        lines = path.read_text("utf-8").count("\n")
        if lines > MOST_LINES:
            long.append(f"{path.relative_to(ROOT)}: {lines} lines")
    assert not long, f"split by the job each part does (decision 0014), under {MOST_LINES}:\n" + (
        "\n".join(long)
    )


def test_every_grant_is_defined_once_in_core_roles():
    problems = [
        f"{path.relative_to(ROOT)} {problem}"
        for path in modules()
        if path != ROLES_MODULE
        for problem in grants_outside_roles(path.read_text("utf-8"))
    ]
    assert not problems, "use core.roles' grant by its own name (decision 0015):\n" + "\n".join(
        problems
    )


@pytest.mark.parametrize(
    "source",
    [
        "REFUND_ROLES = COLLECTOR_ROLES",
        "APPROVER_ROLES = roles.PAYMENT_APPROVER_ROLES",
        "MANAGE_ROLES = frozenset({Role.FINANCE, Role.COMPANY_ADMIN})",
        "_hidden_roles: frozenset = frozenset()",
        "from wuye.core.roles import BANK_QUEUE_ROLES as QUEUE_ROLES",
        "OWN_CASES_ONLY = roles.OWN_CASES_ONLY_ROLES",
        "CLOSING_OVERSEERS = APPROVER_ROLES | {Role.FINANCE}",
        "MAY_MARK = frozenset({Role.FINANCE})",
    ],
)
def test_each_way_of_defining_a_grant_elsewhere_is_caught(source):
    assert grants_outside_roles(source)


@pytest.mark.parametrize(
    "source",
    [
        "from wuye.core import roles\ndef f(role):\n    return role in roles.COLLECTOR_ROLES",
        "from wuye.core.roles import COLLECTOR_ROLES",
        "NAV = [Entry('收银台', 'ledger:window', roles.COLLECTOR_ROLES)]",
        "def f():\n    PAYERS_ROLES = 1",
    ],
)
def test_using_a_grant_by_its_own_name_is_fine(source):
    assert not grants_outside_roles(source)
