import itertools
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from catalog.models import Product

STAFF_PERMISSIONS = ("add_product", "change_product", "adjust_stock")


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
def make_user(django_user_model):
    """A user of the accounts database holding the given catalog permissions."""
    numbers = itertools.count(1)

    def make(*codenames: str, is_staff: bool = True, is_active: bool = True):
        user = django_user_model.objects.create_user(
            email=f"user{next(numbers)}@example.com", password="x", name="U", is_staff=is_staff, is_active=is_active
        )
        user.user_permissions.set(Permission.objects.filter(content_type__app_label="catalog", codename__in=codenames))
        return user

    return make


@pytest.fixture
def staff_user(make_user):
    return make_user(*STAFF_PERMISSIONS)


@pytest.fixture
def customer_user(make_user):
    return make_user(is_staff=False)
