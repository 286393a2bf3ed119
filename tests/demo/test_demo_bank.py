"""The demo's bank money: two months of statements imported and matched with some left in 待认领款, and
a withholding month run end to end (a returned batch with failures on the cases, a batch in flight)."""

import io

import pytest
from django.core.management import call_command

from wuye.banking.enums import BatchState, LineResult, LineStatus
from wuye.banking.models import StatementLine, WithholdingBatch, WithholdingLine
from wuye.dunning.enums import EventKind
from wuye.dunning.models import CaseEvent
from wuye.ledger.enums import PaymentMethod
from wuye.ledger.models import PaymentLine

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    out = io.StringIO()
    call_command("demo_data", "--rooms", "80", "--months", "12", stdout=out)
    return out.getvalue()


def test_two_months_of_statements_are_matched_with_some_left_in_the_queue(demo):
    months = {d.strftime("%Y-%m") for d in StatementLine.objects.values_list("txn_date", flat=True)}
    assert len(months) == 2
    assert StatementLine.objects.filter(status=LineStatus.MATCHED).exists()
    assert StatementLine.objects.filter(status=LineStatus.REVIEW).exists()
    assert "银行流水" in demo


def test_a_withholding_month_runs_end_to_end(demo):
    returned = WithholdingBatch.objects.get(state=BatchState.RETURNED)
    failures = WithholdingLine.objects.filter(batch=returned, result=LineResult.FAILURE)
    assert failures.exists() and all(x.reason for x in failures)
    assert (
        PaymentLine.objects.filter(
            method=PaymentMethod.WITHHOLDING, reference__startswith=returned.number
        ).count()
        == returned.success_count
    )
    assert CaseEvent.objects.filter(kind=EventKind.BANK, reason__startswith="代扣失败").exists()
    assert WithholdingBatch.objects.filter(state=BatchState.SENT).exists()
