"""Receiving accounts in the admin (系统配置): name, bank, whether notices print it, active. Lines,
claims and payer cards are read on the pages; they change only through ``banking.claims``. Staff
who are not superusers see only their projects' accounts."""

from django import forms
from django.contrib import admin

from wuye.banking import withholding_files
from wuye.banking.models import BankAccount, WithholdingTemplate
from wuye.core.admin import ScopedAdmin
from wuye.core.audit import audit_record
from wuye.core.errors import ValidationFailed


@admin.register(BankAccount)
class BankAccountAdmin(ScopedAdmin):
    list_display = ("number", "name", "bank", "project", "on_notices", "is_active")
    list_filter = ("is_active", "on_notices")
    fields = ("project", "number", "name", "bank", "on_notices", "is_active")
    list_select_related = ("project",)


class WithholdingTemplateForm(forms.ModelForm):
    class Meta:
        model = WithholdingTemplate
        fields = ("project", "bank", "columns", "file_format", "encoding")
        help_texts = {
            "columns": "按银行要求的顺序写 [[字段, 列名], …]，字段可用："
            + "、".join(f"{k}（{v}）" for k, v in withholding_files.TEMPLATE_FIELDS.items())
        }

    def clean_columns(self):
        try:
            return withholding_files.template_columns(self.cleaned_data.get("columns") or [])
        except ValidationFailed as exc:
            raise forms.ValidationError(exc.message) from exc


@admin.register(WithholdingTemplate)
class WithholdingTemplateAdmin(ScopedAdmin):
    """代扣文件模板 per bank (系统配置): the batch file's columns, format and encoding; checked as
    ``banking.withholding_files.template_set`` checks them, audited."""

    form = WithholdingTemplateForm
    list_display = ("bank", "project", "file_format", "encoding")
    list_select_related = ("project",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit_record(
            user=request.user,
            action="代扣文件模板设置",
            obj=obj,
            project=obj.project_id,
            changes={"bank": obj.bank, "columns": obj.columns, "format": obj.file_format},
        )
