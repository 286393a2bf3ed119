from django import forms

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
