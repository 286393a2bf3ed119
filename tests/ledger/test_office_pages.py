"""Back-office ledger pages: reversals and refunds with a supervisor's approval, 日结, payment notices,
the household's ledger and statements — through the pages, as staff use them."""

from __future__ import annotations

import io
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from tests.ledger import factories
from tests.ledger.factories import D
from wuye.billing.models import BillAdjustment
from wuye.core.roles import Role
from wuye.ledger.models import CashierClosing, PaymentReversal, Refund
from wuye.ledger.office_forms import RULE_TEXT
from wuye.ledger.selectors.closing import cashier_day
from wuye.ledger.selectors.notices import notices_for
from wuye.ledger.selectors.prepaid import prepaid_balance
from wuye.ledger.selectors.statement import statement
from wuye.ledger.selectors.window import account_position, unpaid_bills
from wuye.ledger.services.closing import cashier_close
from wuye.ledger.services.reversals import payment_reverse

pytestmark = pytest.mark.django_db

needs_pdftotext = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) not installed"
)


@pytest.fixture
def bills(acct, item):
    return [
        factories.bill(acct, item, "100.00", D(2024, 1, 1)),
        factories.bill(acct, item, "120.50", D(2024, 2, 1)),
    ]


@pytest.fixture
def paid(cashier, acct, bills):
    """The cashier took 250.50 today: both bills and 30.00 into prepaid balance."""
    return factories.pay(cashier, acct, "250.50")


@pytest.fixture
def as_cashier(client, cashier):
    client.force_login(cashier)
    return client


