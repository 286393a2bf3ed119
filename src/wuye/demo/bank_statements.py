"""Demo bank statements: a month of a project's receiving account as web banking exports it (.xlsx with
a title, account rows and a totals row), made from the project's own households with the messy lines
real statements have — room codes typed every which way, full-width digits, romanised names, relatives
and companies paying, a payment platform's settlement, bank fees — so that finance can try the import,
watch most lines match by themselves and resolve the rest from 待认领款.
"""

from __future__ import annotations

import datetime
import random
from collections import Counter
from decimal import Decimal

from pypinyin import lazy_pinyin

from wuye.billing.models import Account, Bill
from wuye.core import xlsx
from wuye.core.models import Project
from wuye.dunning.enums import CaseClass, CaseState
from wuye.dunning.models import ArrearsCase
from wuye.ledger.selectors.outstanding import bill_outstanding

ACCOUNT_NUMBER = "6222020200112233445"
FORMS = [
    "{b}-{u}-{r}",
    "{b}栋{u}单元{r}室",
    "{b}#{u}-{r}",
    "{b}号楼{u}单元{r}物业费",
    "交物业费{b}-{u}-{r}",
    "{fb}－{fu}－{fr}",
    "{b}幢{u}单元{r}",
]
STRANGERS = ["某某贸易有限公司", "欧阳明远", "司马文静", "诸葛晓东", "某某装饰工程有限公司"]
HEADER = [
    "交易日期",
    "交易时间",
    "摘要",
    "收入金额(元)",
    "支出金额(元)",
    "余额",
    "对方户名",
    "对方账号",
    "附言",
    "交易流水号",
]


def _full(text: str) -> str:
    return text.translate(str.maketrans("0123456789", "０１２３４５６７８９"))


def statement_rows(
    project: Project,
    month: datetime.date,
    lines: int,
    rng: random.Random,
    last_day: datetime.date | None = None,
) -> list[list[object]]:
    """``lines`` rows of the month's statement, oldest first, dated up to ``last_day`` (default the
    28th: a month that is not over yet stops at yesterday)."""
    span = 27 if last_day is None else max((last_day - month).days, 0)
    accounts = list(
        Account.objects.filter(project=project).select_related("room", "payer").order_by("id")
    )
    if not accounts:
        return []
    owed: dict[int, list[Decimal]] = {}
    for acc_id, outstanding in (
        bill_outstanding(Bill.objects.filter(project=project))
        .filter(outstanding__gt=0)
        .order_by("account_id", "due_date", "id")
        .values_list("account_id", "outstanding")
    ):
        owed.setdefault(acc_id, []).append(Decimal(outstanding).quantize(Decimal("0.01")))
    names = Counter(a.payer.name for a in accounts)
    # Owners nobody can reach (class C) do not send money either: their cases stay for the demo.
    unreachable = set(
        ArrearsCase.objects.filter(
            project=project, state=CaseState.OPEN, case_class=CaseClass.C
        ).values_list("account_id", flat=True)
    )
    debtors = [a for a in accounts if owed.get(a.pk) and a.pk not in unreachable] or accounts
    balance = Decimal("50000.00")
    rows: list[list[object]] = []
    for n in range(lines):
        a = rng.choice(debtors)
        own = owed.get(a.pk) or [Decimal(rng.randrange(10000, 60000)) / 100]
        k = rng.randint(1, len(own))
        amount = sum(own[:k], Decimal("0.00"))
        parts = a.room.code.split("-")
        room = a.room.code
        if len(parts) == 3:
            b, u, r = parts
            room = rng.choice(FORMS).format(b=b, u=u, r=r, fb=_full(b), fu=_full(u), fr=_full(r))
        name, card, remark, summary, out = a.payer.name, "", "", "转账", False
        roll = rng.random()
        if roll < 0.35:
            remark = room + rng.choice(["", "物业费", " 张", " 12月"])
        elif roll < 0.50 and names[a.payer.name] == 1:
            remark = rng.choice(["物业费", "交费", ""])
        elif roll < 0.60:
            name = " ".join(s.upper() for s in lazy_pinyin(a.payer.name))
            remark = room
        elif roll < 0.72:
            name = rng.choice(STRANGERS)
            remark = room
        elif roll < 0.80:
            name = rng.choice(STRANGERS)
            remark = rng.choice(["货款", "往来款", ""])
            amount = Decimal(rng.randrange(5000, 300000)) / 100
        elif roll < 0.84:
            name, summary, remark = "财付通支付科技有限公司", "批量结算", "微信支付结算"
            amount = Decimal(rng.randrange(100000, 900000)) / 100
        elif roll < 0.90:
            name, summary, out, amount = "", "手续费", True, Decimal("5.00")
        else:
            card = f"6217{a.pk:012d}"
            remark = room
        day = month + datetime.timedelta(days=n * (span + 1) // max(lines, 1))
        balance += -amount if out else amount
        rows.append(
            [
                day.isoformat(),
                f"{8 + n % 11:02d}:{(n * 13) % 60:02d}:{(n * 7) % 60:02d}",
                summary,
                "" if out else f"{amount:.2f}",
                f"{amount:.2f}" if out else "",
                f"{balance:.2f}",
                name,
                card,
                remark,
                f"DEMO{month:%Y%m}{n:05d}",
            ]
        )
    return rows


def statement_xlsx(
    project: Project,
    month: datetime.date,
    lines: int = 200,
    seed: int = 7,
    last_day: datetime.date | None = None,
) -> bytes:
    """The month's statement of the project's receiving account, as web banking exports it."""
    rows = statement_rows(project, month, lines, random.Random(seed), last_day)
    workbook = xlsx.workbook()
    sheet = workbook.create_sheet("账户明细")
    sheet.append(["中国工商银行 账户交易明细"])
    sheet.append([f"账号：{ACCOUNT_NUMBER}", None, f"户名：{project.name}物业服务中心"])
    end = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    sheet.append([f"起止日期：{month:%Y-%m-%d} 至 {end - datetime.timedelta(days=1):%Y-%m-%d}"])
    sheet.append([])
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    incoming = sum((Decimal(r[3]) for r in rows if r[3]), Decimal("0.00"))
    outgoing = sum((Decimal(r[4]) for r in rows if r[4]), Decimal("0.00"))
    sheet.append(["合计", None, None, f"{incoming:.2f}", f"{outgoing:.2f}"])
    return xlsx.save(workbook)
