"""The keys the system posts bank claims, withholding returns and online payments with
(``bank-…``, ``withhold-…``, ``wechat-…``, ``alipay-…``; a statement line's id is easy to guess) are
not a cashier's to choose: a repeated key returns the payment already made under it, so a cashier who
took a claim's key first with 0.01 元 cash would have the owner's transfer recorded as that 0.01."""

import pytest
from django.test import RequestFactory

from tests.banking import factories as f
from wuye.banking import claims, statement_imports
from wuye.banking.models import StatementLine
from wuye.core.errors import ValidationFailed
from wuye.ledger import api
from wuye.ledger.models import Payment

pytestmark = pytest.mark.django_db


def _as(user):
    request = RequestFactory().post("/")
    request.user = user
    return request


@pytest.mark.parametrize("prefix", ["bank-{pk}-1-1", "withhold-{pk}", "wechat-42", "ALIPAY-42"])
def test_a_cashier_may_not_pay_under_a_key_the_system_posts_with(
    project, cashier, finance, bank, homes, prefix
):
    _, b = homes
    statement_imports.statement_import(
        user=finance, account=bank, filename="a.xlsx", lines=[f.line("77.00", name="李四")]
    )
    line = StatementLine.objects.get()
    data = api.PaymentIn(
        account_id=b.pk,
        lines=[{"method": "cash", "amount": "0.01"}],
        idempotency_key=prefix.format(pk=line.pk),
    )
    with pytest.raises(ValidationFailed) as caught:
        api.payment_create(_as(cashier), data)
    assert caught.value.field == "idempotency_key"
    claims.claim_confirm(user=finance, line=line, parts=[(b, "77.00")])
    assert [p.amount for p in Payment.objects.filter(account=b)] == [77]
