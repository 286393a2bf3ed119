"""Matching an incoming bank line to the household(s) it pays for (自动匹配).

The matcher reads the project once (``ProjectIndex.load``: rooms, current occupants and payers, the
payer cards learned from earlier claims) and then decides each line in memory; what each candidate
owes is read in one query per chunk of candidates (``load_owed``).

Signals, each with the reason shown to finance:

* **room code in the remark** (附言/摘要) in the forms people type: ``5-1-803``, ``5栋1单元803``,
  ``5幢803``, ``5#1-803``, ``1-803`` where only one building has that unit and room, full-width digits,
  glued to other words;
* **payer name** against every current owner, co-owner, tenant and resident and against earlier
  payers from the same name: exact after removing spaces, or the same pinyin (traditional characters
  and banks' romanisations such as ``ZHANG SAN`` read the same);
* **payer card**: the counterparty account seen on earlier confirmed claims of the household;
* **amount** against what each candidate owes: all open bills, the oldest N bills, or everything owed
  plus a whole year ahead at the pay-ahead discount (预交一年优惠, the project's ``PayAheadRule`` for 12
  months on each fee item billed ahead: the household's latest bill of the item, per period, less
  the discount the pay-ahead service would give it).

**Auto-confirm only when one answer is clearly right** (``decide``): every identity signal points to
households of one payer, nothing points elsewhere, at least two independent signals agree (a payer
card counts as two: a household pays from the same card), the line is not a payment platform's
settlement, and the amount splits without guessing. Everything else goes to the queue (待认领款) with
its top candidates and their reasons; a wrong automatic match costs far more than a missed one.
"""

from __future__ import annotations

import datetime
import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

import zhconv
from django.db.models import Q
from django.utils import timezone
from pypinyin import lazy_pinyin

from wuye.banking.models import PayerCard
from wuye.billing.enums import BillKind
from wuye.billing.models import Account, Bill, FeeItem
from wuye.billing.pay_ahead import PAY_AHEAD_METHODS, pay_ahead_rule_for
from wuye.core.money import ZERO, money
from wuye.ledger.selectors.outstanding import bill_outstanding
from wuye.registry.enums import OccupancyRole
from wuye.registry.models import Occupancy, Room

# Points shown beside each reason (the decision itself follows the rules in ``decide``).
POINTS = {"card": 50, "room": 40, "name": 30, "payer": 30, "pinyin": 20, "amount": 25}
OLDEST_N = 12  # "the oldest N bills" tried against the amount
PLATFORM_WORDS = (
    "财付通",
    "支付宝",
    "微信",
    "银联",
    "拉卡拉",
    "快钱",
    "清算",
    "结算",
    "网联",
    "TENPAY",
    "ALIPAY",
)
ROLE_LABELS = dict(OccupancyRole.choices)


# --- text ------------------------------------------------------------------------------------------


def norm(text: str) -> str:
    """Half-width, upper-case, without spaces — except that a space between two digits stays a
    boundary (``5-1-803 6-2-502`` is two rooms, not ``5-1-8036``)."""
    text = unicodedata.normalize("NFKC", text or "")
    text = re.sub(r"(?<=\d)\s+(?=\d)", "|", text)
    return re.sub(r"\s+", "", text).upper()


@functools.lru_cache(maxsize=300_000)
def name_key(name: str) -> str:
    """Half-width, simplified characters, without spaces or dots: ``張 三`` → ``张三``."""
    text = zhconv.convert(unicodedata.normalize("NFKC", name or ""), "zh-cn")
    return re.sub(r"[\s·•.\-]", "", text).lower()


def is_romanised(name: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z\s,.\-]+", unicodedata.normalize("NFKC", name or "")))


# Surnames read otherwise than the character's most common reading.
_SURNAMES = {
    "单": "shan", "曾": "zeng", "解": "xie", "仇": "qiu", "区": "ou", "朴": "piao", "查": "zha",
    "盖": "ge", "缪": "miao", "乐": "yue", "尉": "yu", "种": "chong", "秘": "bi", "薄": "bo",
    "翟": "zhai", "折": "she", "召": "shao", "覃": "qin", "长": "chang", "重": "chong",
}  # fmt: skip


@functools.lru_cache(maxsize=20_000)
def _char_pinyin(char: str) -> str:
    return "".join(lazy_pinyin(char, errors="ignore")).lower()


