"""What every service's API shares in its OpenAPI description: the error body."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


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
