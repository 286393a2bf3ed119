"""Callbacks answered once stored, posted by the quick queue (payments.notices, decision 0018).

Here the task backend defers (as the ORM queue and RQ do in production), so a callback only stores
its notice; the tests then run the worker's function (``notices_post``) themselves. Every rule of
``order_settle`` holds on this path: once per order, wrong amount, bills paid meanwhile, closed
order, pay-ahead, a failure kept with why and retried."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.payments.helpers import order_for, post_wechat, wechat_paid
from wuye.core.errors import ValidationFailed
from wuye.ledger import invariants
from wuye.ledger.models import Payment
from wuye.ledger.selectors.prepaid import prepaid_balance
from wuye.ledger.selectors.window import unpaid_bills
from wuye.owner import paying
from wuye.payments import notices, selectors
from wuye.payments.enums import IssueKind, NoticeState, OrderStatus
from wuye.payments.models import Notification, OrderIssue

DUMMY = "django_tasks.backends.dummy.DummyBackend"


@pytest.fixture
def queued(settings):
    """Tasks are queued for a worker that does not run: callbacks only store their notices."""
    settings.TASKS = {"default": {"BACKEND": DUMMY, "QUEUES": settings.WUYE_TASK_QUEUES}}
    notices._kicked.clear()


def paid_callback(fake, order, *, paid_at=None, **kwargs):
    if paid_at is None:
        headers, body = wechat_paid(fake, order, **kwargs)
    else:
        trade = fake.wechat.pay(order.out_trade_no, **kwargs)
        trade["success_time"] = paid_at.isoformat()
        headers, body = fake.wechat.pay_notification(order.out_trade_no)
    response = post_wechat(headers, body)
    return response, (headers, body)


def test_the_callback_is_answered_once_stored_and_the_worker_posts_it(
    queued, payments_fake, household
):
    order = order_for(household, n=2)
    response, _ = paid_callback(payments_fake, order)
    assert response.status_code == 204
    note = Notification.objects.get(out_trade_no=order.out_trade_no)
    assert note.state == NoticeState.PENDING
    assert note.amount == Decimal("200.00")
    assert note.key == f"wechat-{note.transaction_id}"
    order.refresh_from_db()
    assert order.status == OrderStatus.OPEN and order.payment is None
    assert list(selectors.notices_waiting([household.project_id])) == [note]

    counts = notices.notices_post()
    assert counts == {"done": 1, "failed": 0, "sets": 1}
    order.refresh_from_db()
    note.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.transaction_id == note.transaction_id
    assert order.payment.idempotency_key == f"wechat-{note.transaction_id}"
    assert order.payment.lines.get().reference == note.transaction_id
    assert [b.pk for b in unpaid_bills(household)] == [household.test_bills[2].pk]
    assert (note.state, note.order_id, note.attempts) == (NoticeState.DONE, order.pk, 1)
    assert not selectors.notices_waiting([household.project_id]).exists()
    assert invariants.check_all() == []


def test_duplicate_callbacks_store_one_notice_and_post_once(queued, payments_fake, household):
    order = order_for(household)
    _, (headers, body) = paid_callback(payments_fake, order)
    for _ in range(3):
        assert post_wechat(headers, body).status_code == 204
    assert Notification.objects.filter(out_trade_no=order.out_trade_no).count() == 1
    notices.notices_post()
    # A repeat after posting: answered success, nothing stored, nothing posted.
    assert post_wechat(headers, body).status_code == 204
    assert notices.notices_post() == {"done": 0, "failed": 0, "sets": 0}
    assert Payment.objects.filter(account=household).count() == 1
    assert Notification.objects.filter(out_trade_no=order.out_trade_no).count() == 1


def test_a_notice_for_an_order_the_order_query_posted_meanwhile_is_done_without_a_second_payment(
    queued, payments_fake, household
):
    from wuye.payments import services

    order = order_for(household)
    paid_callback(payments_fake, order)
    services.order_refresh(order)  # 主动查单 finds it paid and posts it
    notices.notices_post()
    note = Notification.objects.get(out_trade_no=order.out_trade_no)
    assert (note.state, note.outcome) == (NoticeState.DONE, "已入账（重复通知）")
    assert Payment.objects.filter(account=household).count() == 1


def test_wrong_amount_is_not_posted_and_finance_is_told(queued, payments_fake, household):
    order = order_for(household)
    paid_callback(payments_fake, order, paid=100)  # 1 yuan for a 300-yuan order
    notices.notices_post()
    order.refresh_from_db()
    assert order.payment is None
    assert order.status == OrderStatus.FAILED
    assert OrderIssue.objects.filter(order=order, kind=IssueKind.WRONG_AMOUNT).exists()
    assert not Payment.objects.filter(account=household).exists()
    assert Notification.objects.get(out_trade_no=order.out_trade_no).state == NoticeState.DONE


def test_bills_paid_at_the_window_before_the_worker_go_to_prepaid_and_finance_is_told(
    queued, payments_fake, household, cashier
):
    from tests.ledger.factories import pay

    order = order_for(household)
    paid_callback(payments_fake, order)
    pay(cashier, household, "100.00", bill_ids=[household.test_bills[0].pk])
    notices.notices_post()
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert unpaid_bills(household) == []
    assert prepaid_balance(household) == Decimal("100.00")
    assert OrderIssue.objects.filter(order=order, kind=IssueKind.BILLS_TAKEN).exists()


def test_a_payment_after_the_order_expired_is_still_posted_and_flagged(
    queued, payments_fake, household
):
    order = order_for(household)
    paid_callback(payments_fake, order)
    order.status = OrderStatus.EXPIRED
    order.save(update_fields=["status"])
    notices.notices_post()
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert Payment.objects.filter(account=household).count() == 1
    assert OrderIssue.objects.filter(order=order, kind=IssueKind.LATE_PAYMENT).exists()


def test_a_day_closed_meanwhile_posts_on_today(queued, payments_fake, household, project):
    from wuye.ledger.services.closing import cashier_close
    from wuye.payments.services import online_user_for

    order = order_for(household)
    paid_callback(payments_fake, order, paid_at=timezone.now() - datetime.timedelta(days=1))
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    cashier_close(user=online_user_for(project), project=project, business_date=yesterday)
    notices.notices_post()
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.payment.business_date == timezone.localdate()


def test_the_callback_of_a_pay_ahead_order_bills_the_months_ahead_at_the_quoted_figure(
    queued, payments_fake, household, item, make_user, project
):
    from tests.payments.test_pay_ahead import ahead_order, rule
    from wuye.billing import fee_settings
    from wuye.billing.models import Bill
    from wuye.core.roles import Role

    fee_settings.fee_standard_add(
        user=None, fee_item=item, unit_price="100.00", valid_from=datetime.date(2020, 1, 1)
    )
    rule(item, make_user("manager", Role.PROJECT_MANAGER, project))
    order = ahead_order(household)
    paid_callback(payments_fake, order)
    notices.notices_post()
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    ahead = Bill.objects.filter(period_start__gte=timezone.localdate().replace(day=1))
    assert ahead.count() == 12
    assert unpaid_bills(household) == []
    assert prepaid_balance(household) == Decimal("0.00")
    assert order.payment.amount == Decimal("1440.00")


def test_a_failure_is_kept_with_why_shown_to_finance_and_retried(
    queued, payments_fake, household, monkeypatch
):
    order = order_for(household)
    paid_callback(payments_fake, order)

    def refuse(*, user, project, requests):
        return [ValidationFailed("账务暂不可用", code="test.down") for _ in requests]

    monkeypatch.setattr(notices, "payments_record_many", refuse)
    assert notices.notices_post() == {"done": 0, "failed": 1, "sets": 1}
    note = Notification.objects.get(out_trade_no=order.out_trade_no)
    assert note.state == NoticeState.FAILED
    assert "账务暂不可用" in note.outcome
    assert note.retry_at > timezone.now()
    assert OrderIssue.objects.filter(order=order, kind=IssueKind.POSTING_FAILED).exists()
    assert list(selectors.notices_waiting([household.project_id])) == [note]
    # Not due yet: the next run leaves it; when due, it is posted.
    monkeypatch.undo()
    assert notices.notices_post()["done"] == 0
    Notification.objects.filter(pk=note.pk).update(retry_at=timezone.now())
    assert notices.notices_post()["done"] == 1
    note.refresh_from_db()
    order.refresh_from_db()
    assert (note.state, note.attempts) == (NoticeState.DONE, 2)
    assert order.status == OrderStatus.PAID
    assert Payment.objects.filter(account=household).count() == 1


def test_an_error_of_the_one_by_one_path_is_kept_as_failed(
    queued, payments_fake, household, monkeypatch
):
    from wuye.payments import services

    order = order_for(household)
    paid_callback(payments_fake, order)
    order.status = OrderStatus.EXPIRED  # not the plain case: settled one by one
    order.save(update_fields=["status"])

    def broken(*args, **kwargs):
        raise RuntimeError("数据库连接中断")

    monkeypatch.setattr(services, "order_settle", broken)
    assert notices.notices_post()["failed"] == 1
    note = Notification.objects.get(out_trade_no=order.out_trade_no)
    assert note.state == NoticeState.FAILED and "数据库连接中断" in note.outcome
    assert not Payment.objects.exists()


def test_the_owner_page_settles_its_stored_notice_without_waiting_for_the_queue(
    queued, payments_fake, household, monkeypatch
):
    from wuye.owner import links
    from wuye.payments import services

    order = order_for(household)
    paid_callback(payments_fake, order)

    def no_platform(order, **kwargs):
        raise AssertionError("the stored notice is enough: no 主动查单")

    monkeypatch.setattr(services, "order_refresh", no_platform)
    link = links.link_for(household)
    shown = paying.order_of(link, order.out_trade_no)
    assert shown.status == OrderStatus.PAID
    monkeypatch.undo()
    assert notices.notices_post() == {"done": 0, "failed": 0, "sets": 0}
    assert Payment.objects.filter(account=household).count() == 1


def test_an_unknown_order_is_ignored(queued, payments_fake, household):
    order = order_for(household)
    payments_fake.wechat.pay(order.out_trade_no)
    trade = payments_fake.wechat.trades[order.out_trade_no]
    trade["out_trade_no"] = "WY-NOT-OURS"
    headers, body = payments_fake.wechat.notification(
        payments_fake.wechat.resource(trade), "TRANSACTION.SUCCESS"
    )
    assert post_wechat(headers, body).status_code == 204
    notices.notices_post()
    note = Notification.objects.get(out_trade_no="WY-NOT-OURS")
    assert note.state == NoticeState.IGNORED
    assert not Payment.objects.exists()


def test_one_posting_task_is_queued_per_second_of_callbacks(queued, payments_fake, project, item):
    from tests.ledger.factories import account, monthly_bills

    backend = notices.notices_post_task.get_backend()
    backend.results.clear()
    for n in range(3):
        acc = account(project, f"1-1-{201 + n}")
        acc.test_bills = monthly_bills(acc, item, datetime.date(2025, 1, 1), 1)
        paid_callback(payments_fake, order_for(acc))
    queued_at = [r.task.run_after for r in backend.results if r.task.name == "notices_post_task"]
    assert 1 <= len(queued_at) <= 2  # the three callbacks may straddle a second
    assert all(at > timezone.now() for at in queued_at)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    plan=st.lists(
        st.tuples(
            st.integers(0, 3),  # which order
            st.sampled_from(["right", "wrong", "again"]),
            st.booleans(),  # run the worker after this callback
        ),
        min_size=1,
        max_size=10,
    )
)
def test_any_mix_of_callbacks_and_worker_runs_posts_each_order_at_most_once(
    queued, payments_fake, project, item, plan
):
    """Invariant: whatever order callbacks (right amount, wrong amount, repeats) and worker runs
    come in, an order has at most one payment, it is for the order's amount, and the ledger holds."""
    from django.db import transaction

    from tests.ledger.factories import account, monthly_bills

    with transaction.atomic():
        orders, sent = [], {}
        for n in range(4):
            acc = account(project, f"2-1-{301 + n}")
            acc.test_bills = monthly_bills(acc, item, datetime.date(2025, 1, 1), 2)
            orders.append(order_for(acc))
        for which, how, run in plan:
            order = orders[which]
            if how == "again" and which in sent:
                post_wechat(*sent[which])
            elif which not in sent:
                kwargs = {"paid": 100} if how == "wrong" else {}
                sent[which] = wechat_paid(payments_fake, order, **kwargs)
                post_wechat(*sent[which])
            if run:
                notices.notices_post()
        notices.notices_post()
        for order in orders:
            order.refresh_from_db()
            payments = Payment.objects.filter(account=order.account)
            assert payments.count() <= 1
            if order.payment_id is not None:
                assert payments.get().amount == order.amount
            if order.pk in {orders[w].pk for w in sent}:
                note = Notification.objects.get(out_trade_no=order.out_trade_no)
                assert note.state == NoticeState.DONE
        assert invariants.check_all() == []
        transaction.set_rollback(True)


