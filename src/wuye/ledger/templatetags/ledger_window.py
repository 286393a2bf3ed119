"""Template helpers of the fee window."""

from django import template

from wuye.core import roles

register = template.Library()


@register.filter
def collects_money(role) -> bool:
    """``{% if current_role|collects_money %}``: the role may take payments (收银台)."""
    return role in roles.COLLECTOR_ROLES
