"""Refuse a request body that is too big before anything reads it; send the Content-Security-Policy."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from shopsite.errors import API_PREFIX, body_too_large_message

REQUEST_ENTITY_TOO_LARGE = 413


class RequestBodyLimitMiddleware:
    """Answer 413 to a body announced as bigger than DATA_UPLOAD_MAX_MEMORY_SIZE.

    Django enforces that limit only when a form body is read through
    ``request.body``/``request.POST``, and then as a 400; Django REST
    framework reads JSON straight from the stream and never checks it. This
    one gate covers both, says what went wrong, and the view never runs.
    Without a Content-Length (a chunked body) Django reads no body at all.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and _declared_length(request) > limit:
            return _too_large(request)
        return self.get_response(request)


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:  # Django reads a malformed length as no body, and so do we.
        return 0


def _too_large(request: HttpRequest) -> HttpResponse:
    message, extra = body_too_large_message()
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"message": message, "extra": extra}, status=REQUEST_ENTITY_TOO_LARGE)
    return HttpResponse(message, status=REQUEST_ENTITY_TOO_LARGE, content_type="text/plain; charset=utf-8")


class ContentSecurityPolicyMiddleware:
    """Send settings.CONTENT_SECURITY_POLICY with every answer that does not set its own.

    The pages' only script is shop.js, served by the shop, so scripts need no
    'unsafe-inline': an injected <script> or onclick= never runs. Styles keep
    it: the product tiles' colour and the admin's console set style="...",
    and a style cannot run code.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.CONTENT_SECURITY_POLICY:
            response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response
