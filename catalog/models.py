from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from shopsite import contracts
from shopsite.bus import models as bus
from shopsite.limits import MAX_PRICE, MAX_STOCK
from shopsite.validators import no_control_characters

#: Said by the admin's form and the API alike when a SKU is taken.
SKU_TAKEN = "A product with this SKU already exists (SKUs are compared without regard to case)."


class Product(models.Model):
    """A product and its stock.

    ``stock_on_hand`` is what can still be sold; a reservation moves units to
    ``stock_reserved``, a paid order moves them on to ``stock_sold``. Only a
    staff adjustment changes the sum of the three.
    """

    sku = models.CharField(max_length=64, unique=True, validators=[no_control_characters])
    name = models.CharField(max_length=200, validators=[no_control_characters])
    description = models.TextField(blank=True)
    category = models.CharField(max_length=100, blank=True, db_index=True, validators=[no_control_characters])
    price = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(0), MaxValueValidator(MAX_PRICE)]
    )
    is_active = models.BooleanField(default=True)
    # Bounded like the API's: a form past it would fail inside the service, after validation.
    stock_on_hand = models.PositiveIntegerField(default=0, validators=[MaxValueValidator(MAX_STOCK)])
    stock_reserved = models.PositiveIntegerField(default=0)
    stock_sold = models.PositiveIntegerField(default=0)
    # Bumped on every change so replicas can ignore messages that arrive late.
    version = models.PositiveIntegerField(default=1)
    # Set only by the services, from an upload that catalog/images.py checked and
    # re-encoded under a random name; empty: the pages show the lettered tile.
    image = models.ImageField(upload_to="catalog/products/", max_length=200, blank=True, editable=False)
    image_thumbnail = models.ImageField(upload_to="catalog/products/", max_length=200, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="catalog_product_price_not_negative"),
            models.CheckConstraint(condition=Q(price__lte=MAX_PRICE), name="catalog_product_price_at_most_max"),
            # "mug-1" and "MUG-1" are one product to a person reading a label or an order.
            models.UniqueConstraint(Lower("sku"), name="catalog_product_sku_unique_ignoring_case",
                                    violation_error_message=SKU_TAKEN),
        ]
        # Stock is money: changing a product's text or price does not let one add units.
        permissions = [("adjust_stock", "Can add or remove stock of a product")]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"

    @property
    def available(self) -> int:
        """What a customer may buy now."""
        return self.stock_on_hand if self.is_active else 0

    @property
    def image_url(self) -> str:
        return self.image.url if self.image else ""

    @property
    def thumbnail_url(self) -> str:
        return self.image_thumbnail.url if self.image_thumbnail else ""


ADD_PERMISSION = "catalog.add_product"
CHANGE_PERMISSION = "catalog.change_product"
STOCK_PERMISSION = "catalog.adjust_stock"


class Reservation(models.Model):
    class Status(models.TextChoices):
        RESERVED = "reserved"
        COMMITTED = "committed"
        RELEASED = "released"

    order_id = models.UUIDField(db_index=True)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="reservations")
    quantity = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RESERVED)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "product_id"]
        constraints = [
            models.UniqueConstraint(fields=["order_id", "product"], name="catalog_reservation_once_per_product"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="catalog_reservation_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product_id} for {self.order_id} ({self.status})"


class ReservationOutcome(models.Model):
    """What catalog decided for an order, so that a repeated or late message decides nothing again.

    It also remembers an order cancelled before its ``order.placed`` got here
    (competing consumers and retries reorder messages): a reservation made
    after that would never be released.
    """

    class Outcome(models.TextChoices):
        RESERVED = "reserved"
        REJECTED = "rejected"
        CANCELLED_BEFORE_PLACED = "cancelled", "cancelled before placed"

    order_id = models.UUIDField(primary_key=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-decided_at"]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.outcome}"


class UserRole(models.Model):
    """Replica of the accounts service's users: who they are and what role accounts gave them.

    It no longer authorizes anything: the staff API checks the signed-in
    user's Django permissions, like the admin, so that the two agree (and both
    refuse a deactivated user). The replica keeps the catalog's record of the
    users it has heard of (read-only in the admin), fed by accounts' user
    messages; anything that reads rights from it must require ``is_active``,
    which a late message can never turn back on (see ``version``).
    """

    user_id = models.IntegerField(primary_key=True)
    email = models.EmailField(max_length=254)
    is_staff = models.BooleanField(default=False)
    role = models.CharField(max_length=20, default="customer")
    is_active = models.BooleanField(default=True)
    # Accounts' version of the user: an older message never overwrites a newer one (shopsite/replicas.py).
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["user_id"]

    def __str__(self) -> str:
        return f"{self.email} ({self.role})"


class OutboxMessage(bus.OutboxMessage):
    PUBLISHES = (
        contracts.ProductPublished,
        contracts.ProductUpdated,
        contracts.StockChanged,
        contracts.StockReserved,
        contracts.StockRejected,
        contracts.StockReleased,
    )


class InboxMessage(bus.InboxMessage):
    pass