def pdf_pages(content: bytes, tmp_path) -> list[str]:
    path = tmp_path / "out.pdf"
    path.write_bytes(content)
    info = subprocess.run(  # noqa: S603
        ["pdfinfo", str(path)],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    )
    pages = int(next(x for x in info.stdout.splitlines() if x.startswith("Pages:")).split()[1])
    return [
        subprocess.run(  # noqa: S603
            ["pdftotext", "-layout", "-f", str(n), "-l", str(n), str(path), "-"],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for n in range(1, pages + 1)
    ]


# --- 冲红 of a payment -----------------------------------------------------------------------------


def reverse_url(payment):
    return reverse("ledger:payment_reverse", args=[payment.pk])


def test_payment_reversal_without_approval_is_refused_citing_the_rule(as_cashier, paid):
    response = as_cashier.post(reverse_url(paid), {"reason": "方式录错"})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="approver_username-error"' in page
    assert "授权" in page and RULE_TEXT in page
    assert not PaymentReversal.objects.exists()


def test_payment_reversal_with_a_wrong_password_is_refused_next_to_the_password(
    as_cashier, paid, supervisor
):
    response = as_cashier.post(
        reverse_url(paid),
        {"reason": "方式录错", "approver_username": "supervisor", "approver_password": "nope"},
    )
    assert response.status_code == 400
    assert 'id="approver_password-error"' in response.content.decode()
    assert not PaymentReversal.objects.exists()


def test_payment_reversal_without_a_reason_is_refused_next_to_the_reason(
    as_cashier, paid, supervisor
):
    response = as_cashier.post(
        reverse_url(paid),
        {"reason": "", "approver_username": "supervisor", "approver_password": "pw-supervisor"},
    )
    assert response.status_code == 400
    assert 'id="reason-error"' in response.content.decode()
    assert "请填写原因" in response.content.decode()


def test_payment_reversal_with_the_supervisors_password_marks_it_and_the_balance_returns(
    as_cashier, paid, supervisor, acct
):
    assert account_position(acct).outstanding == Decimal("0.00")
    response = as_cashier.post(
        reverse_url(paid),
        {
            "reason": "方式录错，应为微信",
            "approver_username": "supervisor",
            "approver_password": "pw-supervisor",
        },
    )
    assert response.status_code == 302
    reversal = PaymentReversal.objects.get(payment=paid)
    assert (reversal.requested_by.username, reversal.approved_by.username) == (
        "cashier",
        "supervisor",
    )
    page = as_cashier.get(reverse("ledger:payment", args=[paid.pk])).content.decode()
    assert "已冲红" in page and "方式录错，应为微信" in page
    position = account_position(acct)
    assert position.outstanding == Decimal("220.50")
    assert position.prepaid_balance == Decimal("0.00")


def test_a_supervisor_cannot_approve_their_own_reversal_by_leaving_the_approver_blank(
    client, supervisor, manager, paid
):
    """四眼原则 (issue 13 item 12): blank approver fields no longer mean "I approve it myself"."""
    client.force_login(supervisor)
    response = client.post(reverse_url(paid), {"reason": "重复收款"})
    assert response.status_code == 400 and "四眼原则" in response.content.decode()
    assert not PaymentReversal.objects.exists()
    response = client.post(
        reverse_url(paid),
        {"reason": "重复收款", "approver_username": "manager", "approver_password": "pw-manager"},
    )
    assert response.status_code == 302
    assert PaymentReversal.objects.get(payment=paid).approved_by == manager


def test_a_reversed_payment_offers_no_second_reversal(client, supervisor, manager, paid):
    client.force_login(supervisor)
    by_manager = {"approver_username": "manager", "approver_password": "pw-manager"}
    client.post(reverse_url(paid), {"reason": "重复收款", **by_manager})
    response = client.post(reverse_url(paid), {"reason": "再冲一次", **by_manager})
    assert "不能重复冲红" in response.content.decode()
    assert PaymentReversal.objects.count() == 1


def test_the_payment_page_links_to_the_reversal_form(as_cashier, paid):
    page = as_cashier.get(reverse("ledger:payment", args=[paid.pk])).content.decode()
    assert reverse_url(paid) in page


# --- 冲红 of a bill --------------------------------------------------------------------------------


def test_bill_reversal_needs_a_project_manager_not_a_supervisor(
    as_cashier, bills, supervisor, manager, acct
):
    url = reverse("ledger:bill_reverse", args=[bills[1].pk])
    refused = as_cashier.post(
        url,
        {
            "reason": "重复出账",
            "approver_username": "supervisor",
            "approver_password": "pw-supervisor",
        },
    )
    assert refused.status_code == 400
    assert "不能审批" in refused.content.decode()
    done = as_cashier.post(
        url,
        {"reason": "重复出账", "approver_username": "manager", "approver_password": "pw-manager"},
    )
    assert done.status_code == 302
    adjustment = BillAdjustment.objects.get(bill=bills[1])
    assert (adjustment.kind, adjustment.amount, adjustment.approved_by) == (
        "reversal",
        Decimal("120.50"),
        manager,
    )
    assert [b.pk for b in unpaid_bills(acct)] == [bills[0].pk]


def test_a_paid_bill_is_reversed_only_after_its_payment(client, manager, approver, paid, bills):
    client.force_login(manager)
    url = reverse("ledger:bill_reverse", args=[bills[0].pk])
    page = client.get(url).content.decode()
    assert f"No.{paid.receipt_no:08d}" in page  # the payment to reverse first is linked
    response = client.post(
        url,
        {"reason": "错出", "approver_username": "approver", "approver_password": "pw-approver"},
    )
    assert response.status_code == 400
    assert "请先冲红收款" in response.content.decode()
    assert not BillAdjustment.objects.exists()


# --- 预存款退款 ----------------------------------------------------------------------------------------


def refund_url(acct):
    return reverse("ledger:prepaid_refund", args=[acct.pk])


def test_a_refund_beyond_the_prepaid_balance_is_refused_next_to_the_amount(
    as_cashier, paid, acct, supervisor
):
    response = as_cashier.post(
        refund_url(acct),
        {
            "amount": "30.01",
            "method": "cash",
            "reason": "合同终止",
            "approver_username": "supervisor",
            "approver_password": "pw-supervisor",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="amount-error"' in page and "超过预存款余额 30.00 元" in page
    assert not Refund.objects.exists()


def test_a_refund_within_the_balance_lowers_it_and_counts_in_the_cashiers_day(
    as_cashier, paid, acct, supervisor, cashier, project
):
    response = as_cashier.post(
        refund_url(acct),
        {
            "amount": "30.00",
            "method": "cash",
            "reason": "合同终止，退还预存款",
            "approver_username": "supervisor",
            "approver_password": "pw-supervisor",
        },
    )
    assert response.status_code == 302
    assert prepaid_balance(acct) == Decimal("0.00")
    day = cashier_day(project, cashier, timezone.localdate())
    assert [r.amount for r in day.refunds] == [Decimal("30.00")]
    assert day.handed_over == Decimal("220.50")


# --- 日结 ------------------------------------------------------------------------------------------


def test_the_closing_page_shows_totals_per_method_and_the_receipts(as_cashier, paid):
    page = as_cashier.get(reverse("ledger:closing")).content.decode()
    assert "未日结" in page
    assert "250.50" in page and f"No.{paid.receipt_no:08d}" in page
    assert 'id="close-day"' in page


def test_closing_locks_the_day_and_a_later_payment_that_day_is_refused_on_the_page(
    as_cashier, paid, acct, bills, cashier
):
    today = timezone.localdate()
    response = as_cashier.post(reverse("ledger:closing_close"), {"date": today.isoformat()})
    assert response.status_code == 302
    closing = CashierClosing.objects.get(cashier=cashier, business_date=today)
    assert closing.total_amount == Decimal("250.50")
    page = as_cashier.get(response["Location"]).content.decode()
    assert "已日结" in page and 'id="close-day"' not in page

    refused = as_cashier.post(
        reverse("ledger:window_pay", args=[acct.room_id]),
        {
            "account": acct.pk,
            "method": ["cash"],
            "amount": ["10.00"],
            "reference": [""],
            "business_date": today.isoformat(),
            "idempotency_key": "after-closing",
            "confirm_surplus": "10.00",
        },
    )
    assert refused.status_code == 400
    assert "已日结" in refused.content.decode()
    assert acct.payments.count() == 1


def test_a_reversal_dated_on_a_closed_day_is_refused_next_to_the_date(
    as_cashier, paid, supervisor, cashier, project
):
    cashier_close(user=cashier, project=project, business_date=timezone.localdate())
    response = as_cashier.post(
        reverse_url(paid),
        {"reason": "收错", "approver_username": "supervisor", "approver_password": "pw-supervisor"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="business_date-error"' in page and "已日结" in page


def test_a_cashier_sees_only_their_own_day(as_cashier, make_user, project):
    other = make_user("cashier2", Role.CASHIER, project)
    response = as_cashier.get(reverse("ledger:closing"), {"cashier": other.pk})
    assert response.status_code == 403


def test_a_supervisor_closes_a_cashiers_day_and_finance_lists_closings(
    client, supervisor, cashier, paid, make_user, project
):
    client.force_login(supervisor)
    today = timezone.localdate()
    page = client.get(reverse("ledger:closing"), {"cashier": cashier.pk}).content.decode()
    assert "250.50" in page
    client.post(reverse("ledger:closing_close"), {"cashier": cashier.pk, "date": today.isoformat()})
    assert CashierClosing.objects.filter(cashier=cashier, business_date=today).exists()
    finance = make_user("finance", Role.FINANCE, company_role=Role.FINANCE)
    client.force_login(finance)
    listing = client.get(reverse("ledger:closings")).content.decode()
    assert "cashier" in listing and "250.50" in listing
    sheet = client.get(
        reverse("ledger:closing_sheet"), {"cashier": cashier.pk, "date": today.isoformat()}
    ).content.decode()
    assert "收费员日结单" in sheet and "财务签收" in sheet


def test_a_cashier_may_not_list_every_closing(as_cashier):
    assert as_cashier.get(reverse("ledger:closings")).status_code == 403


# --- 缴费通知单 ------------------------------------------------------------------------------------


@pytest.fixture
def building_three(project, item):
    """Building 3: 3-1-101 (王五) owes two months, 3-1-102 (赵六) owes one, 3-2-201 (钱七) paid.
    Building 4: 4-1-101 (孙八) owes."""
    owing = {}
    for code, owner, months in [
        ("3-1-101", "王五", 2),
        ("3-1-102", "赵六", 1),
        ("3-2-201", "钱七", 0),
        ("4-1-101", "孙八", 1),
    ]:
        account = factories.account(project, code, owner=owner)
        factories.monthly_bills(account, item, D(2025, 1, 1), max(months, 1), amount="88.00")
        owing[code] = account
    return owing


def test_notices_are_one_per_owing_household_with_its_own_bills(project, building_three, cashier):
    factories.pay(cashier, building_three["3-2-201"], "88.00")
    building = building_three["3-1-101"].room.building
    notices = notices_for(project, building_id=building.pk)
    assert [(n.room_code, n.payer, n.total, len(n.lines)) for n in notices] == [
        ("3-1-101", "王五", Decimal("176.00"), 2),
        ("3-1-102", "赵六", Decimal("88.00"), 1),
    ]
    assert notices[0].payment_instructions  # how to pay: the project's setting


@needs_pdftotext
def test_the_notices_pdf_has_a_page_per_household_and_nothing_of_another(
    as_cashier, building_three, cashier, tmp_path
):
    factories.pay(cashier, building_three["3-2-201"], "88.00")
    building = building_three["3-1-101"].room.building
    response = as_cashier.get(reverse("ledger:notices"), {"building": building.pk, "pdf": "1"})
    assert response["Content-Type"] == "application/pdf"
    pages = pdf_pages(response.content, tmp_path)
    assert len(pages) == 2
    people = {"3-1-101": "王五", "3-1-102": "赵六", "3-2-201": "钱七", "4-1-101": "孙八"}
    for text, own in zip(pages, ["3-1-101", "3-1-102"], strict=True):
        assert own in text and people[own] in text and "缴费通知单" in text
        for code, name in people.items():
            if code != own:
                assert code not in text and name not in text


def test_notices_of_one_unit_leave_the_others_out(as_cashier, project, building_three):
    room = building_three["3-1-102"].room
    page = as_cashier.get(
        reverse("ledger:notices"), {"building": room.building_id, "unit": room.unit_id}
    ).content.decode()
    assert "2 户有欠费" in page  # unit 1 of building 3: 3-1-101 and 3-1-102
    notices = notices_for(project, building_id=room.building_id, unit_id=room.unit_id)
    assert {n.room_code for n in notices} == {"3-1-101", "3-1-102"}


def test_notices_carry_the_capped_late_fee(project, building_three):
    factories.late_fee_rule(project)
    building = building_three["3-1-101"].room.building
    on = D(2025, 6, 30)
    notices = notices_for(project, building_id=building.pk, as_of=on)
    account = building_three["3-1-101"]
    expected = sum(b.late_fee.due for b in unpaid_bills(account, on))
    assert notices[0].late_fee == expected > 0


def test_building_notices_take_a_fixed_number_of_queries(project, building_three, item):
    building = building_three["3-1-101"].room.building

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            notices_for(project, building_id=building.pk)
        return len(ctx)

    before = count()
    for n in range(5):
        account = factories.account(project, f"3-1-3{n:02d}", owner=f"住户{n}")
        factories.monthly_bills(account, item, D(2025, 1, 1), 3)
    assert count() == before


# --- the household's ledger ------------------------------------------------------------------------


def test_the_household_page_loads_the_ledger_section(as_cashier, acct):
    page = as_cashier.get(reverse("registry:household", args=[acct.room_id])).content.decode()
    assert reverse("ledger:household_ledger", args=[acct.room_id]) in page


def test_the_household_ledger_shows_owed_overdue_prepaid_and_recent_payments(
    as_cashier, acct, item, cashier
):
    factories.bill(acct, item, "100.00", D(2024, 1, 1))
    factories.bill(acct, item, "120.50", D(2024, 2, 1))
    payment = factories.pay(cashier, acct, "100.00", business_date=D(2024, 3, 1))
    url = reverse("ledger:household_ledger", args=[acct.room_id])
    page = as_cashier.get(url).content.decode()
    assert 'id="owed">120.50<' in page and 'id="overdue">120.50<' in page
    assert f"No.{payment.receipt_no:08d}" in page
    assert reverse("ledger:window_room", args=[acct.room_id]) in page
    assert reverse("ledger:statement", args=[acct.pk]) in page


def test_the_household_ledger_answers_what_was_owed_on_a_past_date(as_cashier, acct, item, cashier):
    factories.bill(acct, item, "100.00", D(2024, 1, 1))
    factories.bill(acct, item, "120.50", D(2024, 2, 1))
    factories.pay(cashier, acct, "100.00", business_date=D(2024, 3, 1))
    url = reverse("ledger:household_ledger", args=[acct.room_id])
    page = as_cashier.get(url, {"as_of": "2024-02-20"}).content.decode()
    assert "截至 2024-02-20：欠费 <b>220.50</b> 元，其中逾期 <b>220.50</b> 元" in page


def test_the_as_of_bill_list_follows_the_chosen_date(
    as_cashier, acct, item, cashier, manager, client
):
    """Issue 16 item 4: a bill paid later shows unpaid as of the chosen date."""
    jan = factories.bill(acct, item, "100.00", D(2024, 1, 1))
    feb = factories.bill(acct, item, "120.50", D(2024, 2, 1))
    factories.pay(cashier, acct, "220.50", business_date=D(2024, 3, 1))
    url = reverse("ledger:household_ledger", args=[acct.room_id])

    def rows(page: str) -> str:
        return page.split('id="unpaid-bills"')[1].split("</table>")[0]

    today_page = as_cashier.get(url).content.decode()
    assert "没有未缴账单" in rows(today_page)

    page = as_cashier.get(url, {"as_of": "2024-02-20"}).content.decode()
    table = rows(page)
    assert "截至 2024-02-20 的未缴账单（2 笔）" in page
    assert "2024-01" in table and "2024-02" in table and "没有未缴账单" not in table
    assert "<b>100.00</b>" in table and "<b>120.50</b>" in table
    # Jan's bill (due Jan 15) was overdue on Feb 20, Feb's (due Feb 15) too; on Feb 10 only Jan's.
    assert table.count("逾期</span>") == 2
    page = as_cashier.get(url, {"as_of": "2024-02-10"}).content.decode()
    assert "截至 2024-02-10 的未缴账单（2 笔）" in page
    assert rows(page).count("逾期</span>") == 1
    # Before February's bill was issued, only January's is listed.
    page = as_cashier.get(url, {"as_of": "2024-01-20"}).content.decode()
    assert "截至 2024-01-20 的未缴账单（1 笔）" in page and "2024-02" not in rows(page)
    # A bill paid now is never offered for 冲红 from the as-of list.
    client.force_login(manager)
    page = client.get(url, {"as_of": "2024-02-20"}).content.decode()
    assert reverse("ledger:bill_reverse", args=[jan.pk]) not in page
    assert reverse("ledger:bill_reverse", args=[feb.pk]) not in page


def test_bill_reversal_links_show_only_for_approvers(client, as_cashier, acct, bills, manager):
    url = reverse("ledger:household_ledger", args=[acct.room_id])
    link = reverse("ledger:bill_reverse", args=[bills[0].pk])
    assert link not in as_cashier.get(url).content.decode()
    client.force_login(manager)
    assert link in client.get(url).content.decode()


def test_the_household_ledger_takes_a_fixed_number_of_queries(as_cashier, acct, item, cashier):
    url = reverse("ledger:household_ledger", args=[acct.room_id])
    factories.monthly_bills(acct, item, D(2024, 1, 1), 2)
    factories.pay(cashier, acct, "50.00")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert as_cashier.get(url).status_code == 200
        return len(ctx)

    before = count()
    factories.monthly_bills(acct, item, D(2024, 3, 1), 10)
    for _ in range(3):
        factories.pay(cashier, acct, "150.00")
    assert count() == before


# --- 对账单 ----------------------------------------------------------------------------------------


@pytest.fixture
def history(acct, item, cashier, supervisor):
    factories.bill(acct, item, "100.00", D(2024, 1, 1))
    factories.bill(acct, item, "120.50", D(2024, 2, 1))
    factories.pay(cashier, acct, "150.00", business_date=D(2024, 2, 10))
    wrong = factories.pay(cashier, acct, "10.00", business_date=D(2024, 2, 11))
    payment_reverse(
        user=cashier,
        payment=wrong,
        reason="收错",
        approved_by=supervisor,
        business_date=D(2024, 2, 12),
    )
    return statement(acct, D(2024, 1, 1), D(2024, 12, 31))


def test_the_statement_page_shows_the_selectors_totals(as_cashier, acct, history):
    page = as_cashier.get(
        reverse("ledger:statement", args=[acct.pk]), {"from": "2024-01-01", "to": "2024-12-31"}
    ).content.decode()
    assert f'id="total-charged">{history.total_charged}<' in page
    assert f'id="closing-balance">{history.closing_balance}<' in page


@needs_pdftotext
def test_the_statement_pdf_opens_and_its_totals_match_the_selector(
    as_cashier, acct, history, tmp_path
):
    response = as_cashier.get(
        reverse("ledger:statement_pdf", args=[acct.pk]), {"from": "2024-01-01", "to": "2024-12-31"}
    )
    assert response["Content-Type"] == "application/pdf"
    text = "\n".join(pdf_pages(response.content, tmp_path))
    assert "对账单" in text.replace(" ", "")
    total_line = next(line for line in text.splitlines() if "本期合计" in line)
    assert f"{history.total_charged:,.2f}" in total_line
    assert f"{history.total_credited:,.2f}" in total_line
    closing_line = next(line for line in text.splitlines() if "期末余额" in line)
    assert f"{history.closing_balance:,.2f}" in closing_line


def test_the_statement_excel_opens_with_filters_in_the_header_and_totals_as_numbers(
    as_cashier, acct, history
):
    response = as_cashier.get(
        reverse("ledger:statement_xlsx", args=[acct.pk]), {"from": "2024-01-01", "to": "2024-12-31"}
    )
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[2][1] == "2024-01-01 至 2024-12-31" and "3-2-1502" in rows[1]
    assert rows[4][:3] == ("日期", "类型", "摘要")
    totals = next(r for r in rows if r[2] == "本期合计")
    closing = next(r for r in rows if r[2] == "期末余额")
    assert Decimal(str(totals[3])) == history.total_charged
    assert Decimal(str(totals[4])) == history.total_credited
    assert Decimal(str(closing[5])) == history.closing_balance
    body = [r for r in rows[6:] if r[2] not in ("本期合计", "期末余额")]
    assert len(body) == len(history.lines)
    assert sheet.cell(row=7, column=6).number_format == "#,##0.00"


# --- scope -----------------------------------------------------------------------------------------


def test_another_projects_objects_are_not_found(
    client, make_user, other_project, paid, acct, bills
):
    stranger = make_user("stranger", Role.SUPERVISOR, other_project)
    client.force_login(stranger)
    for url in [
        reverse("ledger:payment_reverse", args=[paid.pk]),
        reverse("ledger:bill_reverse", args=[bills[0].pk]),
        reverse("ledger:prepaid_refund", args=[acct.pk]),
        reverse("ledger:statement", args=[acct.pk]),
        reverse("ledger:statement_pdf", args=[acct.pk]),
        reverse("ledger:statement_xlsx", args=[acct.pk]),
        reverse("ledger:household_ledger", args=[acct.room_id]),
    ]:
        assert client.get(url).status_code == 404, url
    assert (
        client.post(reverse("ledger:payment_reverse", args=[paid.pk]), {"reason": "x"}).status_code
        == 404
    )
    assert not PaymentReversal.objects.exists()


def test_notices_of_another_projects_building_are_not_found(
    client, make_user, other_project, building_three
):
    stranger = make_user("stranger", Role.SUPERVISOR, other_project)
    client.force_login(stranger)
    building = building_three["3-1-101"].room.building
    response = client.get(reverse("ledger:notices"), {"building": building.pk, "pdf": "1"})
    assert response.status_code == 404
