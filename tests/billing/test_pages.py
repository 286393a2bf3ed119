"""The billing pages: role checks, project scope, errors next to their field, the run's progress."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.billing.conftest import fee_item, room
from wuye.billing import runs
from wuye.billing.enums import RunStatus
from wuye.billing.models import Bill, BillAdjustment, FeeItem, LateFeeRule, MeterReading
from wuye.core.approvals import WRONG_APPROVER
from wuye.core.roles import Role

D = datetime.date
NOV = D(2026, 11, 1)


@pytest.fixture
def as_manager(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def estate(project, property_fee):
    room(project, "1-1-101", area="100.00", owner="甲")
    room(project, "1-1-102", area=None, owner="乙")
    return project


# --- roles and scope -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["fee_items", "runs", "late_fees", "settings"], ids=lambda n: n)
def test_a_steward_cannot_configure_fees_or_run_billing(client, steward, project, name):
    client.force_login(steward)
    assert client.get(reverse(f"billing:{name}")).status_code == 403


def test_a_steward_may_enter_meter_readings(client, steward, project):
    client.force_login(steward)
    assert client.get(reverse("billing:readings")).status_code == 200


def test_finance_may_run_billing(client, make_user, project):
    client.force_login(make_user("fin", Role.FINANCE, company_role=Role.FINANCE))
    assert client.get(reverse("billing:runs")).status_code == 200


def test_another_projects_run_is_not_found(as_manager, other_project):
    run = runs.run_preview(project=other_project, period_start=NOV, user=None)
    for name in ("run", "run_progress"):
        assert as_manager.get(reverse(f"billing:{name}", args=[run.pk])).status_code == 404
    assert as_manager.post(reverse("billing:run_commit", args=[run.pk])).status_code == 404
    assert RunStatus(run.status) == RunStatus.PREVIEWED


def test_another_projects_fee_item_is_not_found(as_manager, other_project):
    item = fee_item(other_project, "WYF", "area", "2")
    assert as_manager.get(reverse("billing:fee_item", args=[item.pk])).status_code == 404


def test_the_nav_shows_billing_links_to_a_manager_only(client, as_manager, steward):
    assert "收费项目" in as_manager.get(reverse("billing:runs")).content.decode()
    client.force_login(steward)
    page = client.get(reverse("billing:readings")).content.decode()
    assert 'href="/billing/items/"' not in page and "抄表" in page


# --- fee items and standards ---------------------------------------------------------------------


def test_a_manager_creates_a_fee_item(as_manager, project):
    response = as_manager.post(
        reverse("billing:fee_items"),
        {
            "code": "WYF",
            "name": "物业服务费",
            "method": "area",
            "area_basis": "gross",
            "cycle": "month",
            "due_days": "14",
            "rounding": "half_up",
            "vacancy_policy": "full",
            "vacancy_rate": "1",
            "not_handed_over_policy": "developer",
            "not_handed_over_rate": "1",
            "prorate_from_handover": "on",
            "late_fee_applies": "on",
            "sort": "0",
        },
    )
    item = FeeItem.objects.get(project=project, code="WYF")
    assert response.status_code == 302 and response["Location"].endswith(f"/items/{item.pk}/")


def test_a_negative_price_is_shown_next_to_the_price_field(as_manager, property_fee):
    response = as_manager.post(
        reverse("billing:standard_add", args=[property_fee.pk]),
        {"unit_price": "-2", "valid_from": "2027-01-01", "close_previous": "on"},
    )
    assert response.status_code == 400
    assert response.context["standard_form"].errors["unit_price"] == ["单价不能为负"]
    assert 'id="id_unit_price-error"' in response.content.decode()


def test_a_price_change_ends_the_previous_standard(as_manager, property_fee):
    as_manager.post(
        reverse("billing:standard_add", args=[property_fee.pk]),
        {"unit_price": "2.80", "valid_from": "2027-01-01", "close_previous": "on"},
    )
    old, new = property_fee.standards.order_by("valid_from")
    assert old.valid_to == D(2026, 12, 31) and new.unit_price == Decimal("2.80")


def test_a_standard_is_ended_on_a_chosen_day(as_manager, property_fee):
    standard = property_fee.standards.get()
    as_manager.post(reverse("billing:standard_end", args=[standard.pk]), {"valid_to": "2026-12-31"})
    standard.refresh_from_db()
    assert standard.valid_to == D(2026, 12, 31)


# --- readings ------------------------------------------------------------------------------------


def test_a_reading_sheet_saves_all_rows_or_shows_the_error_on_the_row(as_manager, project):
    water = fee_item(project, "SF", "metered", "3.5", name="水费")
    a, b = room(project, "1-1-101", owner="甲"), room(project, "1-1-102", owner="乙")
    url = (
        reverse("billing:readings")
        + f"?fee_item={water.pk}&building={a.building_id}&period=2026-11"
    )
    bad = {
        f"previous_{a.pk}": "10",
        f"current_{a.pk}": "20",
        f"previous_{b.pk}": "50",
        f"current_{b.pk}": "40",
    }
    response = as_manager.post(url, bad)
    assert response.status_code == 400
    assert f'id="err-{b.pk}"' in response.content.decode()
    assert "低于上期读数" in response.content.decode()
    assert not MeterReading.objects.exists()

    good = {**bad, f"current_{b.pk}": "60"}
    assert as_manager.post(url, good).status_code == 302
    assert MeterReading.objects.count() == 2


def test_a_shared_charge_is_registered(as_manager, project):
    item = fee_item(project, "GT", "shared", name="公摊电费")
    as_manager.post(
        reverse("billing:shared_charge_add"),
        {"fee_item": item.pk, "period": "2026-11", "building": "", "total": "300.00"},
    )
    assert item.shared_charges.get().total == Decimal("300.00")


# --- billing runs --------------------------------------------------------------------------------


def test_preview_shows_counts_totals_and_rooms_without_area(as_manager, estate):
    response = as_manager.post(reverse("billing:runs"), {"period": "2026-11"}, follow=True)
    page = response.content.decode()
    assert "250.00" in page and "1-1-102" in page and "未登记面积" in page
    assert not Bill.objects.exists()


def test_a_badly_typed_month_is_shown_next_to_the_field(as_manager, estate):
    response = as_manager.post(reverse("billing:runs"), {"period": "2026-13"})
    assert response.status_code == 400
    assert "period" in response.context["form"].errors


def test_commit_queues_the_task_and_progress_reaches_100_percent(as_manager, estate):
    run = runs.run_preview(project=estate, period_start=NOV, user=None)
    response = as_manager.post(reverse("billing:run_commit", args=[run.pk]))
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == RunStatus.COMMITTED and Bill.objects.filter(run=run).count() == 1
    progress = as_manager.get(reverse("billing:run_progress", args=[run.pk])).content.decode()
    assert "100%" in progress and "1 / 1" in progress and "hx-trigger" not in progress


def test_progress_keeps_polling_while_the_run_is_written(as_manager, estate):
    run = runs.run_preview(project=estate, period_start=NOV, user=None)
    type(run).objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, total_count=4, done_count=1
    )
    progress = as_manager.get(reverse("billing:run_progress", args=[run.pk])).content.decode()
    assert "25%" in progress and 'hx-trigger="every 1s"' in progress


def test_a_run_is_reversed_with_a_reason_by_the_manager(as_manager, estate, manager, approver):
    run = runs.run_commit(
        run=runs.run_preview(project=estate, period_start=NOV, user=None), user=None
    )
    url = reverse("billing:run_reverse", args=[run.pk])
    # 四眼原则: the manager cannot approve their own reversal by leaving the approver blank.
    response = as_manager.post(url, {"reason": "单价录错"})
    assert response.status_code == 400 and "四眼原则" in response.content.decode()
    response = as_manager.post(
        url,
        {"reason": "单价录错", "approver_username": "approver", "approver_password": "pw-approver"},
    )
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == RunStatus.REVERSED and BillAdjustment.objects.count() == 1


def test_finance_needs_a_managers_password_to_reverse(client, make_user, estate, manager):
    client.force_login(make_user("fin", Role.FINANCE, company_role=Role.FINANCE))
    run = runs.run_commit(
        run=runs.run_preview(project=estate, period_start=NOV, user=None), user=None
    )
    url = reverse("billing:run_reverse", args=[run.pk])
    response = client.post(url, {"reason": "错"})
    assert (
        response.status_code == 400
        and "approver_username" in response.context["reverse_form"].errors
    )
    response = client.post(
        url, {"reason": "错", "approver_username": "manager", "approver_password": "wrong"}
    )
    assert response.context["reverse_form"].errors["approver_password"] == [WRONG_APPROVER]
    response = client.post(
        url, {"reason": "错", "approver_username": "manager", "approver_password": "pw-manager"}
    )
    assert response.status_code == 302
    assert BillAdjustment.objects.get().approved_by == manager


# --- late fees, LPR, reductions, settings --------------------------------------------------------


def test_the_late_fee_page_shows_the_capped_rate_beside_the_contract_rate(as_manager, project):
    as_manager.post(
        reverse("billing:late_fees"),
        {"action": "lpr", "effective_from": "2025-05-20", "annual_rate": "0.0300"},
    )
    response = as_manager.post(
        reverse("billing:late_fees"),
        {
            "action": "rule",
            "enabled": "on",
            "daily_rate": "0.003",
            "grace_days": "30",
            "start_date": "2026-01-01",
            "cap_multiplier": "1.5",
        },
        follow=True,
    )
    assert LateFeeRule.objects.get(project=project).daily_rate == Decimal("0.003")
    page = response.content.decode()
    assert "合同利率高于上限" in page and "年利率 4.50%" in page  # 1.5 × 3.00%


def test_a_bad_lpr_is_shown_next_to_its_field(as_manager, project):
    response = as_manager.post(
        reverse("billing:late_fees"),
        {"action": "lpr", "effective_from": "2025-05-20", "annual_rate": "3"},
    )
    assert response.status_code == 400 and "annual_rate" in response.context["lpr_form"].errors


def test_a_one_off_reduction_needs_a_reason(as_manager, estate, approver):
    runs.run_commit(run=runs.run_preview(project=estate, period_start=NOV, user=None), user=None)
    bill = Bill.objects.get()
    url = reverse("billing:room_adjust", args=[bill.room_id])
    data = {
        "action": "adjust",
        "bill": bill.pk,
        "kind": "waiver",
        "amount": "50",
        "reason": "",
        "approver_username": "approver",
        "approver_password": "pw-approver",
    }
    response = as_manager.post(url, data)
    assert response.status_code == 400 and "reason" in response.context["adjust_form"].errors
    assert as_manager.post(url, {**data, "reason": "漏水补偿"}).status_code == 302
    assert BillAdjustment.objects.get().amount == Decimal("50")


def test_another_projects_room_has_no_reduction_page(as_manager, other_project):
    r = room(other_project, "9-1-101")
    assert as_manager.get(reverse("billing:room_adjust", args=[r.pk])).status_code == 404


def test_billing_settings_are_saved(as_manager, project):
    as_manager.post(
        reverse("billing:settings"),
        {"max_prepay_months": "6", "payment_instructions": "请到服务中心缴费"},
    )
    settings = project.billing_settings
    assert settings.max_prepay_months == 6 and not settings.auto_consume_prepaid


def test_the_admin_shows_bills_but_cannot_change_them(client, admin_user, estate):
    from wuye.core.models import User

    runs.run_commit(run=runs.run_preview(project=estate, period_start=NOV, user=None), user=None)
    root = User.objects.create_superuser("root", password="pw-root-12345")
    client.force_login(root)
    assert client.get(reverse("admin:billing_bill_changelist")).status_code == 200
    bill = Bill.objects.get()
    assert client.post(reverse("admin:billing_bill_delete", args=[bill.pk])).status_code == 403
