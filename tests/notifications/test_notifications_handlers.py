import smtplib
import uuid
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from django.core.mail.backends.base import BaseEmailBackend

from notifications import handlers
from notifications.models import Notification, OutboxMessage, Recipient
from notifications.services import MailServerUnavailable, RecipientUnknown
from shopsite import contracts
from shopsite.bus.envelope import Envelope
from shopsite.testing import an_address, consumer_transaction, recorded

pytestmark = pytest.mark.django_db(databases=["notifications"])

NOW = datetime(2025, 1, 1, tzinfo=timezone.utc)
ORDER_ID = uuid.UUID("1a2b3c4d-0000-4000-8000-000000000000")


@pytest.fixture
def ann():
    handlers.user_changed(
        contracts.UserRegistered(user_id=7, email="ann@example.com", name="Ann", is_staff=False, role="customer")
    )


def confirmed(order_id=ORDER_ID, user_id=7):
    return contracts.OrderConfirmed(
        order_id=order_id, user_id=user_id, total=Decimal("23.00"), occurred_at=NOW,
        lines=[
            contracts.CheckoutLine(product_id=1, sku="MUG", name="Blue mug", unit_price=Decimal("7.50"), quantity=2),
            contracts.CheckoutLine(product_id=2, sku="TEA", name="Green tea", unit_price=Decimal("8.00"), quantity=1),
        ],
        shipping_address=an_address(name="Ann Example", line2="Flat 2"),
    )


def test_an_order_confirmation_is_mailed_once_however_often_it_arrives(ann, mailoutbox):
    handlers.order_confirmed(confirmed())
    handlers.order_confirmed(confirmed())

    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["ann@example.com"]
    assert mail.subject == "Your order 1a2b3c4d is confirmed"
    assert "2 x Blue mug at 7.50 = 15.00 USD" in mail.body
    assert "Total: 23.00 USD" in mail.body
    assert "We will ship it to:\n  Ann Example\n  1 Main St\n  Flat 2\n  Springfield, IL 62701\n  United States\n" in mail.body
    notification = Notification.objects.get()
    assert (notification.status, notification.kind, notification.to_email) == ("sent", "order_confirmed",
                                                                               "ann@example.com")
    assert recorded(OutboxMessage, "notification.sent") == [
        {"notification_id": str(notification.id), "user_id": 7, "order_id": str(ORDER_ID), "kind": "order_confirmed",
         "subject": mail.subject, "body": mail.body, "sent_at": notification.sent_at.isoformat().replace("+00:00", "Z")}
    ]


def test_each_kind_of_news_about_an_order_is_sent(ann, mailoutbox):
    handlers.order_confirmed(confirmed())
    handlers.order_shipped(contracts.OrderShipped(order_id=ORDER_ID, user_id=7, total=Decimal("23.00"),
                                                  occurred_at=NOW, shipping_address=an_address(country="DE", region="")))
    handlers.order_delivered(contracts.OrderDelivered(order_id=ORDER_ID, user_id=7, total=Decimal("23.00"),
                                                      occurred_at=NOW))

    assert [m.subject for m in mailoutbox] == [
        "Your order 1a2b3c4d is confirmed", "Your order 1a2b3c4d has shipped", "Your order 1a2b3c4d was delivered",
    ]
    assert "It goes to:\n  Casey Customer\n  1 Main St\n  62701 Springfield\n  Germany\n" in mailoutbox[1].body
    assert len(recorded(OutboxMessage, "notification.sent")) == 3


def test_a_cancellation_says_why_and_whether_money_comes_back(ann, mailoutbox):
    handlers.order_cancelled(contracts.OrderCancelled(order_id=ORDER_ID, user_id=7, total=Decimal("23.00"),
                                                      occurred_at=NOW, reason="customer_request", refund_due=True))

    (mail,) = mailoutbox
    assert mail.subject == "Your order 1a2b3c4d was cancelled"
    assert "because you asked us to cancel it" in mail.body
    assert "refunded" in mail.body


def test_an_unknown_recipient_raises_so_the_message_is_retried(mailoutbox):
    with pytest.raises(RecipientUnknown), consumer_transaction("notifications"):
        handlers.order_confirmed(confirmed(user_id=8))

    assert mailoutbox == []
    assert Notification.objects.count() == 0


def test_mail_goes_to_the_latest_address(ann, mailoutbox):
    handlers.user_changed(contracts.UserUpdated(user_id=7, email="ann@new.example", name="Ann B", is_staff=False,
                                                role="customer"))

    handlers.order_confirmed(confirmed())

    assert Recipient.objects.get().name == "Ann B"
    assert mailoutbox[0].to == ["ann@new.example"]
    assert "Hello Ann B," in mailoutbox[0].body


def user_updated(*, version: int | None = None, **changes) -> contracts.UserUpdated:
    fields = dict(user_id=7, email="ann@example.com", name="Ann", is_staff=False, role="customer")
    return contracts.UserUpdated(**{**fields, **changes}, version=version)


def test_out_of_order_user_messages_leave_the_newest_address(mailoutbox):
    deliveries = [
        user_updated(email="ann@third.example", name="Ann C", version=3),
        contracts.UserRegistered(user_id=7, email="ann@example.com", name="Ann", is_staff=False, role="customer",
                                 version=1),  # late
        user_updated(email="ann@second.example", version=2),  # late
        user_updated(email="ann@third.example", name="Ann C", version=3),  # repeated
        user_updated(email="ann@old.example"),  # from before versions: older than any versioned message
    ]
    for message in deliveries:
        handlers.HANDLERS[type(message)](message)

    handlers.order_confirmed(confirmed())

    recipient = Recipient.objects.get()
    assert (recipient.email, recipient.name, recipient.version) == ("ann@third.example", "Ann C", 3)
    assert mailoutbox[0].to == ["ann@third.example"]


