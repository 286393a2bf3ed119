"""Credit pages: the household panel, the case strip, the segment list and the edit page."""

from django.urls import reverse

from tests.credit.factories import DAY, bill, monthly, pay, recompute
from tests.dunning import factories as dunning
from tests.ledger.factories import account
from wuye.credit.models import Segment


def test_household_panel_shows_the_credit_file_and_its_segment(
    client, project, acct, item, cashier, steward, today
):
    for b in monthly(acct, item, today, 5):
        pay(cashier, acct, "100.00", bill_ids=[b.pk], business_date=b.due_date - DAY)
    recompute(project, today)
    client.force_login(steward)
    page = client.get(reverse("credit:household", args=[acct.room_id]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "信用档案" in text and "按时缴费" in text and "100%" in text
    assert text.count('class="credit-col"') == 5


def test_household_page_includes_the_panel(client, project, acct, steward):
    client.force_login(steward)
    page = client.get(reverse("registry:household", args=[acct.room_id]))
    assert reverse("credit:household", args=[acct.room_id]) in page.content.decode()


def test_household_panel_of_another_project_is_not_found(
    client, project, other_project, make_user, acct
):
    from wuye.core.roles import Role

    outsider = make_user("outsider", Role.STEWARD, other_project)
    client.force_login(outsider)
    assert client.get(reverse("credit:household", args=[acct.room_id])).status_code == 404


def test_household_panel_costs_a_fixed_number_of_queries_whatever_the_history(
    client, project, acct, item, steward, today
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = reverse("credit:household", args=[acct.room_id])
    client.force_login(steward)

    def count() -> int:
        recompute(project, today)
        with CaptureQueriesContext(connection) as ctx:
            client.get(url)
        return len(ctx.captured_queries)

    monthly(acct, item, today, 2)
    few = count()
    monthly(acct, item, today.replace(year=today.year - 2), 22)
    assert count() == few <= 10  # incl. the ledger position the overdue figure is read from


def test_case_page_shows_the_segment_strip(client, project, acct, item, steward, today):
    monthly(acct, item, today.replace(day=1) - 40 * DAY, 3)
    recompute(project, today)
    dunning.run(project, today)
    case = dunning.case_of(acct)
    client.force_login(steward)
    page = client.get(reverse("dunning:case", args=[case.pk]))
    assert reverse("credit:account_strip", args=[acct.pk]) in page.content.decode()
    strip = client.get(reverse("credit:account_strip", args=[acct.pk])).content.decode()
    assert "客户分群" in strip and file_segment_name(acct) in strip


def file_segment_name(acct) -> str:
    from wuye.credit.models import CreditFile

    return CreditFile.objects.get(account=acct).segment.name


def test_segment_list_counts_households_per_segment_in_few_queries(
    client, project, item, supervisor, today, django_assert_max_num_queries
):
    for n in range(4):
        monthly(account(project, f"1-1-{n + 1}"), item, today, 5)  # all unpaid: chronic
    recompute(project, today)
    client.force_login(supervisor)
    client.get(reverse("credit:segments"))
    with django_assert_max_num_queries(8):
        page = client.get(reverse("credit:segments"))
    text = page.content.decode()
    assert "长期拖欠" in text and "<b>4</b>" in text


def test_a_steward_cannot_open_the_segment_pages(client, project, steward, acct, today):
    recompute(project, today)
    client.force_login(steward)
    assert client.get(reverse("credit:segments")).status_code == 403
    seg = Segment.objects.filter(project=project).first()
    assert client.get(reverse("credit:segment_edit", args=[seg.pk])).status_code == 403


def _post(segment, **changes) -> dict:
    from wuye.credit.forms import SegmentForm

    form = SegmentForm(instance=segment, project=segment.project)
    data = {}
    for name in form.fields:
        value = form.initial.get(name)
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = getattr(value, "pk", value)
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def test_supervisor_edits_a_rule_and_the_households_move(
    client, project, item, cashier, supervisor, today
):
    acct = account(project, "1-1-101")
    bills = monthly(acct, item, today, 6)
    for b in bills[:3]:
        pay(cashier, acct, "100.00", bill_ids=[b.pk], business_date=b.due_date + DAY)
    for b in bills[3:]:
        pay(cashier, acct, "100.00", bill_ids=[b.pk], business_date=b.due_date)
    recompute(project, today)
    chronic = Segment.objects.get(project=project, code="chronic")
    client.force_login(supervisor)
    page = client.post(
        reverse("credit:segment_edit", args=[chronic.pk]),
        _post(chronic, min_arrears_months_12=3, min_worst_days_late=""),
    )
    assert page.status_code == 302
    from wuye.credit.models import CreditFile

    assert CreditFile.objects.get(account=acct).segment.code == "chronic"


def test_an_escalation_below_the_floor_is_shown_on_its_field(
    client, project, acct, supervisor, today
):
    recompute(project, today)
    chronic = Segment.objects.get(project=project, code="chronic")
    client.force_login(supervisor)
    page = client.post(
        reverse("credit:segment_edit", args=[chronic.pk]), _post(chronic, escalate_after_days=5)
    )
    assert page.status_code == 200
    assert "不能少于 22 天" in page.content.decode()
    chronic.refresh_from_db()
    assert chronic.escalate_after_days == 45


def _figure(html: str, element_id: str) -> str:
    import re

    match = re.search(rf'id="{element_id}"[^>]*>\s*(?:<b[^>]*>)?\s*¥?([\d,]+\.\d\d)', html)
    assert match, (element_id, html)
    return match.group(1)


def test_the_credit_panels_overdue_figure_is_the_account_sections(
    client, project, acct, item, steward, today
):
    """One page, one figure: a credit file computed before the bills fell due said 当前欠费 ¥0.00
    beside an account section saying 322.44. The panel now reads the ledger's own selector."""
    bill(acct, item, "222.44", today - 70 * DAY, today - 20 * DAY)
    bill(acct, item, "100.00", today - 40 * DAY, today - 10 * DAY)
    bill(acct, item, "50.00", today, today + 10 * DAY)  # not due yet: owed, not overdue
    recompute(project, today - 25 * DAY)  # the file's snapshot: nothing overdue then
    client.force_login(steward)

    ledger = client.get(reverse("ledger:household_ledger", args=[acct.room_id])).content.decode()
    credit = client.get(reverse("credit:household", args=[acct.room_id])).content.decode()

    assert _figure(ledger, "overdue") == "322.44"
    assert _figure(credit, "credit-overdue") == _figure(ledger, "overdue")
    assert "¥0.00</b><span>当前欠费" not in credit
