"""Tenancy (company → project), users, project membership and the append-only audit trail.

Company and project live in ``core`` rather than ``registry`` because membership and data scope
(which every app below registry needs) are defined on them; see docs/decisions/0001.
"""

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_tasks_db.models import DBTaskResult

from wuye.core.roles import Role


class Company(models.Model):
    name = models.CharField(_("公司名称"), max_length=100, unique=True)
    short_name = models.CharField(_("简称"), max_length=40, blank=True)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    phone = models.CharField(_("服务电话"), max_length=30, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("物业公司")
        verbose_name_plural = _("物业公司")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Project(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="projects")
    code = models.CharField(_("项目编号"), max_length=20)
    name = models.CharField(_("项目名称"), max_length=100)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    service_phone = models.CharField(_("物业服务中心电话"), max_length=30, blank=True)
    is_active = models.BooleanField(_("在管"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("项目/小区")
        verbose_name_plural = _("项目/小区")
        ordering = ["company_id", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "code"], name="project_code_unique_in_company"
            ),
            models.UniqueConstraint(
                fields=["company", "name"], name="project_name_unique_in_company"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    company = models.ForeignKey(
        Company, on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )
    display_name = models.CharField(_("姓名"), max_length=40, blank=True)
    phone = models.CharField(_("手机号"), max_length=20, blank=True)
    company_role = models.CharField(
        _("公司级角色"),
        max_length=20,
        choices=Role.choices,
        blank=True,
        help_text=_("公司管理员、财务、法务、清欠小组可看本公司全部项目；其他角色按项目授权。"),
    )

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.display_name or self.username


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("项目成员")
        verbose_name_plural = _("项目成员")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "project"], name="membership_one_role_per_project"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.project}: {self.get_role_display()}"


class AuditEntry(models.Model):
    """One write, who made it and what changed. Append-only: the database refuses UPDATE (and DELETE on
    PostgreSQL) through triggers installed by the migration."""

    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作人"),
    )
    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(_("操作"), max_length=60)
    model = models.CharField(_("对象类型"), max_length=60)
    object_id = models.CharField(_("对象编号"), max_length=40, blank=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    changes = models.JSONField(_("变更内容"), default=dict, blank=True)

    class Meta:
        verbose_name = _("操作日志")
        verbose_name_plural = _("操作日志")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["model", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user} {self.action} {self.object_repr}"


# --- third-party rows under Chinese names in the admin (系统配置) ----------------------------------------
# django-axes and django-tasks-db name their models in English ("access attempts", "Task results") and
# their apps "Axes" and "Tasks Database Backend". Proxies (no table of their own) give them Chinese names
# and list them under 系统与权限; core.admin registers the proxies in place of the originals.


class LoginAttempt(AccessAttempt):
    class Meta:
        proxy = True
        verbose_name = _("登录失败计数")
        verbose_name_plural = _("登录失败计数（锁定）")


class LoginLog(AccessLog):
    class Meta:
        proxy = True
        verbose_name = _("登录记录")
        verbose_name_plural = _("登录记录")


class LoginFailure(AccessFailureLog):
    class Meta:
        proxy = True
        verbose_name = _("登录失败记录")
        verbose_name_plural = _("登录失败记录")


class TaskRecord(DBTaskResult):
    class Meta:
        proxy = True
        verbose_name = _("后台任务记录")
        verbose_name_plural = _("后台任务记录")