@functools.lru_cache(maxsize=300_000)
def pinyin_key(name: str) -> str:
    """``张三``, ``張三``, ``ZHANG SAN`` and ``zhangsan`` all give ``zhangsan`` (character by character,
    the surname read as a surname: 单 shan, 曾 zeng)."""
    text = unicodedata.normalize("NFKC", name or "")
    if is_romanised(text):
        return re.sub(r"[^a-z]", "", text.lower())
    text = name_key(text)
    parts = [_SURNAMES.get(text[0], "") or _char_pinyin(text[0])] if text else []
    parts += [_char_pinyin(c) for c in text[1:]]
    return re.sub(r"[^a-z]", "", "".join(parts))


@functools.lru_cache(maxsize=300_000)
def pinyin_keys(name: str) -> frozenset[str]:
    """Pinyin keys of a name, with the words reversed for romanised names (``SAN ZHANG``)."""
    keys = {pinyin_key(name)}
    text = unicodedata.normalize("NFKC", name or "")
    words = [w for w in re.split(r"[\s,]+", text) if w]
    if len(words) > 1 and all(re.fullmatch(r"[A-Za-z.\-]+", w) for w in words):
        keys.add(re.sub(r"[^a-z]", "", "".join(reversed(words)).lower()))
    keys.discard("")
    return frozenset(keys)


_B = r"(?P<b>[A-Z]?\d{1,3}|[A-Z])"
_U = r"(?P<u>\d{1,2})"
_R = r"(?P<r>[A-Z]?\d{3,4})"
_NOT_AFTER_DIGIT = r"(?<![0-9])"
_END = r"(?![0-9])"
# (building, unit, room) forms, most specific first.
_ROOM_FORMS = [
    # 5栋1单元803, 5号楼1单元803室, 5幢1单元803, 5座1单元803, 5#1单元803, 5栋1-803
    re.compile(
        _NOT_AFTER_DIGIT + _B + r"(?:号楼|栋|幢|座|#|号)-?" + _U + r"(?:单元|-|#)" + _R + _END
    ),
    # 5-1-803, 5#1-803, 5/1/803, 5.1.803
    re.compile(_NOT_AFTER_DIGIT + _B + r"[-#/_.]" + _U + r"[-#/_.]" + _R + _END),
]
# (building, room): 5幢803, 5栋803室, 5#803
_BUILDING_ROOM = re.compile(_NOT_AFTER_DIGIT + _B + r"(?:号楼|栋|幢|座|#)-?" + _R + _END)
# Two parts with a dash: unit-room (1-803) or building-room (12-S101).
_TWO_PARTS = re.compile(_NOT_AFTER_DIGIT + r"(?P<a>[A-Z]?\d{1,3})-" + _R + _END)


def room_mentions(text: str) -> list[tuple[str, str | None, str | None, str]]:
    """Room codes written in ``text``: ``(building, unit, room, as_written)``; building or unit is
    ``None`` where the writer left it out (``'1-803'`` gives both readings to the index)."""
    text = norm(text)
    found: list[tuple[str, str | None, str | None, str]] = []
    taken: list[tuple[int, int]] = []

    def free(span: tuple[int, int]) -> bool:
        return all(span[1] <= s or span[0] >= e for s, e in taken)

    for pattern in _ROOM_FORMS:
        for m in pattern.finditer(text):
            if free(m.span()):
                taken.append(m.span())
                found.append((m["b"], m["u"], m["r"], m.group(0)))
    for m in _BUILDING_ROOM.finditer(text):
        if free(m.span()):
            taken.append(m.span())
            found.append((m["b"], None, m["r"], m.group(0)))
    for m in _TWO_PARTS.finditer(text):
        if free(m.span()):
            taken.append(m.span())
            found.append(("?", m["a"], m["r"], m.group(0)))
    return found


def is_platform(counterparty: str, summary: str) -> bool:
    text = norm(counterparty) + "|" + norm(summary)
    return any(word in text for word in PLATFORM_WORDS)


# --- the project, read once ------------------------------------------------------------------------


@dataclass
class AccountInfo:
    id: int
    room_id: int
    room_code: str
    payer_id: int
    payer_name: str


