"""Formatting of report figures: rates as percentages, "—" where a rate has no denominator."""

from decimal import Decimal

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.html import format_html

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


@register.filter
def gap(amount: Decimal | None) -> str:
    """A shortfall against a target: "差 1,000.00" when behind, "超 250.00" when ahead."""
    if amount is None or amount == "":
        return "—"
    amount = Decimal(amount)
    if amount > 0:
        return format_html('<span class="gap-behind">差 {}</span>', yuan(amount))
    if amount < 0:
        return format_html('<span class="gap-ahead">超 {}</span>', yuan(-amount))
    return "0.00"


@register.filter
def hgap(count: int | None) -> str:
    """Households still to clear against the target ("差 15 户" / "超 3 户")."""
    if count is None or count == "":
        return "—"
    if count > 0:
        return format_html('<span class="gap-behind">差 {} 户</span>', count)
    if count < 0:
        return format_html('<span class="gap-ahead">超 {} 户</span>', -count)
    return "0"
