
from django.db import models

from shopsite import contracts
from shopsite.bus import models as bus
from shopsite.ids import uuid7


class OutboxMessage(bus.OutboxMessage):
    PUBLISHES = (
        contracts.PaymentSucceeded,
        contracts.PaymentFailed,
        contracts.PaymentRefunded,
    )


class InboxMessage(bus.InboxMessage):
    pass


class PaymentMethod(models.Model):
    """A card as the gateway tokenized it: the number itself is never kept."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    user_id = models.PositiveBigIntegerField(db_index=True)
    token = models.CharField(max_length=255)
    brand = models.CharField(max_length=20)
    last4 = models.CharField(max_length=4)
    exp_month = models.PositiveSmallIntegerField()
    exp_year = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.brand} •••• {self.last4}"


class Charge(models.Model):
    class Status(models.TextChoices):
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    # One attempt per order, whatever is redelivered: the database says so too.
    order_id = models.UUIDField(unique=True)
    user_id = models.PositiveBigIntegerField(db_index=True)
    payment_method_id = models.UUIDField()
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, choices=Status.choices)
    failure_code = models.CharField(max_length=50, blank=True)
    gateway_reference = models.CharField(max_length=100, blank=True)
    refunded_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(refunded_amount__gte=0, refunded_amount__lte=models.F("amount")),
                name="payments_charge_refund_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} for order {self.order_id} ({self.status})"


class Refund(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    charge = models.ForeignKey(Charge, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    gateway_reference = models.CharField(max_length=100)
    reason = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Only full refunds exist, so a second one would pay back twice.
            models.UniqueConstraint(fields=["charge"], name="payments_one_refund_per_charge"),
        ]

    def __str__(self) -> str:
        return f"refund of {self.amount} on {self.charge_id}"
