"""One error hierarchy with stable codes; pages, imports and the API show the same Chinese message."""

from __future__ import annotations


class WuyeError(Exception):
    """A business-rule refusal. ``code`` is stable (for the API and tests); ``message`` is shown to users;
    ``field`` names the input at fault, when there is one."""

    code = "wuye.error"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.field = field

    def as_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "field": self.field}


class ValidationFailed(WuyeError):
    code = "wuye.invalid"


class NotInScope(WuyeError):
    """The object exists but belongs to a project the user is not a member of."""

    code = "wuye.not_in_scope"


def fields_allowed(given, allowed, *, refusal: str = "不能修改字段") -> None:
    """A write names only the fields it may set: ``ValidationFailed`` naming the others, sorted."""
    unknown = set(given) - set(allowed)
    if unknown:
        raise ValidationFailed(f"{refusal}：{', '.join(sorted(unknown))}")


# Longest free text (备注, 描述, 说明 …) a user may store when the field sets no max_length of its own:
# about four pages of Chinese. A 1.7-million-character ticket description used to be accepted.
TEXT_MAX_LENGTH = 2000


def text_within(
    value: str | None, *, label: str, field: str, max_length: int | None = None
) -> None:
    """``ValidationFailed`` naming ``label`` when ``value`` is longer than ``max_length`` characters
    (default ``TEXT_MAX_LENGTH``)."""
    limit = max_length or TEXT_MAX_LENGTH
    n = len(value or "")
    if n > limit:
        raise ValidationFailed(f"{label}：最多 {limit} 字（现有 {n} 字）", field=field)


def text_lengths_check(obj) -> None:
    """Every ``TextField`` of ``obj`` within its ``max_length`` or ``TEXT_MAX_LENGTH`` (Django itself
    does not enforce a TextField's max_length)."""
    from django.db import models

    for f in obj._meta.concrete_fields:
        if isinstance(f, models.TextField) and f.editable:
            text_within(
                getattr(obj, f.attname),
                label=str(f.verbose_name),
                field=f.name,
                max_length=f.max_length,
            )


def full_clean(obj, exclude: list[str] | None = None) -> None:
    """Model validation (fields and constraints) turned into ``ValidationFailed``, naming the first
    field at fault with its Chinese label. Free-text fields are held to their length limit first."""
    from django.core.exceptions import ValidationError

    text_lengths_check(obj)
    try:
        obj.full_clean(exclude=exclude, validate_constraints=True)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        label = obj._meta.get_field(field).verbose_name if field != "__all__" else ""
        raise ValidationFailed(
            f"{label}：{messages[0]}" if label else messages[0],
            field=None if field == "__all__" else field,
        ) from exc
