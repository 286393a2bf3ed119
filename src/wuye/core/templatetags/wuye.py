from django import template

from wuye.core.masking import mask_bank_account, mask_id_number, mask_phone

register = template.Library()


@register.filter
def phone(number: str, show: bool) -> str:
    """``{{ number|phone:show_phones }}`` — the full number only for roles that need it."""
    return number if show else mask_phone(number)


@register.filter
def id_number(number: str, show: bool) -> str:
    return number if show else mask_id_number(number)


@register.filter
def bank_account(number: str) -> str:
    """``{{ number|bank_account }}`` — a bank account or card number, always masked on pages."""
    return mask_bank_account(number)
