"""The project's prepayment cap (预收上限; local rules may cap prepaid property fees, e.g. at 12 months)
binds how far ahead a household has paid, not each prepayment alone: two prepayments of 12 months
one after the other would collect 24 months ahead."""

import datetime

import pytest
from django.utils import timezone

from wuye.billing import fee_settings, pay_ahead
from wuye.core.errors import ValidationFailed

pytestmark = pytest.mark.django_db


def test_a_second_prepayment_may_not_go_past_the_cap(project, acct, item):
    fee_settings.billing_settings_update(user=None, project=project, max_prepay_months=12)
    fee_settings.fee_standard_add(
        user=None, fee_item=item, unit_price="100.00", valid_from=datetime.date(2020, 1, 1)
    )
    today = timezone.localdate()
    first = pay_ahead.pay_ahead(user=None, account=acct, fee_item=item, months=10, on_date=today)
    assert len(first.bills) == 10
    # This month and the nine after it are paid: three more months reach the cap, four pass it.
    with pytest.raises(ValidationFailed) as caught:
        pay_ahead.pay_ahead(user=None, account=acct, fee_item=item, months=4, on_date=today)
    assert caught.value.field == "months"
    assert "预收上限 12 个月" in caught.value.message and "以后 9 个月" in caught.value.message
    second = pay_ahead.pay_ahead(user=None, account=acct, fee_item=item, months=3, on_date=today)
    assert len(second.bills) == 3
    with pytest.raises(ValidationFailed):
        pay_ahead.pay_ahead(user=None, account=acct, fee_item=item, months=1, on_date=today)
