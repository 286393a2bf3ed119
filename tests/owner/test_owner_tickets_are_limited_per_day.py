"""“对账单有疑问 / 报修” from the owner page opens a ticket on the household file for staff to answer;
at most WUYE_OWNER_TICKETS_PER_DAY a day per household, so a script holding a verified link cannot
bury the service desk's list (the page says to call the service centre instead)."""

import pytest

from wuye.registry.models import ServiceTicket

pytestmark = pytest.mark.django_db


def test_an_owner_opens_at_most_the_days_limit_of_tickets(verified_client, token, acct, settings):
    settings.WUYE_OWNER_TICKETS_PER_DAY = 3
    for n in range(5):
        page = verified_client.post(
            f"/o/{token}/ticket/", {"kind": "repair", "description": f"第 {n} 次"}, follow=True
        )
    assert ServiceTicket.objects.filter(room=acct.room).count() == 3
    assert "每天最多 3 次" in page.content.decode()
