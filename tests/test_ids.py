"""Time-ordered ids (shopsite/ids.py): what keeps a long history's indexes cheap to write."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from accounts.models import Address
from notifications.models import Notification
from payments.models import Charge, PaymentMethod, Refund
from shopsite.bus import context
from shopsite.bus.envelope import Envelope
from shopsite.contracts import PaymentSucceeded
from shopsite.ids import short, uuid7

ALL_RANDOM = (1 << 80) - 1


def test_a_uuid7_is_a_version_7_rfc_9562_uuid():
    made = uuid7()

    assert made.version == 7
    assert made.variant == uuid.RFC_4122


def test_it_starts_with_its_time_in_milliseconds():
    at = datetime(2026, 11, 30, 3, 0, 0, 123_000, tzinfo=UTC).timestamp()

    assert uuid7(at).int >> 80 == int(at * 1000)


def test_a_later_id_sorts_after_an_earlier_one_whatever_their_random_bits():
    earlier = uuid7(1_800_000_000.000, random_bits=ALL_RANDOM)
    later = uuid7(1_800_000_000.001, random_bits=0)

    assert earlier < later
    assert earlier.hex < later.hex  # as SQLite stores them: 32 hex digits, compared as text
    assert str(earlier) < str(later)


def test_ids_made_in_the_same_millisecond_differ():
    assert len({uuid7(1_800_000_000.0) for _ in range(1000)}) == 1000


def test_the_same_time_and_bits_make_the_same_id():
    assert uuid7(1_800_000_000.0, random_bits=12345) == uuid7(1_800_000_000.0, random_bits=12345)


def test_the_version_and_variant_bits_are_never_taken_from_the_random_bits():
    for bits in (0, ALL_RANDOM):
        made = uuid7(1_800_000_000.0, random_bits=bits)
        assert (made.version, made.variant) == (7, uuid.RFC_4122)


def test_messages_and_their_flows_get_time_ordered_ids():
    message = PaymentSucceeded(order_id=uuid7(), charge_id=uuid7(), amount=Decimal("12.30"))
    envelope = Envelope.wrap(message, producer="payments", correlation_id=uuid7())
    correlation_id, _ = context.ids_for_new_message(None)

    assert envelope.id.version == 7
    assert correlation_id.version == 7


def test_the_models_ids_are_time_ordered():
    for model in (Address, Charge, PaymentMethod, Refund, Notification):
        assert model().id.version == 7, model.__name__


def test_ids_made_in_the_same_minute_are_told_apart_by_their_short_form():
    first, second = uuid7(1_800_000_000.0), uuid7(1_800_000_030.0)

    assert str(first)[:8] == str(second)[:8]  # their time: why the first characters cannot be shown
    assert short(first) != short(second)
    assert short(first) == str(first)[-8:]


def test_an_older_random_id_keeps_the_short_form_it_was_shown_by():
    older = uuid.UUID("3f2a9c1e-0b7d-4e8a-9c5f-6d1e2f3a4b5c")

    assert short(older) == short(str(older)) == "3f2a9c1e"
