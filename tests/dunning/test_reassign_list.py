"""The reassign list shows only people who can work cases (issue 17 item 6)."""

import pytest

from wuye.core.roles import Role
from wuye.dunning.selectors import workers_of

pytestmark = pytest.mark.django_db


def test_a_finance_officer_listed_as_steward_is_not_offered(make_user, project, steward):
    finance = make_user("caiwu", Role.STEWARD, project, company_role=Role.FINANCE)
    names = [u.username for u in workers_of(project.pk)]
    assert "steward" in names and finance.username not in names


def test_a_deactivated_steward_is_not_offered(make_user, project):
    gone = make_user("left", Role.STEWARD, project)
    gone.is_active = False
    gone.save()
    assert gone not in workers_of(project.pk)


def test_a_finance_member_of_the_project_is_not_offered(make_user, project):
    finance = make_user("caiwu2", Role.FINANCE, project)
    assert finance not in workers_of(project.pk)
