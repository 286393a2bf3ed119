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
from wuye.messaging.models import LetterSettings
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
    assert "催缴函" in text and "张三" in text and "3-2-1502" in text
    assert f"{deadline.year}年{deadline.month}月{deadline.day}日" in text
    assert AuditEntry.objects.filter(action="生成催缴函").count() == 1
    assert not ContactRecord.objects.exists()  # delivery is recorded by the steward


def _firm(project, **fields):
    values = {
        "law_firm": "广东明理律师事务所",
        "lawyer": "李律师",
        "law_firm_phone": "020-88886666",
    }
    values.update(fields)
    return LetterSettings.objects.create(project=project, **values)


def test_a_lawyer_letter_is_titled_as_such(client, steward, project, case, today):
    _firm(project)
    client.force_login(steward)

    answer = client.get(
        reverse("messaging:demand_pdf", args=[case.pk]),
        {"kind": "lawyer_letter", "deadline": (today + 15 * DAY).isoformat()},
    )

    assert "律师函" in _pdf_text(answer.content)


def test_a_lawyer_letter_is_refused_until_the_law_firm_is_set(
    client, steward, project, case, today
):
    """No firm, no lawyer letter: a letter 受…委托 with no firm and no seal is worse than none. The
    message says where the firm is set; nothing is audited as produced."""
    client.force_login(steward)
    url = reverse("messaging:demand_pdf", args=[case.pk])
    params = {"kind": "lawyer_letter", "deadline": (today + 15 * DAY).isoformat()}

    answer = client.get(url, params, follow=True)

    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/html")
    page = answer.content.decode()
    assert "尚未设置受托律师事务所" in page and "律师函设置" in page
    assert not AuditEntry.objects.filter(action="生成律师函").exists()
    _firm(project, law_firm="   ")  # blank after trimming is still not a firm
    assert client.get(url, params)["Content-Type"].startswith("text/html")
    # A written demand is the company's own letter and needs no firm.
    params["kind"] = "written_demand"
    assert client.get(url, params)["Content-Type"] == "application/pdf"


def test_the_lawyer_letter_names_the_firm_and_the_principal_from_the_settings(
    client, steward, project, case, today
):
    client.force_login(steward)
    params = {"kind": "lawyer_letter", "deadline": (today + 15 * DAY).isoformat()}
    url = reverse("messaging:demand_pdf", args=[case.pk])
    settings_row = _firm(project)

    text = _pdf_text(client.get(url, params).content)

    assert (
        "广东明理律师事务所受" + project.company.name in text
    )  # principal defaults to the company
    assert "广东明理律师事务所（盖章）" in text and "承办律师：李律师" in text
    assert "（律师事务所盖章）" not in text
    settings_row.principal = "锦绣物业服务有限公司第二分公司"
    settings_row.save()
    text = _pdf_text(client.get(url, params).content)
    assert (
        "受锦绣物业服务有限公司第二分公司" in text
        and "委托人：锦绣物业服务有限公司第二分公司" in text
    )


def test_a_blank_deadline_is_asked_for_not_silently_defaulted(client, steward, project, case):
    _firm(project)
    client.force_login(steward)
    url = reverse("messaging:demand_pdf", args=[case.pk])
    for kind in ("written_demand", "lawyer_letter"):
        for deadline in ("", "  ", "2026/12/19"):
            answer = client.get(url, {"kind": kind, "deadline": deadline}, follow=True)
            assert answer["Content-Type"].startswith("text/html"), (kind, deadline)
            assert "付款期限" in answer.content.decode()
    assert not AuditEntry.objects.filter(action__in=["生成催缴函", "生成律师函"]).exists()


def test_the_form_shows_its_default_deadline_visibly(client, steward, case, today):
    client.force_login(steward)
    page = client.get(reverse("dunning:case", args=[case.pk])).content.decode()
    default = (today + 15 * DAY).isoformat()
    assert f'name="deadline" required value="{default}"' in page
    assert "已预填 15 天后" in page


