"""Validators shared by every service's API, forms and admin."""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

# Besides the C0/C1 controls (CR, LF, NUL, ESC...): the line and paragraph
# separators, which break a line like LF does, and the bidirectional
# overrides, which make "gpj.exe" read as "exe.jpg" in a mail or a list.
_INVISIBLE_FORMATTING = {"\u2028", "\u2029", *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))}


def has_control_characters(value: str) -> bool:
    """Whether ``value`` holds a control character, a line separator or a bidirectional override."""
    return any(unicodedata.category(c) == "Cc" or c in _INVISIBLE_FORMATTING for c in str(value))


@deconstructible
class NoControlCharactersValidator:
    """A one-line text (a name, a SKU, a category) holds no control characters.

    Such names end up in mail headers, logs, CSV exports and the admin: a CR/LF
    there starts a new line the shop did not write.
    """

    message = "Must not contain control characters such as line breaks or tabs."
    code = "control_characters"

    def __call__(self, value: str) -> None:
        if has_control_characters(value):
            raise ValidationError(self.message, code=self.code)

    def __eq__(self, other) -> bool:
        return isinstance(other, NoControlCharactersValidator)


no_control_characters = NoControlCharactersValidator()
