"""What the cart service does with the messages it subscribes to."""

from __future__ import annotations

from shopsite import contracts
from shopsite.bus.handlers import Handler

from . import services


def product_replicate(message: contracts.ProductPublished | contracts.ProductUpdated) -> None:
    services.product_replica_apply(
        product_id=message.product_id,
        sku=message.sku,
        name=message.name,
        price=message.price,
        is_active=message.is_active,
        available=message.available,
        version=message.version,
        # A message from before images (or about a product without one) has none.
        image_url=message.image_url or "",
        thumbnail_url=message.thumbnail_url or "",
    )


def stock_replicate(message: contracts.StockChanged) -> None:
    services.stock_replica_apply(product_id=message.product_id, available=message.available, version=message.version)


def note_order_placed(message: contracts.OrderPlaced) -> None:
    services.checkout_mark_placed(order_id=message.order_id)


def restore_cancelled_order(message: contracts.OrderCancelled) -> None:
    services.checkout_restore(order_id=message.order_id, user_id=message.user_id, reason=message.reason)


#: Each message type with its handler, named by the key its inbox rows carry: the key stays
#: when the function is renamed or moved, and is never reused (docs/handler-keys.md).
HANDLERS = {
    contracts.ProductPublished: Handler("cart.product-replicate", product_replicate),
    contracts.ProductUpdated: Handler("cart.product-replicate", product_replicate),
    contracts.StockChanged: Handler("cart.stock-replicate", stock_replicate),
    contracts.OrderPlaced: Handler("cart.note-order-placed", note_order_placed),
    contracts.OrderCancelled: Handler("cart.restore-cancelled-order", restore_cancelled_order),
}
