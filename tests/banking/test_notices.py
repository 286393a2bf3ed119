"""Bank details on the payment notice: the receiving account and the room code to write in the
remark, so that transfers match by themselves."""

import pytest

from tests.banking import factories as f
from wuye.ledger.pdf import notices_pdf
from wuye.ledger.selectors.notices import notices_for

D = f.D


@pytest.fixture
def household(project, item):
    acct = f.account(project, "5-1-803", owner="张三")
    f.monthly_bills(acct, item, D(2025, 1, 1), 2, "200.00")
    return acct


def test_the_notice_names_the_receiving_account_and_the_reference(project, household):
    account = f.bank(project)
    account.name, account.bank = "锦绣花园物业服务中心", "工商银行某支行"
    account.save()
    notice = notices_for(project, building_id=household.room.building_id)[0]
    assert "账号：6222020200112233445" in notice.bank_details
    assert "户名：锦绣花园物业服务中心" in notice.bank_details
    assert "附言中注明房号“5-1-803”" in notice.bank_details
    assert notices_pdf([notice]).startswith(b"%PDF")


def test_no_receiving_account_no_bank_line(project, household):
    notice = notices_for(project, building_id=household.room.building_id)[0]
    assert notice.bank_details == ""


def test_an_account_kept_off_notices_is_not_printed(project, household):
    account = f.bank(project)
    account.on_notices = False
    account.save()
    notice = notices_for(project, building_id=household.room.building_id)[0]
    assert notice.bank_details == ""


def test_the_hook_can_be_switched_off(project, household, settings):
    f.bank(project)
    settings.WUYE_NOTICE_BANK_DETAILS = []
    notice = notices_for(project, building_id=household.room.building_id)[0]
    assert notice.bank_details == ""
