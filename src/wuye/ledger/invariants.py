"""Ledger invariants, Beancount style: each check is a function that returns a list of ``Problem``
records and never raises, so one run reports every problem and where it is.

Run them all with ``check_all`` (``manage.py check_ledger``, the nightly task, the tests). Each check is
one or two SQL queries over the whole ledger (or one project), whatever its size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, Round

from wuye.billing.models import Bill
from wuye.core.models import Project
from wuye.core.money import ZERO
from wuye.ledger.enums import PaymentMethod, PrepaidKind
from wuye.ledger.models import (
    Allocation,
    CashierClosing,
    Payment,
    PaymentLine,
    PaymentReversal,
    PrepaidMovement,
    ReceiptSequence,
    Refund,
)
from wuye.ledger.selectors.outstanding import bill_outstanding

MONEY_FIELD = DecimalField(max_digits=14, decimal_places=2)


@dataclass(frozen=True)
class Problem:
    code: str  # stable, e.g. "ledger.bill_overpaid"
    message: str  # Chinese, says what and where
    project_id: int | None = None
    model: str = ""
    object_id: int | None = None

    def __str__(self) -> str:
        where = f" {self.model}#{self.object_id}" if self.model else ""
        return f"[{self.code}]{where} {self.message}"


def _project_id(project: Project | int | None) -> int | None:
    return project.pk if isinstance(project, Project) else project


def _sum_of(queryset: QuerySet, field: str = "amount") -> Coalesce:
    # Group by a constant: one row, the sum over the correlated rows.
    rows = queryset.order_by().annotate(_g=Value(1)).values("_g").annotate(total=Sum(field))
    return Coalesce(
        Subquery(rows.values("total"), output_field=MONEY_FIELD),
        Value(ZERO),
        output_field=MONEY_FIELD,
    )


def _fen(expression) -> Round:
    """An amount expression rounded to the fen in SQL. SQLite keeps decimals as binary floats, so sums
    are compared only after rounding (on PostgreSQL, numeric, this changes nothing)."""
    return Round(expression, 2, output_field=MONEY_FIELD)


# Running sums with a window cannot be rounded portably; half a fen is the tolerance instead.
HALF_FEN = Decimal("0.005")


# --- bills -----------------------------------------------------------------------------------------


def allocations_within_bills(project: Project | int | None = None) -> list[Problem]:
    """Σ allocations + Σ adjustments of a bill stays within 0 … its amount, and net allocations are
    never negative (a bill is never paid more than it asks, nor un-paid more than it was paid)."""
    pid = _project_id(project)
    bills = Bill.objects.all() if pid is None else Bill.objects.filter(project_id=pid)
    bad = (
        bill_outstanding(bills)
        .alias(net_allocated=_fen(F("allocated")))
        .filter(Q(outstanding__lt=0) | Q(net_allocated__lt=0) | Q(outstanding__gt=F("amount")))
        .values_list("pk", "project_id", "amount", "adjusted", "allocated")
        .order_by("pk")
    )
    return [
        Problem(
            "ledger.bill_overpaid" if allocated >= 0 else "ledger.bill_negative_allocation",
            f"账单应收 {amount}，减免 {adjusted}，核销 {allocated}：核销与减免之和须在 0 与应收之间",
            project_id,
            "billing.Bill",
            bill_id,
        )
        for bill_id, project_id, amount, adjusted, allocated in bad
    ]


def allocations_same_account(project: Project | int | None = None) -> list[Problem]:
    """A payment (or prepaid movement) only pays bills of its own account."""
    pid = _project_id(project)
    rows = Allocation.objects.filter(
        (Q(payment__isnull=False) & ~Q(bill__account_id=F("payment__account_id")))
        | (Q(prepaid__isnull=False) & ~Q(bill__account_id=F("prepaid__account_id")))
    )
    if pid is not None:
        rows = rows.filter(bill__project_id=pid)
    return [
        Problem(
            "ledger.allocation_other_account",
            f"核销 #{pk} 把一个账户的钱核销到了另一账户的账单 {bill_id}",
            project_id,
            "ledger.Allocation",
            pk,
        )
        for pk, bill_id, project_id in rows.values_list("pk", "bill_id", "bill__project_id")
    ]


# --- prepaid ---------------------------------------------------------------------------------------


def prepaid_never_negative(project: Project | int | None = None) -> list[Problem]:
    """An account's prepaid balance, movement by movement in date order, never drops below zero."""
    pid = _project_id(project)
    movements = PrepaidMovement.objects.all()
    if pid is not None:
        movements = movements.filter(account__project_id=pid)
    rows = (
        movements.annotate(
            running=Window(
                Sum("amount"),
                partition_by=[F("account_id")],
                order_by=[F("effective_date").asc(), F("id").asc()],
            )
        )
        .filter(running__lt=-HALF_FEN)
        .values_list("account_id", "account__project_id", "effective_date", "running", "pk")
        .order_by("account_id", "effective_date", "pk")
    )
    seen: set[int] = set()
    problems = []
    for account_id, project_id, day, running, _pk in rows:
        if account_id in seen:
            continue
        seen.add(account_id)
        problems.append(
            Problem(
                "ledger.prepaid_negative",
                f"账户 {account_id} 的预存款余额在 {day:%Y-%m-%d} 为 {running} 元（不得为负）",
                project_id,
                "billing.Account",
                account_id,
            )
        )
    return problems


