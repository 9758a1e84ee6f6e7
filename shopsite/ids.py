"""The identifiers the shop mints: UUIDs that sort by when they were made.

Every message, order, checkout, charge and email gets a UUID that becomes a
key in some index: the inbox's (message, handler), each outbox's primary
key, the order-keyed tables of all six services. A random (version 4) UUID
lands anywhere in those indexes, so once a shop has a long history each new
row dirties a page of its own in every index it enters, and every commit
writes (and SQLite's write-ahead log later copies back) that many pages.
Measured on SQLite with 200,000 past orders, that made an order cost about a
third more CPU than on a short history (bench/optimisations.md, ninth round).

A version 7 UUID (RFC 9562, section 5.7) starts with the Unix time in
milliseconds and keeps 74 random bits after it: new keys go to the end of
each index, on the few pages recent rows share, however long the history.
They stay as hard to guess as a version 4 UUID for what the shop uses them
for (every page and API endpoint checks who may see a row; the id is never
a secret), and reveal only the creation time the shop shows anyway.
Python 3.14 has ``uuid.uuid7``; this machine runs 3.11.
"""

from __future__ import annotations

import os
import time
import uuid

_VERSION = 0x7 << 76
_VARIANT = 0b10 << 62
_RANDOM = (1 << 80) - 1 & ~(0xF << 76) & ~(0b11 << 62)  # the 74 bits left random
_MILLISECONDS = (1 << 48) - 1


def uuid7(at: float | None = None, *, random_bits: int | None = None) -> uuid.UUID:
    """A version 7 UUID for the time ``at`` (seconds since the epoch; now if None).

    ``random_bits`` (80 bits, of which 74 are used) is for callers that must make the same ids again from a
    seeded generator (bench/grow.py); otherwise they come from the operating system, as ``uuid4``'s do.
    """
    milliseconds = int((time.time() if at is None else at) * 1000) & _MILLISECONDS
    if random_bits is None:
        random_bits = int.from_bytes(os.urandom(10), "big")
    return uuid.UUID(int=milliseconds << 80 | _VERSION | _VARIANT | random_bits & _RANDOM)


def short(value: uuid.UUID | str) -> str:
    """The eight hex digits people are shown for an id: an order's number, a message or flow in the console.

    A time-ordered id's first digits are its time, the same for every id made
    in the same minute, so it is shown by its last eight, which are random.
    An id made before the shop minted them (a random one) keeps its first
    eight: the number its customer was already given.
    """
    value = value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    text = str(value)
    return text[-8:] if value.version == 7 else text[:8]
