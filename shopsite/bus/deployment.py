"""Which installation of the shop a message belongs to.

Two shops started on one broker with the same prefix share their queues: each
would take and handle the other's messages (one shop's catalog recording the
other's users, an order waiting for ever for a reply its own shop never saw).
So every message carries its deployment (``BUS_DEPLOYMENT``) in an AMQP
header, set when it is published, and a consumer handles only its own: it
parks anything else in its dead-letter queue, with the reason, unread.

The mark is a header, not an envelope field: rows already in an outbox when
the mark was introduced are marked as they are published, and the envelope
stays what the contracts describe. It guards against a mistake, not an
attacker: whoever may publish on the broker may also set the header.
"""

from __future__ import annotations

from django.conf import settings

HEADER = "x-shop-deployment"


def mark(headers: dict | None = None) -> dict:
    """``headers`` with this deployment's mark."""
    return {**(headers or {}), HEADER: settings.BUS["DEPLOYMENT"]}


def refusal(headers: dict | None, deployment: str) -> str | None:
    """Why a delivery with ``headers`` is not ``deployment``'s to handle; None when it is.

    An unmarked message is refused too: it comes from a shop older than the
    mark, the very one that would be sharing our queues by mistake, or from a
    hand-made publish. Messages still queued when a shop is upgraded are parked
    this way; ``replay_dead_letters`` takes them back in (see deadletters.py).
    """
    sender = (headers or {}).get(HEADER)
    if sender == deployment:
        return None
    if sender is None:
        return f"not for this deployment ({deployment!r}): the message has no {HEADER} header"
    return f"not for this deployment ({deployment!r}): published by deployment {sender!r}"
