"""Login throttling (django-axes): by user name and address, Chinese retry time, audited, unlockable
(issue 13 item 2)."""

import datetime
import re

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from wuye.core.models import AuditEntry

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.9"
OFFICE = "10.1.2.3"


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    # Dozens of password checks per test: a fast hasher keeps the module quick on a shared machine.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def login(client, username, password, *, addr=ATTACKER, url="/login/"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=addr)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_twenty_five_wrong_passwords_lock_the_account_and_the_right_one_is_refused(
    client, admin_user
):
    answers = [login(client, "boss", f"guess-{i}").status_code for i in range(25)]
    assert answers[:4] == [200] * 4  # the login form again, "用户名或密码不正确"
    assert set(answers[4:]) == {429}
    right = login(client, "boss", "pw-boss")
    assert right.status_code == 429
    assert not logged_in(client)


def test_lockout_tells_in_chinese_when_to_retry(client, steward):
    for i in range(5):
        response = login(client, "steward", f"nope{i}")
    page = response.content.decode()
    assert response.status_code == 429
    # The date is added when the lock ends on another day (after midnight).
    match = re.search(r"请于 (?:\d{4}-\d\d-\d\d )?(\d\d:\d\d) 后再试", page)
    assert match, page
    until = timezone.localtime() + datetime.timedelta(minutes=15)
    expected = {(until + datetime.timedelta(minutes=d)).strftime("%H:%M") for d in (0, 1)}
    assert match.group(1) in expected
    assert "联系系统管理员" in page


def test_lock_is_per_user_and_address_so_the_office_still_logs_in(client, steward):
    for i in range(6):
        login(client, "steward", f"nope{i}")
    assert login(client, "steward", "pw-steward", addr=OFFICE).status_code == 302
    assert logged_in(client)


def test_a_successful_login_resets_the_count(client, steward):
    for i in range(4):
        login(client, "steward", f"nope{i}")
    assert login(client, "steward", "pw-steward").status_code == 302
    client.logout()
    for i in range(4):
        login(client, "steward", f"again{i}")
    assert login(client, "steward", "pw-steward").status_code == 302


def test_lockout_is_written_to_the_audit_trail_once(client, steward):
    for i in range(9):
        login(client, "steward", f"nope{i}")
    entries = AuditEntry.objects.filter(action="登录锁定")
    assert entries.count() == 1
    entry = entries.get()
    assert entry.object_id == str(steward.pk)
    assert entry.changes["username"] == "steward"
    assert entry.changes["ip_address"] == ATTACKER


def test_an_administrator_unlocks_with_the_axes_command(client, steward):
    for i in range(5):
        login(client, "steward", f"nope{i}")
    assert login(client, "steward", "pw-steward").status_code == 429
    call_command("axes_reset_username", "steward")
    assert login(client, "steward", "pw-steward").status_code == 302


def test_an_administrator_sees_and_can_delete_lockouts_in_the_admin(client, steward, make_user):
    for i in range(5):
        login(client, "steward", f"nope{i}")
    admin = make_user("root", "")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    page = client.get(reverse("admin:core_loginattempt_changelist"))
    assert page.status_code == 200 and "steward" in page.content.decode()


def test_the_lock_ends_after_the_cool_off(client, steward):
    for i in range(5):
        login(client, "steward", f"nope{i}")
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=16))
    assert login(client, "steward", "pw-steward").status_code == 302


def test_admin_login_and_so_the_api_session_follow_the_same_rule(client, admin_user):
    admin_user.is_staff = True
    admin_user.save()
    for i in range(5):
        login(client, "boss", f"nope{i}", url="/admin/login/")
    # Locked on the admin login too, and the page login shares the counter.
    assert login(client, "boss", "pw-boss", url="/admin/login/").status_code == 429
    assert login(client, "boss", "pw-boss").status_code == 429
    # The API takes only the session cookie those logins give: without one it answers 401.
    assert client.get("/api/registry/projects").status_code == 401
