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


def full_clean(obj, exclude: list[str] | None = None) -> None:
    """Model validation (fields and constraints) turned into ``ValidationFailed``, naming the first
    field at fault with its Chinese label."""
    from django.core.exceptions import ValidationError

    try:
        obj.full_clean(exclude=exclude, validate_constraints=True)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        label = obj._meta.get_field(field).verbose_name if field != "__all__" else ""
        raise ValidationFailed(
            f"{label}：{messages[0]}" if label else messages[0],
            field=None if field == "__all__" else field,
        ) from exc
