"""SPEC §3 billing runs: preview, commit in chunks (idempotent, resumable), reverse, bill again."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from tests.billing.conftest import fee_item, room
from wuye.billing import accounts, fee_settings, pay_ahead, run_writing, runs
from wuye.billing.enums import AdjustmentKind, RunStatus
from wuye.billing.models import Bill, BillAdjustment, BillingRun
from wuye.billing.selectors import with_balance
from wuye.core.errors import ValidationFailed

D = datetime.date
NOV = D(2026, 11, 1)


@pytest.fixture
def estate(project, property_fee):
    """Two buildings: 1-1-101 (100㎡), 1-1-102 (80㎡), 2-1-101 (120㎡), 2-1-102 with no area;
    物业服务费 2.50/㎡ and 垃圾费 10 a month."""
    fee_item(project, "LJ", "fixed", "10", name="垃圾费", sort=2)
    room(project, "1-1-101", area="100.00", owner="甲")
    room(project, "1-1-102", area="80.00", owner="乙")
    room(project, "2-1-101", area="120.00", owner="丙")
    room(project, "2-1-102", area=None, owner="丁")
    return project


def preview(project, user=None, month=NOV):
    return runs.run_preview(project=project, period_start=month, user=user)


def commit(project, user=None, month=NOV):
    run = preview(project, user, month)
    return runs.run_commit(run=run, user=user)


def test_preview_counts_and_totals_by_fee_item_and_building_and_lists_exceptions(estate):
    run = preview(estate)
    p = run.preview
    assert run.status == RunStatus.PREVIEWED
    assert (p["total_count"], p["new_count"], p["room_count"]) == (7, 7, 4)
    assert Decimal(p["total_amount"]) == Decimal("790.00")  # 250 + 200 + 300 + 4 × 10
    by_item = {row["name"]: (row["count"], Decimal(row["amount"])) for row in p["by_item"]}
    assert by_item == {"物业服务费": (3, Decimal("750.00")), "垃圾费": (4, Decimal("40.00"))}
    by_building = {row["name"]: (row["count"], Decimal(row["amount"])) for row in p["by_building"]}
    assert list(by_building.values()) == [(4, Decimal("470.00")), (3, Decimal("320.00"))]
    assert p["exception_count"] == 1
    assert p["exceptions"][0]["room"] == "2-1-102" and p["exceptions"][0]["label"] == "未登记面积"
    assert not Bill.objects.exists()  # a preview writes no bill


def test_preview_refuses_a_period_that_is_not_the_first_of_a_month(estate):
    with pytest.raises(ValidationFailed) as err:
        preview(estate, month=D(2026, 11, 15))
    assert err.value.field == "period_start"


def test_commit_creates_one_bill_per_account_room_item_and_period(estate, manager):
    run = commit(estate, manager)
    assert run.status == RunStatus.COMMITTED  # tasks run immediately in tests
    assert (run.done_count, run.total_count) == (7, 7)
    assert run.total_amount == Decimal("790.00")
    bills = Bill.objects.filter(run=run)
    assert bills.count() == 7
    assert bills.values("account", "room", "fee_item", "period_start").distinct().count() == 7
    assert {b.revision for b in bills} == {0}
    assert bills.filter(room__code="2-1-102").count() == 1  # the 垃圾费 only: no area, no 物业费


def test_the_database_refuses_a_second_bill_for_the_same_key(estate):
    bill = Bill.objects.filter(run=commit(estate)).first()
    bill.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        bill.save()


def test_running_the_month_again_changes_nothing(estate):
    first = commit(estate)
    ids = set(Bill.objects.values_list("id", flat=True))
    again = commit(estate)
    assert again.pk == first.pk and again.status == RunStatus.COMMITTED
    assert again.preview["new_count"] == 0 and again.preview["existing_count"] == 7
    assert set(Bill.objects.values_list("id", flat=True)) == ids


def test_an_interrupted_run_fills_only_the_gaps_when_run_again(estate, monkeypatch):
    monkeypatch.setattr(runs, "CHUNK_ROOMS", 1)  # one room per chunk and transaction
    real_insert = run_writing.insert_bills
    calls = []

    def crash_after_first_chunk(rows):
        calls.append(len(rows))
        if len(calls) > 1:
            raise RuntimeError("服务器断电")
        real_insert(rows)

    monkeypatch.setattr(runs, "insert_bills", crash_after_first_chunk)
    run = runs.run_commit(run=preview(estate), user=None)  # the task fails, the page shows it
    assert run.status == RunStatus.FAILED and "断电" in run.error
    written = set(Bill.objects.values_list("id", flat=True))
    assert len(written) == calls[0] == run.done_count  # the first chunk was kept

    monkeypatch.setattr(runs, "insert_bills", real_insert)
    run = runs.run_commit(run=run, user=None)
    assert run.status == RunStatus.COMMITTED and run.done_count == 7
    assert Bill.objects.count() == 7
    assert written <= set(Bill.objects.values_list("id", flat=True))


def test_progress_is_reported_per_chunk(estate, monkeypatch):
    monkeypatch.setattr(runs, "CHUNK_ROOMS", 2)
    run = preview(estate)
    BillingRun.objects.filter(pk=run.pk).update(status=RunStatus.QUEUED)
    seen = []
    runs.run_execute(run.pk, progress=lambda r: seen.append((r.done_count, r.total_count)))
    assert seen == [(0, 7), (4, 7), (7, 7)]


def test_a_committed_run_is_reversed_with_adjustments_and_no_deletion(estate, manager, approver):
    run = commit(estate, manager)
    run = runs.run_reverse(run=run, user=manager, reason="单价录错", approved_by=approver)
    assert run.status == RunStatus.REVERSED and run.reverse_reason == "单价录错"
    assert Bill.objects.filter(run=run).count() == 7
    reversals = BillAdjustment.objects.filter(run=run, kind=AdjustmentKind.REVERSAL)
    assert reversals.count() == 7
    assert {b.outstanding for b in with_balance(Bill.objects.filter(run=run))} == {Decimal("0")}


def test_a_reversed_month_is_billed_again_as_the_next_revision(
    estate, manager, property_fee, approver
):
    first = commit(estate, manager)
    runs.run_reverse(run=first, user=manager, reason="单价录错", approved_by=approver)
    standard = property_fee.standards.get()
    fee_settings.fee_standard_end(user=None, standard=standard, valid_to=D(2026, 10, 31))
    fee_settings.fee_standard_add(
        user=None, fee_item=property_fee, unit_price="2.00", valid_from=NOV
    )
    second = commit(estate, manager)
    assert second.pk != first.pk and second.revision == 1
    assert second.status == RunStatus.COMMITTED and second.total_amount == Decimal("640.00")
    assert Bill.objects.filter(revision=1).count() == 7
    assert Bill.objects.count() == 14


def test_reversal_needs_a_reason_and_a_manager_approver(estate, manager, steward):
    run = commit(estate, manager)
    with pytest.raises(ValidationFailed) as err:
        runs.run_reverse(run=run, user=manager, reason=" ", approved_by=manager)
    assert err.value.field == "reason"
    with pytest.raises(ValidationFailed) as err:
        runs.run_reverse(run=run, user=steward, reason="错", approved_by=steward)
    assert err.value.field == "approved_by"


def test_a_run_with_paid_bills_cannot_be_reversed(estate, manager, cashier, approver):
    from wuye.ledger.services.payments import payment_record

    run = commit(estate, manager)
    bill = Bill.objects.get(run=run, room__code="1-1-101", fee_item__code="WYF")
    payment_record(
        user=cashier,
        account=bill.account,
        lines=[("cash", Decimal("250.00"), "")],
        bill_ids=[bill.pk],
        business_date=D(2026, 11, 20),
    )
    with pytest.raises(ValidationFailed) as err:
        runs.run_reverse(run=run, user=manager, reason="错", approved_by=approver)
    assert "1-1-101" in err.value.message
    assert not BillAdjustment.objects.exists()


def test_only_a_committed_run_can_be_reversed(estate, manager, approver):
    run = preview(estate)
    with pytest.raises(ValidationFailed) as err:
        runs.run_reverse(run=run, user=manager, reason="错", approved_by=approver)
    assert err.value.field == "status"


def test_a_month_billed_by_pay_ahead_is_skipped_by_the_run(estate, property_fee):
    from wuye.billing.models import Account

    r = estate.rooms.get(code="1-1-101")
    account = accounts.account_for(r, NOV)
    pay_ahead.pay_ahead(
        user=None, account=account, fee_item=property_fee, months=2, on_date=D(2026, 10, 20)
    )
    assert Account.objects.count() == 1
    run = commit(estate)
    assert run.preview["existing_count"] == 1
    assert Bill.objects.filter(room=r, fee_item=property_fee, period_start=NOV).count() == 1
