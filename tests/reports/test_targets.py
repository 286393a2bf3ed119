"""收费计划: the plan, its split, what is refused and what is only warned about, and progress."""

from decimal import Decimal

import pytest
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.ledger.factories import monthly_bills
from tests.reports.builders import D, account, fee_item, pay
from wuye.core.errors import ValidationFailed
from wuye.core.models import AuditEntry
from wuye.core.roles import Role
from wuye.dunning.models import CollectionTeam
from wuye.registry import services as registry
from wuye.reports import figures, services
from wuye.reports.models import CollectionPlan, PlanTarget
from wuye.reports.services import TargetLine

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(project, manager):
    return services.plan_save(
        user=manager,
        project=project,
        year=2025,
        split="month",
        target_amount=Decimal("120000.05"),
        target_rate=Decimal("95"),
    )


@given(
    total=st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False),
    parts=st.sampled_from([4, 12]),
)
@settings(max_examples=200, deadline=None)
def test_an_even_split_adds_up_to_the_fen_and_differs_by_at_most_one_fen(total, parts):
    shares = services.even_split(total, parts)
    assert len(shares) == parts
    assert sum(shares) == total
    assert max(shares) - min(shares) <= Decimal("0.01")


def test_the_even_split_button_fills_twelve_months_that_add_up(client, manager, plan):
    client.force_login(manager)
    response = client.post(reverse("reports:plan", args=[plan.pk]), {"action": "even"})
    assert response.status_code == 302
    amounts = list(plan.targets.values_list("amount", flat=True))
    assert len(amounts) == 12 and sum(amounts) == Decimal("120000.05")
    assert services.plan_warnings(plan) == []


def test_a_split_that_does_not_add_up_is_saved_with_a_warning(manager, plan):
    lines = [TargetLine(n, Decimal("10000.00")) for n in range(1, 12)]  # November is missing
    warnings = services.targets_save(user=manager, plan=plan, lines=lines)
    assert plan.targets.count() == 11
    assert warnings == ["各期项目指标合计 110000.00 元，与年度目标 120000.05 元少 10000.05 元。"]


def test_steward_lines_above_the_project_line_are_warned_about(manager, plan, project, steward):
    lines = [
        TargetLine(1, Decimal("100.00")),
        TargetLine(1, Decimal("150.00"), steward_id=steward.pk),
    ]
    warnings = services.targets_save(user=manager, plan=plan, lines=lines)
    assert any("1月：楼管指标合计 150.00 元，超过项目当期指标 100.00 元" in w for w in warnings)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (TargetLine(13, Decimal("1.00")), "期间：按月分解只有 1–12 期，第 13 期不存在"),
        (TargetLine(2, Decimal("-1.00")), "2月：实收目标不能为负数"),
        (TargetLine(2, Decimal("1.001")), "2月：实收目标最多两位小数（分）"),
        (TargetLine(2, Decimal("1.00"), households=-3), "2月：目标缴清户数不能为负数"),
    ],
)
def test_a_bad_line_is_refused_and_nothing_changes(manager, plan, line, message):
    services.targets_save(user=manager, plan=plan, lines=[TargetLine(1, Decimal("5.00"))])
    with pytest.raises(ValidationFailed) as exc:
        services.targets_save(user=manager, plan=plan, lines=[TargetLine(1, Decimal("9.00")), line])
    assert exc.value.message == message
    assert list(plan.targets.values_list("period_no", "amount")) == [(1, Decimal("5.00"))]


def test_a_steward_of_another_project_or_a_foreign_team_is_refused(
    manager, plan, make_user, other_project
):
    outsider = make_user("outsider", Role.STEWARD, other_project)
    with pytest.raises(ValidationFailed, match="责任人不是本项目的员工"):
        services.targets_save(
            user=manager, plan=plan, lines=[TargetLine(1, Decimal("1.00"), steward_id=outsider.pk)]
        )
    team = CollectionTeam.objects.create(project=other_project, name="外组", leader=outsider)
    with pytest.raises(ValidationFailed, match="催收小组不属于本项目"):
        services.targets_save(
            user=manager, plan=plan, lines=[TargetLine(1, Decimal("1.00"), team_id=team.pk)]
        )


