"""日结 (docs/user/日结.md): closing a cashier's day. Afterwards that cashier cannot record payments,
reversals or refunds dated that day (``checks.day_open_check``).
"""

from __future__ import annotations

import datetime

from django.db import transaction

from wuye.core import roles
from wuye.core.approvals import approver_check
from wuye.core.audit import audit_record
from wuye.core.errors import ValidationFailed
from wuye.core.models import Project, User
from wuye.core.scope import actor_role
from wuye.ledger.locking import lock_receipt_sequence
from wuye.ledger.models import CashierClosing
from wuye.ledger.selectors.closing import cashier_day, day_is_closed
from wuye.ledger.services.checks import clean_business_date

# --- the cashier's day -----------------------------------------------------------------------------


def cashier_close(
    *,
    user: User,
    project: Project,
    business_date: datetime.date,
    cashier: User | None = None,
) -> CashierClosing:
    """日结 of a cashier's day (default: ``user``'s own): totals per method, counts of receipts and
    reversals. Afterwards that cashier cannot record payments, reversals or refunds dated that day.
    Closing someone else's day needs a supervisor, project manager or company administrator."""
    who = cashier or user
    actor_role(user, project.pk, roles.COLLECTOR_ROLES, "日结")
    if who.pk != user.pk:
        approver_check(project=project, approver=user, roles=roles.PAYMENT_APPROVER_ROLES)
    day = clean_business_date(business_date, "日结日期")
    with transaction.atomic():
        # The sequence lock makes this wait for the cashier's payments in flight, and makes theirs
        # wait for the closing (they check for it after taking the same lock).
        lock_receipt_sequence(project.pk)
        if day_is_closed(project.pk, who.pk, day):
            raise ValidationFailed(
                f"{who} 的 {day:%Y-%m-%d} 已日结，不能重复日结",
                code="ledger.already_closed",
                field="business_date",
            )
        figures = cashier_day(project, who, day)
        closing = CashierClosing.objects.create(
            project=project,
            cashier=who,
            business_date=day,
            totals={t.method: t.as_json() for t in figures.totals},
            total_amount=figures.handed_over,
            payment_count=len(figures.payments),
            reversal_count=len(figures.reversals),
        )
        audit_record(
            user=user,
            action="日结",
            obj=closing,
            project=project,
            changes={
                "cashier": who.pk,
                "business_date": day,
                "total_amount": figures.handed_over,
                "payments": len(figures.payments),
                "reversals": len(figures.reversals),
                "refunds": len(figures.refunds),
            },
        )
    return closing
