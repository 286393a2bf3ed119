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


class AuthorizationForm(forms.Form):
    room = forms.CharField(
        label="房号", max_length=40, widget=forms.TextInput(attrs={"placeholder": "如 5-1-803"})
    )
    bank = forms.CharField(
        label="扣款银行", max_length=60, widget=forms.TextInput(attrs={"list": "banks"})
    )
    account_number = forms.CharField(
        label="扣款账号",
        max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    holder = forms.CharField(label="账户户名", max_length=100)
    signed_on = forms.DateField(label="签约日期", widget=forms.DateInput(attrs={"type": "date"}))
    agreement = forms.FileField(
        label="授权书扫描件（JPEG、PNG、PDF）",
        required=False,
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/jpeg,image/png,image/webp,image/heic,.heic,application/pdf"}
        ),
    )


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="原因",
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "如：业主换卡，改签建设银行"}),
    )


class BatchForm(forms.Form):
    bank = forms.ChoiceField(label="扣款银行")
    month = forms.CharField(label="代扣月份", widget=forms.DateInput(attrs={"type": "month"}))

    def __init__(self, *args, banks=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bank"].choices = [(b, b) for b in banks]

    def clean_month(self):
        import datetime

        text = (self.cleaned_data["month"] or "").strip()
        try:
            return datetime.datetime.strptime(text[:7], "%Y-%m").date()  # noqa: DTZ007 - a month
        except ValueError as exc:
            raise forms.ValidationError("代扣月份应为 2026-12 这样的格式") from exc


class ReturnUploadForm(forms.Form):
    file = forms.FileField(
        label="回盘文件（.xlsx / .xls / .csv）",
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xls,.csv"}),
    )
    batch = forms.ChoiceField(label="所属批次", required=False)

    def __init__(self, *args, batches=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["batch"].choices = [("", "按文件中的业务编号识别")] + [
            (str(b.pk), f"{b.number} {b.bank} {b.month:%Y-%m}") for b in batches
        ]
