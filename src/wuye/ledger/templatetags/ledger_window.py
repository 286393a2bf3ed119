"""Template helpers of the fee window."""

from django import template

from wuye.ledger.services.checks import COLLECTOR_ROLES

register = template.Library()


@register.filter
def collects_money(role) -> bool:
    """``{% if current_role|collects_money %}``: the role may take payments (收银台)."""
    return role in COLLECTOR_ROLES
