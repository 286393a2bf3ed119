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
