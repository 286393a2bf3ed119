"""credit_recompute command, the nightly task and the billing-run hook."""

import io

import pytest
from django.core.management import CommandError, call_command

from tests.credit.factories import monthly
from wuye.credit.models import CreditFile
from wuye.credit.tasks import after_billing_run, credit_recompute_all


def test_command_recomputes_a_project_with_progress_lines(project, acct, item, today):
    monthly(acct, item, today, 3)
    out = io.StringIO()
    call_command("credit_recompute", project=project.code, stdout=out)
    text = out.getvalue()
    assert "已读取 1 户" in text and "完成：信用档案 1 户" in text and "分群：" in text
    assert CreditFile.objects.get(account=acct).bills_count == 3


def test_command_refuses_an_unknown_project(db):
    with pytest.raises(CommandError, match="找不到项目"):
        call_command("credit_recompute", project="NOPE", stdout=io.StringIO())


def test_nightly_task_recomputes_every_active_project(project, acct, item, today):
    monthly(acct, item, today, 2)
    credit_recompute_all.enqueue()
    assert CreditFile.objects.filter(account=acct).exists()


def test_a_committed_billing_run_recomputes_its_project(project, acct, item, today):
    from wuye.billing.models import BillingRun

    monthly(acct, item, today, 2)
    run = BillingRun.objects.create(project=project, period_start=today.replace(day=1))
    after_billing_run(run_id=run.pk)
    assert CreditFile.objects.get(account=acct).bills_count == 2
