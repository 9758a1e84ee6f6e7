"""Start-up module: this process runs a newer release of the cart, whose cart.checked_out carries fields the
running consumers do not know: a gift note on the checkout, a weight on each line.

Both are optional, so the change is additive: the same version, and a consumer of this release reads the
message, ignoring them (docs/messages.md). The newer cart sets them on every checkout.
"""

from pydantic import Field

from shopsite import contracts
from shopsite.limits import MAX_LINES


class CheckoutLine(contracts.CheckoutLine):
    weight_grams: int | None = 250


class CartCheckedOut(contracts.CartCheckedOut):
    lines: list[CheckoutLine] = Field(min_length=1, max_length=MAX_LINES)
    gift_note: str | None = "Happy birthday!"


# The cart's services name the contracts through the module, when they build a checkout.
contracts.CheckoutLine = CheckoutLine
contracts.CartCheckedOut = CartCheckedOut
