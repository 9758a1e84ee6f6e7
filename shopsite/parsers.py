"""The API's JSON parser: DRF's, refusing JSON nested deeper than any of our bodies is."""

from __future__ import annotations

import io
import re

from rest_framework import parsers
from rest_framework.exceptions import ParseError

#: Our deepest body is an object holding a list of objects; 32 leaves plenty of room.
MAX_JSON_DEPTH = 32

# A JSON string (whatever brackets it holds), or one bracket outside strings.
# Quotes, backslashes and brackets are ASCII, and no byte of a multi-byte
# UTF-8 character is, so the raw bytes can be scanned before decoding.
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


class JSONParser(parsers.JSONParser):
    """Python's json module recurses once per level: ``[`` x 1500 is a RecursionError, a 500.

    The body is scanned for its depth first (it is small: the body limit of
    shopsite.middleware is checked before any parser runs), and one that is
    too deep is a 400 that says so.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read() if stream is not None else b""
        if _depth(body) > MAX_JSON_DEPTH:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")
        return super().parse(io.BytesIO(body), media_type, parser_context)


def _depth(body: bytes) -> int:
    depth = deepest = 0
    for token in _TOKENS.finditer(body):
        bracket = token.group()
        if bracket in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif bracket in (b"]", b"}"):
            depth -= 1
    return deepest
