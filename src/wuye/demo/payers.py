"""The demo's payers and their habits: most pay on time (monthly, quarterly, a year ahead), some late,
a few chronic debtors who stopped paying, vacant investor flats that rarely pay, the developer for
rooms not handed over; and each month's payments they make (day, amount, method, reference)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import Any

from wuye.billing import calc
from wuye.billing.models import (
    Account,
)
from wuye.core.money import ZERO, money
from wuye.ledger.enums import PaymentMethod
from wuye.registry.enums import OccupancyState, PersonKind, RoomUse

PROMPT, LATE, CHRONIC, RARE, DEVELOPER = "prompt", "late", "chronic", "rare", "developer"
BEHAVIOUR_LABELS = {
    PROMPT: "按时缴费",
    LATE: "拖延缴费",
    CHRONIC: "长期欠费",
    RARE: "空置房投资客（很少缴费）",
    DEVELOPER: "开发建设单位",
}

PERSON_METHODS = [
    PaymentMethod.CASH,
    PaymentMethod.WECHAT,
    PaymentMethod.ALIPAY,
    PaymentMethod.CARD,
    PaymentMethod.TRANSFER,
    PaymentMethod.WITHHOLDING,
]
PERSON_METHOD_WEIGHTS = [15, 35, 20, 15, 8, 7]


@dataclass
class Household:
    """One payer account and how it pays. ``open`` holds [due, period start, bill id, outstanding]."""

    account_id: int
    behaviour: str
    cycle: int  # months between payments
    phase: int  # which month of the cycle they pay in
    method: str
    stop: int | None = None  # chronic debtors pay nothing from this month index on
    monthly: Decimal = ZERO  # what the last run billed them
    prepaid: Decimal = ZERO
    open: list[list[Any]] = field(default_factory=list)

    def outstanding(self) -> Decimal:
        return sum((entry[3] for entry in self.open), ZERO)

    def pay(self, amount: Decimal) -> tuple[list[tuple[int, Decimal]], Decimal]:
        """Principal first, oldest due first (as ``payment_record``); returns the shares and the rest."""
        self.open.sort()
        shares = []
        for entry in self.open:
            if amount <= 0:
                break
            share = min(amount, entry[3])
            if share > 0:
                shares.append((entry[2], share))
                entry[3] -= share
                amount -= share
        self.open = [entry for entry in self.open if entry[3] > 0]
        return shares, amount


@dataclass
class PaymentEvent:
    day: dt.date
    household: Household
    amount: Decimal
    lines: list[tuple[str, Decimal, str]]
    mistake: Decimal = ZERO  # typed this much too much first: recorded, reversed, recorded again
    pay_ahead: bool = False


class Payers:
    """How each payer account pays (its behaviour, cycle and method) and, each month, who pays what
    and when. Part of ``history._ProjectHistory`` (its ``h``, ``project``, ``rng`` and ``households``)."""

    def add_households(self, account_ids: list[int], index: int) -> None:
        rows = Account.objects.filter(pk__in=account_ids).values_list(
            "id",
            "room__use",
            "room__occupancy_state",
            "payer_id",
            "payer__is_developer",
            "payer__kind",
        )
        info = {row[0]: row[1:] for row in rows}
        for account_id in account_ids:
            use, state, payer_id, developer, kind = info[account_id]
            self.households[account_id] = self.new_household(
                account_id, use, state, payer_id, developer, kind, index
            )

    def new_household(self, account_id, use, state, payer_id, developer, kind, index) -> Household:
        rng = self.rng
        organisation = kind == PersonKind.ORGANISATION
        commercial = use in (RoomUse.SHOP, RoomUse.OFFICE)
        if organisation:
            method = rng.choice([PaymentMethod.TRANSFER] * 3 + [PaymentMethod.CARD])
        else:
            method = rng.choices(PERSON_METHODS, weights=PERSON_METHOD_WEIGHTS)[0]
        if developer:
            return Household(account_id, DEVELOPER, 3, rng.randrange(3), PaymentMethod.TRANSFER)
        investor = state == OccupancyState.VACANT and (
            self.rooms_of.get(payer_id, 0) > 1 or self.chance(0.5)
        )
        if investor:
            return Household(account_id, RARE, 1, 0, method)
        roll = rng.random()
        prompt, late = (0.60, 0.25) if commercial else (0.75, 0.16)
        if roll < prompt:
            if commercial:
                cycle = rng.choice([1, 3, 3, 6])
            else:
                cycle = rng.choices([1, 3, 6, 12], weights=[30, 35, 10, 25])[0]
            if method == PaymentMethod.WITHHOLDING:
                cycle = 1  # the bank takes it every month
            return Household(account_id, PROMPT, cycle, rng.randrange(cycle), method)
        if method == PaymentMethod.WITHHOLDING:
            method = PaymentMethod.WECHAT
        if roll < prompt + late:
            cycle = rng.choice([2, 3, 3, 4])
            return Household(account_id, LATE, cycle, rng.randrange(cycle), method)
        stop = max(index, len(self.h.months) - rng.randint(6, 30))
        cycle = rng.choice([3, 4, 6])
        return Household(account_id, CHRONIC, cycle, rng.randrange(cycle), method, stop=stop)

    # --- who pays what, when ---------------------------------------------------------------------

    def plan_payments(self, index: int, month: dt.date) -> list[PaymentEvent]:
        rng = self.rng
        last_day = calc.month_end(month)
        events = []
        for account_id in sorted(self.households):
            h = self.households[account_id]
            owed = h.outstanding()
            behaviour = h.behaviour
            amount = ZERO
            day = month
            if behaviour in (PROMPT, DEVELOPER):
                if (index - h.phase) % h.cycle:
                    continue
                day = month + dt.timedelta(days=rng.randint(0, 19))
                ahead = h.monthly * (h.cycle - 1) if h.cycle > 1 else ZERO
                amount = owed + ahead
            elif behaviour == LATE or (behaviour == CHRONIC and index < (h.stop or 0)):
                if (index - h.phase) % h.cycle:
                    continue
                day = month + dt.timedelta(days=rng.randint(0, 27))
                amount = owed
            elif behaviour == RARE:
                if not self.chance(1 / 15):
                    continue
                day = month + dt.timedelta(days=rng.randint(0, 27))
                amount = owed
            else:
                continue
            day = min(day, last_day)
            if amount <= 0 or day > self.h.today:
                continue
            if behaviour != PROMPT and h.method in (PaymentMethod.CASH, PaymentMethod.WECHAT):
                # Rounded up to ten yuan: what is left over pays late fees, then goes to prepaid.
                amount = (amount / 10).to_integral_value(rounding=ROUND_CEILING) * 10
            amount = money(amount)
            events.append(PaymentEvent(day, h, amount, self.lines(h, amount, day)))
        events.sort(key=lambda e: (e.day, e.household.account_id))
        return events

    def lines(self, h: Household, amount: Decimal, day: dt.date) -> list[tuple[str, Decimal, str]]:
        rng = self.rng
        if h.method == PaymentMethod.WECHAT and amount > 200 and self.chance(0.04):
            cash = Decimal(rng.randint(1, int(amount) // 100)) * 10
            return [
                (PaymentMethod.WECHAT, amount - cash, self.reference(PaymentMethod.WECHAT, day)),
                (PaymentMethod.CASH, cash, ""),
            ]
        return [(h.method, amount, self.reference(h.method, day))]

    def reference(self, method: str, day: dt.date) -> str:
        digits = "".join(str(self.rng.randrange(10)) for _ in range(10))
        if method == PaymentMethod.WECHAT:
            return f"4200002{day:%Y%m%d}{digits}"
        if method == PaymentMethod.ALIPAY:
            return f"{day:%Y%m%d}2200145{digits}"
        if method == PaymentMethod.CARD:
            return f"POS{day:%y%m%d}{digits[:6]}"
        if method in (PaymentMethod.TRANSFER, PaymentMethod.WITHHOLDING):
            return f"HX{day:%Y%m%d}{digits}"
        return ""
