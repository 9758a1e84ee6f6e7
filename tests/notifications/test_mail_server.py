"""The notifications consumer against the real RabbitMQ and a real SMTP server that is busy at first."""

import socket
import time
import uuid
from decimal import Decimal

import pika
import pytest
from aiosmtpd.controller import Controller

from notifications.models import Notification, OutboxMessage
from shopsite import contracts
from shopsite.bus import deployment
from shopsite.bus.connection import connect, declare_service
from shopsite.bus.consumer import Consumer
from shopsite.bus.deadletters import list_dead_letters
from shopsite.bus.envelope import Envelope

# Each test on a broker prefix of its own (bus_names), removed afterwards.
pytestmark = [pytest.mark.broker, pytest.mark.django_db(databases=["notifications"], transaction=True),
              pytest.mark.usefixtures("bus_names")]

SERVICE = "notifications"


class BusyAtFirst:
    """What the SMTP server does with each email: "421 try again later" the first ``busy`` times, then takes it."""

    def __init__(self, busy: int) -> None:
        self.busy, self.tries, self.taken = busy, 0, []

    async def handle_DATA(self, server, session, envelope):
        self.tries += 1
        if self.tries <= self.busy:
            return "421 Too busy, try again later"
        self.taken.append(envelope.content.decode())
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def mail_server(settings):
    servers = []

    def start(busy: int) -> BusyAtFirst:
        handler = BusyAtFirst(busy)
        controller = Controller(handler, hostname="127.0.0.1", port=free_port())
        controller.start()
        servers.append(controller)
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", controller.port, 5
        return handler

    yield start
    for controller in servers:
        controller.stop()


def publish(consumer: Consumer, *messages) -> None:
    connection = connect()
    channel = connection.channel()
    declare_service(channel, SERVICE, consumer.names, consumer.handlers)
    channel.confirm_delivery()
    for message in messages:
        envelope = Envelope.wrap(message, producer="test", correlation_id=uuid.uuid4())
        channel.basic_publish(consumer.names.exchange, envelope.type, envelope.to_json().encode(),
                              pika.BasicProperties(message_id=str(envelope.id), type=envelope.type,
                                                   headers=deployment.mark()))
    connection.close()


def run_until(consumer: Consumer, done, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    consumer.run(until=lambda: done() or time.monotonic() > deadline)


def order_confirmed(user_id: int) -> contracts.OrderConfirmed:
    return contracts.OrderConfirmed(
        order_id=uuid.uuid4(), user_id=user_id, total=Decimal("9.50"), occurred_at="2026-01-01T00:00:00Z",
        lines=[contracts.CheckoutLine(product_id=1, sku="MUG", name="Mug", unit_price=Decimal("9.50"), quantity=1)],
        shipping_address=None,
    )


def registered(user_id: int) -> contracts.UserRegistered:
    return contracts.UserRegistered(user_id=user_id, email=f"u{user_id}@example.com", name="Ann", is_staff=False,
                                    role="customer")


def test_an_email_the_server_was_too_busy_for_is_sent_on_the_retry_once(mail_server):
    server = mail_server(busy=1)
    consumer = Consumer(SERVICE)
    publish(consumer, registered(7), order_confirmed(7))

    run_until(consumer, lambda: Notification.objects.filter(status="sent").exists())

    assert server.tries == 2 and len(server.taken) == 1
    assert "To: u7@example.com" in server.taken[0]
    [notification] = Notification.objects.all()
    assert notification.status == "sent"
    assert OutboxMessage.objects.filter(type="notification.sent").count() == 1
    assert not OutboxMessage.objects.filter(type="notification.failed").exists()
    assert list_dead_letters(SERVICE) == []


def test_a_server_busy_past_every_retry_parks_the_message_for_replay(mail_server, settings):
    server = mail_server(busy=100)
    consumer = Consumer(SERVICE)
    publish(consumer, registered(8), order_confirmed(8))

    run_until(consumer, lambda: len(list_dead_letters(SERVICE)) == 1)

    [parked] = list_dead_letters(SERVICE)
    assert parked.type == "order.confirmed" and "421" in parked.error
    assert server.tries == len(settings.BUS["RETRY_DELAYS"]) + 1 and server.taken == []
    assert not Notification.objects.exists()  # nothing told: not sent, and not given up on either
