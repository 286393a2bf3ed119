import re

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseServerError
from django.shortcuts import redirect, render
from django.template import loader
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from wuye.core.audit import audit_record
from wuye.core.audit_display import change_lines
from wuye.core.errors import NotInScope
from wuye.core.lockout import lockout_message
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
        entry.shown_changes = change_lines(
            entry.model, mask_data(entry.changes, phones=phones, ids=ids)
        )
        entry.shown_repr = mask_text(entry.object_repr, phones=phones, ids=ids)
    return render(request, "core/audit_log.html", {"page": page})


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    """The current password is checked through ``authenticate``, so django-axes counts a wrong one
    like a failed login and, once the account is locked, refuses even the right one: a session left
    open on a shared counter computer cannot be used to guess the password."""

    def __init__(self, *args, request=None, **kwargs):
        self.request = request
        super().__init__(*args, **kwargs)
        for name, label in (
            ("old_password", "当前密码"),
            ("new_password1", "新密码"),
            ("new_password2", "再输一次新密码"),
        ):
            self.fields[name].label = label
            self.fields[name].help_text = ""

    def clean_old_password(self):
        old = self.cleaned_data["old_password"]
        username = self.user.get_username()
        checked = authenticate(request=self.request, username=username, password=old)
        if getattr(self.request, "axes_locked_out", False):
            # Answered on this form, not with the login page the lockout middleware would show.
            self.request.axes_locked_out = False
            raise ValidationError(
                lockout_message(
                    username=username,
                    ip_address=getattr(self.request, "axes_ip_address", None),
                ),
                code="locked",
            )
        if checked is None or checked.pk != self.user.pk:
            raise ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            )
        return old


class PasswordChange(auth_views.PasswordChangeView):
    """修改密码: the user's own password, checked by AUTH_PASSWORD_VALIDATORS; audited (never the
    password itself). The session stays logged in (Django updates its hash)."""

    form_class = PasswordChangeForm
    success_url = reverse_lazy("home")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

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


# --- error pages -------------------------------------------------------------------------------------
# In the site's layout, in Chinese, with a way home (issue 17). 403 and 404 render with the request (the
# header, the user's role); 500 renders with no request context at all: no database, no session.

_CJK = re.compile(r"[\u3400-\u9fff]")


def _reason(exception) -> str:
    """The refusal's own message when it is written for users (Chinese), else nothing: Django's
    "No Room matches the given query." is not for the people at the window."""
    text = str(exception or "") if exception is not None else ""
    return text if _CJK.search(text) else ""


def page_not_found(request, exception=None):
    context = {"error_title": "页面不存在", "error_code": 404, "reason": _reason(exception)}
    return render(request, "404.html", context, status=404)


def permission_denied(request, exception=None):
    context = {"error_title": "没有权限", "error_code": 403, "reason": _reason(exception)}
    return render(request, "403.html", context, status=403)


def bad_request(request, exception=None):
    context = {"error_title": "请求无法处理", "error_code": 400, "reason": ""}
    return render(request, "400.html", context, status=400)


def server_error(request):
    html = loader.get_template("500.html").render(
        {"error_title": "系统出错", "error_code": 500, "reason": ""}
    )
    return HttpResponseServerError(html)
