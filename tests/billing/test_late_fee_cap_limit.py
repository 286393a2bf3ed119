"""LAW.md §6: the late-fee cap is at most 1.5 × the one-year LPR; a project may lower it, never raise
it — the service refuses, the database refuses, and the computation clamps."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from wuye.billing import services as billing
from wuye.billing.models import LateFeeRule
from wuye.core.errors import ValidationFailed
from wuye.ledger.selectors.late_fees import LateFeeTerms

pytestmark = pytest.mark.django_db
D = datetime.date


def test_a_cap_multiplier_above_one_and_a_half_is_refused_citing_the_law(project):
    with pytest.raises(ValidationFailed) as refused:
        billing.late_fee_rule_set(
            user=None,
            project=project,
            enabled=True,
            daily_rate="0.003",
            start_date=D(2024, 1, 1),
            cap_multiplier="10",
        )
    assert refused.value.field == "cap_multiplier"
    assert "《民法典》第五百八十五条" in refused.value.message
    assert not LateFeeRule.objects.exists()


def test_a_lower_cap_multiplier_is_accepted(project):
    rule = billing.late_fee_rule_set(
        user=None,
        project=project,
        enabled=True,
        daily_rate="0.003",
        start_date=D(2024, 1, 1),
        cap_multiplier="1.2",
    )
    assert rule.cap_multiplier == Decimal("1.2")


def test_the_database_refuses_a_cap_multiplier_above_the_limit(project):
    with pytest.raises(IntegrityError), transaction.atomic():
        LateFeeRule.objects.create(
            project=project,
            enabled=True,
            daily_rate="0.003",
            start_date=D(2024, 1, 1),
            cap_multiplier=Decimal("10"),
        )


def test_the_computation_clamps_a_multiplier_that_slipped_past():
    terms = LateFeeTerms(
        daily_rate=Decimal("0.003"),
        grace_days=0,
        start_date=D(2020, 1, 1),
        cap_multiplier=Decimal("10"),
        lpr_annual=Decimal("0.0365"),
    )
    assert terms.capped_daily_rate == Decimal("0.00015")
