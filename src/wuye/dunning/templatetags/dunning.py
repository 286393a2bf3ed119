from django import template

from wuye.dunning.enums import Stage

register = template.Library()
_STAGES = dict(Stage.choices)


@register.filter
def stage_label(value: str) -> str:
    """A stage code in a timeline entry, in Chinese."""
    return str(_STAGES.get(value, value or "—"))
