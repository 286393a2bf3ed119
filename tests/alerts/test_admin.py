"""The admin: warning thresholds editable per project; warnings, stories and messages read-only."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["alertsettings", "warning", "successstory", "courtesymessage"])
def test_the_admin_lists_open(client, project, model):
    root = get_user_model().objects.create_superuser("root", password="pw-root")
    client.force_login(root)

    assert client.get(reverse(f"admin:alerts_{model}_changelist")).status_code == 200


def test_warnings_cannot_be_added_in_the_admin(client, project):
    root = get_user_model().objects.create_superuser("root", password="pw-root")
    client.force_login(root)

    assert client.get(reverse("admin:alerts_warning_add")).status_code == 403
