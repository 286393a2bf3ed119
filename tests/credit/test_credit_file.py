"""Credit-file figures on hand-built histories (one rule per test)."""

from tests.credit.factories import DAY, D, file_of, monthly, pay, recompute
from tests.dunning import factories as dunning
from wuye.ledger.services.reversals import payment_reverse


def test_bills_paid_by_their_due_date_are_on_time(project, acct, item, cashier, today):
    bills = monthly(acct, item, today, 3)
    for b in bills:
        pay(cashier, acct, "100.00", bill_ids=[b.pk], business_date=b.due_date - 2 * DAY)
    recompute(project, today)
    f = file_of(acct)
    assert (f.bills_count, f.on_time_count, f.late_count, f.unpaid_count) == (3, 3, 0, 0)
    assert f.on_time_ratio == D("1.0000")
    assert f.worst_days_late is None and f.avg_days_late is None
    assert f.overdue_amount == D("0.00") and f.months_in_arrears == 0


def test_a_bill_paid_after_its_due_date_counts_its_days_late(project, acct, item, cashier, today):
    first, second = monthly(acct, item, today, 2)
    pay(cashier, acct, "100.00", bill_ids=[first.pk], business_date=first.due_date + 10 * DAY)
    pay(cashier, acct, "100.00", bill_ids=[second.pk], business_date=second.due_date + 4 * DAY)
    recompute(project, today)
    f = file_of(acct)
    assert (f.on_time_count, f.late_count) == (0, 2)
    assert f.avg_days_late == D("7.0")
    assert f.worst_days_late == 10
    assert f.arrears_months_12 == 2 and f.months_in_arrears == 0


def test_a_partly_paid_bill_is_unpaid_and_its_days_past_due_count_as_worst(
    project, acct, item, cashier, today
):
    (b,) = monthly(acct, item, today, 1)
    pay(cashier, acct, "60.00", bill_ids=[b.pk], business_date=b.due_date - DAY)
    recompute(project, today)
    f = file_of(acct)
    assert (f.bills_count, f.on_time_count, f.unpaid_count) == (1, 0, 1)
    assert f.overdue_amount == D("40.00")
    assert f.worst_days_late == (today - b.due_date).days
    assert f.avg_days_late is None  # nothing was paid late yet
    assert f.months_in_arrears == 1 and f.oldest_due_date == b.due_date


def test_a_bill_not_yet_due_does_not_count(project, acct, item, today):
    from tests.ledger.factories import bill

    bill(acct, item, "100.00", today - 3 * DAY, today + 10 * DAY)
    recompute(project, today)
    f = file_of(acct)
    assert f.bills_count == 0 and f.on_time_ratio is None and f.overdue_amount == 0


def test_a_reversed_payment_unpays_the_bill_and_paying_again_later_is_late(
    project, acct, item, cashier, manager, today, approver
):
    (b,) = monthly(acct, item, today, 1)
    payment = pay(cashier, acct, "100.00", bill_ids=[b.pk], business_date=b.due_date - DAY)
    recompute(project, today)
    assert file_of(acct).on_time_count == 1

    reversal_day = b.due_date + 3 * DAY
    payment_reverse(
        user=manager,
        payment=payment,
        reason="银行退票",
        approved_by=approver,
        business_date=reversal_day,
    )
    recompute(project, today)
    f = file_of(acct)
    assert (f.on_time_count, f.unpaid_count) == (0, 1)
    assert f.overdue_amount == D("100.00")

    pay(cashier, acct, "100.00", bill_ids=[b.pk], business_date=reversal_day + 2 * DAY)
    recompute(project, today)
    f = file_of(acct)
    assert (f.on_time_count, f.late_count, f.unpaid_count) == (0, 1, 0)
    assert f.worst_days_late == 5


def test_overpayment_becomes_prepaid_months_and_a_bill_paid_before_its_period_is_paid_ahead(
    project, acct, item, cashier, today
):
    from tests.ledger.factories import bill

    monthly(acct, item, today, 2)
    next_month = (today.replace(day=28) + 5 * DAY).replace(day=1)
    bill(acct, item, "100.00", next_month, next_month + 14 * DAY)
    pay(cashier, acct, "600.00")
    recompute(project, today)
    f = file_of(acct)
    assert f.prepaid_balance == D("300.00")
    assert f.prepaid_months == D("3.0")  # 300 over the usual 100 a month
    assert f.paid_ahead_count == 1 and f.on_time_count == 1 and f.late_count == 2
    assert f.last_payment_on == today


def test_history_lists_each_billing_month_with_on_time_late_and_unpaid(
    project, acct, item, cashier, today
):
    a, b, c = monthly(acct, item, today, 3)
    pay(cashier, acct, "100.00", bill_ids=[a.pk], business_date=a.due_date)
    pay(cashier, acct, "100.00", bill_ids=[b.pk], business_date=b.due_date + DAY)
    pay(cashier, acct, "30.00", bill_ids=[c.pk], business_date=c.due_date + DAY)
    recompute(project, today)
    history = file_of(acct).history
    assert [h["m"] for h in history] == [f"{x.period_start:%Y-%m}" for x in (a, b, c)]
    assert [(h["on_time"], h["late"], h["unpaid"]) for h in history] == [
        ("100.00", "0.00", "0.00"),
        ("0.00", "100.00", "0.00"),
        ("0.00", "30.00", "70.00"),
    ]


