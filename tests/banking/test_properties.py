"""Property: statements built at random from known households never produce a wrong automatic match.

The project is built to be hard: two owners share a name, another owner's name sounds the same
(章伟 / 张伟), one owner has two rooms, the same unit and room number exist in two buildings, a tenant
pays, one card paid for two households of different payers, and strangers (relatives, companies) pay
with or without the room code. Each generated line pays for one known household; whatever the matcher
posts by itself must be exactly that household.
"""

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.banking import factories as f
from wuye.banking.matching import Incoming, ProjectIndex, decide
from wuye.banking.models import PayerCard

D = f.D
FORMS = [
    "{b}-{u}-{r}",
    "{b}栋{u}单元{r}室",
    "{b}#{u}-{r}",
    "{b}号楼{u}单元{r}",
    "锦绣花园{b}-{u}-{r}物业费",
    "物业费{b}栋{u}单元{r}",
    "{fb}－{fu}－{fr}",
]
STRANGERS = ["王建国", "刘芳", "某某贸易有限公司", "陈静", "LI MING", ""]


@pytest.fixture
def world(project, item):
    specs = [
        ("5-1-803", "张伟", "200.00", 3),
        ("6-1-803", "张伟", "150.00", 2),  # namesake; same unit-room as 5-1-803
        ("7-2-1201", "章伟", "180.00", 4),  # homophone of 张伟
        ("8-1-101", "李娜", "120.00", 2),
        ("8-1-102", "赵磊", "0", 0),  # owes nothing
        ("9-3-502", "孙丽", "99.50", 5),
    ]
    homes = {}
    for code, owner, amount, months in specs:
        acc = f.account(project, code, owner=owner)
        if months:
            f.monthly_bills(acc, item, D(2025, 1, 1), months, amount)
        homes[code] = acc
    second = f.second_room(project, homes["8-1-101"], "10-1-606")  # 李娜's second room
    f.monthly_bills(second, item, D(2025, 1, 1), 2, "120.00")
    homes["10-1-606"] = second
    f.add_occupant(homes["9-3-502"], "周租客", "tenant")
    cards = {"5-1-803": "6217000000000001", "9-3-502": "6217000000000009"}
    for code, number in cards.items():
        PayerCard.objects.create(
            project=project, number=number, account=homes[code], holder="", last_seen=D(2025, 1, 1)
        )
    for code in ("7-2-1201", "8-1-102"):  # one card, two payers
        PayerCard.objects.create(
            project=project,
            number="6217000000000777",
            account=homes[code],
            holder="",
            last_seen=D(2025, 1, 1),
        )
    cards["7-2-1201"] = cards["8-1-102"] = "6217000000000777"
    index = ProjectIndex.load(project.pk)
    index.load_owed(index.accounts)
    names = {
        code: [homes[code].payer.name] + (["周租客"] if code == "9-3-502" else []) for code in homes
    }
    return index, homes, cards, names


def full(text: str) -> str:
    return text.translate(str.maketrans("0123456789", "０１２３４５６７８９"))


@st.composite
def lines(draw, world):
    index, homes, cards, names = world
    code = draw(st.sampled_from(sorted(homes)))
    acc = homes[code]
    b, u, r = code.split("-")
    remark = ""
    if draw(st.booleans()):
        form = draw(st.sampled_from(FORMS))
        remark = form.format(b=b, u=u, r=r, fb=full(b), fu=full(u), fr=full(r))
    remark += draw(st.sampled_from(["", "物业费", " 12月", "张", "交费"]))
    who = draw(st.sampled_from(["occupant", "stranger", "spaced", "traditional", "roman"]))
    name = draw(st.sampled_from(names[code]))
    if who == "stranger":
        name = draw(st.sampled_from(STRANGERS))
    elif who == "spaced":
        name = " ".join(name)
    elif who == "traditional":
        name = name.replace("张", "張").replace("赵", "趙").replace("孙", "孫")
    elif who == "roman":
        from pypinyin import lazy_pinyin

        name = " ".join(s.upper() for s in lazy_pinyin(name))
    card = draw(st.sampled_from(["", "6222999988887777", cards.get(code, "")]))
    owed = index.owed.get(acc.pk, [])
    choices = [Decimal(draw(st.integers(1, 200000))) / 100]
    if owed:
        choices += [sum(owed), sum(owed[: draw(st.integers(1, len(owed)))])]
    amount = draw(st.sampled_from(choices))
    return acc.pk, Incoming(
        amount=amount, counterparty_name=name, counterparty_account=card, remark=remark
    )


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_statements_never_produce_a_wrong_automatic_match(world, data):
    index = world[0]
    truth, line = data.draw(lines(world))
    decision = decide(index, line)
    event("auto" if decision.auto else "review")
    if decision.auto:
        assert [a for a, _ in decision.parts] == [truth], (line, decision.reasons)
        assert sum(x for _, x in decision.parts) == line.amount
