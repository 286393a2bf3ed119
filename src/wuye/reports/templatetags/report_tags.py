"""Formatting of report figures: rates as percentages, "—" where a rate has no denominator."""

from decimal import Decimal

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma

register = template.Library()


@register.filter
def pct(rate: Decimal | None, places: int = 1) -> str:
    """0.93125 → "93.1%"; None (nothing billed, nothing owed) → "—", never 0% or 100%."""
    if rate is None or rate == "":
        return "—"
    return f"{Decimal(rate) * 100:.{int(places)}f}%"


@register.filter
def yuan(amount: Decimal | None) -> str:
    """1234567.5 → "1,234,567.50" (money keeps its fen)."""
    if amount is None or amount == "":
        return "—"
    return intcomma(f"{Decimal(amount):.2f}")


@register.filter
def index(seq, i):
    try:
        return seq[int(i)]
    except (IndexError, TypeError, ValueError, KeyError):
        return ""
