"""Password rules of the shop beyond Django's own (see AUTH_PASSWORD_VALIDATORS)."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class NotBlankPasswordValidator:
    """Eight spaces pass the minimum length and are in no list of common passwords, yet guess in one try."""

    def validate(self, password: str, user=None) -> None:
        if not password.strip():
            raise ValidationError("Your password must contain more than spaces.", code="password_blank")

    def get_help_text(self) -> str:
        return "Your password must contain more than spaces."
