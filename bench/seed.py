"""Customers ready to check out, made directly through the services (not timed).

``python -m bench.seed <customers> <products>`` runs in a shop's environment
while its consumers run: it creates products with plenty of stock, waits for
the cart's replicas, then registers customers, each with an API token, a saved
card and one product in the cart, and waits until the other services know
them. Prints one JSON object: the customers' tokens and card ids.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from decimal import Decimal

import django

VISA_OK = "4242424242424242"


def wait_for(condition, what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout}s for {what}")
        time.sleep(0.2)


def seed(customers: int, products: int) -> dict:
    from accounts import services as accounts
    from accounts.models import ApiToken
    from cart import services as cart
    from cart.models import ProductReplica
    from catalog import services as catalog
    from notifications.models import Recipient
    from payments import services as payments

    run = uuid.uuid4().hex[:6]
    product_ids = [
        catalog.product_create(sku=f"B-{run}-{n}", name=f"Bench product {n}", price=Decimal("9.99"),
                               stock=1_000_000).id
        for n in range(products)
    ]
    wait_for(lambda: ProductReplica.objects.filter(product_id__in=product_ids).count() == products,
             "the cart's product replicas")
    made = []
    for n in range(customers):
        user = accounts.user_register(email=f"bench-{run}-{n}@example.com", password="a-long-bench-password",
                                      name=f"Bench {n}")
        method = payments.payment_method_create(user_id=user.id, card_number=VISA_OK, exp_month=12,
                                                exp_year=2031, cvc="123")
        cart.cart_item_add(user_id=user.id, product_id=product_ids[n % products], quantity=1)
        made.append({"token": ApiToken.issue(user=user)[1], "method": str(method.id),
                     "user_id": user.id})
    # The confirmation email needs the address, which reaches notifications by message.
    users = [c["user_id"] for c in made]
    wait_for(lambda: Recipient.objects.filter(user_id__in=users).count() == len(users), "the mail recipients")
    return {"customers": made, "products": product_ids}


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopsite.settings")
    django.setup()
    print(json.dumps(seed(int(sys.argv[1]), int(sys.argv[2]))))
