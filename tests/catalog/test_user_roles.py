import uuid
from datetime import datetime, timedelta, timezone

import pytest

from catalog import services
from catalog.handlers import HANDLERS
from catalog.models import UserRole
from shopsite import contracts
from shopsite.bus import context
from shopsite.bus.envelope import Envelope

pytestmark = pytest.mark.django_db(databases=["catalog"])

NOON = datetime(2025, 1, 1, 12, tzinfo=timezone.utc)


def registered(**overrides) -> contracts.UserRegistered:
    fields = dict(user_id=5, email="ann@example.com", name="Ann", is_staff=False, role="customer")
    return contracts.UserRegistered(**{**fields, **overrides})


def updated(**overrides) -> contracts.UserUpdated:
    fields = dict(user_id=5, email="ann@example.com", name="Ann", is_staff=False, role="customer", is_active=True)
    return contracts.UserUpdated(**{**fields, **overrides})


def replica(user_id: int = 5) -> tuple[str, bool, bool]:
    """(role, is_staff, is_active) as the catalog last heard them."""
    role = UserRole.objects.get(pk=user_id)
    return role.role, role.is_staff, role.is_active


def handle(message, *, at: datetime) -> None:
    envelope = Envelope(
        type=message.TYPE, version=1, producer="accounts", payload=message.model_dump(mode="json"),
        correlation_id=uuid.uuid4(), occurred_at=at,
    )
    with context.handling(envelope):
        HANDLERS[type(message)](message)


def test_a_registered_customer_is_replicated():
    HANDLERS[contracts.UserRegistered](registered())

    assert UserRole.objects.get(pk=5).email == "ann@example.com"
    assert replica() == ("customer", False, True)


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"role": "merchant"}, ("merchant", False, True)),
        ({"is_staff": True, "is_active": False}, ("customer", True, False)),
    ],
)
def test_an_update_changes_the_replica(change, expected):
    HANDLERS[contracts.UserRegistered](registered())

    HANDLERS[contracts.UserUpdated](updated(**change))

    assert replica() == expected


def test_a_late_message_does_not_undo_a_newer_one():
    handle(updated(role="merchant", email="new@example.com"), at=NOON)

    handle(registered(), at=NOON - timedelta(seconds=1))

    role = UserRole.objects.get(pk=5)
    assert (role.role, role.email) == ("merchant", "new@example.com")


def test_a_newer_message_wins():
    handle(registered(role="staff"), at=NOON)

    handle(updated(role="customer"), at=NOON + timedelta(seconds=1))

    assert replica() == ("customer", False, True)


def test_repeating_the_same_message_changes_nothing():
    services.user_role_apply(user_id=5, email="a@example.com", is_staff=True, role="staff", as_of=NOON)
    services.user_role_apply(user_id=5, email="a@example.com", is_staff=True, role="staff", as_of=NOON)

    assert UserRole.objects.count() == 1
    assert replica() == ("staff", True, True)