def _contact(steward, case, day, **kwargs):
    from wuye.dunning.contacts import contact_record

    return contact_record(
        user=steward, case=case, channel="phone", at=dunning.at(day, 10), **kwargs
    )


def test_promise_kept_when_paid_by_the_promised_day_and_broken_when_not(
    project, acct, item, cashier, steward, today
):
    monthly(acct, item, today.replace(day=1) - 30 * DAY, 2)  # two months, long overdue
    dunning.run(project, today - 10 * DAY)
    case = dunning.case_of(acct)
    _contact(
        steward,
        case,
        today - 9 * DAY,
        reached=True,
        promise_date=today - 8 * DAY,
        promise_amount="100.00",
    )
    pay(cashier, acct, "100.00", business_date=today - 8 * DAY)
    _contact(
        steward,
        case,
        today - 5 * DAY,
        reached=True,
        promise_date=today - 2 * DAY,
        promise_amount="100.00",
    )
    _contact(steward, case, today - DAY, reached=True, promise_date=today + 3 * DAY)
    recompute(project, today)
    f = file_of(acct)
    assert (f.promises_made, f.promises_kept, f.promises_broken) == (3, 1, 1)


def test_refusals_are_counted_per_reason_with_the_last_one_named(
    project, acct, item, steward, today
):
    monthly(acct, item, today.replace(day=1) - 30 * DAY, 2)
    dunning.run(project, today - 10 * DAY)
    case = dunning.case_of(acct)
    _contact(steward, case, today - 9 * DAY, reached=True, refusal_reason="leak")
    _contact(steward, case, today - 6 * DAY, reached=True, refusal_reason="neighbours")
    _contact(steward, case, today - 3 * DAY, reached=True, refusal_reason="leak")
    recompute(project, today)
    f = file_of(acct)
    assert f.refusals == 3
    assert f.refusal_reasons == {"leak": 2, "neighbours": 1}
    assert f.last_refusal_reason == "leak"


def test_unreached_streak_counts_failed_calls_since_the_last_answered_one(
    project, acct, item, steward, today
):
    monthly(acct, item, today.replace(day=1) - 30 * DAY, 2)
    dunning.run(project, today - 10 * DAY)
    case = dunning.case_of(acct)
    _contact(steward, case, today - 9 * DAY, reached=False, unreached_reason="no_answer")
    _contact(steward, case, today - 8 * DAY, reached=True)
    for back in (6, 5, 4):
        _contact(steward, case, today - back * DAY, reached=False, unreached_reason="powered_off")
    recompute(project, today)
    f = file_of(acct)
    assert f.unreached_streak == 3 and f.contacts_count == 5


def test_vacancy_open_tickets_and_legacy_issues_are_on_the_file(project, acct, today):
    from django.utils import timezone

    from wuye.registry.models import LegacyIssue, ServiceTicket

    room = acct.room
    room.occupancy_state = "vacant"
    room.save(update_fields=["occupancy_state"])
    ServiceTicket.objects.create(
        project=project,
        room=room,
        category="complaint",
        subject="电梯常坏",
        opened_at=timezone.now(),
    )
    ServiceTicket.objects.create(
        project=project,
        room=room,
        category="repair",
        subject="已修好",
        state="closed",
        opened_at=timezone.now(),
        closed_at=timezone.now(),
    )
    LegacyIssue.objects.create(
        project=project,
        room=room,
        title="外墙渗水",
        responsible_party="developer",
        reported_on=today,
    )
    recompute(project, today)
    f = file_of(acct)
    assert (f.vacant, f.open_complaints, f.open_legacy_issues) == (True, 1, 1)


def test_recompute_twice_gives_the_same_file(project, acct, item, cashier, today):
    monthly(acct, item, today, 4)
    recompute(project, today)
    first = {k: v for k, v in file_of(acct).__dict__.items() if k not in {"_state", "computed_at"}}
    recompute(project, today)
    second = {k: v for k, v in file_of(acct).__dict__.items() if k not in {"_state", "computed_at"}}
    assert first == second


def test_a_recorded_contact_queues_the_credit_refresh_instead_of_making_the_steward_wait(
    project, acct, item, steward, today, settings, django_capture_on_commit_callbacks
):
    from wuye.credit.models import CreditFile
    from wuye.credit.tasks import credit_refresh_accounts

    monthly(acct, item, today.replace(day=1) - 30 * DAY, 2)
    dunning.run(project, today - 10 * DAY)
    case = dunning.case_of(acct)
    CreditFile.objects.filter(account=acct).delete()
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.dummy.DummyBackend",
            "QUEUES": settings.WUYE_TASK_QUEUES,
        }
    }
    backend = credit_refresh_accounts.get_backend()
    backend.results.clear()

    with django_capture_on_commit_callbacks(execute=True):
        _contact(steward, case, today - DAY, reached=False, unreached_reason="no_answer")

    queued = [r.args for r in backend.results if r.task.name == "credit_refresh_accounts"]
    assert queued == [[[acct.pk]]]
    assert not CreditFile.objects.filter(account=acct).exists()  # not refreshed in the request
