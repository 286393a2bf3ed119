import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from wuye.core.audit import audit_record
from wuye.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_audit_trail_refuses_updates_in_the_database(project):
    entry = audit_record(user=None, action="测试", project=project)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(action="篡改")
    entry.refresh_from_db()
    assert entry.action == "测试"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="DELETE guard is PostgreSQL-only")
def test_audit_trail_refuses_deletes_on_postgresql(project):
    entry = audit_record(user=None, action="测试", project=project)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()


def test_admin_writes_are_audited(client, django_user_model, project):
    boss = django_user_model.objects.create_superuser("root", password="pw")
    client.force_login(boss)
    response = client.post(
        reverse("admin:core_project_change", args=[project.id]),
        {
            "company": project.company_id,
            "code": project.code,
            "name": "锦绣花园二期",
            "address": "",
            "service_phone": "",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.filter(action="后台修改").get()
    assert entry.user == boss
    assert entry.changes["name"] == ["锦绣花园", "锦绣花园二期"]


def test_audit_page_is_for_managers_only(client, steward, manager, project):
    audit_record(user=manager, action="房屋修改", project=project)
    client.force_login(steward)
    assert client.get(reverse("audit_log")).status_code == 403
    client.force_login(manager)
    assert "房屋修改" in client.get(reverse("audit_log")).content.decode()
