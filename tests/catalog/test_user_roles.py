import pytest

from catalog import services
from catalog.handlers import HANDLERS
from catalog.models import UserRole
from shopsite import contracts

pytestmark = pytest.mark.django_db(databases=["catalog"])


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


def handle(message) -> None:
    HANDLERS[type(message)](message)


def test_a_registered_customer_is_replicated():
    handle(registered(version=1))

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
    handle(registered(version=1))

    handle(updated(version=2, **change))

    assert replica() == expected


def test_out_of_order_deliveries_end_at_the_newest_version():
    deliveries = [
        updated(role="merchant", email="new@example.com", version=3),
        registered(version=1),  # late
        updated(role="staff", is_staff=True, version=2),  # late
        updated(role="merchant", email="new@example.com", version=3),  # repeated
        updated(role="customer"),  # from before versions: older than any versioned message
    ]

    for message in deliveries:
        handle(message)

    role = UserRole.objects.get(pk=5)
    assert (role.role, role.email, role.version) == ("merchant", "new@example.com", 3)


def test_a_deactivated_staff_user_is_never_reactivated_by_a_late_message():
    handle(registered(is_staff=True, role="staff", version=1))
    handle(updated(is_staff=True, role="staff", is_active=False, version=3))

    handle(updated(is_staff=True, role="staff", is_active=True, version=2))
    handle(registered(is_staff=True, role="staff", version=1))

    assert replica() == ("staff", True, False)


def test_messages_from_before_versions_apply_in_arrival_order_until_a_versioned_one():
    handle(registered())
    handle(updated(role="merchant"))
    assert replica() == ("merchant", False, True)

    handle(updated(role="staff", is_staff=True, version=1))
    handle(updated(role="customer"))

    assert replica() == ("staff", True, True)


def test_repeating_the_same_message_changes_nothing():
    assert services.user_role_apply(user_id=5, email="a@example.com", is_staff=True, role="staff", version=1)
    assert services.user_role_apply(user_id=5, email="a@example.com", is_staff=True, role="staff", version=1) is None

    assert UserRole.objects.count() == 1
    assert replica() == ("staff", True, True)
