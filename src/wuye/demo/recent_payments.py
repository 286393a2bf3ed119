"""The last months' payments through the posting services: a day's ordinary payments in one set
(``payments_record_many``), the stories one at a time (``payment_record``: a typo 冲红 and paid
again, a 预交 with discount), receipt prints (补打 among them), invoice requests and a few refunds of
prepaid balance."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from wuye.billing import pay_ahead
from wuye.billing.models import (
    Account,
)
from wuye.core.audit import audit_entry
from wuye.core.errors import ValidationFailed
from wuye.core.models import AuditEntry
from wuye.core.money import ZERO, money
from wuye.demo.payers import PROMPT, PaymentEvent
from wuye.ledger.enums import PaymentMethod
from wuye.ledger.models import (
    Payment,
    ReceiptPrint,
)
from wuye.ledger.selectors.prepaid import prepaid_available
from wuye.ledger.services.batch_payments import PaymentRequest, payments_record_many
from wuye.ledger.services.payments import payment_record
from wuye.ledger.services.receipts import invoice_request_create
from wuye.ledger.services.reversals import payment_reverse, prepaid_refund
from wuye.registry.enums import PersonKind
from wuye.registry.models import Phone

REVERSAL_REASONS = [
    "收款金额录入错误，冲红后重新收款",
    "选错缴费户，冲红后到正确账户重收",
    "业主扫码重复支付，冲红并原路退回",
]
REFUND_REASONS = [
    "业主出售房屋，退还剩余预存款",
    "租户退租，退还其预存的物业费",
    "业主多缴，申请退还预存款",
]


class RecentPayments:
    """The last months' payments, through the posting services. Part of ``history._ProjectHistory`` (its ``h``, ``project``, ``rng`` and ``households``)."""

    def write_recent(self, month: dt.date, events: list[PaymentEvent], *, last: bool) -> None:
        """The month's payments through the posting services: a day's ordinary payments in one set
        (``payments_record_many``, what the bank import posts with: the same rows as
        ``payment_record`` once per payment, late-fee bills included, in a fixed number of queries),
        the stories one at a time (a typo 冲红 and paid again, a 预交 with discount)."""
        accounts = Account.objects.select_related("project", "room", "payer").in_bulk(
            [e.household.account_id for e in events]
        )
        if last:
            # 预交 today: a few yearly payers take the year of property fee with the discount instead.
            yearly = [
                e for e in events if e.household.behaviour == PROMPT and e.household.cycle == 12
            ]
            for event in yearly[:5]:
                event.pay_ahead, event.day = True, self.h.today
            events.sort(key=lambda e: (e.day, e.household.account_id))
        mistakes = set(self.rng.sample(range(len(events)), k=min(3, -(-len(events) // 40))))
        batch: list[PaymentEvent] = []
        for n, event in enumerate(events):
            if event.pay_ahead or n in mistakes:
                self.post_batch(batch, accounts)
                self.post_one(event, accounts[event.household.account_id], mistake=n in mistakes)
                continue
            if batch and batch[-1].day != event.day:
                self.post_batch(batch, accounts)
            batch.append(event)
        self.post_batch(batch, accounts)
        if last:
            self.refund_some(events)

    def post_batch(self, batch: list[PaymentEvent], accounts: dict[int, Account]) -> None:
        """A set of one day's payments, in the order given (receipt numbers in that order)."""
        if not batch:
            return
        results = payments_record_many(
            user=self.h.cashier,
            project=self.project,
            requests=[
                PaymentRequest(
                    account=accounts[e.household.account_id],
                    lines=e.lines,
                    business_date=e.day,
                    include_late_fees=True,
                )
                for e in batch
            ],
        )
        for event, payment in zip(batch, results, strict=True):
            if isinstance(payment, ValidationFailed):
                raise payment
            h = event.household
            shares, deposit = h.pay(event.amount)
            h.prepaid += deposit
            self.after_payment(accounts[h.account_id], payment, event.lines[0][0])
        self.write_prints()
        batch.clear()

    def post_one(self, event: PaymentEvent, account: Account, *, mistake: bool) -> None:
        """A payment with a story, through ``payment_record`` (and ``pay_ahead``, ``payment_reverse``)."""
        cashier, supervisor = self.h.cashier, self.h.supervisor
        h = event.household
        if event.pay_ahead:
            try:
                result = pay_ahead.pay_ahead(
                    user=cashier,
                    account=account,
                    fee_item=self.property_fee,
                    months=12,
                    on_date=event.day,
                )
            except ValidationFailed:
                pass  # e.g. the developer pays part of the year: they prepay as usual
            else:
                amount = money(h.outstanding() + result.amount_due)
                event = PaymentEvent(event.day, h, amount, self.lines(h, amount, event.day))
        if mistake:
            wrong = event.amount + Decimal(self.rng.choice([100, 200, 1000]))
            typo = payment_record(
                user=cashier,
                account=account,
                lines=[(event.lines[0][0], wrong, event.lines[0][2])],
                business_date=event.day,
                include_late_fees=False,
            )
            payment_reverse(
                user=cashier,
                payment=typo,
                reason=self.rng.choice(REVERSAL_REASONS),
                approved_by=supervisor,
                business_date=event.day,
            )
        payment = payment_record(
            user=cashier,
            account=account,
            lines=event.lines,
            business_date=event.day,
            include_late_fees=True,
        )
        shares, deposit = h.pay(event.amount)
        h.prepaid += deposit
        self.after_payment(account, payment, event.lines[0][0])
        self.write_prints()

    def after_payment(self, account: Account, payment: Payment, method: str) -> None:
        """Receipts printed at the window (a few reprinted: 补打; kept for ``write_prints``) and
        invoice requests."""
        rng = self.rng
        if method in (PaymentMethod.CASH, PaymentMethod.CARD) or rng.random() < 0.15:
            self.prints.append((payment, rng.choice(["roll", "roll", "a4"])))
            if rng.random() < 0.03:
                self.prints.append((payment, "a4"))
        payer = account.payer
        organisation = payer.kind == PersonKind.ORGANISATION
        if (organisation and rng.random() < 0.6) or rng.random() < 0.03:
            phone = (
                Phone.objects.filter(person=payer, number__startswith="1")
                .values_list("number", flat=True)
                .first()
            )
            invoice_request_create(
                user=self.h.cashier,
                payment=payment,
                title=payer.name,
                tax_number=payer.id_number if organisation else "",
                email="" if phone else f"fapiao{account.pk}@example.com",
                phone=phone or "",
            )

    def write_prints(self) -> None:
        """The prints ``after_payment`` kept, with the rows and audit entries
        ``receipt_print_record`` writes (a payment's second print is its 补打), in two inserts."""
        if not self.prints:
            return
        cashier = self.h.cashier
        seen: set[int] = set()
        rows, entries = [], []
        for payment, paper in self.prints:
            is_reprint = payment.pk in seen
            seen.add(payment.pk)
            rows.append(
                ReceiptPrint(
                    payment=payment, printed_by=cashier, is_reprint=is_reprint, paper=paper
                )
            )
            entries.append(
                audit_entry(
                    user=cashier,
                    action="补打收据" if is_reprint else "打印收据",
                    obj=payment,
                    project=self.project.pk,
                    changes={"paper": paper, "is_reprint": is_reprint},
                )
            )
        ReceiptPrint.objects.bulk_create(rows, batch_size=1000)
        AuditEntry.objects.bulk_create(entries, batch_size=1000)
        self.prints = []

    def refund_some(self, events: list[PaymentEvent]) -> None:
        """A few households with prepaid balance get it back (sold the flat, tenant moved out)."""
        day = min(self.h.today, max((e.day for e in events), default=self.h.today))
        candidates = [
            h
            for h in self.households.values()
            if h.behaviour == PROMPT and h.cycle >= 6 and h.prepaid > 100
        ]
        accounts = Account.objects.select_related("project").in_bulk(
            [h.account_id for h in candidates[:30]]
        )
        for h in candidates[:30]:
            if self.refunds >= 3:
                break
            account = accounts[h.account_id]
            available = prepaid_available(account, day)
            if available <= 0:
                continue
            prepaid_refund(
                user=self.h.cashier,
                account=account,
                amount=available,
                method=self.rng.choice([PaymentMethod.TRANSFER, PaymentMethod.CASH]),
                reason=self.rng.choice(REFUND_REASONS),
                approved_by=self.h.supervisor,
                business_date=day,
            )
            h.prepaid = ZERO
            self.refunds += 1