@dataclass
class ProjectIndex:
    project_id: int
    accounts: dict[int, AccountInfo] = field(default_factory=dict)
    by_code: dict[tuple[str, str, str], int] = field(default_factory=dict)  # (b, u, r) → account
    by_building_room: dict[tuple[str, str], set[int]] = field(default_factory=dict)
    by_unit_room: dict[tuple[str, str], set[int]] = field(default_factory=dict)
    by_name: dict[str, set[tuple[int, str]]] = field(default_factory=dict)  # → (account, role)
    by_pinyin: dict[str, set[tuple[int, str]]] = field(default_factory=dict)
    person_of_name: dict[str, set[int]] = field(default_factory=dict)  # name → person ids
    cards: dict[str, set[int]] = field(default_factory=dict)  # card number → accounts
    payer_names: dict[str, set[int]] = field(default_factory=dict)  # earlier payers → accounts
    owed: dict[int, list[Decimal]] = field(
        default_factory=dict
    )  # account → open bills, oldest first
    # account → (a whole year ahead at the pay-ahead discount, how it was priced)
    ahead: dict[int, tuple[Decimal, str]] = field(default_factory=dict)
    ahead_rules: dict[int, object] = field(default_factory=dict)  # fee item → 12-month rule

    @classmethod
    def load(cls, project_id: int, on: datetime.date | None = None) -> ProjectIndex:
        """Reads rooms, current occupants and payer accounts of the project in a few queries."""

        on = on or timezone.localdate()
        index = cls(project_id=project_id)
        rooms = {
            r[0]: r
            for r in Room.objects.filter(project_id=project_id).values_list(
                "id", "code", "building__code", "unit__code", "number"
            )
        }
        current = list(
            Occupancy.objects.filter(
                Q(start_date__isnull=True) | Q(start_date__lte=on),
                Q(end_date__isnull=True) | Q(end_date__gte=on),
                room__project_id=project_id,
            ).values_list("room_id", "person_id", "person__name", "role", "is_payer")
        )
        payer_of_room: dict[int, int] = {}
        for room_id, person_id, _name, _role, is_payer in current:
            if is_payer:
                payer_of_room[room_id] = person_id
        for room_id, person_id, _name, role, _is_payer in current:
            if role == OccupancyRole.OWNER:
                payer_of_room.setdefault(room_id, person_id)
        account_of_room: dict[int, tuple[int, int, str]] = {}
        for acc_id, room_id, payer_id, payer_name in (
            Account.objects.filter(project_id=project_id)
            .order_by("created_at", "id")
            .values_list("id", "room_id", "payer_id", "payer__name")
        ):
            # The current payer's account; else the newest one of the room.
            if payer_of_room.get(room_id) == payer_id or (
                room_id not in account_of_room
                or account_of_room[room_id][1] != payer_of_room.get(room_id)
            ):
                account_of_room[room_id] = (acc_id, payer_id, payer_name)
        for room_id, (acc_id, payer_id, payer_name) in account_of_room.items():
            _id, code, b, u, number = rooms[room_id]
            index.accounts[acc_id] = AccountInfo(acc_id, room_id, code, payer_id, payer_name)
            b, u, number = norm(b), norm(u or ""), norm(number)
            index.by_code[(b, u, number)] = acc_id
            index.by_building_room.setdefault((b, number), set()).add(acc_id)
            index.by_unit_room.setdefault((u, number), set()).add(acc_id)
        for room_id, person_id, name, role, _is_payer in current:
            if room_id not in account_of_room:
                continue
            acc_id = account_of_room[room_id][0]
            key = name_key(name)
            index.by_name.setdefault(key, set()).add((acc_id, role))
            index.person_of_name.setdefault(key, set()).add(person_id)
            for pk in pinyin_keys(name):
                index.by_pinyin.setdefault(pk, set()).add((acc_id, role))
        for number, acc_id, holder in PayerCard.objects.filter(project_id=project_id).values_list(
            "number", "account_id", "holder"
        ):
            if acc_id not in index.accounts:
                continue
            index.cards.setdefault(number, set()).add(acc_id)
            if holder:
                index.payer_names.setdefault(name_key(holder), set()).add(acc_id)
        return index

    def load_owed(self, account_ids: Iterable[int], chunk: int = 500) -> None:
        """What each account still owes, bill by bill, oldest due first (principal only)."""
        wanted = [a for a in set(account_ids) if a not in self.owed]
        for a in wanted:
            self.owed[a] = []
        for start in range(0, len(wanted), chunk):
            ids = wanted[start : start + chunk]
            rows = (
                bill_outstanding(Bill.objects.filter(account_id__in=ids))
                .filter(outstanding__gt=0)
                .order_by("account_id", "due_date", "period_start", "id")
                .values_list("account_id", "outstanding")
            )
            for acc_id, outstanding in rows:
                self.owed[acc_id].append(money(outstanding))
            self._load_ahead(ids)

    def _load_ahead(self, ids: list[int]) -> None:
        """A year ahead for each account: per fee item that may be paid ahead, its latest bill (of
        the last 13 months) times the periods in a year, less the 12-month pay-ahead discount."""
        on = timezone.localdate()
        latest: dict[tuple[int, int], tuple] = {}
        rows = (
            Bill.objects.filter(
                account_id__in=ids,
                kind=BillKind.CHARGE,
                fee_item__method__in=PAY_AHEAD_METHODS,
                period_start__gte=on - datetime.timedelta(days=400),
            )
            .order_by("account_id", "fee_item_id", "-period_start", "-id")
            .values_list("account_id", "fee_item_id", "amount", "period_start", "period_end")
        )
        for acc_id, item_id, amount, start, end in rows:
            latest.setdefault((acc_id, item_id), (amount, start, end))
        for (acc_id, item_id), (amount, start, end) in latest.items():
            months = (end.year - start.year) * 12 + end.month - start.month + 1
            if months < 1 or 12 % months:
                continue
            if item_id not in self.ahead_rules:
                item = FeeItem.objects.get(pk=item_id)
                rule = pay_ahead_rule_for(item, 12, on)
                self.ahead_rules[item_id] = (rule, item.rounding)
            rule, rounding = self.ahead_rules[item_id]
            per_bill = money(amount)
            text = "无预交优惠"
            if rule is not None and rule.discount_rate > 0:
                per_bill -= money(per_bill * rule.discount_rate, rounding)
                text = f"{rule.name}，优惠 {(rule.discount_rate * 100).normalize():f}%"
            price = per_bill * (12 // months)
            before, before_text = self.ahead.get(acc_id, (ZERO, ""))
            self.ahead[acc_id] = (before + price, f"{before_text}；{text}" if before_text else text)

    def total_owed(self, account_id: int) -> Decimal:
        return sum(self.owed.get(account_id, []), ZERO)


# --- candidates and the decision -------------------------------------------------------------------


@dataclass
class Incoming:
    """What the matcher needs of a line."""

    amount: Decimal
    counterparty_name: str = ""
    counterparty_account: str = ""
    summary: str = ""
    remark: str = ""


@dataclass
class Candidate:
    account_id: int
    signals: dict[str, str] = field(default_factory=dict)  # kind → reason

    @property
    def score(self) -> int:
        return min(100, sum(POINTS[k] for k in self.signals))


@dataclass
class Decision:
    auto: bool
    parts: list[tuple[int, Decimal]]  # (account id, amount) when auto
    score: int
    reasons: list[str]
    suggestions: list[dict]


def card_key(number: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", number or "")


def identity(index: ProjectIndex, line: Incoming) -> tuple[dict[int, Candidate], dict]:
    """Candidates from the room code, the name and the card; ``facts`` says what each signal found."""
    cands: dict[int, Candidate] = {}
    facts: dict = {"rooms": [], "room_texts": [], "name_people": set(), "unknown_rooms": []}

    def add(acc_id: int, kind: str, reason: str) -> None:
        cands.setdefault(acc_id, Candidate(acc_id)).signals.setdefault(kind, reason)

    for b, u, r, written in room_mentions(f"{line.remark} {line.summary}"):
        hits: set[int] = set()
        if b != "?" and u is not None:
            hit = index.by_code.get((b, u, r))
            if hit is None and len(b) > 1 and b[0].isalpha():  # 'ZHANGSAN5-1-803': glued name
                hit = index.by_code.get((b[1:], u, r))
            if hit is not None:
                hits = {hit}
        elif b != "?":
            hits = index.by_building_room.get((b, r), set())
            if not hits and len(b) > 1 and b[0].isalpha():
                hits = index.by_building_room.get((b[1:], r), set())
        else:  # '1-803': unit-room in one building only, or building-room (12-S101, 5-803)
            hits = set(index.by_unit_room.get((u or "", r), set()))
            hits |= index.by_building_room.get((u or "", r), set())
        if len(hits) == 1:
            acc_id = next(iter(hits))
            facts["rooms"].append(acc_id)
            facts["room_texts"].append(written)
            add(acc_id, "room", f"附言中的房号“{written}”= {index.accounts[acc_id].room_code}")
        elif len(hits) > 1:
            facts["unknown_rooms"].append(f"“{written}”可指 {len(hits)} 户")
        else:
            facts["unknown_rooms"].append(f"“{written}”不是本项目的房号")

    name = name_key(line.counterparty_name)
    if name:
        exact = index.by_name.get(name, set())
        facts["name_people"] = set(index.person_of_name.get(name, set()))
        for acc_id, role in exact:
            add(
                acc_id, "name", f"付款人“{line.counterparty_name}”是该户{ROLE_LABELS.get(role, '')}"
            )
        for acc_id in index.payer_names.get(name, set()):
            add(acc_id, "payer", f"付款人“{line.counterparty_name}”曾为该户付款")
        if not exact:
            for key in pinyin_keys(line.counterparty_name):
                for acc_id, role in index.by_pinyin.get(key, set()):
                    add(
                        acc_id,
                        "pinyin",
                        f"付款人“{line.counterparty_name}”与该户{ROLE_LABELS.get(role, '')}"
                        f"“{index.accounts[acc_id].payer_name}”拼音相同",
                    )
    card = card_key(line.counterparty_account)
    if card:
        for acc_id in index.cards.get(card, set()):
            add(acc_id, "card", f"付款账号尾号{card[-4:]}曾确认为该户缴费")
    return cands, facts


def _amount_signal(index: ProjectIndex, acc_id: int, amount: Decimal) -> str | None:
    owed = index.owed.get(acc_id, [])
    total = sum(owed, ZERO)
    price, text = index.ahead.get(acc_id, (ZERO, ""))
    if price > 0 and amount == total + price:
        if total:
            return f"金额等于该户欠费 {total} 元加预交一年 {price} 元（{text}）"
        return f"金额等于该户预交一年 {price} 元（{text}）"
    if not owed:
        return None
    if amount == total:
        return f"金额等于该户全部欠费 {total} 元（{len(owed)} 笔）"
    running = ZERO
    for n, share in enumerate(owed[:OLDEST_N], start=1):
        running += share
        if running == amount and n < len(owed):
            return f"金额等于该户最早 {n} 笔账单 {running} 元"
    return None


def _split(
    index: ProjectIndex, acc_ids: list[int], amount: Decimal
) -> list[tuple[int, Decimal]] | None:
    """The amount across several rooms of one payer, exactly: each room what it owes, anything above
    to the first room's prepaid balance. ``None`` when the amount does not cover every room."""
    owed = [index.total_owed(a) for a in acc_ids]
    if amount < sum(owed, ZERO):
        return None
    parts = [[a, o] for a, o in zip(acc_ids, owed, strict=True)]
    parts[0][1] += amount - sum(owed, ZERO)
    return [(a, money(x)) for a, x in parts if x > 0]


def oldest_first_split(
    index: ProjectIndex, acc_ids: list[int], amount: Decimal
) -> list[tuple[int, Decimal]]:
    """A suggestion for a partial payment over several rooms: what each owes, first room first."""
    parts: list[tuple[int, Decimal]] = []
    left = amount
    for a in acc_ids:
        take = min(left, index.total_owed(a))
        if take > 0:
            parts.append((a, take))
            left -= take
    if left > 0:
        if parts and parts[0][0] == acc_ids[0]:
            parts[0] = (parts[0][0], parts[0][1] + left)
        else:
            parts.insert(0, (acc_ids[0], left))
    return parts


def decide(index: ProjectIndex, line: Incoming) -> Decision:
    """The matcher's answer for one incoming line (call ``index.load_owed`` for its candidates
    first, or let ``match_lines`` do it)."""
    cands, facts = identity(index, line)
    index.load_owed(cands)
    for acc_id, cand in cands.items():
        reason = _amount_signal(index, acc_id, line.amount)
        if reason:
            cand.signals["amount"] = reason
    blockers: list[str] = []
    if is_platform(line.counterparty_name, line.summary):
        blockers.append("支付平台结算款，一笔可能含多户，须人工核对")
    blockers += [f"附言房号{x}" for x in facts["unknown_rooms"]]

    room_ids = list(dict.fromkeys(facts["rooms"]))
    card_ids = {a for a, c in cands.items() if "card" in c.signals}
    name_ids = {a for a, c in cands.items() if {"name", "payer", "pinyin"} & set(c.signals)}
    if len(facts["name_people"]) > 1 and not room_ids and not card_ids:
        blockers.append(f"同名业主 {len(facts['name_people'])} 人")
    # The households the line is for: named rooms first, else the card, else the name.
    if room_ids:
        target = room_ids
        if card_ids and not card_ids & set(room_ids):
            blockers.append("付款账号曾为其他户缴费，与附言房号不符")
        if name_ids and not name_ids & set(room_ids):
            blockers.append("付款人是其他户的业主或住户，与附言房号不符")
    elif card_ids:
        target = sorted(card_ids)
        if name_ids and not name_ids & card_ids:
            blockers.append("付款人姓名与付款账号记录的住户不符")
    elif name_ids:
        target = sorted(name_ids)
    else:
        target = []

    ranked = sorted(cands.values(), key=lambda c: (-c.score, c.account_id))
    suggestions = [_suggestion(index, [c.account_id], line.amount, c) for c in ranked[:5]]
    if len(target) > 1:
        payers = {index.accounts[a].payer_id for a in target}
        if len(payers) == 1:
            group = _suggestion(index, target, line.amount, None, cands)
            suggestions.insert(0, group)
    if not target:
        reasons = blockers or ["附言、付款人和付款账号都对不上本项目的住户"]
        return Decision(False, [], ranked[0].score if ranked else 0, reasons, suggestions)

    payers = {index.accounts[a].payer_id for a in target}
    if len(payers) > 1:
        blockers.append(f"可能是 {len(payers)} 位不同缴费人的房屋")
    kinds: set[str] = set()
    for a in target:
        kinds |= set(cands[a].signals) if a in cands else set()
    strength = len(kinds & {"room", "card", "amount"}) + (1 if kinds & {"name", "payer"} else 0)
    if "pinyin" in kinds and not kinds & {"name", "payer"} and is_romanised(line.counterparty_name):
        strength += 1  # a bank's romanisation; a Chinese homophone (章三 for 张三) is only a hint
    if "card" in kinds:
        strength += 1
    if len(target) > 1 and "amount" not in kinds:
        # several rooms of one owner: a split is clear only when the amount is what they owe together
        total = sum((index.total_owed(a) for a in target), ZERO)
        if line.amount == total and total > 0:
            kinds.add("amount")
            strength += 1
    parts = [(target[0], line.amount)] if len(target) == 1 else _split(index, target, line.amount)
    if parts is None:
        blockers.append("金额不足以结清这几户，拆分方式须人工确认")
    reasons = [r for a in target if a in cands for r in cands[a].signals.values()]
    score = min(100, sum(POINTS[k] for k in kinds))
    if strength < 2:
        blockers.append("只有一个依据，须人工确认")
    if blockers or parts is None:
        return Decision(False, [], score, reasons + blockers, suggestions)
    return Decision(True, parts, score, reasons, suggestions)


def _suggestion(
    index: ProjectIndex,
    acc_ids: list[int],
    amount: Decimal,
    cand: Candidate | None,
    cands: dict[int, Candidate] | None = None,
) -> dict:
    if len(acc_ids) == 1:
        parts = [(acc_ids[0], amount)]
        reasons = list(cand.signals.values()) if cand else []
        score = cand.score if cand else 0
    else:
        parts = _split(index, acc_ids, amount) or oldest_first_split(index, acc_ids, amount)
        reasons = [f"同一缴费人的 {len(acc_ids)} 套房屋，按各户欠费拆分"]
        score = 0
        for a in acc_ids:
            if cands and a in cands:
                reasons += list(cands[a].signals.values())
                score = max(score, cands[a].score)
    return {
        "accounts": [a for a, _ in parts],
        "amounts": [str(x) for _, x in parts],
        "rooms": [index.accounts[a].room_code for a, _ in parts],
        "payer": index.accounts[acc_ids[0]].payer_name,
        "owed": [str(index.total_owed(a)) for a, _ in parts],
        "score": score,
        "reasons": reasons,
    }


def match_lines(index: ProjectIndex, lines: list[Incoming]) -> list[Decision]:
    """Decides every line; what candidates owe is read in chunks before deciding."""
    wanted: set[int] = set()
    for line in lines:
        cands, _facts = identity(index, line)
        wanted |= set(cands)
    index.load_owed(wanted)
    return [decide(index, line) for line in lines]