def prepaid_consumptions_balanced(project: Project | int | None = None) -> list[Problem]:
    """Each automatic consumption of prepaid balance (抵扣, not part of a payment) equals the
    allocations it made."""
    pid = _project_id(project)
    rows = PrepaidMovement.objects.filter(kind=PrepaidKind.CONSUME, payment__isnull=True)
    if pid is not None:
        rows = rows.filter(account__project_id=pid)
    rows = (
        rows.annotate(allocated=_sum_of(Allocation.objects.filter(prepaid=OuterRef("pk"))))
        .alias(diff=_fen(F("allocated") + F("amount")))
        .exclude(diff=0)
    )
    return [
        Problem(
            "ledger.consumption_unbalanced",
            f"预存款抵扣 {-amount} 元，但核销合计 {allocated} 元",
            project_id,
            "ledger.PrepaidMovement",
            pk,
        )
        for pk, project_id, amount, allocated in rows.values_list(
            "pk", "account__project_id", "amount", "allocated"
        )
    ]


def refunds_balanced(project: Project | int | None = None) -> list[Problem]:
    """Each refund took exactly its amount out of the prepaid balance."""
    pid = _project_id(project)
    rows = Refund.objects.all() if pid is None else Refund.objects.filter(account__project_id=pid)
    rows = (
        rows.annotate(moved=_sum_of(PrepaidMovement.objects.filter(refund=OuterRef("pk"))))
        .alias(diff=_fen(F("moved") + F("amount")))
        .exclude(diff=0)
    )
    return [
        Problem(
            "ledger.refund_unbalanced",
            f"退款 {amount} 元，但预存款变动 {moved} 元",
            project_id,
            "ledger.Refund",
            pk,
        )
        for pk, project_id, amount, moved in rows.values_list(
            "pk", "account__project_id", "amount", "moved"
        )
    ]


# --- payments --------------------------------------------------------------------------------------


