"""The debug page shows where the broker, the databases and the mail server are, never their passwords."""

import sys

import pytest
from django.conf import settings
from django.views.debug import technical_500_response

# A cluster's nodes, each URL with its password.
BUS_URL = ("amqp://shop:bus-secret@broker.internal:5672/%2F?heartbeat=30,"
           "amqp://shop:other-bus-secret@broker2.internal:5672/%2F?heartbeat=30")
# Under runserver the request's META holds the whole environment.
ENVIRONMENT = {
    "ORDERS_DATABASE_URL": "postgres://shop:db-secret@db.internal:5432/shop_orders",
    "EMAIL_URL": "smtp+tls://shop@example.com:mail-secret@mail.internal:587",
}
SECRETS = ["bus-secret", "other-bus-secret", "db-secret", "mail-secret", "host-secret"]
HOSTS = ["broker.internal", "broker2.internal", "db.internal", "mail.internal"]
# (The page also shows the source around each frame: the secrets above stay out of its reach.)


@pytest.fixture
def request_with_credentials(rf, settings):
    settings.DEBUG = True
    settings.BUS = {**settings.BUS, "URL": BUS_URL}
    settings.EMAIL_HOST_PASSWORD = "host-secret"
    return rf.get("/", **ENVIRONMENT)


def error_page(request, accept: str) -> str:
    request.META["HTTP_ACCEPT"] = accept
    broker = {"url": settings.BUS["URL"]}  # a variable of a frame in the traceback
    try:
        raise ConnectionError(f"the broker at {broker['url'].rsplit('@')[-1]} went away")
    except ConnectionError:
        return technical_500_response(request, *sys.exc_info()).content.decode()


@pytest.mark.parametrize("accept", ["text/html", "text/plain"])
def test_the_500_page_shows_the_hosts_but_no_password(request_with_credentials, accept):
    page = error_page(request_with_credentials, accept)

    assert [secret for secret in SECRETS if secret in page] == []
    assert all(host in page for host in HOSTS)
    assert "amqp://shop:********************@broker.internal" in page
