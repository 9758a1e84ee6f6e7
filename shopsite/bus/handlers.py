"""A handler and the key its service's inbox remembers it by.

The inbox records which handler already applied a message, so a redelivery
is skipped. That record must outlive refactors: a handler renamed or moved
to another module between two deliveries of one message is still the same
handler, and must still skip it. So each handler carries an explicit key,
written beside it in the service's ``HANDLERS`` mapping, and the inbox, the
fault injection (``BUS_FAULTS``) and the bus console know it only by that key.

A key is ``<service>.<name-in-kebab-case>``: unique across the shop, and
plainly not an import path. A key is never reused for other work; the list
of every key there has been is ``shopsite/bus/handler_keys.toml`` (see
docs/handler-keys.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Mapping

from django.core.exceptions import ImproperlyConfigured

from shopsite.contracts import Message

#: The length of the inbox's ``handler`` column.
MAX_KEY_LENGTH = 200

KEY_PATTERN = re.compile(r"[a-z]+\.[a-z0-9]+(?:-[a-z0-9]+)*")


@dataclass(frozen=True)
class Handler:
    """A function that handles a message, named by its inbox key; called like the function."""

    key: str
    function: Callable[[Message], None]

    def __post_init__(self) -> None:
        if not KEY_PATTERN.fullmatch(self.key) or len(self.key) > MAX_KEY_LENGTH:
            raise ImproperlyConfigured(
                f"handler key {self.key!r} is not '<service>.<kebab-case-name>' of at most {MAX_KEY_LENGTH} characters"
            )

    def __call__(self, message: Message) -> None:
        self.function(message)

    @property
    def service(self) -> str:
        return self.key.split(".", 1)[0]


def handler_table(service: str, mapping: Mapping[type[Message], Handler | tuple[Handler, ...]]
                  ) -> dict[type[Message], tuple[Handler, ...]]:
    """``mapping`` with a tuple of handlers for each message type, once its keys are checked.

    Every key names ``service``, and one key means one function: a function
    that handles several message types keeps one key for all of them, but two
    functions never share one (the second would skip every message the first
    had applied).
    """
    table = {kind: (handlers if isinstance(handlers, tuple) else (handlers,)) for kind, handlers in mapping.items()}
    functions: dict[str, Callable] = {}
    for kind, handlers in table.items():
        for handler in handlers:
            if not isinstance(handler, Handler):
                raise ImproperlyConfigured(f"{service} handles {kind.__name__} with {handler!r}, not a Handler "
                                           f"with its inbox key")
            if handler.service != service:
                raise ImproperlyConfigured(f"handler key {handler.key!r} of {service} must start with '{service}.'")
            if functions.setdefault(handler.key, handler.function) != handler.function:
                raise ImproperlyConfigured(f"{service} gives the key {handler.key!r} to two functions")
        if len({handler.key for handler in handlers}) < len(handlers):
            raise ImproperlyConfigured(f"{service} lists a handler of {kind.__name__} twice")
    return table
