"""The ledger's figures in a backup manifest (``WUYE_BACKUP_FIGURES``, wuye.core.backup): totals per
project and the receipt sequences, so a restore can prove the books came back identical."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Max, Sum

from wuye.billing.models import Bill, BillAdjustment, LateFeeWaiver
from wuye.core.models import Project
from wuye.core.money import ZERO
from wuye.ledger.models import (
    Allocation,
    Payment,
    PaymentLine,
    PaymentReversal,
    PrepaidMovement,
    ReceiptSequence,
    Refund,
)


def _by_project(queryset, project_field: str, **aggregates) -> dict[int, dict[str, Any]]:
    rows = queryset.values(project_field).annotate(**aggregates).order_by(project_field)
    return {row.pop(project_field): row for row in rows}


def figures() -> dict[str, Any]:
    """``{project code: {bills, payments, allocations, …, receipt_last_no, receipt_max_no}}``."""
    codes = dict(Project.objects.values_list("pk", "code"))
    parts = {
        "bills": _by_project(Bill.objects, "account__project", n=Count("pk"), total=Sum("amount")),
        "bill_adjustments": _by_project(
            BillAdjustment.objects, "bill__account__project", n=Count("pk"), total=Sum("amount")
        ),
        "late_fee_waivers": _by_project(
            LateFeeWaiver.objects, "bill__account__project", n=Count("pk"), total=Sum("amount")
        ),
        "payments": _by_project(
            Payment.objects, "project", n=Count("pk"), total=Sum("amount"), max_no=Max("receipt_no")
        ),
        "payment_lines": _by_project(
            PaymentLine.objects, "payment__project", n=Count("pk"), total=Sum("amount")
        ),
        "allocations": _by_project(
            Allocation.objects, "bill__account__project", n=Count("pk"), total=Sum("amount")
        ),
        "prepaid": _by_project(
            PrepaidMovement.objects, "account__project", n=Count("pk"), total=Sum("amount")
        ),
        "reversals": _by_project(PaymentReversal.objects, "payment__project", n=Count("pk")),
        "refunds": _by_project(
            Refund.objects, "account__project", n=Count("pk"), total=Sum("amount")
        ),
    }
    sequences = dict(ReceiptSequence.objects.values_list("project_id", "last_no"))
    result: dict[str, Any] = {}
    for pk, code in sorted(codes.items()):
        entry: dict[str, Any] = {}
        for name, rows in parts.items():
            row = rows.get(pk, {})
            entry[name] = {k: str(v if v is not None else ZERO) for k, v in row.items()} or {
                "n": "0"
            }
        entry["receipt_last_no"] = sequences.get(pk, 0)
        result[code] = entry
    return result
