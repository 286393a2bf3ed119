"""The written demand (催缴函) and lawyer letter: the household's own overdue bills with the capped late
fee apart, a deadline, scoped to the user's projects; producing it is audited, delivery is recorded by
the steward as a contact."""

import datetime
import subprocess
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.dunning import factories
from tests.ledger.factories import late_fee_rule
from wuye.core.models import AuditEntry
from wuye.core.roles import Role
from wuye.dunning.models import ContactRecord
from wuye.messaging.pdf import demand_lines

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


def test_the_demand_lists_the_overdue_bills_with_the_capped_late_fee_apart(project, case, today):
    late_fee_rule(project)

    lines, principal, late = demand_lines(case, today)

    assert [str(x.principal) for x in lines] == ["100.00", "100.00"]
    assert principal == 200
    # 0.3% a day in the contract, capped at 1.5 × LPR / 365 = 0.015% a day: 100 × 0.00015 × days.
    assert lines[0].late_fee == Decimal("0.60")  # 40 days
    assert lines[1].late_fee == Decimal("0.30")  # 20 days
    assert late == sum(x.late_fee for x in lines)


def test_a_bill_not_yet_due_is_not_demanded(case, debtor, item, today):
    factories.bill(debtor, item, "100.00", today, today + 10 * DAY)

    lines, principal, _ = demand_lines(case, today)

    assert principal == 200 and len(lines) == 2


def test_the_pdf_names_the_household_and_deadline_and_producing_it_is_audited(
    client, steward, case, today
):
    client.force_login(steward)
    deadline = today + 20 * DAY

    answer = client.get(
        reverse("messaging:demand_pdf", args=[case.pk]),
        {"kind": "written_demand", "deadline": deadline.isoformat()},
    )

    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/pdf"
    text = _pdf_text(answer.content)
    assert "物业服务费催缴函" in text and "张三" in text and "3-2-1502" in text
    assert f"{deadline.year}年{deadline.month}月{deadline.day}日" in text
    assert AuditEntry.objects.filter(action="生成催缴函").count() == 1
    assert not ContactRecord.objects.exists()  # delivery is recorded by the steward


def test_a_lawyer_letter_is_titled_as_such(client, steward, case):
    client.force_login(steward)

    answer = client.get(reverse("messaging:demand_pdf", args=[case.pk]), {"kind": "lawyer_letter"})

    assert "律师函" in _pdf_text(answer.content)


def test_another_projects_case_is_not_found(client, make_user, other_project, case):
    outsider = make_user("far", Role.SUPERVISOR, other_project)
    client.force_login(outsider)

    assert client.get(reverse("messaging:demand_pdf", args=[case.pk])).status_code == 404


def _pdf_text(content: bytes) -> str:
    done = subprocess.run(
        ["/usr/bin/pdftotext", "-", "-"], input=content, capture_output=True, check=True
    )
    return done.stdout.decode().replace(" ", "").replace("\n", "")
