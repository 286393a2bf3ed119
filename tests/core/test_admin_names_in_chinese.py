"""Every admin section and model name the staff can see is in Chinese (issue 17 item 4): third-party
models (axes, django-tasks-db) under Chinese proxies, ours with verbose names."""

import re

import pytest
from django.contrib import admin
from django.urls import reverse

from wuye.core.models import User

CJK = re.compile(r"[\u3400-\u9fff]")
pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(company):
    return User.objects.create_superuser(
        "root", "root@example.com", "pw-root-long", company=company
    )


def test_every_registered_model_and_its_section_has_a_chinese_name():
    english = [
        f"{m._meta.app_config.verbose_name} / {m._meta.verbose_name_plural}"
        for m in admin.site._registry
        if not CJK.search(str(m._meta.verbose_name_plural))
        or not CJK.search(str(m._meta.app_config.verbose_name))
    ]
    assert english == []


def test_admin_index_shows_no_english_section_or_model_name(client, superuser):
    client.force_login(superuser)
    html = client.get(reverse("admin:index")).content.decode()
    captions = re.findall(r"<caption>\s*<a[^>]*>([^<]+)</a>", html)
    names = re.findall(r'<th scope="row"[^>]*>\s*<a[^>]*>([^<]+)</a>', html)
    assert captions and names
    assert [c for c in captions + names if not CJK.search(c)] == []
    for old in ("Task results", "Receipt prints", "Receipt sequences", "Tasks Database Backend"):
        assert old.lower() not in html.lower()


def test_every_changelist_opens_and_is_titled_in_chinese(client, superuser):
    client.force_login(superuser)
    for model in admin.site._registry:
        meta = model._meta
        response = client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        assert response.status_code == 200, meta.label
        title = re.search(r"<title>([^<]*)</title>", response.content.decode()).group(1)
        assert CJK.search(title.split("|")[0]), (meta.label, title)


def test_an_english_browser_still_gets_the_admin_in_chinese(client, superuser):
    client.force_login(superuser)
    html = client.get(
        reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9"
    ).content.decode()
    assert "站点管理" in html and "Site administration" not in html
