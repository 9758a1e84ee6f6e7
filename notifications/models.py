
from django.db import models

from shopsite import contracts
from shopsite.bus import models as bus
from shopsite.ids import uuid7


class OutboxMessage(bus.OutboxMessage):
    PUBLISHES = (
        contracts.NotificationSent,
        contracts.NotificationFailed,
    )


class InboxMessage(bus.InboxMessage):
    pass


class Recipient(models.Model):
    """Where to write to a user, and whether to: a replica fed by the accounts service."""

    user_id = models.PositiveBigIntegerField(primary_key=True)
    email = models.EmailField()
    name = models.CharField(max_length=150)
    # A deactivated (or deleted) user is mailed nothing more.
    is_active = models.BooleanField(default=True)
    # Accounts' version of the user: an older message never overwrites a newer one (shopsite/replicas.py).
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["user_id"]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class Notification(models.Model):
    class Kind(models.TextChoices):
        ORDER_CONFIRMED = "order_confirmed"
        ORDER_CANCELLED = "order_cancelled"
        ORDER_SHIPPED = "order_shipped"
        ORDER_DELIVERED = "order_delivered"
        ACCOUNT_EXISTS = "account_exists"

    class Status(models.TextChoices):
        SENT = "sent"
        FAILED = "failed"
        # Not sent on purpose (the account is deactivated): recorded, with why in ``error``, so staff see it.
        SKIPPED = "skipped"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    user_id = models.PositiveBigIntegerField(db_index=True)
    order_id = models.UUIDField(null=True, blank=True)
    kind = models.CharField(max_length=50, choices=Kind.choices)
    to_email = models.EmailField()
    subject = models.CharField(max_length=255)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Redelivered order events must never mail the customer twice.
            models.UniqueConstraint(fields=["order_id", "kind"], name="notifications_once_per_order_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to_email} ({self.status})"