def test_the_same_period_twice_for_one_steward_is_refused(manager, plan, steward):
    lines = [TargetLine(3, Decimal("1.00"), steward_id=steward.pk)] * 2
    with pytest.raises(ValidationFailed, match="同一责任人同一期只能有一条指标"):
        services.targets_save(user=manager, plan=plan, lines=lines)


def test_a_second_plan_for_the_same_year_is_refused(manager, project, plan):
    with pytest.raises(ValidationFailed, match="年度：锦绣花园 2025 年已有收费计划"):
        services.plan_save(
            user=manager, project=project, year=2025, split="month", target_amount=Decimal("1")
        )


def test_switching_month_to_quarter_with_lines_is_refused(manager, project, plan):
    services.targets_even_split(user=manager, plan=plan)
    with pytest.raises(ValidationFailed, match="分解方式：已有分解指标"):
        services.plan_save(
            user=manager,
            project=project,
            plan=plan,
            year=2025,
            split="quarter",
            target_amount=plan.target_amount,
        )


def test_every_plan_write_leaves_an_audit_entry(manager, plan):
    services.targets_even_split(user=manager, plan=plan)
    actions = list(
        AuditEntry.objects.filter(user=manager).order_by("id").values_list("action", flat=True)
    )
    assert actions[-2:] == ["reports.plan_create", "reports.targets_save"]


def test_a_steward_even_split_keeps_the_project_lines(manager, plan, steward):
    services.targets_even_split(user=manager, plan=plan)
    services.targets_even_split(
        user=manager, plan=plan, steward_id=steward.pk, total=Decimal("1200.00"), households=30
    )
    mine = PlanTarget.objects.filter(plan=plan, steward=steward)
    assert sum(mine.values_list("amount", flat=True)) == Decimal("1200.00")
    assert sorted(mine.values_list("households", flat=True)) == [2] * 6 + [3] * 6
    assert plan.targets.filter(steward__isnull=True).count() == 12


def test_the_sheet_form_names_the_cell_at_fault(client, manager, plan):
    client.force_login(manager)
    response = client.post(
        reverse("reports:plan", args=[plan.pk]), {"action": "sheet", "a_p_1": "100", "a_p_2": "abc"}
    )
    assert response.status_code == 400
    assert "项目 2月 实收目标：请输入金额，如 100000.00" in response.content.decode()
    assert not plan.targets.exists()


def test_only_the_manager_or_company_admin_may_change_a_plan(client, make_user, project, plan):
    supervisor = make_user("supervisor", Role.SUPERVISOR, project)
    client.force_login(supervisor)
    assert client.get(reverse("reports:plan", args=[plan.pk])).status_code == 200
    response = client.post(reverse("reports:plan", args=[plan.pk]), {"action": "even"})
    assert response.status_code == 403
    assert not plan.targets.exists()


def test_the_plan_services_refuse_whoever_may_not_change_a_plan(make_user, project, plan):
    """The page is not the only way in (a script, a later API): the services check the actor too."""
    supervisor = make_user("supervisor", Role.SUPERVISOR, project)
    lines = [TargetLine(1, Decimal("5.00"))]
    with pytest.raises(ValidationFailed, match="不能编辑收费计划"):
        services.targets_save(user=supervisor, plan=plan, lines=lines)
    with pytest.raises(ValidationFailed, match="不能编辑收费计划"):
        services.targets_even_split(user=supervisor, plan=plan)
    with pytest.raises(ValidationFailed, match="不能编辑收费计划"):
        services.plan_save(
            user=supervisor, project=project, year=2026, split="month", target_amount=Decimal("1")
        )
    with pytest.raises(ValidationFailed, match="登录"):
        services.targets_save(user=None, plan=plan, lines=lines)
    assert not plan.targets.exists()
    assert CollectionPlan.objects.filter(project=project).count() == 1