def payments_balanced(project: Project | int | None = None) -> list[Problem]:
    """A payment's amount = Σ its lines = Σ its allocations + what it deposited into prepaid balance;
    what it drew from prepaid balance = its ``prepaid`` lines."""
    pid = _project_id(project)
    payments = Payment.objects.all() if pid is None else Payment.objects.filter(project_id=pid)
    own = Q(payment=OuterRef("pk"))
    rows = (
        payments.annotate(
            lines_total=_sum_of(PaymentLine.objects.filter(own)),
            prepaid_lines=_sum_of(PaymentLine.objects.filter(own, method=PaymentMethod.PREPAID)),
            allocated=_sum_of(Allocation.objects.filter(own, amount__gt=0)),
            deposited=_sum_of(PrepaidMovement.objects.filter(own, kind=PrepaidKind.DEPOSIT)),
            drawn=_sum_of(PrepaidMovement.objects.filter(own, kind=PrepaidKind.CONSUME)),
        )
        .alias(
            lines_diff=_fen(F("amount") - F("lines_total")),
            use_diff=_fen(F("amount") - F("allocated") - F("deposited")),
            draw_diff=_fen(F("prepaid_lines") + F("drawn")),
        )
        .filter(~Q(lines_diff=0) | ~Q(use_diff=0) | ~Q(draw_diff=0))
        .values_list(
            "pk",
            "project_id",
            "receipt_no",
            "amount",
            "lines_total",
            "allocated",
            "deposited",
            "prepaid_lines",
            "drawn",
        )
    )
    return [
        Problem(
            "ledger.payment_unbalanced",
            f"收据 No.{no:08d}：金额 {amount}，支付明细合计 {lines}，核销 {allocated} + 存入预存款 "
            f"{deposited}；预存款支付 {prepaid_lines}，预存款扣减 {-drawn}",
            project_id,
            "ledger.Payment",
            pk,
        )
        for pk, project_id, no, amount, lines, allocated, deposited, prepaid_lines, drawn in rows
    ]


def receipts_gap_free(project: Project | int | None = None) -> list[Problem]:
    """Receipt numbers of a project run 1 … n without gaps, and the sequence stands at n."""
    pid = _project_id(project)
    payments = Payment.objects.all() if pid is None else Payment.objects.filter(project_id=pid)
    stats = {
        row["project_id"]: row
        for row in payments.order_by()
        .values("project_id")
        .annotate(n=Count("pk"), low=Min("receipt_no"), high=Max("receipt_no"))
    }
    sequences = ReceiptSequence.objects.all()
    if pid is not None:
        sequences = sequences.filter(project_id=pid)
    last = dict(sequences.values_list("project_id", "last_no"))
    problems = []
    for project_id in sorted(set(stats) | set(last)):
        row = stats.get(project_id, {"n": 0, "low": None, "high": 0})
        n, low, high = row["n"], row["low"], row["high"] or 0
        if n and (low != 1 or high != n):
            used = set(
                Payment.objects.filter(project_id=project_id).values_list("receipt_no", flat=True)
            )
            missing = [no for no in range(1, high + 1) if no not in used][:10]
            problems.append(
                Problem(
                    "ledger.receipt_gap",
                    f"收据号不连续：共 {n} 张，号码 {low}…{high}，缺号 {missing}",
                    project_id,
                    "core.Project",
                    project_id,
                )
            )
        if last.get(project_id, 0) != high:
            problems.append(
                Problem(
                    "ledger.receipt_sequence",
                    f"收据号序列停在 {last.get(project_id, 0)}，但已用到 {high}",
                    project_id,
                    "core.Project",
                    project_id,
                )
            )
    return problems


