"""Uploaded files (the product images) served by the web process itself.

whitenoise serves only the static files, and Django's own ``static()`` helper
only with DEBUG on; this route works as ``bin/run-shop`` and the end-to-end
tests run the shop, under gunicorn whatever DEBUG says. It is fine for one
machine. In production the proxy serves MEDIA_ROOT, or the images live in
object storage, and DJANGO_SERVE_MEDIA is off (docs/production.md).
"""

from __future__ import annotations

import re

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import re_path
from django.views.decorators.http import require_safe
from django.views.static import serve

#: Each file is written once under a new random name and never changed: a browser may keep it.
CACHE_CONTROL = "public, max-age=31536000, immutable"


@require_safe
def media_serve(request: HttpRequest, path: str) -> HttpResponse:
    # serve() refuses paths that leave MEDIA_ROOT and never lists a folder.
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


def media_urlpatterns() -> list:
    """The route of MEDIA_URL when the shop serves it: on, and a path on the shop rather than another host."""
    if not settings.SERVE_MEDIA or not settings.MEDIA_URL.startswith("/") or settings.MEDIA_URL.startswith("//"):
        return []
    prefix = re.escape(settings.MEDIA_URL.lstrip("/"))
    return [re_path(rf"^{prefix}(?P<path>.+)$", media_serve, name="media")]
