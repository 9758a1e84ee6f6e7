import pytest


@pytest.mark.django_db(databases="__all__")
def test_healthz_answers_without_touching_anything(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db(databases="__all__")
def test_readyz_checks_every_database_and_the_broker(client, broker):
    response = client.get("/readyz")
    assert response.status_code == 200
    checks = response.json()["checks"]
    assert set(checks) == {"database:default", "database:catalog", "database:cart", "database:orders",
                           "database:payments", "database:notifications", "broker"}
    assert all(checks.values())


@pytest.mark.django_db(databases="__all__")
def test_readyz_says_not_ready_when_the_broker_is_unreachable(client, settings):
    settings.BUS = {**settings.BUS, "URL": "amqp://guest:guest@127.0.0.1:1/%2F?connection_attempts=1"}
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] is False