def test_the_demand_names_every_fee_item_it_includes_and_states_the_tables_total(
    client, steward, project, debtor, today
):
    """A 7,560.49 total that includes 公摊电费 and 垃圾清运费 is not called 物业服务费: the text names
    the fee items the table lists, and its amount is the table's total."""
    power = factories.fee_item(project, code="GTDF", name="公摊电费")
    rubbish = factories.fee_item(project, code="LJQY", name="垃圾清运费")
    factories.bill(debtor, power, "60.25", today - 50 * DAY, today - 30 * DAY)
    factories.bill(debtor, rubbish, "15.00", today - 50 * DAY, today - 30 * DAY)
    factories.run(project)
    case = factories.case_of(debtor)
    _firm(project)
    client.force_login(steward)
    for kind in ("written_demand", "lawyer_letter"):
        text = _pdf_text(
            client.get(
                reverse("messaging:demand_pdf", args=[case.pk]),
                {"kind": kind, "deadline": (today + 15 * DAY).isoformat()},
            ).content
        )
        assert "物业服务费、公摊电费、垃圾清运费共计275.25元" in text, text
        assert text.count("275.25") == 2  # the sentence and the table's 合计 row
    assert demand_lines(case, today)[1] == Decimal("275.25")


def test_another_projects_case_is_not_found(client, make_user, other_project, case):
    outsider = make_user("far", Role.SUPERVISOR, other_project)
    client.force_login(outsider)

    assert client.get(reverse("messaging:demand_pdf", args=[case.pk])).status_code == 404


def _pdf_text(content: bytes) -> str:
    done = subprocess.run(
        ["/usr/bin/pdftotext", "-", "-"], input=content, capture_output=True, check=True
    )
    return done.stdout.decode().replace(" ", "").replace("\n", "")


# --- what a folded letter shows (issue 13 item 11) --------------------------------------------------


def _above_the_fold(content: bytes) -> tuple[str, float]:
    """The text of page 1 above the fold line, and the fold's height from the top (points)."""
    import re

    boxes = subprocess.run(
        ["/usr/bin/pdftotext", "-f", "1", "-l", "1", "-bbox", "-", "-"],
        input=content,
        capture_output=True,
        check=True,
    ).stdout.decode()
    fold = [
        float(m.group(1))
        for m in re.finditer(r'<word xMin="[\d.]+" yMin="([\d.]+)"[^>]*>([^<]*)</word>', boxes)
        if "折叠" in m.group(2)
    ]
    assert fold, "no fold line on page 1"
    top = subprocess.run(  # noqa: S603 - fixed arguments
        [
            "/usr/bin/pdftotext",
            "-f",
            "1",
            "-l",
            "1",
            "-x",
            "0",
            "-y",
            "0",
            "-W",
            "600",
            "-H",
            str(int(fold[0]) - 1),
            "-",
            "-",
        ],
        input=content,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return top.replace(" ", "").replace("\n", ""), fold[0]


@pytest.mark.parametrize("kind", ["written_demand", "lawyer_letter"])
def test_a_folded_letter_shows_only_the_addressee(client, steward, project, case, today, kind):
    from wuye.messaging.models import LetterSettings

    LetterSettings.objects.update_or_create(
        project=project, defaults={"law_firm": "明正律师事务所", "principal": "锦绣物业有限公司"}
    )
    late_fee_rule(project)
    client.force_login(steward)
    answer = client.get(
        reverse("messaging:demand_pdf", args=[case.pk]),
        {"kind": kind, "deadline": (today + 20 * DAY).isoformat()},
    )
    assert answer.status_code == 200

    outside, fold_at = _above_the_fold(answer.content)

    assert "张三" in outside and "3-2-1502" in outside and "亲启" in outside
    for word in ("欠费", "欠款", "催缴", "催告", "律师", "滞纳金", "200.00", "¥", "元"):
        assert word not in outside, word
    assert 150 < fold_at < 842 / 2  # in the top part of an A4 page (842 pt tall)
    assert "欠费" in _pdf_text(answer.content)  # the letter itself still says what is owed
