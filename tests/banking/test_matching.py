"""The matcher: each signal alone and combined, splits, and every ambiguous shape kept out of the
automatic path."""

from decimal import Decimal

import pytest

from tests.banking import factories as f
from wuye.banking.matching import Incoming, ProjectIndex, decide, room_mentions
from wuye.banking.models import PayerCard

D = f.D


@pytest.fixture
def homes(project, item):
    """5-1-803 (张三, owes 3 × 200), 5-2-803 (李四, owes 2 × 150), 6-1-1201 (王五, owes nothing)."""
    a = f.account(project, "5-1-803", owner="张三")
    b = f.account(project, "5-2-803", owner="李四")
    c = f.account(project, "6-1-1201", owner="王五")
    f.monthly_bills(a, item, D(2025, 1, 1), 3, "200.00")
    f.monthly_bills(b, item, D(2025, 1, 1), 2, "150.00")
    return a, b, c


def run(project, amount, *, name="", card="", remark="", summary="转账"):
    index = ProjectIndex.load(project.pk)
    line = Incoming(
        amount=Decimal(str(amount)),
        counterparty_name=name,
        counterparty_account=card,
        summary=summary,
        remark=remark,
    )
    return decide(index, line)


@pytest.mark.parametrize(
    "remark",
    [
        "5-1-803物业费",
        "锦绣花园5栋1单元803室物业费",
        "５－１－８０３",  # full-width digits and dashes
        "5#1-803",
        "5号楼1单元803",
        "交物业费5栋1-803张三",
        "物业费2025年1-3月5/1/803",
    ],
)
def test_room_code_forms_people_type_are_read(remark):
    found = {(b, u, r) for b, u, r, _ in room_mentions(remark)}
    assert ("5", "1", "803") in found


def test_room_code_without_unit_is_read_as_building_and_room():
    assert [(b, u, r) for b, u, r, _ in room_mentions("5幢803")] == [("5", None, "803")]


def test_a_phone_number_in_the_remark_is_not_a_room(project, homes):
    decision = run(project, "600.00", name="陌生人", remark="联系电话138-1234-5678")
    assert not decision.auto


def test_room_code_and_owner_name_auto_confirm(project, homes):
    a, _, _ = homes
    decision = run(project, "123.00", name="张三", remark="5-1-803")
    assert decision.auto
    assert decision.parts == [(a.pk, Decimal("123.00"))]
    assert any("5-1-803" in r for r in decision.reasons)


def test_room_code_alone_goes_to_the_queue(project, homes):
    decision = run(project, "123.00", name="赵六", remark="5栋1单元803")
    assert not decision.auto
    assert decision.suggestions[0]["rooms"] == ["5-1-803"]


def test_room_code_and_exact_amount_owed_auto_confirm(project, homes):
    a, _, _ = homes
    decision = run(project, "600.00", name="赵六", remark="5-1-803")
    assert decision.auto and decision.parts == [(a.pk, Decimal("600.00"))]


def test_oldest_bills_amount_is_a_signal(project, homes):
    decision = run(project, "400.00", name="张三")
    assert decision.auto
    assert any("最早 2 笔" in r for r in decision.reasons)


def test_name_alone_with_an_amount_owed_by_no_one_goes_to_the_queue(project, homes):
    decision = run(project, "77.00", name="张三")
    assert not decision.auto
    assert decision.suggestions and decision.suggestions[0]["rooms"] == ["5-1-803"]


def test_unit_and_room_only_resolves_when_one_building_has_it(project, homes):
    # 1-803 exists only in building 5, unit 1; 2-803 only in building 5, unit 2
    a, _, _ = homes
    decision = run(project, "600.00", name="某人", remark="1-803")
    assert decision.auto and decision.parts[0][0] == a.pk


def test_unit_and_room_shared_by_two_buildings_goes_to_the_queue(project, item, homes):
    f.account(project, "7-1-803", owner="孙七")
    decision = run(project, "600.00", name="某人", remark="1-803")
    assert not decision.auto


def test_name_with_spaces_traditional_and_pinyin(project, homes):
    a, _, _ = homes
    for name in ("张 三", "張三", "ZHANG SAN", "SAN ZHANG", "zhangsan"):
        decision = run(project, "600.00", name=name)
        assert decision.auto, name
        assert decision.parts == [(a.pk, Decimal("600.00"))]


def test_a_chinese_homophone_is_only_a_hint(project, homes):
    decision = run(project, "600.00", name="章三")  # same pinyin as 张三, another person
    assert not decision.auto
    assert decision.suggestions[0]["rooms"] == ["5-1-803"]


