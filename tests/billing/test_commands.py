"""The billing_run and billing_reverse commands run the same code as the pages."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command

from tests.billing.conftest import room
from wuye.billing.enums import RunStatus
from wuye.billing.models import Bill, BillingRun

D = datetime.date


@pytest.fixture
def estate(project, property_fee):
    room(project, "1-1-101", area="100.00", owner="甲")
    room(project, "1-1-102", area=None, owner="乙")
    return project


def run_command(*args):
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_preview_prints_the_counts_and_exceptions_and_writes_nothing(estate):
    out = run_command("billing_run", "--project", "锦绣花园", "--period", "2026-11", "--preview")
    assert "应生成账单 1 张" in out and "250.00" in out and "未登记面积：1" in out
    assert not Bill.objects.exists()
    assert BillingRun.objects.get().status == RunStatus.PREVIEWED


def test_commit_prints_progress_and_writes_the_bills(estate):
    out = run_command("billing_run", "--project", str(estate.pk), "--period", "2026-11", "--yes")
    assert "100%  已生成 1/1 张账单" in out and "张/秒" in out
    assert BillingRun.objects.get().status == RunStatus.COMMITTED
    assert Bill.objects.count() == 1


def test_running_the_command_again_writes_nothing(estate):
    run_command("billing_run", "--project", "P001", "--period", "2026-11", "--yes")
    out = run_command("billing_run", "--project", "P001", "--period", "2026-11", "--yes")
    assert "没有需要新写入的账单" in out and Bill.objects.count() == 1


def test_without_yes_a_non_interactive_commit_is_refused(estate):
    with pytest.raises(CommandError, match="--yes"):
        run_command("billing_run", "--project", "P001", "--period", "2026-11")


@pytest.mark.parametrize(
    ("which", "period", "message"),
    [("不存在", "2026-11", "找不到项目"), ("P001", "2026-13", "年-月")],
)
def test_bad_input_is_refused_clearly(estate, which, period, message):
    with pytest.raises(CommandError, match=message):
        run_command("billing_run", "--project", which, "--period", period, "--preview")


def test_billing_reverse_reverses_a_run_with_an_approver(estate, manager, approver):
    run_command("billing_run", "--project", "P001", "--period", "2026-11", "--yes")
    run = BillingRun.objects.get()
    args = ["billing_reverse", "--run", str(run.pk), "--reason", "单价录错", "--yes"]
    with pytest.raises(CommandError, match="四眼原则"):  # nobody approves their own reversal
        run_command(*args, "--approver", "manager", "--user", "manager")
    run_command(*args, "--approver", "approver", "--user", "manager")
    run.refresh_from_db()
    assert run.status == RunStatus.REVERSED


def test_billing_reverse_refuses_an_approver_who_is_not_a_manager(estate, steward, manager):
    run_command("billing_run", "--project", "P001", "--period", "2026-11", "--yes")
    run = BillingRun.objects.get()
    with pytest.raises(CommandError, match="审批"):
        run_command(
            "billing_reverse",
            "--run",
            str(run.pk),
            "--reason",
            "错",
            "--approver",
            "steward",
            "--user",
            "manager",
            "--yes",
        )