def reversals_mirror(project: Project | int | None = None) -> list[Problem]:
    """A reversal (冲红) mirrors its payment exactly: every allocation of a reversed payment has one
    negative twin on the same bill, no negative allocation exists without a reversal, and the
    payment's prepaid movements net to zero once reversed (and no reversal movement otherwise)."""
    pid = _project_id(project)
    problems: list[Problem] = []
    allocations = Allocation.objects.all()
    payments = Payment.objects.all()
    if pid is not None:
        allocations = allocations.filter(bill__project_id=pid)
        payments = payments.filter(project_id=pid)
    reversal_of = PaymentReversal.objects.filter(payment=OuterRef("payment_id"))
    twin_bad = allocations.filter(amount__lt=0).filter(
        Q(reverses__isnull=True)
        | ~Q(reverses__amount=-F("amount"))
        | ~Q(reverses__bill_id=F("bill_id"))
        | ~Q(reverses__payment_id=F("payment_id"))
        | ~Exists(reversal_of)
    )
    for pk, project_id in twin_bad.values_list("pk", "bill__project_id"):
        problems.append(
            Problem(
                "ledger.reversal_mismatch",
                f"负数核销 #{pk} 与被冲红的核销不对应，或其收款没有冲红记录",
                project_id,
                "ledger.Allocation",
                pk,
            )
        )
    unmirrored = allocations.filter(amount__gt=0, payment__isnull=False).filter(
        Exists(reversal_of), ~Exists(Allocation.objects.filter(reverses=OuterRef("pk")))
    )
    for pk, project_id in unmirrored.values_list("pk", "bill__project_id"):
        problems.append(
            Problem(
                "ledger.reversal_incomplete",
                f"核销 #{pk} 的收款已冲红，但该核销没有对应的负数核销",
                project_id,
                "ledger.Allocation",
                pk,
            )
        )
    reversed_here = PaymentReversal.objects.filter(payment=OuterRef("pk"))
    prepaid_bad = (
        payments.annotate(
            prepaid_net=_fen(_sum_of(PrepaidMovement.objects.filter(payment=OuterRef("pk")))),
            reversal_moves=_fen(
                _sum_of(
                    PrepaidMovement.objects.filter(
                        payment=OuterRef("pk"), kind=PrepaidKind.REVERSAL
                    )
                )
            ),
            is_reversed=Exists(reversed_here),
        )
        .filter(
            (Q(is_reversed=True) & ~Q(prepaid_net=0))
            | (Q(is_reversed=False) & ~Q(reversal_moves=0))
        )
        .values_list("pk", "project_id", "receipt_no", "prepaid_net", "is_reversed")
    )
    for pk, project_id, no, net, is_reversed in prepaid_bad:
        problems.append(
            Problem(
                "ledger.reversal_prepaid",
                f"收据 No.{no:08d}"
                + (
                    f" 已冲红，但其预存款变动合计为 {net}"
                    if is_reversed
                    else " 未冲红，却有冲红的预存款变动"
                ),
                project_id,
                "ledger.Payment",
                pk,
            )
        )
    return problems


def entries_after_closing(project: Project | int | None = None) -> list[Problem]:
    """No payment, reversal or refund was recorded on a cashier's day after that day was closed."""
    pid = _project_id(project)
    closed = CashierClosing.objects.filter(
        project_id=OuterRef("project_id"),
        cashier_id=OuterRef("cashier_id"),
        business_date=OuterRef("business_date"),
        closed_at__lt=OuterRef("created_at"),
    )
    payments = Payment.objects.all() if pid is None else Payment.objects.filter(project_id=pid)
    late = payments.filter(Exists(closed))
    problems = [
        Problem(
            "ledger.entry_after_closing",
            f"收据 No.{no:08d}（{day:%Y-%m-%d}）记在该收费员日结之后",
            project_id,
            "ledger.Payment",
            pk,
        )
        for pk, project_id, no, day in late.values_list(
            "pk", "project_id", "receipt_no", "business_date"
        )
    ]
    reversal_closed = CashierClosing.objects.filter(
        project_id=OuterRef("payment__project_id"),
        cashier_id=OuterRef("requested_by_id"),
        business_date=OuterRef("business_date"),
        closed_at__lt=OuterRef("created_at"),
    )
    reversals = PaymentReversal.objects.filter(Exists(reversal_closed))
    if pid is not None:
        reversals = reversals.filter(payment__project_id=pid)
    problems += [
        Problem(
            "ledger.entry_after_closing",
            f"冲红 #{pk}（{day:%Y-%m-%d}）记在该收费员日结之后",
            project_id,
            "ledger.PaymentReversal",
            pk,
        )
        for pk, project_id, day in reversals.values_list(
            "pk", "payment__project_id", "business_date"
        )
    ]
    return problems


CHECKS: list[Callable[[Project | int | None], list[Problem]]] = [
    allocations_within_bills,
    allocations_same_account,
    prepaid_never_negative,
    prepaid_consumptions_balanced,
    refunds_balanced,
    payments_balanced,
    receipts_gap_free,
    reversals_mirror,
    entries_after_closing,
]


def check_all(project: Project | int | None = None) -> list[Problem]:
    """Every check, over the whole ledger or one project."""
    problems: list[Problem] = []
    for check in CHECKS:
        problems.extend(check(project))
    return problems
