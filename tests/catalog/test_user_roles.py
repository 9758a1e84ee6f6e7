import uuid
from datetime import datetime, timedelta, timezone

import pytest

from catalog import selectors, services
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


def handle(message, *, at: datetime) -> None:
    envelope = Envelope(
        type=message.TYPE, version=1, producer="accounts", payload=message.model_dump(mode="json"),
        correlation_id=uuid.uuid4(), occurred_at=at,
    )
    with context.handling(envelope):
        HANDLERS[type(message)](message)


def test_a_registered_customer_is_not_staff():
    HANDLERS[contracts.UserRegistered](registered())

    assert UserRole.objects.get(pk=5).email == "ann@example.com"
    assert selectors.user_is_staff(user_id=5) is False


@pytest.mark.parametrize(
    "change, staff",
    [
        ({"role": "merchant"}, True),
        ({"role": "staff"}, True),
        ({"is_staff": True}, True),
        ({"is_staff": True, "is_active": False}, False),
        ({"role": "customer"}, False),
    ],
)
def test_an_update_changes_who_may_manage_the_catalog(change, staff):
    HANDLERS[contracts.UserRegistered](registered())

    HANDLERS[contracts.UserUpdated](updated(**change))

    assert selectors.user_is_staff(user_id=5) is staff


def test_an_unknown_user_is_not_staff():
    assert selectors.user_is_staff(user_id=404) is False
    assert selectors.user_is_staff(user_id=None) is False


def test_a_late_message_does_not_undo_a_newer_one():
    handle(updated(role="merchant", email="new@example.com"), at=NOON)

    handle(registered(), at=NOON - timedelta(seconds=1))

    role = UserRole.objects.get(pk=5)
    assert (role.role, role.email) == ("merchant", "new@example.com")
    assert selectors.user_is_staff(user_id=5) is True


def test_a_newer_message_wins():
    handle(registered(role="staff"), at=NOON)

    handle(updated(role="customer"), at=NOON + timedelta(seconds=1))

    assert selectors.user_is_staff(user_id=5) is False


def test_repeating_the_same_message_changes_nothing():
    services.user_role_apply(user_id=5, email="a@example.com", is_staff=True, role="staff", as_of=NOON)
    services.user_role_apply(user_id=5, email="a@example.com", is_staff=True, role="staff", as_of=NOON)

    assert UserRole.objects.count() == 1
    assert selectors.user_is_staff(user_id=5) is True
