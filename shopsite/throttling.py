"""Rate limits for the operations worth abusing: log-in, registration, checkout.

Each limited API view names its scope (``throttle_scope = "login"``); the
rates come from settings.THROTTLE_RATES (the environment, see .env.example).
Counts live in Django's cache, so with several web processes give them a
shared cache (CACHE_URL); with the default in-memory cache each process
counts on its own.
"""

from __future__ import annotations

import math

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from rest_framework import throttling

TOO_MANY_REQUESTS = 429


class ScopedRateThrottle(throttling.ScopedRateThrottle):
    """DRF's per-scope throttle: per user when signed in, per client address otherwise.

    DRF copies its rates into the class once, at import; read here, on each
    request, they follow the settings (and a test's override of them). A scope
    without a rate is not limited.
    """

    def get_rate(self):
        return settings.THROTTLE_RATES.get(self.scope)


def retry_message(seconds: int) -> str:
    return f"Too many requests: try again in {seconds} second{'s' if seconds != 1 else ''}."


class ThrottledPostMixin:
    """The same limit on a page's form as on its API twin (``throttle_scope``), answered 429 with Retry-After."""

    throttle_scope: str

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        throttle = ScopedRateThrottle()
        if not throttle.allow_request(request, self):
            seconds = max(1, math.ceil(throttle.wait() or 0))
            response = HttpResponse(retry_message(seconds), status=TOO_MANY_REQUESTS,
                                    content_type="text/plain; charset=utf-8")
            response["Retry-After"] = str(seconds)
            return response
        return super().post(request, *args, **kwargs)
