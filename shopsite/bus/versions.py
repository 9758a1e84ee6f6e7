"""Which version of a message type this process sends: its own, or the one before while a rollout pins it.

``BUS_SEND_VERSIONS="cart.checked_out=1,order.confirmed=1"`` keeps those producers on the previous version
until every consumer reads the new one (docs/messages.md). The settings read it through ``send_versions``, so
a pin that could never be honoured stops the process as it starts, not at its first message.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from shopsite.contracts import MESSAGE_TYPES

from .envelope import sendable_versions


def send_versions(text: str) -> dict[str, int]:
    """``type=version`` pairs, separated by commas, as a mapping; ImproperlyConfigured names what is wrong."""
    pins: dict[str, int] = {}
    for pair in filter(None, (part.strip() for part in text.split(","))):
        type_, _, version = (side.strip() for side in pair.partition("="))
        contract = MESSAGE_TYPES.get(type_)
        if contract is None:
            raise ImproperlyConfigured(f"BUS_SEND_VERSIONS: {type_!r} is not a message type "
                                       f"(write type=version, e.g. cart.checked_out=1)")
        allowed = sendable_versions(contract)
        if not version.isdigit() or int(version) not in allowed:
            raise ImproperlyConfigured(
                f"BUS_SEND_VERSIONS: {type_} can be sent as version {' or '.join(map(str, allowed))}, "
                f"not {version!r}")
        if type_ in pins:
            raise ImproperlyConfigured(f"BUS_SEND_VERSIONS: {type_} is pinned twice")
        pins[type_] = int(version)
    return pins
