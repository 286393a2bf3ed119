"""Statement import, automatic posting, claims from the queue, undo and refund."""

import datetime
import gc
from decimal import Decimal

import pytest

from tests.banking import factories as f
from wuye.banking import claims, matching, statement_imports
from wuye.banking.enums import Direction, LineStatus
from wuye.banking.models import Claim, PayerCard, StatementLine
from wuye.core.errors import ValidationFailed
from wuye.core.models import AuditEntry
from wuye.ledger.enums import PaymentMethod
from wuye.ledger.models import Payment, PaymentReversal
from wuye.ledger.selectors.prepaid import prepaid_balance
from wuye.ledger.selectors.window import account_position
from wuye.ledger.services.closing import cashier_close

D = f.D


@pytest.fixture
def homes(project, item):
    a = f.account(project, "5-1-803", owner="张三")
    b = f.account(project, "5-2-803", owner="李四")
    f.monthly_bills(a, item, D(2025, 1, 1), 3, "200.00")
    f.monthly_bills(b, item, D(2025, 1, 1), 2, "150.00")
    return a, b


def statement(day):
    return [
        f.line("600.00", name="张三", card="6217000011112222", remark="5-1-803物业费", day=day),
        f.line("123.45", name="陌生人", remark="货款", day=day),
        f.line("50.00", direction=Direction.OUT, name="工商银行", summary="手续费", day=day),
    ]


def test_import_posts_clear_matches_through_payment_record(project, finance, bank, homes, today):
    a, _ = homes
    day = today - datetime.timedelta(days=2)
    lines = statement(day)
    result = statement_imports.statement_import(
        user=finance, account=bank, filename="a.xlsx", lines=lines
    )
    assert [o.status for o in result.outcomes] == ["auto", "review", "ignored"]
    payment = Payment.objects.get(account=a)
    assert payment.amount == Decimal("600.00") and payment.business_date == day
    line = payment.lines.get()
    assert line.method == PaymentMethod.TRANSFER and line.reference == lines[0].serial
    assert account_position(a).outstanding == Decimal("0.00")
    assert PayerCard.objects.filter(account=a, number="6217000011112222").exists()
    assert AuditEntry.objects.filter(action="银行流水自动入账").count() == 1


def test_reimport_and_overlapping_statement_add_and_post_nothing(
    project, finance, bank, homes, today
):
    day = today - datetime.timedelta(days=2)
    first = statement(day)
    statement_imports.statement_import(user=finance, account=bank, filename="a.xlsx", lines=first)
    again = statement_imports.statement_import(
        user=finance, account=bank, filename="a.xlsx", lines=first
    )
    assert {o.status for o in again.outcomes} == {"duplicate"}
    newer = f.line("300.00", name="李四", remark="5-2-803", day=today)
    overlap = statement_imports.statement_import(
        user=finance, account=bank, filename="b.xlsx", lines=[*first[1:], newer]
    )
    assert [o.status for o in overlap.outcomes] == ["duplicate", "duplicate", "auto"]
    assert StatementLine.objects.count() == 4
    assert Payment.objects.count() == 2


def test_lines_without_serial_are_kept_once_by_fingerprint_but_twins_stay_two(
    project, finance, bank, homes, today
):
    twin = dict(name="陌生人", remark="货款", day=today, serial="")
    lines = [f.line("10.00", **twin), f.line("10.00", **twin)]
    statement_imports.statement_import(user=finance, account=bank, filename="a.csv", lines=lines)
    assert StatementLine.objects.count() == 2
    statement_imports.statement_import(user=finance, account=bank, filename="a.csv", lines=lines)
    assert StatementLine.objects.count() == 2