def test_the_orders_page_shows_notices_waiting_and_failed_with_why(
    queued, payments_fake, household, client, cashier, monkeypatch
):
    waiting = order_for(household, n=1)
    paid_callback(payments_fake, waiting)
    client.force_login(cashier)
    page = client.get("/payments/").content.decode()
    assert "待入账的支付通知" in page and waiting.out_trade_no in page

    monkeypatch.setattr(
        notices,
        "payments_record_many",
        lambda *, user, project, requests: [ValidationFailed("账务暂不可用") for _ in requests],
    )
    notices.notices_post()
    page = client.get("/payments/").content.decode()
    assert "入账失败，待重试" in page and "账务暂不可用" in page


def test_the_schedulers_order_sweep_posts_stored_notices_first(
    queued, payments_fake, household, monkeypatch
):
    """A notice whose queued task was lost (or a failed one due for retry) is posted by the sweep the
    scheduler runs every few minutes, before it asks the platform about open orders."""
    from wuye.ops.management.commands import scheduler

    order = order_for(household)
    paid_callback(payments_fake, order)
    monkeypatch.setattr(scheduler, "close_old_connections", lambda: None)
    monkeypatch.setattr(scheduler, "orders_sweep", lambda: {"checked": 0})
    scheduler._sweep_orders()
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert Payment.objects.filter(account=household).count() == 1