def test_a_deactivated_user_is_mailed_nothing_and_the_order_hears_why(ann, mailoutbox):
    handlers.user_changed(user_updated(is_active=False, version=2))
    handlers.user_changed(user_updated(is_active=True, version=1))  # late: does not bring the user back

    handlers.order_confirmed(confirmed())
    handlers.order_confirmed(confirmed())  # repeated
    handlers.registration_repeated(contracts.UserRegistrationRepeated(user_id=7))

    assert mailoutbox == []
    assert [(n.kind, n.status, n.error) for n in Notification.objects.order_by("kind")] == [
        ("account_exists", "skipped", "Not sent: the customer's account is deactivated."),
        ("order_confirmed", "skipped", "Not sent: the customer's account is deactivated."),
    ]
    assert [(m["order_id"], m["kind"], m["error"]) for m in recorded(OutboxMessage, "notification.failed")] == [
        (str(ORDER_ID), "order_confirmed", "Not sent: the customer's account is deactivated."),
        (None, "account_exists", "Not sent: the customer's account is deactivated."),
    ]
    assert recorded(OutboxMessage, "notification.sent") == []


def test_a_reactivated_user_is_mailed_again(ann, mailoutbox):
    handlers.user_changed(user_updated(is_active=False, version=2))
    handlers.user_changed(user_updated(is_active=True, version=3))

    handlers.order_confirmed(confirmed())

    assert [m.to for m in mailoutbox] == [["ann@example.com"]]


class RefusingMailServer(BaseEmailBackend):
    """Raises ``error`` on every send, as Django's SMTP backend passes smtplib's errors on."""

    error: OSError = OSError()

    def send_messages(self, email_messages):
        raise type(self).error


@pytest.fixture
def mail_server(settings):
    def refusing(error: OSError) -> None:
        RefusingMailServer.error = error
        settings.EMAIL_BACKEND = f"{__name__}.RefusingMailServer"

    return refusing


@pytest.mark.parametrize("error", [
    smtplib.SMTPRecipientsRefused({"ann@example.com": (550, b"No such user")}),
    smtplib.SMTPDataError(554, b"Message rejected"),
    smtplib.SMTPSenderRefused(553, b"Sender not allowed", "shop@localhost"),
], ids=["recipient-refused", "554-rejected", "553-sender"])
def test_a_refusal_the_mail_server_will_repeat_is_recorded_and_announced(ann, mail_server, error):
    mail_server(error)

    handlers.order_confirmed(confirmed())

    notification = Notification.objects.get()
    assert (notification.status, notification.sent_at) == ("failed", None)
    assert type(error).__name__ in notification.error
    assert recorded(OutboxMessage, "notification.failed") == [
        {"notification_id": str(notification.id), "user_id": 7, "order_id": str(ORDER_ID), "kind": "order_confirmed",
         "error": notification.error}
    ]
    assert recorded(OutboxMessage, "notification.sent") == []


@pytest.mark.parametrize("error", [
    smtplib.SMTPServerDisconnected("Connection unexpectedly closed"),
    smtplib.SMTPConnectError(421, b"Too busy, try later"),
    smtplib.SMTPDataError(451, b"Local error, try again"),
    smtplib.SMTPRecipientsRefused({"ann@example.com": (450, b"Mailbox busy, greylisted")}),
    ConnectionRefusedError(111, "Connection refused"),
    TimeoutError("timed out"),
], ids=["disconnected", "421-busy", "451-try-again", "450-recipient-greylisted", "refused", "timeout"])
def test_a_mail_server_that_may_take_it_later_makes_the_bus_retry(ann, mail_server, error):
    mail_server(error)

    with pytest.raises(MailServerUnavailable, match=type(error).__name__), consumer_transaction("notifications"):
        handlers.order_confirmed(confirmed())

    # Nothing is told: the consumer rolls back and the message comes again after a delay.
    assert Notification.objects.count() == 0
    assert recorded(OutboxMessage) == []


def test_a_repeated_registration_emails_the_owner_of_the_address(ann, mailoutbox):
    handlers.registration_repeated(contracts.UserRegistrationRepeated(user_id=7))

    [mail] = mailoutbox
    assert mail.to == ["ann@example.com"]
    assert mail.subject == "You already have a Shop account"
    assert "Hello Ann" in mail.body and "nothing was changed" in mail.body
    [sent] = recorded(OutboxMessage, "notification.sent")
    assert (sent["kind"], sent["order_id"]) == ("account_exists", None)


def test_a_confirmation_of_version_1_is_mailed_without_an_address(ann, mailoutbox):
    payload = confirmed().model_dump(mode="json", exclude={"shipping_address"})
    envelope = Envelope(type="order.confirmed", version=1, producer="orders", payload=payload,
                        correlation_id=uuid.uuid4())

    handlers.order_confirmed(Envelope.from_json(envelope.to_json()).message())

    [mail] = mailoutbox
    assert "Total: 23.00 USD" in mail.body and "ship it to" not in mail.body


def test_an_address_from_before_addresses_had_fields_is_mailed_as_written(ann, mailoutbox):
    handlers.order_shipped(contracts.OrderShipped(order_id=ORDER_ID, user_id=7, total=Decimal("23.00"),
                                                  occurred_at=NOW,
                                                  shipping_address=contracts.LegacyAddress(text="Ann\n1 Old Rd\n")))

    assert "It goes to:\n  Ann\n  1 Old Rd\n\nThe Shop team" in mailoutbox[0].body