def test_a_plan_of_another_project_is_not_found(client, make_user, other_project, plan):
    stranger = make_user("stranger", Role.PROJECT_MANAGER, other_project)
    client.force_login(stranger)
    assert client.get(reverse("reports:plan", args=[plan.pk])).status_code == 404


def test_creating_a_plan_from_the_page(client, manager, project):
    client.force_login(manager)
    response = client.post(
        reverse("reports:plans"),
        {"project": project.pk, "year": 2026, "split": "quarter", "target_amount": "abc"},
    )
    assert response.status_code == 400
    assert "年度实收目标(本金，元)：请输入金额" in response.content.decode()
    response = client.post(
        reverse("reports:plans"),
        {"project": project.pk, "year": 2026, "split": "quarter", "target_amount": "4000.00"},
    )
    plan = CollectionPlan.objects.get(project=project, year=2026)
    assert response.status_code == 302 and plan.split == "quarter"


def test_progress_compares_target_with_money_received_and_households(
    client, manager, project, cashier, steward, plan
):
    item = fee_item(project)
    a = account(project, "1-1-101")
    b = account(project, "2-1-201")
    registry.building_assign_steward(user=None, building=a.room.building, steward=steward)
    monthly_bills(a, item, D(2025, 1, 1), 2)  # 100 in January, 100 in February
    monthly_bills(b, item, D(2025, 1, 1), 2)
    pay(cashier, a, "100.00", business_date=D(2025, 1, 10))
    services.targets_save(
        user=manager,
        plan=plan,
        lines=[
            TargetLine(1, Decimal("150.00"), households=2),
            TargetLine(2, Decimal("200.00"), households=2),
            TargetLine(1, Decimal("100.00"), steward_id=steward.pk),
        ],
    )
    progress = figures.plan_progress(plan, D(2025, 2, 14))
    january = progress["periods"][0]
    assert (january.project.target, january.project.actual) == (
        Decimal("150.00"),
        Decimal("100.00"),
    )
    assert january.project.gap == Decimal("50.00")
    assert (january.project.households_billed, january.project.households_clear) == (2, 1)
    assert january.project.households_gap == 1
    assert january.project.status == "behind"  # 100 of 150 after the month ended
    [mine] = january.owners
    assert (mine.actual, mine.status) == (Decimal("100.00"), "ok")
    february = progress["periods"][1]
    assert february.project.expected == Decimal("100.00")  # 14 of 28 days of 200
    assert progress["periods"][2].project.status == "future"
    client.force_login(manager)
    response = client.get(reverse("reports:plan_progress", args=[plan.pk]), {"as_of": "2025-02-14"})
    assert response.status_code == 200 and "st-behind" in response.content.decode()


def test_the_demo_plan_is_95_percent_of_the_year_split_by_month_and_steward(
    project, steward, company, manager
):
    from wuye.demo.plans import make_plans

    item = fee_item(project)
    a = account(project, "1-1-101")
    b = account(project, "2-1-201")
    registry.building_assign_steward(user=None, building=a.room.building, steward=steward)
    monthly_bills(a, item, D(2025, 1, 1), 6, amount="300.00")
    monthly_bills(b, item, D(2025, 1, 1), 6, amount="100.00")
    [plan] = make_plans(company=company, user=manager, today=D(2025, 6, 20))
    # 2,400 billed in six months → 4,800 a year × 95% = 4,560
    assert plan.target_amount == Decimal("4560.00")
    project_lines = plan.targets.filter(steward__isnull=True)
    assert sum(project_lines.values_list("amount", flat=True)) == plan.target_amount
    assert services.plan_warnings(plan) == []
    mine = plan.targets.filter(steward=steward).order_by("period_no")
    # Only 1-1-101's building has a steward, so each month's figure is theirs in full.
    assert [t.amount for t in mine] == [t.amount for t in project_lines.order_by("period_no")]
    assert make_plans(company=company, user=manager, today=D(2025, 6, 20)) == []  # once a year
