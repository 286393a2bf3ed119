"""Password validators with Chinese messages where Django's own translation is missing."""

from django.contrib.auth import password_validation
from django.utils.translation import get_language


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's minimum length; its zh-hans catalogue lacks this message, so it is given here."""

    def get_error_message(self):
        if (get_language() or "").startswith("zh"):
            return f"密码太短，至少需要 {self.min_length} 个字符。"
        return super().get_error_message()

    def get_help_text(self):
        if (get_language() or "").startswith("zh"):
            return f"密码至少需要 {self.min_length} 个字符。"
        return super().get_help_text()
