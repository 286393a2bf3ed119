from django import forms

from wuye.ledger.office_forms import ApprovalForm


class RefundForm(ApprovalForm):
    amount = forms.CharField(label="退款金额（元）", max_length=20, required=False)
    reason = forms.CharField(
        label="退款原因",
        max_length=200,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "如：业主重复缴费，已电话核实"}),
    )


class MicropayForm(forms.Form):
    auth_code = forms.CharField(
        label="付款码",
        max_length=32,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "inputmode": "numeric",
                "placeholder": "扫码枪扫顾客付款码",
            }
        ),
    )