def test_tenant_and_co_owner_names_count(project, homes):
    a, _, _ = homes
    f.add_occupant(a, "钱租客", "tenant")
    f.add_occupant(a, "张太太", "co_owner")
    for name in ("钱租客", "张太太"):
        decision = run(project, "600.00", name=name)
        assert decision.auto and decision.parts[0][0] == a.pk


def test_payer_card_seen_before_is_enough(project, homes):
    a, _, _ = homes
    PayerCard.objects.create(
        project=project,
        number="6217000011112222",
        account=a,
        holder="张小明",
        last_seen=D(2025, 1, 1),
    )
    decision = run(project, "88.00", name="张小明", card="6217 0000 1111 2222")
    assert decision.auto and decision.parts == [(a.pk, Decimal("88.00"))]
    assert any("尾号2222" in r for r in decision.reasons)


def test_card_of_one_household_with_remark_of_another_goes_to_the_queue(project, homes):
    a, b, _ = homes
    PayerCard.objects.create(
        project=project,
        number="6217000011112222",
        account=a,
        holder="张三",
        last_seen=D(2025, 1, 1),
    )
    decision = run(project, "300.00", name="张三", card="6217000011112222", remark="5-2-803")
    assert not decision.auto
    assert any("与附言房号不符" in r for r in decision.reasons)


def test_card_shared_by_two_households_of_different_payers_goes_to_the_queue(project, homes):
    a, b, _ = homes
    for acc in (a, b):
        PayerCard.objects.create(
            project=project, number="62170001", account=acc, holder="某人", last_seen=D(2025, 1, 1)
        )
    assert not run(project, "300.00", card="62170001").auto


def test_a_name_shared_by_two_owners_goes_to_the_queue(project, item, homes):
    other = f.account(project, "8-1-101", owner="张三")
    f.monthly_bills(other, item, D(2025, 1, 1), 3, "200.00")
    decision = run(project, "600.00", name="张三")
    assert not decision.auto
    assert any("同名" in r for r in decision.reasons)
    # a room code settles it
    assert run(project, "600.00", name="张三", remark="8-1-101").auto


def test_stranger_with_an_amount_several_households_owe_goes_to_the_queue(project, item, homes):
    decision = run(project, "300.00", name="陌生人")
    assert not decision.auto and decision.score == 0


def test_payment_platform_settlement_goes_to_the_queue(project, homes):
    decision = run(
        project, "600.00", name="财付通支付科技有限公司", remark="5-1-803 张三", summary="批量结算"
    )
    assert not decision.auto
    assert any("支付平台" in r for r in decision.reasons)


def test_owner_name_pointing_at_another_room_goes_to_the_queue(project, homes):
    decision = run(project, "300.00", name="张三", remark="5-2-803")
    assert not decision.auto


def test_unknown_room_code_in_remark_goes_to_the_queue(project, homes):
    decision = run(project, "600.00", name="张三", remark="9-9-999")
    assert not decision.auto
    assert any("不是本项目的房号" in r for r in decision.reasons)


def test_several_rooms_of_one_owner_split_exactly(project, item, homes):
    a, _, _ = homes
    a2 = f.second_room(project, a, "6-2-502")
    f.monthly_bills(a2, item, D(2025, 1, 1), 2, "100.00")
    decision = run(project, "800.00", name="张三", remark="5-1-803 6-2-502")
    assert decision.auto
    assert sorted(decision.parts) == sorted([(a.pk, Decimal("600.00")), (a2.pk, Decimal("200.00"))])
    # by name alone, the amount owed together makes the split clear
    decision = run(project, "800.00", name="张三")
    assert decision.auto and sum(x for _, x in decision.parts) == Decimal("800.00")


def test_several_rooms_partly_paid_goes_to_the_queue_with_an_oldest_first_split(
    project, item, homes
):
    a, _, _ = homes
    a2 = f.second_room(project, a, "6-2-502")
    f.monthly_bills(a2, item, D(2025, 1, 1), 2, "100.00")
    decision = run(project, "650.00", name="张三", remark="5-1-803 6-2-502")
    assert not decision.auto
    group = decision.suggestions[0]
    assert sum(Decimal(x) for x in group["amounts"]) == Decimal("650.00")


def test_overpayment_of_one_household_is_auto_confirmed_in_full(project, homes):
    a, _, _ = homes
    decision = run(project, "1000.00", name="张三", remark="5-1-803")
    assert decision.auto and decision.parts == [(a.pk, Decimal("1000.00"))]


def test_rooms_of_two_different_payers_in_one_remark_go_to_the_queue(project, homes):
    assert not run(project, "900.00", name="张三", remark="5-1-803 5-2-803").auto
