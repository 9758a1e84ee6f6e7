"""Writes of the notifications service: each one transaction, recording what was told."""

from __future__ import annotations

import logging
import smtplib
import uuid
from decimal import Decimal
from typing import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from shopsite import contracts
from shopsite.bus import statements
from shopsite.replicas import replica_upsert
from shopsite.transactions import message_transaction

from .emails import account_exists_email, order_email
from .models import Notification, OutboxMessage, Recipient

log = logging.getLogger(__name__)
DB = "notifications"


class RecipientUnknown(Exception):
    """The user's address has not arrived from accounts yet: retry later."""


class MailServerUnavailable(Exception):
    """The mail server could not take the email now: the bus retries the message, then parks it for replay."""


def _refused_for_good(error: OSError) -> bool:
    """Whether the mail server refused the email in a way it will repeat.

    A 5xx answer is final, for the message or for every recipient: the email
    is recorded as failed and ``notification.failed`` says so. Anything else
    (no connection, a timeout, a 4xx "try again later", a mailbox greylisted
    or busy) may pass on a retry, and giving up on the first one would lose
    the email.
    """
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return bool(codes) and all(_permanent(code) for code in codes)
    return _permanent(getattr(error, "smtp_code", None))


def _permanent(code: object) -> bool:
    """An SMTP reply code of the 5xx kind: the server will answer the same way every time."""
    return isinstance(code, int) and 500 <= code < 600


#: Why a deactivated user's email was not sent: the notification's error, and the ``notification.failed`` that
#: puts it on the order's timeline.
ACCOUNT_DEACTIVATED = "Not sent: the customer's account is deactivated."


def recipient_apply(*, user_id: int, email: str, name: str, is_active: bool = True, version: int = 0) -> Recipient:
    """Store what accounts said about the user, unless we already know a newer version."""
    with message_transaction(DB):
        replica_upsert(Recipient, using=DB, key={"user_id": user_id}, version=version,
                       values={"email": email, "name": name, "is_active": is_active})
        return Recipient.objects.get(pk=user_id)


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
    shipping_address: contracts.ShippingAddress | None = None,
) -> Notification | None:
    """Email the customer about their order, once per (order, kind)."""
    with message_transaction(DB):
        if statements.select_one(Notification, DB, order_id=order_id, kind=kind) is not None:
            return None
        recipient = _recipient(user_id)
        email = order_email(
            kind=kind, order_id=order_id, name=recipient.name, total=total, currency=currency,
            reason=reason, refund_due=refund_due, lines=lines or (), shipping_address=shipping_address,
        )
        return _deliver(recipient, Notification(
            user_id=user_id, order_id=order_id, kind=kind, to_email=recipient.email,
            subject=email.subject, body=email.body,
        ), html=email.html)


def notification_send_account_exists(*, user_id: int) -> Notification:
    """Tell the owner of an address that someone tried to register it again.

    The registration itself answers the same whether the address was taken or
    not, so that it tells no one who has an account; only the owner learns, here.
    """
    with message_transaction(DB):
        recipient = _recipient(user_id)
        email = account_exists_email(name=recipient.name)
        return _deliver(recipient, Notification(
            user_id=user_id, order_id=None, kind=Notification.Kind.ACCOUNT_EXISTS, to_email=recipient.email,
            subject=email.subject, body=email.body,
        ))


def _recipient(user_id: int) -> Recipient:
    recipient = statements.select_one(Recipient, DB, pk=user_id)
    if recipient is None:
        raise RecipientUnknown(f"no address yet for user {user_id}")
    return recipient


def _deliver(recipient: Recipient, notification: Notification, *, html: str = "") -> Notification:
    if not recipient.is_active:
        # Recorded like a refused email, so the order's timeline says the customer was not told, and why.
        return _notification_failed(notification, error=ACCOUNT_DEACTIVATED, status=Notification.Status.SKIPPED)
    try:
        send_mail(notification.subject, notification.body, settings.DEFAULT_FROM_EMAIL, [notification.to_email],
                  html_message=html or None)
    except OSError as exc:  # smtplib's errors are OSErrors too
        error = f"{type(exc).__name__}: {exc}"
        if not _refused_for_good(exc):
            raise MailServerUnavailable(error) from exc
        return _notification_failed(notification, error=error)
    return _notification_sent(notification)


def _notification_sent(notification: Notification) -> Notification:
    notification.status = Notification.Status.SENT
    notification.sent_at = timezone.now()
    statements.create_later(DB, notification)  # with the outbox's row
    log.info("sent %s email (order %s) to user %s", notification.kind, notification.order_id, notification.user_id)
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


def _notification_failed(
    notification: Notification, *, error: str, status: str = Notification.Status.FAILED
) -> Notification:
    notification.status = status
    notification.error = error
    statements.create_later(DB, notification)  # with the outbox's row
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
