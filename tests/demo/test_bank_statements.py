"""The demo's bank statement: read by the bank import as it is, most lines post by themselves and
none to a wrong household."""

import pytest
from django.core.management import call_command

from tests.banking import factories as f
from wuye.banking import statement_imports
from wuye.core.roles import Role
from wuye.demo.bank_statements import statement_xlsx

D = f.D


@pytest.fixture
def project_with_debts(project):
    item = f.fee_item(project)
    for n in range(1, 13):
        acct = f.account(
            project, f"{1 + n % 3}-{1 + n % 2}-{100 + n}", owner=f"业主{chr(0x4E00 + n * 37)}{n}"
        )
        f.monthly_bills(acct, item, D(2026, 8, 1), 3, f"{100 + n}.00")
    return project


def test_demo_statement_imports_and_mostly_matches(project_with_debts, make_user, tmp_path):
    finance = make_user("caiwu", Role.FINANCE, project_with_debts)
    content = statement_xlsx(project_with_debts, D(2026, 11, 1), lines=60, seed=3)
    batch = statement_imports.statement_upload(
        user=finance, project=project_with_debts, filename="demo.xlsx", content=content
    )
    assert batch.report["error_count"] == 0 and batch.report["counts"]["totals_skipped"] == 1
    result = statement_imports.statement_commit(user=finance, batch=batch)
    assert result.count("auto") > 20 and result.count("review") > 0
    out = tmp_path / "s.xlsx"
    call_command("demo_bank_statement", str(out), "--project", "P001", "--lines", "10")
    assert out.read_bytes().startswith(b"PK")
