from django.db import models
from django.db.models import Q

from shopsite import contracts
from shopsite.bus import models as bus


class ProductReplica(models.Model):
    """What the catalog last told us about a product (name, price, availability, image)."""

    product_id = models.IntegerField(primary_key=True)
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    is_active = models.BooleanField(default=True)
    available = models.PositiveIntegerField(default=0)
    # The catalog gives a product one version per change, to its details or to
    # its stock, and stock.changed carries only the stock: so the details and
    # the availability each keep the version they were last written with, and a
    # late product.updated still brings its new price after a newer stock change.
    version = models.PositiveIntegerField(default=0)
    stock_version = models.PositiveIntegerField(default=0)
    # Where the catalog keeps its image and thumbnail (a path on the shop or a
    # storage URL); empty: none, the pages show the lettered tile.
    image_url = models.CharField(max_length=1000, blank=True)
    thumbnail_url = models.CharField(max_length=1000, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "product_id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"

    @property
    def sellable(self) -> int:
        return self.available if self.is_active else 0


class Cart(models.Model):
    user_id = models.IntegerField(unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return f"cart of user {self.user_id}"


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    product_id = models.IntegerField()
    quantity = models.PositiveIntegerField()
    # Set when the product's price or availability changed since the customer
    # last touched this line; cleared when they change it.
    notice = models.CharField(max_length=300, blank=True)
    added_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "product_id"], name="cart_line_once_per_product"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="cart_line_quantity_positive"),
        ]
        indexes = [
            # Every price or stock change of a product leaves a notice on the lines holding it
            # (services._notify_lines, once per product of every checkout): without it, a scan of every
            # customer's cart lines.
            models.Index(fields=["product_id"], name="cart_line_product"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product_id}"


class Checkout(models.Model):
    """One checkout of a cart: a retried request with the same key gets this one back."""

    id = models.UUIDField(primary_key=True, editable=False)
    user_id = models.IntegerField(db_index=True)
    idempotency_key = models.CharField(max_length=100)
    order_id = models.UUIDField(unique=True)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)
    # When order.placed came back for it: the orders service has the order.
    placed_at = models.DateTimeField(null=True, blank=True)
    # When its lines went back into the cart because the order was cancelled
    # for stock or payment; set once, by the update that decides to restore.
    restored_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user_id", "idempotency_key"], name="cart_checkout_once_per_key"),
        ]

    def __str__(self) -> str:
        return f"checkout {self.id} (order {self.order_id})"


class CheckoutLine(models.Model):
    """A line as it was checked out (and sent in ``cart.checked_out``): the cart emptied into these.

    They are what a cancelled order gives back to the cart.
    """

    checkout = models.ForeignKey(Checkout, on_delete=models.CASCADE, related_name="lines")
    product_id = models.IntegerField()
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["checkout", "id"]
        constraints = [
            models.UniqueConstraint(fields=["checkout", "product_id"], name="cart_checkout_line_once_per_product"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product_id}"


class OutboxMessage(bus.OutboxMessage):
    PUBLISHES = (
        contracts.CartCheckedOut,
    )


class InboxMessage(bus.InboxMessage):
    pass
