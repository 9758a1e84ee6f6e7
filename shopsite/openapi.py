"""What every service's API shares in its description: the error body, and what OPTIONS answers."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.metadata import SimpleMetadata


class ErrorSerializer(serializers.Serializer):
    """The body of every 4xx answer, as shopsite.errors.exception_handler builds it."""

    message = serializers.CharField(help_text="What went wrong, for a person to read.")
    extra = serializers.DictField(
        help_text="Details for a program. For invalid input, `fields` maps each field to its errors."
    )


_MEANINGS = {
    400: "Invalid input, or a request the shop refuses; `extra.fields` names the fields at fault.",
    401: "Not signed in: send `Authorization: Token <key>` or a session cookie.",
    403: "Signed in, but not allowed to do this.",
    404: "No such object, or it belongs to someone else.",
    409: "The object is not in a state that allows this.",
    413: "The request body is bigger than the shop reads.",
    415: "The request body is not of the type this operation reads (its Content-Type).",
    429: "Too many requests, or too many failed log-ins: wait the seconds the Retry-After header "
         "(and `extra.retry_after_seconds`) says.",
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """The documented error answers of an operation, all with the shared error body."""
    return {code: OpenApiResponse(ErrorSerializer, description=_MEANINGS[code]) for code in codes}


def list_responses(item_serializer: type[serializers.Serializer], *codes: int) -> dict:
    """A paginated list's answers: one page of items, a page past the end, and the given errors."""
    return {
        200: item_serializer(many=True),
        **error_responses(*codes),
        404: OpenApiResponse(ErrorSerializer, description="There is no such page."),
    }


class ApiMetadata(SimpleMetadata):
    """What OPTIONS answers: the view's name, what it renders and parses. Its input is in /api/schema/.

    DRF's default would also describe a generic view's POST body from its
    ``serializer_class``; our views choose a serializer per method instead, and
    there the default fails with a 500.
    """

    def determine_actions(self, request, view):
        return None
