"""Uploaded files: served by the web process with DEBUG off, and allowed by the Content-Security-Policy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from tests.images import media_root, picture  # noqa: F401 (media_root is a fixture)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def stored_png(media_root) -> bytes:
    data = picture((40, 30))
    folder = Path(media_root) / "catalog" / "products"
    folder.mkdir(parents=True)
    (folder / "0123abcd.png").write_bytes(data)
    return data


def test_an_uploaded_image_is_served_with_debug_off(client, stored_png):
    assert django_settings.DEBUG is False

    response = client.get("/media/catalog/products/0123abcd.png")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == stored_png
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", [
    "/media/catalog/products/missing.png",
    "/media/catalog/products/",  # never a listing
    "/media//etc/passwd",
])
def test_nothing_but_a_file_under_media_root_is_served(client, stored_png, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("path", ["/media/../db/catalog.sqlite3", "/media/%2e%2e/db/catalog.sqlite3"])
def test_a_path_out_of_media_root_is_refused_as_suspicious(client, media_root, stored_png, path):
    (Path(media_root).parent / "db").mkdir()
    (Path(media_root).parent / "db" / "catalog.sqlite3").write_bytes(b"secret")

    # Django's answer to a path leaving its folder (and a line in the django.security log).
    assert client.get(path).status_code == 400


def test_media_is_read_only(client, stored_png):
    assert client.post("/media/catalog/products/0123abcd.png").status_code == 405


def settings_of(tmp_path, **env: str) -> str:
    """CONTENT_SECURITY_POLICY and the media route as a fresh process of the shop sees them with ``env``."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MEDIA_"))}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings; "
         "from shopsite.media import media_urlpatterns; "
         "print(settings.CONTENT_SECURITY_POLICY); print([str(p.pattern) for p in media_urlpatterns()])"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**inherited, "DJANGO_SETTINGS_MODULE": "shopsite.settings", "DJANGO_SECRET_KEY": "x",
             "BUS_DEPLOYMENT": "shop-test", "SHOP_DATA_DIR": str(tmp_path), **env},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_policy_allows_images_from_the_shop_itself_by_default(tmp_path):
    policy, route = settings_of(tmp_path).splitlines()

    assert "img-src 'self' data:;" in policy
    assert route == "['^media/(?P<path>.+)$']"


def test_images_kept_on_another_host_are_allowed_by_the_policy_and_not_routed(tmp_path):
    policy, route = settings_of(tmp_path, MEDIA_URL="https://media.example.com/shop/").splitlines()

    assert "img-src 'self' data: https://media.example.com;" in policy
    assert route == "[]"


def test_the_shop_need_not_serve_its_media(tmp_path):
    _, route = settings_of(tmp_path, DJANGO_SERVE_MEDIA="false").splitlines()

    assert route == "[]"
