"""The credit file follows payments, reversals and contacts at once, and equals a full recompute."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.credit.factories import DAY, D, file_of, monthly, pay, recompute
from tests.dunning import factories as dunning
from tests.ledger.factories import account
from wuye.credit.models import CreditFile
from wuye.credit.services import credit_refresh_account
from wuye.dunning.contacts import contact_record
from wuye.ledger.services.reversals import payment_reverse

FIGURES = [
    f.name
    for f in CreditFile._meta.get_fields()
    if f.concrete and f.name not in {"id", "computed_at"}
]


def _figures(acct) -> dict:
    return {name: getattr(file_of(acct), name) for name in FIGURES}


def test_a_payment_updates_the_file_at_once(
    project, acct, item, cashier, today, django_capture_on_commit_callbacks
):
    monthly(acct, item, today, 3)
    recompute(project, today)
    assert file_of(acct).overdue_amount == D("300.00")
    with django_capture_on_commit_callbacks(execute=True):
        pay(cashier, acct, "100.00")
    f = file_of(acct)
    assert f.overdue_amount == D("200.00") and f.last_payment_on == today


def test_a_reversal_updates_the_file_at_once(
    project, acct, item, cashier, manager, today, django_capture_on_commit_callbacks, approver
):
    monthly(acct, item, today, 2)
    with django_capture_on_commit_callbacks(execute=True):
        payment = pay(cashier, acct, "200.00")
    assert file_of(acct).overdue_amount == D("0.00")
    with django_capture_on_commit_callbacks(execute=True):
        payment_reverse(user=manager, payment=payment, reason="录错户", approved_by=approver)
    assert file_of(acct).overdue_amount == D("200.00")


def test_a_contact_updates_the_file_at_once(
    project, acct, item, steward, today, django_capture_on_commit_callbacks
):
    monthly(acct, item, today.replace(day=1) - 30 * DAY, 2)
    dunning.run(project, today - 5 * DAY)
    with django_capture_on_commit_callbacks(execute=True):
        contact_record(
            user=steward,
            case=dunning.case_of(acct),
            channel="phone",
            at=dunning.at(today - 2 * DAY, 10),
            reached=True,
            refusal_reason="lift",
        )
    f = file_of(acct)
    assert f.refusals == 1 and f.last_refusal_reason == "lift" and f.contacts_count == 1


def test_incremental_update_after_a_payment_equals_a_full_recompute(
    project, acct, item, cashier, today, django_capture_on_commit_callbacks
):
    other = account(project, "1-1-101", owner="李四")
    for a in (acct, other):
        monthly(a, item, today, 5)
    recompute(project, today)
    with django_capture_on_commit_callbacks(execute=True):
        pay(cashier, acct, "250.00")
    incremental = _figures(acct)
    untouched = _figures(other)
    recompute(project, today)
    assert _figures(acct) == incremental
    assert _figures(other) == untouched


def test_one_account_costs_a_fixed_number_of_queries_whatever_its_history(
    project, acct, item, cashier, today
):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            credit_refresh_account(acct.pk, on=today)
        return len(ctx.captured_queries)

    monthly(acct, item, today, 2)
    count()  # the first one also seeds the project's default segments
    small = count()
    monthly(acct, item, today.replace(year=today.year - 2), 12)
    pay(cashier, acct, "700.00")
    assert count() == small
    assert small <= 18  # a constant, whatever the history


def test_a_whole_project_costs_a_fixed_number_of_queries_whatever_its_size(
    project, acct, item, today
):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            recompute(project, today)
        return len(ctx.captured_queries)

    monthly(acct, item, today, 2)
    count()
    few = count()
    for n in range(5):
        monthly(account(project, f"2-1-{n + 1}"), item, today, 3)
    assert count() == few


def test_the_bulk_write_path_gives_the_same_files_as_the_row_path(
    project, acct, item, cashier, today, monkeypatch
):
    from wuye.credit import services

    other = account(project, "1-1-101", owner="李四")
    for a in (acct, other):
        monthly(a, item, today, 5)
    pay(cashier, acct, "250.00")
    recompute(project, today)
    rows = {a.pk: _figures(a) for a in (acct, other)}
    monkeypatch.setattr(services, "COPY_FROM", 0)  # PostgreSQL: COPY + INSERT … SELECT
    recompute(project, today)
    assert {a.pk: _figures(a) for a in (acct, other)} == rows
