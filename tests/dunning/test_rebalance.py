"""The supervisor's rebalancing: open cases spread evenly over the stewards by count and difficulty
(amount × class factor), stewards keep their own buildings where possible, a preview first, and a
second run moves nothing."""

import datetime

import pytest
from django.urls import reverse

from tests.dunning import factories
from wuye.core.errors import ValidationFailed
from wuye.core.roles import Role
from wuye.dunning.assignment import TOLERANCE, case_weight, rebalance_apply, rebalance_plan
from wuye.dunning.enums import CaseClass, EventKind
from wuye.dunning.models import ArrearsCase, CaseEvent

DAY = datetime.timedelta(days=1)
pytestmark = pytest.mark.django_db


@pytest.fixture
def stewards(make_user, project, steward):
    return [
        steward,
        make_user("steward2", Role.STEWARD, project),
        make_user("steward3", Role.STEWARD, project),
    ]


@pytest.fixture
def crowded(project, item, stewards, today):
    """Building 1 (steward) has 18 debtors, building 2 (steward2) has 3, steward3 has none."""
    s1, s2, _ = stewards
    for n in range(18):
        acct = factories.debtor(project, f"1-1-{101 + n}", steward=s1)
        factories.bill(acct, item, f"{100 + 20 * n}.00", today - 60 * DAY, today - 40 * DAY)
    for n in range(3):
        acct = factories.debtor(project, f"2-1-{101 + n}", steward=s2)
        factories.bill(acct, item, "200.00", today - 60 * DAY, today - 40 * DAY)
    factories.run(project)


def test_a_class_e_case_weighs_more_than_an_a_case_of_the_same_amount(project, debtor):
    factories.run(project)
    case = factories.case_of(debtor)
    case.case_class = CaseClass.E
    heavy = case_weight(case)
    case.case_class = CaseClass.A
    assert heavy > case_weight(case)


def test_the_preview_changes_nothing(project, crowded):
    before = dict(ArrearsCase.objects.values_list("id", "assignee_id"))

    plan = rebalance_plan(project.pk)

    assert plan.moves
    assert dict(ArrearsCase.objects.values_list("id", "assignee_id")) == before


def test_after_rebalancing_the_loads_are_even_within_the_tolerance(
    supervisor, project, stewards, crowded
):
    plan = rebalance_plan(project.pk)

    rebalance_apply(
        user=supervisor, project_id=project.pk, reason="均衡工作量", fingerprint=plan.fingerprint
    )

    counts = [ArrearsCase.objects.filter(assignee=s).count() for s in stewards]
    assert max(counts) - min(counts) <= 2
    assert rebalance_plan(project.pk).spread <= TOLERANCE


def test_a_second_run_moves_nothing(supervisor, project, crowded):
    plan = rebalance_plan(project.pk)
    rebalance_apply(
        user=supervisor, project_id=project.pk, reason="均衡工作量", fingerprint=plan.fingerprint
    )

    assert rebalance_plan(project.pk).moves == []


def test_stewards_keep_their_own_buildings_where_possible(supervisor, project, stewards, crowded):
    plan = rebalance_plan(project.pk)
    rebalance_apply(
        user=supervisor, project_id=project.pk, reason="均衡工作量", fingerprint=plan.fingerprint
    )

    # steward2 is under the average: none of building 2's cases leaves them.
    assert all(
        c.assignee == stewards[1] for c in ArrearsCase.objects.filter(room__code__startswith="2-")
    )


def test_every_move_is_on_the_case_timeline_with_the_reason(supervisor, project, crowded):
    plan = rebalance_plan(project.pk)
    rebalance_apply(
        user=supervisor, project_id=project.pk, reason="均衡工作量", fingerprint=plan.fingerprint
    )

    events = CaseEvent.objects.filter(kind=EventKind.ASSIGNEE, reason="均衡工作量")
    assert events.count() == len(plan.moves)


def test_a_stale_preview_is_refused(supervisor, project, crowded):
    with pytest.raises(ValidationFailed) as refused:
        rebalance_apply(
            user=supervisor, project_id=project.pk, reason="均衡工作量", fingerprint="stale"
        )

    assert refused.value.field == "fingerprint"


def test_a_steward_cannot_rebalance(steward, project, crowded):
    plan = rebalance_plan(project.pk)

    with pytest.raises(ValidationFailed):
        rebalance_apply(
            user=steward, project_id=project.pk, reason="均衡", fingerprint=plan.fingerprint
        )


def test_the_page_previews_then_applies(client, supervisor, project, crowded):
    client.force_login(supervisor)

    page = client.get(reverse("dunning:rebalance")).content.decode()
    assert 'id="moves"' in page
    fingerprint = rebalance_plan(project.pk).fingerprint

    response = client.post(
        reverse("dunning:rebalance"), {"fingerprint": fingerprint, "reason": "均衡工作量"}
    )

    assert response.status_code == 302
    assert 'id="balanced"' in client.get(reverse("dunning:rebalance")).content.decode()


def test_a_steward_has_no_rebalance_page(client, steward, crowded):
    client.force_login(steward)

    assert client.get(reverse("dunning:rebalance")).status_code == 403


def test_the_preview_speaks_of_cases_amounts_and_plain_labels(client, project, crowded, supervisor):
    client.force_login(supervisor)
    html = client.get(reverse("dunning:rebalance")).content.decode()
    loads = html.split('id="loads"')[1].split("</table>")[0]
    assert "18 件" in loads and "¥" in loads and "偏重" in loads and "偏轻" in loads
    assert "负荷" not in html and "2.0 = 平均" not in html
    moves = html.split('id="moves"')[1].split("</table>")[0]
    assert any(word in moves for word in ("一般", "较难", "很难"))


def test_a_load_label_is_plain_words():
    from wuye.dunning.assignment import load_label

    assert [load_label(s) for s in (0.5, 2.0, 3.5)] == ["偏轻", "适中", "偏重"]
