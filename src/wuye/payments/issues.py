"""What finance must look at (待财务处理): raised once per order and kind."""

from __future__ import annotations

import logging

from wuye.core.audit import audit_record
from wuye.payments.models import OrderIssue, PaymentOrder

log = logging.getLogger(__name__)


def issue_raise(order: PaymentOrder, kind: str, message: str) -> OrderIssue:
    """Tells finance (待财务处理 list and the audit trail); once per order and kind."""
    issue, created = OrderIssue.objects.get_or_create(
        order=order, kind=kind, defaults={"message": message[:300]}
    )
    if created:
        audit_record(
            user=None,
            action="线上缴费待财务处理",
            obj=order,
            project=order.project_id,
            changes={"kind": kind, "message": message},
        )
        log.warning("online payment %s: %s", order.out_trade_no, message)
    return issue
