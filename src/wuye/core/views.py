from django.conf import settings
from django.contrib import messages
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from wuye.core.audit import audit_record
from wuye.core.errors import NotInScope
from wuye.core.masking import mask_data, mask_text
from wuye.core.middleware import SESSION_KEY
from wuye.core.models import AuditEntry
from wuye.core.roles import AUDIT_ROLES
from wuye.core.scope import access_project, can_see_id_numbers, can_see_phones, role_in


@login_required
@require_POST
def project_switch(request):
    try:
        project = access_project(request.user, int(request.POST.get("project", "0")))
    except (ValueError, NotInScope):
        messages.error(request, "您没有该项目的权限。")
        return redirect("home")
    request.session[SESSION_KEY] = project.pk
    target = request.POST.get("next") or request.headers.get("referer") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    # A household page of the old project would 404 in the new one; land on the new project's home.
    return redirect("home" if "/rooms/" in target else target)


@login_required
def audit_log(request):
    project = request.project
    if not project or role_in(request.user, project) not in AUDIT_ROLES:
        raise PermissionDenied("只有公司管理员、项目经理和客服主管可查看操作日志。")
    entries = AuditEntry.objects.filter(project=project).select_related("user")
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    # Masked by the viewer's role exactly as the household pages are; the stored trail stays whole.
    phones, ids = can_see_phones(request.user, project), can_see_id_numbers(request.user, project)
    for entry in page:
        entry.shown_changes = mask_data(entry.changes, phones=phones, ids=ids)
        entry.shown_repr = mask_text(entry.object_repr, phones=phones, ids=ids)
    return render(request, "core/audit_log.html", {"page": page})


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in (
            ("old_password", "当前密码"),
            ("new_password1", "新密码"),
            ("new_password2", "再输一次新密码"),
        ):
            self.fields[name].label = label
            self.fields[name].help_text = ""


class PasswordChange(auth_views.PasswordChangeView):
    """修改密码: the user's own password, checked by AUTH_PASSWORD_VALIDATORS; audited (never the
    password itself). The session stays logged in (Django updates its hash)."""

    form_class = PasswordChangeForm
    success_url = reverse_lazy("home")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["min_length"] = next(
            (
                v.get("OPTIONS", {}).get("min_length", 8)
                for v in settings.AUTH_PASSWORD_VALIDATORS
                if v["NAME"].endswith("MinimumLengthValidator")
            ),
            8,
        )
        return context

    def form_valid(self, form):
        response = super().form_valid(form)
        audit_record(user=self.request.user, action="修改密码", obj=self.request.user)
        messages.success(self.request, "密码已修改。")
        return response
