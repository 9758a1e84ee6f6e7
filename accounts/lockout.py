"""How django-axes sees the shop's logins: who tries, from where, and what a locked-out client is told.

The login page, the admin's login and the token API all authenticate with
``django.contrib.auth.authenticate``; django-axes counts their failures (see
the lockout block of shopsite.settings). The functions below are its hooks.
"""

from __future__ import annotations

from axes.handlers.database import AxesDatabaseHandler
from axes.attempts import get_cool_off_threshold
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse, JsonResponse

from .models import User

TOO_MANY_REQUESTS = 429


def login_email(request: HttpRequest, credentials: dict | None) -> str | None:
    """The account a login tries, stored as accounts stores emails, so "ANN@x" and "ann@x" count together.

    The login forms send it as ``username``, the token API and Django's own
    calls as ``email`` (the user model's USERNAME_FIELD).
    """
    credentials = credentials or {}
    email = credentials.get("email") or credentials.get("username")
    if not isinstance(email, str) or not email.strip():
        return None
    # AccessAttempt.username holds 255 characters; the forms allow 254 anyway.
    return User.objects.normalize_email(email)[:255]


def client_address(request: HttpRequest) -> str | None:
    """The address a login comes from, as our own reverse proxies saw it.

    With ``TRUSTED_PROXY_COUNT`` = N proxies in front of the shop, each
    appends the address it was reached from to X-Forwarded-For, so the Nth
    entry from the right is the client's. Entries further left are whatever
    the client sent and are never trusted; without proxies (N = 0), or with
    fewer entries than proxies, the connection's own address counts.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if proxies and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")


def cooloff_seconds() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def lockout_message() -> str:
    minutes = max(1, round(cooloff_seconds() / 60))
    return (
        f"Too many failed login attempts. Log-in for this account is locked for {minutes} "
        f"minute{'s' if minutes != 1 else ''}; try again later."
    )


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """What django-axes answers once it has flagged a request as locked out.

    The login page and the token API already say so themselves, with a 429
    (accounts.forms, accounts.services); their answer is kept. Any other login
    (the admin's) gets a short plain one.
    """
    if original_response is not None and original_response.status_code == TOO_MANY_REQUESTS:
        return original_response
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"message": lockout_message(), "extra": {"retry_after_seconds": cooloff_seconds()}},
            status=TOO_MANY_REQUESTS,
        )
    else:
        response = HttpResponse(lockout_message(), status=TOO_MANY_REQUESTS, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(cooloff_seconds())
    return response


class AccountLockoutHandler(AxesDatabaseHandler):
    """django-axes' handler, also locking an account that fails from many addresses.

    Axes locks one (email, address) pair after AXES_FAILURE_LIMIT failures; a
    guesser with many addresses would get that many tries from each. So an
    account's failures from every address within the cool-off also count,
    against their own, higher LOGIN_ACCOUNT_FAILURE_LIMIT (axes takes one limit
    for all its parameters). Past it, axes sees the pair's limit reached and
    refuses the account everywhere, its owner too, until the cool-off ends:
    the price of not letting the password be guessed.
    """

    def get_failures(self, request, credentials: dict | None = None) -> int:
        failures = super().get_failures(request, credentials)
        email = get_client_username(request, credentials)
        if email is None:
            return failures
        account_failures = AccessAttempt.objects.filter(
            username=email, attempt_time__gte=get_cool_off_threshold(request)
        ).aggregate(total=Sum("failures_since_start"))["total"] or 0
        if account_failures >= settings.LOGIN_ACCOUNT_FAILURE_LIMIT:
            return max(failures, settings.AXES_FAILURE_LIMIT)
        return failures
