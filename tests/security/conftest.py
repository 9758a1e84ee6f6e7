"""A small shop with two customers and a staff member, each owning a bit of everything.

The staff member holds every permission a staff operation of the API needs.

The security tests sign in the way API clients do, with a token, and look at
what one user can do to what another owns.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts import services as account_services
from accounts.models import ApiToken, User
from cart import services as cart_services
from catalog import services as catalog_services
from orders import services as order_services
from payments import services as payment_services
from shopsite import contracts
from shopsite.testing import an_address
from tests.staff_permissions import STAFF_PERMISSIONS, permissions

PASSWORD = "a-long-test-password"
VISA = "4242424242424242"


@dataclass
class Member:
    """A user of the shop with their API token and the ids of what they own."""

    user: User
    token: str
    owns: dict[str, object] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}"}

    @property
    def auth(self) -> dict[str, str]:
        """The same header, as django.test.Client takes it."""
        return {"HTTP_AUTHORIZATION": f"Token {self.token}"}


@dataclass
class World:
    customer: Member
    other: Member
    staff: Member
    product_ids: list[int]


def _member(email: str, name: str, *, granted: tuple[str, ...] = (), **flags) -> Member:
    user = account_services.user_register(email=email, password=PASSWORD, name=name, **flags)
    user.user_permissions.set(permissions(*granted))
    # The catalog learns roles from user messages; here we tell it directly.
    catalog_services.user_role_apply(
        user_id=user.id, email=user.email, is_staff=user.is_staff, role=user.role, version=1
    )
    return Member(user=user, token=ApiToken.issue(user=user)[1])


def _product(n: int) -> int:
    product = catalog_services.product_create(sku=f"SEC-{n}", name=f"Product {n}", price=Decimal("10.00"), stock=50)
    cart_services.product_replica_apply(
        product_id=product.id, sku=product.sku, name=product.name, price=product.price,
        is_active=True, available=product.stock_on_hand, version=product.version,
    )
    return product.id


def _give_everything(member: Member, product_id: int) -> None:
    """One of each thing a customer owns: a cart line, a card, an order, a notification and an address.

    Each customer's cart holds a product the other's does not, so that a cart
    line is named by a product id only its owner has in the cart. The address
    is their second, not the default, so that making it the default changes something.
    """
    user_id = member.user.id
    cart_services.cart_item_add(user_id=user_id, product_id=product_id, quantity=2)
    method = payment_services.payment_method_create(
        user_id=user_id, card_number=VISA, exp_month=12, exp_year=timezone.now().year + 2, cvc="123"
    )
    order = order_services.order_place(
        checkout=contracts.CartCheckedOut(
            checkout_id=uuid.uuid4(), order_id=uuid.uuid4(), user_id=user_id,
            lines=[contracts.CheckoutLine(
                product_id=product_id, sku="SEC-1", name="Product 1", unit_price=Decimal("10.00"), quantity=1,
            )],
            total=Decimal("10.00"), shipping_address=an_address(), payment_method_id=method.id,
        )
    )
    # Confirmed, so that both "cancel" and "ship" would change it if they were let through.
    order_services.order_stock_reserved(order_id=order.id)
    order_services.order_payment_succeeded(order_id=order.id, charge_id=uuid.uuid4(), amount=order.total)
    item = account_services.inbox_item_record(
        notification_id=uuid.uuid4(), user_id=user_id, order_id=order.id, kind="order_confirmed",
        subject="Your order is confirmed", body="Thank you.", sent_at=timezone.now() - timedelta(minutes=1),
    )
    addresses = [account_services.address_create(user_id=user_id, address=an_address(line1=f"{n} Main St"))
                 for n in (1, 2)]
    member.owns = {
        "product_id": product_id,  # the product in their cart
        "method_id": method.id,
        "order_id": order.id,
        "notification_id": item.notification_id,
        "address_id": addresses[1].id,
    }


@pytest.fixture
def world() -> World:
    product_ids = [_product(n) for n in (1, 2, 3)]
    world = World(
        customer=_member("casey@example.com", "Casey Customer"),
        other=_member("olga@example.com", "Olga Other"),
        staff=_member(
            "stan@example.com", "Stan Staff", role=User.Role.STAFF, is_staff=True,
            granted=tuple(STAFF_PERMISSIONS.values()),
        ),
        product_ids=product_ids,
    )
    _give_everything(world.customer, product_ids[0])
    _give_everything(world.other, product_ids[1])
    return world
