"""Refuse a request body that is too big before anything reads it; send the Content-Security-Policy."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve

from shopsite.errors import API_PREFIX, body_too_large_message

REQUEST_ENTITY_TOO_LARGE = 413


class RequestBodyLimitMiddleware:
    """Answer 413 to a body announced as bigger than DATA_UPLOAD_MAX_MEMORY_SIZE.

    Django enforces that limit only when a form body is read through
    ``request.body``/``request.POST``, and then as a 400; Django REST
    framework reads JSON straight from the stream and never checks it. This
    one gate covers both, says what went wrong, and the view never runs.
    Without a Content-Length (a chunked body) Django reads no body at all.

    A view that takes uploads says so with ``accepts_uploads = True`` (on its
    class, or on the ModelAdmin whose pages it serves): a multipart form posted
    to it may be up to UPLOAD_MAX_BODY_BYTES. Django's multipart parser streams
    the files to disk and still bounds the other fields by
    DATA_UPLOAD_MAX_MEMORY_SIZE.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = _body_limit(request)
        if limit is not None and _declared_length(request) > limit:
            return _too_large(request, limit)
        return self.get_response(request)


def _body_limit(request: HttpRequest) -> int | None:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is None or not request.META.get("CONTENT_TYPE", "").startswith("multipart/form-data"):
        return limit
    try:
        view = resolve(request.path_info).func
    except Resolver404:
        return limit
    # A DRF or Django class-based view keeps its class; the admin's views their ModelAdmin.
    owner = getattr(view, "view_class", None) or getattr(view, "model_admin", None)
    return max(limit, settings.UPLOAD_MAX_BODY_BYTES) if getattr(owner, "accepts_uploads", False) else limit


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:  # Django reads a malformed length as no body, and so do we.
        return 0


def _too_large(request: HttpRequest, limit: int) -> HttpResponse:
    message, extra = body_too_large_message(limit)
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
