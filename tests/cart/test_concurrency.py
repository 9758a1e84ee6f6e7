"""Two checkout requests with one idempotency key, at the same time (a double click).

Point CART_DATABASE_URL at PostgreSQL to check the row lock; the in-memory
SQLite test database refuses a second writer outright, so there a request is
simply retried.
"""

import random
import threading
import time
import uuid

import pytest
from django.db import OperationalError, connections

from cart import services
from cart.models import Checkout, OutboxMessage
from shopsite.testing import an_address, recorded

pytestmark = pytest.mark.django_db(databases=["cart"], transaction=True)


@pytest.fixture(autouse=True)
def no_broker(settings):
    # These tests commit for real: keep the after-commit publisher quiet.
    settings.BUS = {**settings.BUS, "PUBLISH_ON_COMMIT": False}


def test_a_double_click_checks_out_once(make_product):
    mug = make_product(available=5)
    services.cart_item_add(user_id=7, product_id=mug.product_id, quantity=2)
    start = threading.Barrier(4)
    results, errors = [], []

    def checkout():
        try:
            start.wait()
            for _ in range(100):
                try:
                    results.append(services.cart_checkout(
                        user_id=7, idempotency_key="click", payment_method_id=uuid.uuid4(), shipping_address=an_address()
                    ))
                    return
                except OperationalError as exc:
                    if not (connections["cart"].vendor == "sqlite" and "locked" in str(exc)):
                        raise
                    time.sleep(random.uniform(0.001, 0.01))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=checkout) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len({checkout.pk for checkout in results}) == 1 and len(results) == 4
    assert Checkout.objects.count() == 1
    assert len(recorded(OutboxMessage, "cart.checked_out")) == 1
