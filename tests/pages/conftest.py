import uuid
from decimal import Decimal

import pytest

from accounts.models import User
from cart.models import ProductReplica
from catalog.models import Product
from orders import services as order_services
from shopsite import contracts
from shopsite.testing import an_address

PASSWORD = "a-long-test-password"


@pytest.fixture
def customer(db):
    return User.objects.create_user(email="casey@example.com", password=PASSWORD, name="Casey Customer")


@pytest.fixture
def stranger(db):
    return User.objects.create_user(email="sam@example.com", password=PASSWORD, name="Sam Stranger")


@pytest.fixture
def shopper(client, customer):
    """A browser session logged in as the customer."""
    client.force_login(customer)
    return client


@pytest.fixture
def make_product():
    """A product in the catalog and, as its messages would have made it, in the cart's replica."""
    counter = iter(range(1, 10_000))

    def make(*, price="10.00", stock=10, is_active=True, category="kitchen", **fields) -> Product:
        n = next(counter)
        fields.setdefault("sku", f"SKU-{n:03d}")
        fields.setdefault("name", f"Product {n}")
        product = Product.objects.create(
            price=Decimal(price), stock_on_hand=stock, is_active=is_active, category=category, **fields
        )
        ProductReplica.objects.create(
            product_id=product.id, sku=product.sku, name=product.name, price=product.price,
            is_active=is_active, available=stock, version=product.version,
        )
        return product

    return make


@pytest.fixture
def place_order():
    """An order as the orders service places it from a cart.checked_out message."""

    def place(user, *, lines=(("MUG", "Mug", "9.50", 2),), address=None) -> uuid.UUID:
        checkout = contracts.CartCheckedOut(
            checkout_id=uuid.uuid4(),
            order_id=uuid.uuid4(),
            user_id=user.id,
            lines=[
                contracts.CheckoutLine(product_id=n, sku=sku, name=name, unit_price=Decimal(price), quantity=quantity)
                for n, (sku, name, price, quantity) in enumerate(lines, start=1)
            ],
            total=sum(Decimal(price) * quantity for _, _, price, quantity in lines),
            shipping_address=address or an_address(),
            payment_method_id=uuid.uuid4(),
        )
        return order_services.order_place(checkout=checkout).id

    return place
