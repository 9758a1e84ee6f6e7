"""The outbox and inbox every service keeps in its own database.

Each service declares concrete ``OutboxMessage`` and ``InboxMessage`` models
from these bases, so the tables live beside the data they guard and are
written in the same transaction.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import connections, models, router
from django.utils import timezone

from shopsite import tracing
from shopsite.contracts import Message

from . import context, statements
from .envelope import Envelope
from .handlers import MAX_KEY_LENGTH


class UndeclaredMessage(TypeError):
    """A service tried to record a message type its outbox does not declare in ``PUBLISHES``."""


class OutboxMessage(models.Model):
    """A message recorded with a state change, waiting to be published."""

    id = models.UUIDField(primary_key=True, editable=False)
    type = models.CharField(max_length=100)
    body = models.TextField(help_text="The whole envelope, as JSON.")
    correlation_id = models.UUIDField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    claimed_by = models.UUIDField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    # Where the message was recorded (W3C trace context), sent with it so that its consumer continues the
    # trace however late the row is published (shopsite/bus/spans.py). Null when tracing is off.
    traceparent = models.CharField(max_length=55, null=True, blank=True)

    #: The columns ``record`` writes; the others keep their defaults.
    RECORDED = ("id", "type", "body", "correlation_id", "created_at", "attempts", "last_error", "traceparent")
    #: The message classes this service sends. Each service's outbox declares them, and ``record`` refuses any
    #: other, so the list the AsyncAPI catalogue takes its senders from cannot fall behind the code.
    PUBLISHES: tuple[type[Message], ...] = ()

    class Meta:
        abstract = True
        ordering = ["created_at"]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(sent_at__isnull=True),
                name="%(app_label)s_outbox_unsent",
            )
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"

    @classmethod
    def record(cls, message: Message, *, correlation_id: uuid.UUID | None = None) -> Envelope:
        """Store ``message`` for publishing; call inside the business transaction."""
        if type(message) not in cls.PUBLISHES:
            raise UndeclaredMessage(
                f"{cls._meta.app_label} does not publish {message.TYPE} ({type(message).__name__}): "
                f"add it to {cls.__module__}.{cls.__name__}.PUBLISHES if it should"
            )
        db = router.db_for_write(cls)
        if not connections[db].in_atomic_block:
            raise RuntimeError("Outbox messages are recorded inside the transaction that changes the state.")
        correlation_id, causation_id = context.ids_for_new_message(correlation_id)
        envelope = Envelope.wrap(
            message, producer=cls._meta.app_label, correlation_id=correlation_id, causation_id=causation_id,
            version=settings.BUS["SEND_VERSIONS"].get(message.TYPE),
        )
        row = cls(id=envelope.id, type=envelope.type, body=envelope.to_json(), correlation_id=correlation_id,
                  created_at=timezone.now(), traceparent=tracing.traceparent())
        # What ``objects.create`` would write, through a statement built once (statements.py).
        values = {field: getattr(row, field) for field in cls.RECORDED}
        # Nothing in the shop reads its own outbox before the commit: a consumer writes the row with the
        # transaction's other held rows (statements.inserts_held).
        statements.insert_later(cls, db, values)
        row._state.adding, row._state.db = False, db
        from .publisher import publish_after_commit  # the publisher needs these models: import late

        publish_after_commit(cls, row, using=db)
        return envelope


class InboxMessage(models.Model):
    """A message a handler has already applied: redeliveries are skipped.

    ``handler`` is the handler's key (``handlers.Handler``), never its
    function's name, so a renamed handler still skips what it applied.
    """

    message_id = models.UUIDField()
    handler = models.CharField(max_length=MAX_KEY_LENGTH)
    type = models.CharField(max_length=100)
    correlation_id = models.UUIDField(db_index=True)
    processed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        constraints = [
            models.UniqueConstraint(fields=["message_id", "handler"], name="%(app_label)s_inbox_once"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.message_id} by {self.handler}"
