"""Production mode: Django's deployment checks pass, and the HTTPS settings do what they say."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]


def manage(tmp_path, *args: str, **env: str | None) -> subprocess.CompletedProcess:
    """manage.py with the real settings, as production runs them: DEBUG off, a strong key, its host.

    ``env`` changes that environment; None leaves a variable out.
    """
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SHOP_", "BUS_", "LOGIN_"))}
    production = {
        "DJANGO_SETTINGS_MODULE": "shopsite.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": "shop.example.com",
        "SHOP_DATA_DIR": str(tmp_path),
        "BUS_DEPLOYMENT": "shop-production",
    }
    environment = {name: value for name, value in {**inherited, **production, **env}.items() if value is not None}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment,
        capture_output=True, text=True, timeout=120,
    )


def test_the_deployment_checks_pass_in_production_mode(tmp_path):
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_shop_will_not_start_without_a_deployment_of_its_own(tmp_path):
    # A default would be shared by every shop on the broker: the mix-up it exists to prevent.
    result = manage(tmp_path, "check", BUS_DEPLOYMENT=None)

    assert result.returncode != 0
    assert "Set the BUS_DEPLOYMENT environment variable" in result.stderr


def test_the_deployment_checks_fail_when_https_is_switched_off(tmp_path):
    # The switches the end-to-end tests use over plain http: the checks notice.
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING",
                    DJANGO_SSL_REDIRECT="false", DJANGO_SECURE_COOKIES="false", DJANGO_HSTS_SECONDS="0")

    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr, warning


def test_production_settings(tmp_path):
    names = [
        "DEBUG", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY",
        "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "SECURE_CONTENT_TYPE_NOSNIFF",
        "X_FRAME_OPTIONS", "SECURE_REFERRER_POLICY", "SECURE_PROXY_SSL_HEADER", "SECURE_REDIRECT_EXEMPT",
        "DATA_UPLOAD_MAX_MEMORY_SIZE", "PASSWORD_HASHERS",
    ]
    script = f"from django.conf import settings; import json; print(json.dumps({{n: getattr(settings, n) for n in {names!r}}}))"

    result = manage(tmp_path, "shell", "-c", script)

    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values == {
        "DEBUG": False,
        "SECURE_SSL_REDIRECT": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "X_FRAME_OPTIONS": "DENY",
        "SECURE_REFERRER_POLICY": "same-origin",
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SECURE_REDIRECT_EXEMPT": ["^healthz$", "^readyz$", "^metrics$"],
        "DATA_UPLOAD_MAX_MEMORY_SIZE": 65536,
        "PASSWORD_HASHERS": [
            "django.contrib.auth.hashers.PBKDF2PasswordHasher", "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
        ],
    }


def test_without_a_secret_key_production_refuses_to_start(tmp_path):
    result = manage(tmp_path, "check", DJANGO_SECRET_KEY=None)

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


# --- what the HTTPS settings do, in this process ------------------------------------------


@pytest.fixture
def https_only(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    return settings


@pytest.mark.django_db(databases="__all__")
def test_plain_http_is_redirected_to_https_except_the_probes(https_only):
    client = Client()

    redirected = client.get("/api/catalog/products/")

    assert redirected.status_code == 301
    assert redirected["Location"] == "https://testserver/api/catalog/products/"
    assert client.get("/healthz").status_code == 200


@pytest.mark.django_db(databases="__all__")
def test_behind_a_tls_proxy_the_request_counts_as_https_and_gets_hsts(https_only):
    response = Client().get("/api/catalog/products/", HTTP_X_FORWARDED_PROTO="https")

    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
