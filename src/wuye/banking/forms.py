from django import forms
from django.conf import settings

from wuye.ledger.office_forms import ApprovalForm


class UndoForm(ApprovalForm):
    reason = forms.CharField(
        label="撤销原因",
        max_length=200,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "如：认错户，附言房号应为 5-2-803"}),
    )


class RefundForm(ApprovalForm):
    reason = forms.CharField(
        label="退回原因",
        max_length=200,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "如：付款人打错账户，已电话核实"}),
    )


class UploadForm(forms.Form):
    file = forms.FileField(
        label="流水文件（.xlsx / .xls / .csv / MT940）",
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xls,.csv,.txt,.sta,.940,.mt940"}),
    )
    account = forms.ChoiceField(label="收款账户", required=False)

    def __init__(self, *args, accounts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = [("", "按流水文件中的账号识别")] + [
            (str(a.pk), f"{a.bank or '银行账户'} {a.number}") for a in accounts
        ]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.FILE_UPLOAD_MAX_MEMORY_SIZE * 4:
            limit = settings.FILE_UPLOAD_MAX_MEMORY_SIZE * 4 // (1024 * 1024)
            raise forms.ValidationError(f"文件超过 {limit} MB，请按月份分开导出后分批导入。")
        return upload
