"""承诺兑现: the one rule for whether an owner kept a promise to pay. The dashboard's promise-keeping
rate, the household's credit file and the ranking model's feature all read it from here, so the
same household gets the same answer on every page (SPEC §5: a broken promise escalates).

A promise is a contact record with a promised date that no later record corrects. It is *kept* when
the household's payments dated from the day of the promise up to the promised date — not reversed —
add up to the promised amount, or, when no amount was promised, to more than nothing. It is *broken*
when the promised date has passed and it was not kept."""

from __future__ import annotations

import datetime

from wuye.core import sql
from wuye.dunning.models import ArrearsCase, ContactRecord
from wuye.ledger.models import Payment, PaymentReversal


def kept_sql(record: str, account: str, *, reversed_by: str | None = None) -> str:
    """SQL (1 or 0) saying whether the promise of the contact record aliased ``record`` was kept by
    the account in the expression ``account``. ``reversed_by``: a date expression; only reversals
    dated by then undo a payment (figures as of a past day), otherwise every reversal does."""
    reversal_dated = f" AND v.business_date <= {reversed_by}" if reversed_by else ""
    paid = f"""(SELECT COALESCE(SUM({sql.cents("p.amount")}), 0) FROM {sql.table(Payment)} p
        WHERE p.account_id = {account}
          AND p.business_date >= {sql.local_date(f"{record}.at")}
          AND p.business_date <= {record}.promise_date
          AND NOT EXISTS (SELECT 1 FROM {sql.table(PaymentReversal)} v
                          WHERE v.payment_id = p.id{reversal_dated}))"""  # noqa: S608
    promised = sql.cents(f"{record}.promise_amount")
    return f"""(CASE WHEN {record}.promise_date IS NULL THEN 0
        WHEN {paid} > 0 AND {paid} >= COALESCE({promised}, 0) THEN 1 ELSE 0 END)"""


def standing_sql(record: str) -> str:
    """SQL condition: the record is a promise no later record corrects."""
    return f"""({record}.promise_date IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM {sql.table(ContactRecord)} fix WHERE fix.corrects_id = {record}.id))"""  # noqa: S608


def promise_counts(
    account_ids: list[int], *, due_before: datetime.date, made_before: datetime.datetime
) -> dict[int, tuple[int, int]]:
    """(kept, broken) per account for the promises made before ``made_before`` whose date is before
    ``due_before``, as they stood on ``due_before`` (reversals dated later don't count)."""
    if not account_ids:
        return {}
    marks = ", ".join(["%s"] * len(account_ids))
    query = f"""
        SELECT account_id, SUM(kept), SUM(1 - kept) FROM (
          SELECT c.account_id AS account_id,
                 {kept_sql("r", "c.account_id", reversed_by="d.day")} AS kept
          FROM (SELECT {sql.date_placeholder()} AS day) d, {sql.table(ContactRecord)} r
            JOIN {sql.table(ArrearsCase)} c ON c.id = r.case_id
          WHERE c.account_id IN ({marks}) AND r.at < %s AND r.promise_date < d.day
            AND {standing_sql("r")}
        ) pr GROUP BY account_id
    """  # noqa: S608 (model table names only)
    rows = sql.fetch(query, [sql.date_param(due_before), *account_ids, made_before])
    return {account_id: (int(kept or 0), int(broken or 0)) for account_id, kept, broken in rows}
