"""python -m wuye bank_import: JSON per line, the account created from the statement, a second run
posts nothing."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from tests.banking import factories as f
from tests.banking.test_statements import ICBC, xlsx
from wuye.banking.models import BankAccount
from wuye.ledger.models import Payment

D = f.D


@pytest.fixture
def homes(project, item):
    a = f.account(project, "5-1-803", owner="张三")
    b = f.account(project, "5-2-803", owner="李四")
    f.monthly_bills(a, item, D(2025, 1, 1), 3, "200.00")
    f.monthly_bills(b, item, D(2025, 1, 1), 8, "150.05")
    return a, b


def run(path, *extra):
    out = io.StringIO()
    call_command("bank_import", str(path), "--project", "P001", *extra, stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_bank_import_prints_a_json_object_per_line_and_a_second_run_posts_nothing(
    tmp_path, project, homes, capsys
):
    path = tmp_path / "工行.xlsx"
    path.write_bytes(xlsx(ICBC))
    rows = run(path)
    assert [r["status"] for r in rows] == ["auto", "ignored", "auto"]
    first = rows[0]
    assert first["serial"] == "SN001" and first["date"] == "2025-12-01"
    assert first["amount"] == "600.00" and first["counterparty"] == "张三"
    assert first["rooms"] == ["5-1-803"] and first["amounts"] == {"5-1-803": "600.00"}
    assert first["score"] > 0 and first["reasons"]
    assert "自动入账 2" in capsys.readouterr().err
    assert BankAccount.objects.get(project=project).number == "6222020200112233445"
    assert Payment.objects.count() == 2
    again = run(path)
    assert {r["status"] for r in again} == {"duplicate"}
    assert Payment.objects.count() == 2


def test_bank_import_with_an_account_for_a_statement_that_names_none(tmp_path, project, homes):
    path = tmp_path / "a.csv"
    path.write_text(
        "交易日期,收入金额,对方户名,附言,流水号\n2025-12-01,600.00,张三,5-1-803,X1\n", "gbk"
    )
    rows = run(path, "--account", "6222 0000 1111")
    assert rows[0]["status"] == "auto"
    assert BankAccount.objects.get().number == "622200001111"


def test_bank_import_refuses_a_file_with_errors_and_writes_nothing(tmp_path, project, homes):
    path = tmp_path / "bad.csv"
    path.write_text("交易日期,收入金额,对方户名\n2025-12-01,六百,张三\n", "utf-8")
    with pytest.raises(CommandError, match="错误"):
        run(path, "--account", "1234567890")
    assert not Payment.objects.exists()
