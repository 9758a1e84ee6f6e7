from dataclasses import dataclass
from decimal import Decimal

import pytest

from cart.models import ProductReplica


@dataclass(frozen=True)
class ApiUser:
    """Who the API sees: the cart knows users only by id."""

    id: int
    is_authenticated: bool = True


@pytest.fixture
def make_product():
    """A product as the catalog's messages described it."""
    counter = iter(range(1, 10_000))

    def make(*, price="10.00", available=10, is_active=True, version=1, **fields) -> ProductReplica:
        n = next(counter)
        fields.setdefault("product_id", n)
        fields.setdefault("sku", f"SKU-{n}")
        fields.setdefault("name", f"Product {n}")
        return ProductReplica.objects.create(
            price=Decimal(price), available=available, is_active=is_active, version=version, **fields
        )

    return make


@pytest.fixture
def api_user():
    return ApiUser
