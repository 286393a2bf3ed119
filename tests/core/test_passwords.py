"""Passwords: real validators, a page to change one's own password, demo passwords that pass
(issue 13 item 14)."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from wuye.core.models import AuditEntry, User
from wuye.demo.company import DEMO_PASSWORD, STAFF

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "weak", ["87654329", "wuye12345", "password123", "1234567890123", "qwertyuiop", "steward-01"]
)
def test_weak_passwords_are_refused(weak):
    with pytest.raises(ValidationError):
        validate_password(weak, user=User(username="steward-01"))


def test_a_long_uncommon_password_passes():
    validate_password("山水-cashier-窗口-42", user=User(username="zhaoli"))


def test_every_demo_login_password_passes_the_validators():
    for spec in STAFF:
        validate_password(
            DEMO_PASSWORD, user=User(username=spec.username, display_name=spec.display_name)
        )


def change(client, old, new, again=None):
    return client.post(
        reverse("password_change"),
        {"old_password": old, "new_password1": new, "new_password2": again or new},
    )


def test_a_user_changes_their_own_password_from_the_header_link(client, steward):
    client.force_login(steward)
    home = client.get("/", follow=True).content.decode()
    assert 'href="/password/"' in home and "修改密码" in home
    page = client.get(reverse("password_change"))
    assert page.status_code == 200 and "新密码至少 10 位" in page.content.decode()
    response = change(client, "pw-steward", "楼管-张伟-2026-春")
    assert response.status_code == 302
    steward.refresh_from_db()
    assert steward.check_password("楼管-张伟-2026-春")
    assert client.get("/", follow=True).status_code == 200  # still logged in
    entry = AuditEntry.objects.get(action="修改密码")
    assert entry.object_id == str(steward.pk) and "楼管" not in str(entry.changes)


def test_a_weak_new_password_or_wrong_old_one_is_refused_in_chinese(client, steward):
    client.force_login(steward)
    weak = change(client, "pw-steward", "wuye12345")
    assert weak.status_code == 200
    assert "密码太短，至少需要 10 个字符" in weak.content.decode()
    assert "密码" in weak.content.decode() and "new_password2-error" in weak.content.decode()
    wrong_old = change(client, "not-my-password", "楼管-张伟-2026-春")
    assert "old_password-error" in wrong_old.content.decode()
    steward.refresh_from_db()
    assert steward.check_password("pw-steward")


def test_the_password_page_needs_a_login(client):
    response = client.get(reverse("password_change"))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_guessing_the_current_password_locks_the_account_like_failed_logins(client, steward):
    client.force_login(steward)
    answers = [change(client, f"guess-{i}", "楼管-张伟-2026-春") for i in range(5)]
    assert all(a.status_code == 200 for a in answers)
    assert "已暂时锁定" in answers[-1].content.decode()
    right = change(client, "pw-steward", "楼管-张伟-2026-春").content.decode()
    assert "已暂时锁定" in right and "请于" in right
    steward.refresh_from_db()
    assert steward.check_password("pw-steward")
    client.logout()
    login = client.post("/login/", {"username": "steward", "password": "pw-steward"})
    assert login.status_code == 429