def test_transfer_dated_on_a_closed_day_is_posted_today_with_the_date_noted(
    project, finance, bank, homes, today
):
    day = today - datetime.timedelta(days=3)
    cashier_close(user=finance, project=project, business_date=day)
    statement_imports.statement_import(
        user=finance,
        account=bank,
        filename="a.xlsx",
        lines=[f.line("600.00", name="张三", remark="5-1-803", day=day)],
    )
    payment = Payment.objects.get()
    assert payment.business_date == today
    assert f"转账日期 {day:%Y-%m-%d} 已日结" in payment.note


def test_unidentified_money_stays_in_the_queue_and_is_never_put_on_an_account(
    project, finance, bank, homes, today
):
    statement_imports.statement_import(
        user=finance, account=bank, filename="a.xlsx", lines=[f.line("123.45", name="陌生人")]
    )
    line = StatementLine.objects.get()
    assert line.status == LineStatus.REVIEW
    assert Payment.objects.count() == 0


def test_claim_from_the_queue_posts_and_remembers_the_card(project, finance, bank, homes, today):
    _, b = homes
    statement_imports.statement_import(
        user=finance,
        account=bank,
        filename="a.xlsx",
        lines=[f.line("77.00", name="李四", card="6222000099998888")],
    )
    line = StatementLine.objects.get()
    assert line.status == LineStatus.REVIEW
    assert line.suggestions[0]["rooms"] == ["5-2-803"]
    claims.claim_confirm(user=finance, line=line, parts=[(b, "77.00")])
    line.refresh_from_db()
    assert line.status == LineStatus.MATCHED
    assert Payment.objects.get().account == b
    assert AuditEntry.objects.filter(action="银行流水认领").exists()
    # next month the card alone is enough
    result = statement_imports.statement_import(
        user=finance,
        account=bank,
        filename="b.xlsx",
        lines=[f.line("88.00", name="李四", card="6222 0000 9999 8888")],
    )
    assert result.outcomes[0].status == "auto"


def test_claim_twice_is_refused(project, finance, bank, homes, today):
    a, b = homes
    statement_imports.statement_import(
        user=finance, account=bank, filename="a.xlsx", lines=[f.line("100.00", name="陌生人")]
    )
    line = StatementLine.objects.get()
    claims.claim_confirm(user=finance, line=line, parts=[(a, "100.00")])
    with pytest.raises(ValidationFailed, match="已入账"):
        claims.claim_confirm(user=finance, line=StatementLine.objects.get(), parts=[(b, "100.00")])
    assert Payment.objects.count() == 1


def test_split_must_add_up_to_the_line(project, finance, bank, homes, today):
    a, b = homes
    statement_imports.statement_import(
        user=finance, account=bank, filename="a.xlsx", lines=[f.line("500.00", name="陌生人")]
    )
    line = StatementLine.objects.get()
    with pytest.raises(ValidationFailed, match="不符"):
        claims.claim_confirm(user=finance, line=line, parts=[(a, "300.00"), (b, "100.00")])
    claims.claim_confirm(user=finance, line=line, parts=[(a, "300.00"), (b, "200.00")])
    assert sorted(p.amount for p in Payment.objects.all()) == [Decimal("200.00"), Decimal("300.00")]
    # b owed 300: 200 paid oldest first
    assert account_position(b).outstanding == Decimal("100.00")


def test_overpayment_goes_to_prepaid(project, finance, bank, homes, today):
    a, _ = homes
    statement_imports.statement_import(
        user=finance,
        account=bank,
        filename="a.xlsx",
        lines=[f.line("1000.00", name="张三", remark="5-1-803")],
    )
    assert prepaid_balance(a) == Decimal("400.00")


def test_undo_only_by_reversal_with_approval_and_the_line_returns(
    project, finance, supervisor, bank, homes, today
):
    statement_imports.statement_import(
        user=finance,
        account=bank,
        filename="a.xlsx",
        lines=[f.line("600.00", name="张三", card="6217000011112222", remark="5-1-803")],
    )
    claim = Claim.objects.get()
    with pytest.raises(ValidationFailed):
        claims.claim_undo(user=finance, claim=claim, reason="认错户", approved_by=finance)
    claims.claim_undo(user=finance, claim=claim, reason="认错户", approved_by=supervisor)
    assert PaymentReversal.objects.filter(payment__bank_part__claim=claim).count() == 1
    line = StatementLine.objects.get()
    assert line.status == LineStatus.REVIEW and line.suggestions
    assert not PayerCard.objects.exists()
    # a second claim after the undo posts a new payment
    claims.claim_confirm(user=finance, line=line, parts=[(homes[1], "600.00")])
    assert Payment.objects.count() == 2


