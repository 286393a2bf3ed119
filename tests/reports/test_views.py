"""Report pages: who sees which figures, bad filters named, bounded queries, click-through."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.ledger.factories import monthly_bills
from tests.reports.builders import D, account, bill, fee_item, pay
from wuye.core.roles import Role
from wuye.registry import services as registry

pytestmark = pytest.mark.django_db

AS_OF = "2025-06-30"
YEAR = {"as_of": AS_OF, "window": "year"}


@pytest.fixture
def ledger(project, other_project, cashier, make_user):
    """锦绣花园: 1-1-101 owes March–June (400.00), 2-1-201 paid everything; 翠湖苑 owes 9,999.00."""
    item = fee_item(project)
    owing = account(project, "1-1-101", owner="张三丰")
    paid = account(project, "2-1-201", owner="李四")
    bill(owing, item, "100.00", D(2024, 1, 1))  # paid first: allocation is oldest first
    monthly_bills(owing, item, D(2025, 1, 1), 6)
    monthly_bills(paid, item, D(2025, 1, 1), 6)
    pay(cashier, owing, "300.00", business_date=D(2025, 3, 20))
    pay(cashier, paid, "600.00", business_date=D(2025, 6, 1))
    other_item = fee_item(other_project)
    far = account(other_project, "9-9-901", owner="王五")
    bill(far, other_item, "9999.00", D(2025, 1, 1))
    return {"owing": owing, "paid": paid, "far": far}


def get(client, user, name, **params):
    client.force_login(user)
    return client.get(reverse(name), params)


def test_dashboard_shows_the_figures_of_the_managers_project_only(client, manager, ledger):
    response = get(client, manager, "reports:dashboard", **YEAR)
    assert response.status_code == 200
    board = response.context["b"]
    assert board.owed == Decimal("400.00")  # not the 9,999.00 of 翠湖苑
    assert board.head.current_billed == Decimal("1200.00")
    assert board.head.households_billed == 2 and board.head.households_clear == 1
    assert "9,999.00" not in response.content.decode()


def test_company_finance_sees_every_project_of_the_company(client, make_user, company, ledger):
    finance = make_user("finance", Role.FINANCE, company_role=Role.FINANCE)
    response = get(client, finance, "reports:dashboard", **YEAR)
    assert response.context["b"].owed == Decimal("10399.00")


def test_a_project_outside_the_users_scope_is_refused_naming_the_field(
    client, manager, other_project, ledger
):
    response = get(client, manager, "reports:dashboard", project=other_project.pk, **YEAR)
    assert response.status_code == 400
    assert "项目：该项目不存在或不在您的权限范围内" in response.content.decode()
    assert "b" not in response.context


def test_households_of_another_project_are_never_listed(client, manager, ledger, other_project):
    response = get(client, manager, "reports:households", figure="aging", **YEAR)
    codes = [r.room_code for r in response.context["page"]]
    assert codes == ["1-1-101"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"as_of": "2025-13-40"}, "截至日期：请输入正确的日期（YYYY-MM-DD）"),
        ({"window": "decade"}, "统计区间：只能选本月、本年或自定义"),
        ({"window": "custom", "start": "2025-05-01"}, "结束日期：自定义区间需要结束日期"),
        (
            {"window": "custom", "start": "2025-05-01", "end": "2025-04-01"},
            "结束日期：结束日期不能早于开始日期",
        ),
        ({"project": "abc"}, "项目：该项目不存在或不在您的权限范围内"),
    ],
)
def test_a_bad_filter_gets_a_message_naming_the_field(client, manager, ledger, params, message):
    response = get(client, manager, "reports:dashboard", **params)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_a_bad_figure_on_the_households_page_is_named(client, manager, ledger):
    response = get(client, manager, "reports:households", figure="everything", **YEAR)
    assert response.status_code == 400
    assert "数字：没有这个数字" in response.content.decode()
    response = get(client, manager, "reports:households", figure="aging", bucket="9", **YEAR)
    assert "账龄段：账龄段为 0–5" in response.content.decode()


def test_a_cashier_sees_no_reports(client, cashier, ledger):
    for name in ("reports:dashboard", "reports:rates", "reports:households", "reports:plans"):
        assert get(client, cashier, name, **YEAR).status_code == 403


def test_a_steward_sees_only_the_buildings_they_look_after(client, make_user, project, ledger):
    steward = make_user("louguan", Role.STEWARD, project)
    registry.building_assign_steward(
        user=None, building=ledger["paid"].room.building, steward=steward
    )
    response = get(client, steward, "reports:dashboard", **YEAR)
    assert response.context["b"].owed == Decimal("0.00")  # 1-1-101 is not in their building
    assert response.context["b"].head.current_billed == Decimal("600.00")
    response = get(client, steward, "reports:households", figure="current_unpaid", **YEAR)
    assert list(response.context["page"]) == []
    assert get(client, steward, "reports:plans").status_code == 403


def test_the_aging_bucket_click_through_lists_the_rooms_with_their_amounts(client, manager, ledger):
    response = get(client, manager, "reports:dashboard", **YEAR)
    rows = response.context["b"].aging_rows
    assert [r["amount"] for r in rows[:2]] == [Decimal("300.00"), Decimal("100.00")]
    # Follow the link of the 3–6 months bucket exactly as the page renders it.
    client.force_login(manager)
    listing = client.get(rows[1]["url"])
    page = listing.context["page"]
    assert [(r.room_code, r.amount) for r in page] == [("1-1-101", Decimal("100.00"))]
    assert 'href="/rooms/' in listing.content.decode()


def test_finance_sees_payer_names_masked_and_a_manager_in_full(client, manager, make_user, ledger):
    finance = make_user("finance", Role.FINANCE, company_role=Role.FINANCE)
    shown = get(client, manager, "reports:households", figure="current_unpaid", **YEAR)
    assert [r.payer for r in shown.context["page"]] == ["张三丰"]
    masked = get(client, finance, "reports:households", figure="current_unpaid", **YEAR)
    payers = {r.payer for r in masked.context["page"]}
    assert "张**" in payers and "张三丰" not in masked.content.decode()


def test_the_dashboard_embeds_its_chart_data_and_the_vendored_echarts(client, manager, ledger):
    html = get(client, manager, "reports:dashboard", **YEAR).content.decode()
    assert 'id="dashboard-data" type="application/json"' in html
    assert "wuye/vendor/echarts/echarts.min.js" in html
    # Every script comes from our own static files (company networks are often closed): no
    # absolute or protocol-relative script source (a bare "cdn" check could hit a CSRF token).
    scripts = re.findall(r"<script[^>]*\bsrc=\"([^\"]+)\"", html)
    assert scripts and all(src.startswith("/static/") for src in scripts), scripts


def _more_households(project, cashier, n):
    item = fee_item(project, code=f"X{n}")
    for i in range(n):
        acct = account(project, f"5-1-{300 + i}")
        monthly_bills(acct, item, D(2025, 1, 1), 3)
        pay(cashier, acct, "100.00", business_date=D(2025, 2, 1))


@pytest.mark.parametrize(
    "name",
    [
        "reports:dashboard",
        "reports:rates",
        "reports:aging",
        "reports:debtors",
        "reports:households",
    ],
)
def test_report_queries_do_not_grow_with_the_households(
    client, manager, project, cashier, ledger, name, django_assert_max_num_queries
):
    params = {**YEAR, "figure": "current_unpaid"} if name.endswith("households") else YEAR
    client.force_login(manager)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse(name), params).status_code == 200
    _more_households(project, cashier, 8)
    with CaptureQueriesContext(connection) as many:
        assert client.get(reverse(name), params).status_code == 200
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
    with django_assert_max_num_queries(80):
        client.get(reverse(name), params)


def test_every_report_page_renders_with_its_export_and_print_buttons(client, manager, ledger):
    for name in (
        "reports:rates",
        "reports:aging",
        "reports:debtors",
        "reports:breakdown",
        "reports:promises",
    ):
        html = get(client, manager, name, **YEAR).content.decode()
        assert "导出 Excel" in html and "data-print" in html, name


def test_a_stewards_trend_shows_their_own_plan_lines_not_the_projects(
    client, make_user, project, manager, ledger
):
    from wuye.reports import services
    from wuye.reports.services import TargetLine

    steward = make_user("louguan", Role.STEWARD, project)
    registry.building_assign_steward(
        user=None, building=ledger["owing"].room.building, steward=steward
    )
    plan = services.plan_save(
        user=manager, project=project, year=2025, split="month", target_amount=Decimal("12000")
    )
    services.targets_save(
        user=manager,
        plan=plan,
        lines=[
            TargetLine(6, Decimal("1000.00")),
            TargetLine(6, Decimal("300.00"), steward_id=steward.pk),
        ],
    )
    june = -1  # the trend ends with the as-of month
    assert (
        get(client, manager, "reports:dashboard", **YEAR).context["b"].trend["target"][june] == 1000
    )
    assert (
        get(client, steward, "reports:dashboard", **YEAR).context["b"].trend["target"][june] == 300
    )


def test_the_households_page_reads_one_page_and_counts_the_whole_list(
    client, manager, project, cashier, ledger, monkeypatch
):
    """A company's list runs to 100,000s: the page shows the count and total of all of them and
    loads only the households of the page it shows."""
    from wuye.reports import views

    _more_households(project, cashier, 3)  # three more owe 200.00 each
    monkeypatch.setattr(views, "HOUSEHOLDS_PAGE", 2)
    params = {**YEAR, "figure": "current_unpaid"}
    first = get(client, manager, "reports:households", **params)
    assert first.context["page"].paginator.count == 4
    assert first.context["total"] == Decimal("1000.00")  # 400.00 + 3 × 200.00
    assert [r.room_code for r in first.context["page"]][0] == "1-1-101"  # largest first
    second = get(client, manager, "reports:households", page=2, **params)
    shown = [r.room_code for r in first.context["page"]] + [
        r.room_code for r in second.context["page"]
    ]
    assert len(shown) == len(set(shown)) == 4
    assert "共 4 户，合计 1,000.00 元" in second.content.decode()


def test_a_households_limit_caps_the_count_and_the_total(client, manager, project, cashier, ledger):
    _more_households(project, cashier, 3)
    response = get(
        client, manager, "reports:households", figure="current_unpaid", limit="2", **YEAR
    )
    assert response.context["page"].paginator.count == 2
    assert response.context["total"] == Decimal("600.00")  # 400.00 + 200.00


@pytest.fixture
def early_december(project, cashier):
    """Three households billed for December 2025 (due 12-15); one paid on 12-02."""
    item = fee_item(project)
    accts = [account(project, c) for c in ("1-1-101", "1-1-102", "1-1-103")]
    for a in accts:
        bill(a, item, "100.00", D(2025, 12, 1), due_date=D(2025, 12, 15))
    pay(cashier, accts[0], "100.00", business_date=D(2025, 12, 2))
    return accts


def _kpi(html: str, kpi_id: str) -> str:
    start = html.index(f'id="{kpi_id}"')
    return html[start : html.index("</a>", start)]


def test_the_dashboard_says_not_due_and_shows_who_paid_everything_early_in_a_month(
    client, manager, early_december
):
    html = get(client, manager, "reports:dashboard", as_of="2025-12-04", window="month")
    kpi = _kpi(html.content.decode(), "kpi-households")
    assert "未到期" in kpi and "100.0%" not in kpi
    assert "已全部缴清 1 / 3 户" in kpi and "33.3%" in kpi
    assert "无逾期户" in kpi  # the label says what the figure counts


def test_the_rates_page_by_steward_shows_not_due_and_the_paid_share(
    client, manager, early_december
):
    page = get(
        client, manager, "reports:rates", as_of="2025-12-04", window="month", group="steward"
    )
    html = page.content.decode()
    table = html[html.index('id="rates-table"') :]
    assert "未到期" in table and "已全部缴清户" in table
    row = page.context["data"]["rows"][0]
    assert (row.households_billed, row.households_clear, row.households_paid) == (3, 3, 1)
    body = table[table.index("<tbody>") : table.index("</tbody>")]
    assert "未到期" in body and "100.0%" not in body


def test_after_the_due_date_the_dashboard_shows_the_rate_as_defined(
    client, manager, early_december
):
    kpi = _kpi(
        get(
            client, manager, "reports:dashboard", as_of="2025-12-20", window="month"
        ).content.decode(),
        "kpi-households",
    )
    assert "未到期" not in kpi and "33.3%" in kpi and "无逾期 1 / 应缴 3 户" in kpi
