"""Start-up module: this process reads messages as the release before version 2 of cart.checked_out,
order.confirmed and order.shipped did.

That release knew those types as version 1 only (``previous_release.SHAPES``) and refused, in every message,
any field it did not know: such a message was dead-lettered with the reason, as here. What it did with a
message it accepted is what today's handlers do with it (read through today's upcaster), so its orders go on
through today's saga.
"""

from pydantic import ValidationError

from shopsite.bus.envelope import Envelope, InvalidMessage
from shopsite.contracts import MESSAGE_TYPES

from .previous_release import SHAPES

_read_as_today = Envelope.message


def _read_as_the_previous_release(self: Envelope):
    contract = MESSAGE_TYPES.get(self.type)
    if contract is not None:
        known, shape = SHAPES.get(self.type, (contract.VERSION, contract))
        if self.version != known:
            raise InvalidMessage(f"{self.type} version {self.version} is not supported (expected {known})")
        try:
            shape.model_validate(self.payload)  # strict, as that release was
        except ValidationError as exc:
            raise InvalidMessage(f"payload does not match {self.type} v{known}: {exc}") from exc
    return _read_as_today(self)


Envelope.message = _read_as_the_previous_release
