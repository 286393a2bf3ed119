"""承诺兑现 has one definition (dunning's): the dashboard's promise-keeping rate, the household's
credit file and the ranking model's feature give the same answer for the same household."""

import numpy as np

from tests.credit.factories import DAY, file_of, monthly, pay, recompute
from tests.dunning import factories as dunning
from wuye.ledger.services.reversals import payment_reverse
from wuye.reports.selectors import promise_kept_by_steward
from wuye.reports.sql import ReportScope, Window
from wuye.scoring.features import INDEX, features_as_of


def _promise(steward, case, day, promise_in_days, amount=None, **kwargs):
    from wuye.dunning.contacts import contact_record

    return contact_record(
        user=steward,
        case=case,
        channel="phone",
        at=dunning.at(day, 10),
        reached=True,
        promise_date=day + promise_in_days * DAY,
        promise_amount=amount,
        **kwargs,
    )


def _history(project, acct, item, cashier, steward, manager, approver, today):
    monthly(acct, item, today.replace(day=1) - 60 * DAY, 3)
    dunning.run(project, today - 30 * DAY)
    case = dunning.case_of(acct)
    # Kept: the promised 50 came before the promised day.
    _promise(steward, case, today - 28 * DAY, 2, "50.00")
    pay(cashier, acct, "50.00", business_date=today - 27 * DAY)
    # Broken: 30 of the promised 80.
    _promise(steward, case, today - 24 * DAY, 2, "80.00")
    pay(cashier, acct, "30.00", business_date=today - 23 * DAY)
    # Kept: no amount was promised and something was paid.
    _promise(steward, case, today - 20 * DAY, 2)
    pay(cashier, acct, "10.00", business_date=today - 19 * DAY)
    # Broken: the 40 paid was reversed (a bounced transfer).
    _promise(steward, case, today - 16 * DAY, 2, "40.00")
    bounced = pay(cashier, acct, "40.00", business_date=today - 15 * DAY)
    payment_reverse(
        user=manager,
        payment=bounced,
        reason="银行退票",
        approved_by=approver,
        business_date=today - 12 * DAY,
    )
    # Not a promise any more: the record was corrected (the steward misheard).
    wrong = _promise(steward, case, today - 10 * DAY, 2, "500.00")
    _promise(
        steward, case, today - 10 * DAY, 2, "5.00", corrects=wrong, late_entry_reason="听错金额"
    )
    pay(cashier, acct, "5.00", business_date=today - 9 * DAY)


def test_dashboard_credit_file_and_model_count_the_same_promises_kept_and_broken(
    project, acct, item, cashier, steward, manager, approver, today
):
    _history(project, acct, item, cashier, steward, manager, approver, today)

    [dashboard] = promise_kept_by_steward(
        ReportScope(project_ids=(project.pk,)), Window(today - 40 * DAY, today)
    )
    recompute(project, today)
    credit = file_of(acct)
    model = features_as_of(project.pk, today, accounts=[acct.pk])
    row = model.x[int(np.searchsorted(model.account_ids, acct.pk))]

    assert (dashboard.promises, dashboard.kept) == (5, 3)
    assert (credit.promises_made, credit.promises_kept, credit.promises_broken) == (5, 3, 2)
    assert (row[INDEX["promises_kept"]], row[INDEX["promises_broken"]]) == (3, 2)
