"""Writes of the notifications service: each one transaction, recording what was told."""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal
from typing import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from shopsite import contracts

from .emails import order_email
from .models import Notification, OutboxMessage, Recipient

log = logging.getLogger(__name__)
DB = "notifications"


class RecipientUnknown(Exception):
    """The user's address has not arrived from accounts yet: retry later."""


def recipient_apply(*, user_id: int, email: str, name: str) -> Recipient:
    with transaction.atomic(using=DB):
        recipient, _ = Recipient.objects.update_or_create(user_id=user_id, defaults={"email": email, "name": name})
    return recipient


def notification_send_for_order(
    *,
    kind: str,
    order_id: uuid.UUID,
    user_id: int,
    total: Decimal,
    currency: str,
    reason: str | None = None,
    refund_due: bool = False,
    lines: Iterable[contracts.CheckoutLine] | None = None,
) -> Notification | None:
    """Email the customer about their order, once per (order, kind)."""
    with transaction.atomic(using=DB):
        if Notification.objects.filter(order_id=order_id, kind=kind).exists():
            return None
        recipient = Recipient.objects.filter(user_id=user_id).first()
        if recipient is None:
            raise RecipientUnknown(f"no address yet for user {user_id}")
        email = order_email(
            kind=kind, order_id=order_id, name=recipient.name, total=total, currency=currency,
            reason=reason, refund_due=refund_due, lines=lines or (),
        )
        notification = Notification(
            user_id=user_id, order_id=order_id, kind=kind, to_email=recipient.email,
            subject=email.subject, body=email.body,
        )
        try:
            send_mail(email.subject, email.body, settings.DEFAULT_FROM_EMAIL, [recipient.email])
        except OSError as exc:  # smtplib's errors are OSErrors too
            return _notification_failed(notification, error=f"{type(exc).__name__}: {exc}")
        return _notification_sent(notification)


def _notification_sent(notification: Notification) -> Notification:
    notification.status = Notification.Status.SENT
    notification.sent_at = timezone.now()
    notification.save(force_insert=True)
    log.info("sent %s email for order %s to user %s", notification.kind, notification.order_id, notification.user_id)
    OutboxMessage.record(
        contracts.NotificationSent(
            notification_id=notification.id,
            user_id=notification.user_id,
            order_id=notification.order_id,
            kind=notification.kind,
            subject=notification.subject,
            body=notification.body,
            sent_at=notification.sent_at,
        )
    )
    return notification


def _notification_failed(notification: Notification, *, error: str) -> Notification:
    notification.status = Notification.Status.FAILED
    notification.error = error
    notification.save(force_insert=True)
    OutboxMessage.record(
        contracts.NotificationFailed(
            notification_id=notification.id,
            user_id=notification.user_id,
            order_id=notification.order_id,
            kind=notification.kind,
            error=error,
        )
    )
    return notification
