"""One family of application errors, turned into ``{"message", "extra"}`` by the API."""

from __future__ import annotations

import math

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import bad_request, page_not_found
from django.views.defaults import server_error as server_error_page
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from shopsite.throttling import retry_message

API_PREFIX = "/api/"


class ApplicationError(Exception):
    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str, extra: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class NotFound(ApplicationError):
    status_code = status.HTTP_404_NOT_FOUND


class Conflict(ApplicationError):
    status_code = status.HTTP_409_CONFLICT


class TooManyRequests(ApplicationError):
    """Come back later: ``retry_after_seconds`` is said in the body and in the Retry-After header."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS

    def __init__(self, message: str, *, retry_after_seconds: int, extra: dict | None = None) -> None:
        super().__init__(message, {**(extra or {}), "retry_after_seconds": retry_after_seconds})
        self.retry_after_seconds = retry_after_seconds


def body_too_large_message(limit: int | None = None) -> tuple[str, dict]:
    """What a client that sent too big a body is told, by the API and by the pages."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE if limit is None else limit
    return f"Request body too large: send at most {limit} bytes.", {"max_bytes": limit}


def exception_handler(exc, context):
    if isinstance(exc, TooManyRequests):
        return Response({"message": exc.message, "extra": exc.extra}, status=exc.status_code,
                        headers={"Retry-After": str(exc.retry_after_seconds)})
    if isinstance(exc, ApplicationError):
        return Response({"message": exc.message, "extra": exc.extra}, status=exc.status_code)
    if isinstance(exc, RequestDataTooBig):
        message, extra = body_too_large_message()
        return Response({"message": message, "extra": extra}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, SuspiciousOperation):
        # Too many form fields or files, for example: Django would answer with
        # its HTML 400 page, an API client gets the error body instead.
        return Response({"message": "Malformed request.", "extra": {}}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"message": "Validation error", "extra": {"fields": response.data}}
    elif isinstance(exc, exceptions.Throttled):
        # DRF rounds the wait down, even to no header at all: never tell a client "now".
        seconds = max(1, math.ceil(exc.wait or 0))
        response["Retry-After"] = str(seconds)
        response.data = {"message": retry_message(seconds), "extra": {"retry_after_seconds": seconds}}
    else:
        response.data = {"message": response.data.get("detail", str(exc)), "extra": {}}
    return response


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The 404 answer to a URL nothing matches: the error body under /api/, the usual page elsewhere."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"message": "Not found.", "extra": {}}, status=status.HTTP_404_NOT_FOUND)
    return page_not_found(request, exception)


def malformed(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The 400 answer Django gives before any view runs (a Host it does not serve, for example)."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"message": "Malformed request.", "extra": {}}, status=status.HTTP_400_BAD_REQUEST)
    return bad_request(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 answer to an error nothing handled (Django has logged it): the error body under /api/."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"message": "Something went wrong on our side. It has been logged; please try again "
                                        "later.", "extra": {}}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    return server_error_page(request)
