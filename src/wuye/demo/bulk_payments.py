"""Older months' payments, written in bulk, month by month, with exactly the rows ``payment_record``
writes (payment, lines, allocations principal-first oldest-due-first, deposit of the rest into
prepaid balance), the days' 日结 and one audit entry a month; no late-fee bills."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

from django.utils import timezone

from wuye.core.audit import audit_record
from wuye.core.money import ZERO
from wuye.demo.payers import PaymentEvent
from wuye.ledger.enums import PaymentMethod, PrepaidKind
from wuye.ledger.models import (
    Allocation,
    CashierClosing,
    Payment,
    PaymentLine,
    PrepaidMovement,
    ReceiptSequence,
)
from wuye.ledger.selectors.closing import MethodTotal


class BulkPayments:
    """Older months' payments, written in bulk. Part of ``history._ProjectHistory`` (its ``h``, ``project``, ``rng`` and ``households``)."""

    def write_bulk(self, month: dt.date, events: list[PaymentEvent]) -> None:
        """The rows ``payment_record`` writes, for a month of payments at once (no late-fee bills)."""
        if not events:
            return
        cashier = self.h.cashier
        tz = timezone.get_current_timezone()
        payments, plans = [], []
        for event in events:
            self.receipt_no += 1
            shares, deposit = event.household.pay(event.amount)
            event.household.prepaid += deposit
            received = dt.datetime.combine(
                event.day,
                dt.time(self.rng.randint(8, 17), self.rng.randint(0, 59), self.rng.randint(0, 59)),
                tzinfo=tz,
            )
            payments.append(
                {
                    "project_id": self.project.pk,
                    "account_id": event.household.account_id,
                    "receipt_no": self.receipt_no,
                    "amount": event.amount,
                    "business_date": event.day,
                    "received_at": received,
                    "cashier_id": cashier.pk,
                    "idempotency_key": None,
                }
            )
            plans.append((event, shares, deposit))
        ids = self.h.insert_rows(Payment, payments)
        lines, allocations, movements = [], [], []
        for payment_id, (event, shares, deposit) in zip(ids, plans, strict=True):
            for method, amount, reference in event.lines:
                lines.append(
                    {
                        "payment_id": payment_id,
                        "method": method,
                        "amount": amount,
                        "reference": reference,
                    }
                )
            for bill_id, share in shares:
                allocations.append(
                    {
                        "bill_id": bill_id,
                        "amount": share,
                        "effective_date": event.day,
                        "payment_id": payment_id,
                    }
                )
            if deposit > 0:
                movements.append(
                    {
                        "account_id": event.household.account_id,
                        "kind": PrepaidKind.DEPOSIT,
                        "amount": deposit,
                        "effective_date": event.day,
                        "payment_id": payment_id,
                    }
                )
        self.h.insert_rows(PaymentLine, lines)
        self.h.insert_rows(Allocation, allocations)
        self.h.insert_rows(PrepaidMovement, movements)
        closings = self.closings(events)
        audit_record(
            user=cashier,
            action="收款（历史数据批量导入）",
            project=self.project,
            model="ledger.Payment",
            changes={
                "month": f"{month:%Y-%m}",
                "payments": len(payments),
                "amount": sum((e.amount for e in events), ZERO),
                "receipts": [payments[0]["receipt_no"], payments[-1]["receipt_no"]],
                "closed_days": closings,
                "note": "演示数据：与逐笔收款相同的记录，按月批量写入，未计滞纳金",
            },
        )

    def closings(self, events: list[PaymentEvent]) -> int:
        """日结 rows of the month's days, with the figures ``cashier_close`` would have stored (these
        days had payments only: no reversals, no refunds)."""
        received: dict[dt.date, dict[str, Decimal]] = {}
        counts: Counter = Counter()
        for event in events:
            counts[event.day] += 1
            day = received.setdefault(event.day, {})
            for method, amount, _reference in event.lines:
                day[method] = day.get(method, ZERO) + amount
        rows = []
        for day, by_method in sorted(received.items()):
            if day >= self.h.today:
                continue
            totals = [
                MethodTotal(method.value, str(method.label), by_method[method.value])
                for method in PaymentMethod
                if method.value in by_method
            ]
            rows.append(
                CashierClosing(
                    project=self.project,
                    cashier=self.h.cashier,
                    business_date=day,
                    totals={t.method: t.as_json() for t in totals},
                    total_amount=sum(
                        (t.net for t in totals if t.method != PaymentMethod.PREPAID), ZERO
                    ),
                    payment_count=counts[day],
                    reversal_count=0,
                )
            )
        CashierClosing.objects.bulk_create(rows)
        return len(rows)

    def sync_receipt_sequence(self) -> None:
        ReceiptSequence.objects.update_or_create(
            project=self.project, defaults={"last_no": self.receipt_no}
        )
