
from django.db import models

from shopsite import contracts
from shopsite.bus import models as bus
from shopsite.ids import short
from shopsite.limits import (
    ADDRESS_CITY_LENGTH, ADDRESS_LINE_LENGTH, ADDRESS_NAME_LENGTH, ADDRESS_POSTAL_CODE_LENGTH, ADDRESS_REGION_LENGTH,
)


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        AWAITING_PAYMENT = "awaiting_payment"
        CONFIRMED = "confirmed"
        SHIPPED = "shipped"
        DELIVERED = "delivered"
        CANCELLED = "cancelled"

    #: Each status's place in the checkout saga, the version of the order's status messages.
    SAGA = contracts.ORDER_SAGA

    class CancelReason(models.TextChoices):
        OUT_OF_STOCK = "out_of_stock"
        PAYMENT_DECLINED = "payment_declined"
        CUSTOMER_REQUEST = "customer_request"
        STAFF_REQUEST = "staff_request"

    # Chosen by the cart at checkout, so the customer knows it at once.
    id = models.UUIDField(primary_key=True, editable=False)
    checkout_id = models.UUIDField(unique=True, editable=False)
    user_id = models.IntegerField(db_index=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    cancel_reason = models.CharField(max_length=20, choices=CancelReason.choices, blank=True)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    # Where it goes, as the customer gave it at checkout (a copy: their address book may change).
    shipping_name = models.CharField(max_length=ADDRESS_NAME_LENGTH, blank=True)
    shipping_line1 = models.CharField(max_length=ADDRESS_LINE_LENGTH, blank=True)
    shipping_line2 = models.CharField(max_length=ADDRESS_LINE_LENGTH, blank=True)
    shipping_city = models.CharField(max_length=ADDRESS_CITY_LENGTH, blank=True)
    shipping_region = models.CharField(max_length=ADDRESS_REGION_LENGTH, blank=True)
    shipping_postal_code = models.CharField(max_length=ADDRESS_POSTAL_CODE_LENGTH, blank=True)
    shipping_country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    # An order placed before addresses had fields keeps its address here, as it was written, and no other field.
    shipping_text = models.TextField(blank=True)
    payment_method_id = models.UUIDField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        # Each step of the saga staff may take is its own permission, checked
        # alike by the admin's actions and the API (a refund is not a shipment).
        permissions = [
            ("ship_order", "Can mark orders shipped"),
            ("deliver_order", "Can mark orders delivered"),
            ("cancel_order", "Can cancel any order (refunding a paid one)"),
        ]

    def __str__(self) -> str:
        return f"Order {short(self.id)} ({self.status})"

    @property
    def shipping_address(self) -> contracts.ShippingAddress:
        # Checked by the contract when the order was placed: built again without a second check.
        if self.shipping_text:
            return contracts.LegacyAddress.model_construct(text=self.shipping_text)
        return contracts.Address.model_construct(**{
            field: getattr(self, f"shipping_{field}") for field in contracts.Address.model_fields
        })

    @staticmethod
    def shipping_fields(address: contracts.ShippingAddress) -> dict[str, str]:
        """The order's columns for ``address``."""
        if isinstance(address, contracts.LegacyAddress):
            return {"shipping_text": address.text}
        return {f"shipping_{field}": value for field, value in address.model_dump().items()}


VIEW_PERMISSION = "orders.view_order"
SHIP_PERMISSION = "orders.ship_order"
DELIVER_PERMISSION = "orders.deliver_order"
CANCEL_PERMISSION = "orders.cancel_order"


class OrderLine(models.Model):
    order = models.ForeignKey(Order, related_name="lines", on_delete=models.CASCADE)
    product_id = models.IntegerField()
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    quantity = models.PositiveIntegerField()
    # The product's image when it was bought, from cart.checked_out; empty: none.
    image_url = models.CharField(max_length=1000, blank=True)
    thumbnail_url = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"

    @property
    def line_total(self):
        return self.unit_price * self.quantity


class OrderEvent(models.Model):
    """One step of the order's timeline, as the customer and staff see it."""

    class Kind(models.TextChoices):
        PLACED = "placed"
        STOCK_RESERVED = "stock_reserved"
        STOCK_REJECTED = "stock_rejected"
        STOCK_RELEASED = "stock_released"
        PAYMENT_REQUESTED = "payment_requested"
        PAID = "paid"
        PAYMENT_FAILED = "payment_failed"
        CONFIRMED = "confirmed"
        CANCELLED = "cancelled"
        REFUND_REQUESTED = "refund_requested"
        REFUNDED = "refunded"
        CUSTOMER_NOTIFIED = "customer_notified"
        NOTIFICATION_FAILED = "notification_failed"
        SHIPPED = "shipped"
        DELIVERED = "delivered"

    order = models.ForeignKey(Order, related_name="events", on_delete=models.CASCADE)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    detail = models.CharField(max_length=300, blank=True)
    occurred_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["occurred_at", "id"]

    def __str__(self) -> str:
        return self.get_kind_display()


class OutboxMessage(bus.OutboxMessage):
    PUBLISHES = (
        contracts.OrderPlaced,
        contracts.RequestPayment,
        contracts.RequestRefund,
        contracts.OrderConfirmed,
        contracts.OrderCancelled,
        contracts.OrderShipped,
        contracts.OrderDelivered,
    )


class InboxMessage(bus.InboxMessage):
    pass
