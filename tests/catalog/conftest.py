from dataclasses import dataclass
from decimal import Decimal

import pytest

from catalog.models import Product, UserRole


@dataclass(frozen=True)
class ApiUser:
    """Who the API sees: the catalog knows users only by id (and the role replica)."""

    id: int
    is_authenticated: bool = True


@pytest.fixture
def make_product():
    counter = iter(range(1, 10_000))

    def make(*, stock=10, price="10.00", is_active=True, **fields) -> Product:
        n = next(counter)
        fields.setdefault("sku", f"SKU-{n}")
        fields.setdefault("name", f"Product {n}")
        return Product.objects.create(
            stock_on_hand=stock, price=Decimal(price), is_active=is_active, **fields
        )

    return make


@pytest.fixture
def user_with_role():
    """A signed-in user as the role replica knows them (or does not, with no fields)."""

    def make(user_id: int, **role) -> ApiUser:
        if role:
            UserRole.objects.create(user_id=user_id, email=f"user{user_id}@example.com", **role)
        return ApiUser(id=user_id)

    return make


@pytest.fixture
def staff_user() -> ApiUser:
    UserRole.objects.create(user_id=1, email="staff@example.com", is_staff=True, role="staff")
    return ApiUser(id=1)


@pytest.fixture
def customer_user() -> ApiUser:
    UserRole.objects.create(user_id=2, email="customer@example.com", is_staff=False, role="customer")
    return ApiUser(id=2)