def test_refund_of_unclaimed_money_needs_approval(project, finance, supervisor, bank, homes):
    statement_imports.statement_import(
        user=finance, account=bank, filename="a.xlsx", lines=[f.line("9.99", name="陌生人")]
    )
    line = StatementLine.objects.get()
    with pytest.raises(ValidationFailed):
        claims.line_refund(user=finance, line=line, reason="打错账户", approved_by=finance)
    claims.line_refund(user=finance, line=line, reason="打错账户", approved_by=supervisor)
    assert StatementLine.objects.get().status == LineStatus.REFUNDED


def test_a_cashier_cannot_import_or_claim(project, make_user, bank, homes):
    cashier = make_user("cashier", "cashier", project)
    with pytest.raises(ValidationFailed):
        statement_imports.statement_import(user=cashier, account=bank, filename="a", lines=[])


def test_outgoing_lines_are_never_claimed(project, finance, bank, homes, today):
    a, _ = homes
    statement_imports.statement_import(
        user=finance,
        account=bank,
        filename="a.xlsx",
        lines=[f.line("600.00", direction=Direction.OUT, name="张三", remark="5-1-803")],
    )
    line = StatementLine.objects.get()
    assert line.status == LineStatus.IGNORED
    with pytest.raises(ValidationFailed):
        claims.claim_confirm(user=finance, line=line, parts=[(a, "600.00")])
    assert not Payment.objects.exists()


def test_a_bank_claim_closes_the_arrears_case_as_a_window_payment_does(
    project, steward, finance, bank, django_capture_on_commit_callbacks
):
    from tests.dunning import factories as dunning
    from wuye.dunning.enums import CaseState

    day = dunning.today()
    debtor = dunning.debtor(project, "3-2-1502", steward=steward)
    item = dunning.fee_item(project)
    dunning.bill(debtor, item, "100.00", day - datetime.timedelta(60), day - datetime.timedelta(40))
    dunning.run(project)
    case = dunning.case_of(debtor)
    assert case.state == CaseState.OPEN
    with django_capture_on_commit_callbacks(execute=True):
        result = statement_imports.statement_import(
            user=finance,
            account=bank,
            filename="a.xlsx",
            lines=[f.line("100.00", name=debtor.payer.name, remark="3-2-1502", day=day)],
        )
    assert result.outcomes[0].status == "auto"
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED


def test_the_requester_cannot_approve_their_own_refund(project, make_user, bank, homes):
    boss = make_user("pm", "project_manager", project)
    statement_imports.statement_import(
        user=boss, account=bank, filename="a.xlsx", lines=[f.line("9.99", name="陌生人")]
    )
    with pytest.raises(ValidationFailed):
        claims.line_refund(
            user=boss, line=StatementLine.objects.get(), reason="打错账户", approved_by=boss
        )
    assert StatementLine.objects.get().status == LineStatus.REVIEW


def test_the_collector_is_paused_while_a_statement_holds_the_index_and_back_after(
    project, finance, bank, homes, today, monkeypatch
):
    seen = []

    def failing_match(index, lines):
        seen.append((index.project_id, gc.isenabled()))
        raise RuntimeError("a statement that fails half-way")

    monkeypatch.setattr(matching, "match_lines", failing_match)
    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        statement_imports.statement_import(
            user=finance, account=bank, filename="a.xlsx", lines=statement(today)
        )
    assert seen == [(project.pk, False)]
    assert gc.isenabled()
