"""The bus console against the real RabbitMQ: dead letters seen live, replayed by a POST."""

import io
import json
import threading
import time
import uuid

import pika
import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse

from orders.models import OutboxMessage
from shopsite import contracts
from shopsite.bus import deployment
from shopsite.bus.connection import connect, declare_service
from shopsite.bus.consumer import Consumer
from shopsite.bus.handlers import Handler
from shopsite.bus.deadletters import list_dead_letters, replay_dead_letters

pytestmark = [pytest.mark.broker, pytest.mark.django_db(databases="__all__", transaction=True)]

SERVICE = "orders"


def park_bad_messages(names, *bodies: bytes) -> list[str]:
    """Publish ``bodies`` to the orders service and let its real consumer dead-letter them; their ids."""
    nothing = Handler("orders.test-nothing", lambda message: None)
    consumer = Consumer(SERVICE, handlers={contracts.StockReleased: nothing})
    connection = connect()
    channel = connection.channel()
    declare_service(channel, SERVICE, names, consumer.handlers)
    channel.confirm_delivery()
    ids = [str(uuid.uuid4()) for _ in bodies]
    for message_id, body in zip(ids, bodies):
        channel.basic_publish(names.exchange, "stock.released", body,
                              pika.BasicProperties(message_id=message_id, headers=deployment.mark()))
    connection.close()
    deadline = time.monotonic() + 10
    consumer.run(until=lambda: len(list_dead_letters(SERVICE)) == len(bodies) or time.monotonic() > deadline)
    assert len(list_dead_letters(SERVICE)) == len(bodies)
    return ids


def waiting_in_queue(names) -> list[str]:
    connection = connect()
    channel = connection.channel()
    ids = []
    while True:
        method, properties, _ = channel.basic_get(names.queue(SERVICE), auto_ack=False)
        if method is None:
            break
        ids.append(properties.message_id)
    connection.close()
    return ids


@pytest.fixture
def csrf_client(superuser) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(superuser)
    return client


def replay(client: Client, page: str, **fields):
    """Submit the replay form as a browser would: with the page's CSRF token."""
    client.get(page)
    token = client.cookies["csrftoken"].value
    return client.post(reverse("admin:bus-replay", args=[SERVICE]),
                       {"csrfmiddlewaretoken": token, "next": page, **fields})


def test_the_console_shows_a_dead_letter_with_its_error_and_replays_it(csrf_client, bus_names):
    [bad] = park_bad_messages(bus_names, b"{oops")
    page = reverse("admin:bus-service", args=[SERVICE])

    console = csrf_client.get(reverse("admin:bus-console")).content.decode()
    detail = csrf_client.get(page).content.decode()
    response = replay(csrf_client, page, message_id=bad)

    for html in (console, detail):
        assert bad in html and "malformed JSON" in html
    assert response.status_code == 302 and response["Location"] == page
    assert list_dead_letters(SERVICE) == []
    assert waiting_in_queue(bus_names) == [bad]


def test_replay_all_sends_every_dead_letter_of_the_service_back(csrf_client, bus_names):
    ids = park_bad_messages(bus_names, b"{oops", b'{"id": 1}')

    replay(csrf_client, reverse("admin:bus-console"))

    assert list_dead_letters(SERVICE) == []
    assert sorted(waiting_in_queue(bus_names)) == sorted(ids)


def test_a_message_that_fails_again_while_replaying_is_replayed_once(bus_names):
    # A service queue that hands every message straight back to the dead letters,
    # as a consumer does with a message it can never handle.
    connection = connect()
    channel = connection.channel()
    dead = bus_names.dead_letter_queue(SERVICE)
    channel.queue_declare(dead, durable=True)
    channel.queue_declare(bus_names.queue(SERVICE), durable=True, arguments={
        "x-message-ttl": 0, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": dead})
    channel.basic_publish("", dead, b"{oops", pika.BasicProperties(message_id="poison"))
    connection.close()
    outcome = {}

    def replay_it():
        outcome["replayed"] = replay_dead_letters(SERVICE)

    worker = threading.Thread(target=replay_it, daemon=True)
    worker.start()
    worker.join(timeout=15)

    assert not worker.is_alive(), "the replay kept replaying what it had just replayed"
    assert outcome["replayed"] == 1


def test_replay_needs_the_csrf_token_and_a_post(csrf_client, bus_names):
    [bad] = park_bad_messages(bus_names, b"{oops")
    url = reverse("admin:bus-replay", args=[SERVICE])

    forged = csrf_client.post(url, {"message_id": bad})
    fetched = csrf_client.get(url)

    assert (forged.status_code, fetched.status_code) == (403, 405)
    assert [letter.message_id for letter in list_dead_letters(SERVICE)] == [bad]


def test_the_console_counts_each_services_outbox_and_inbox(staff_client, bus_names, settings):
    settings.BUS = {**settings.BUS, "PUBLISH_ON_COMMIT": False}
    with transaction.atomic(using="orders"):
        OutboxMessage.record(contracts.RequestRefund(order_id=uuid.uuid4(), user_id=1, reason="customer_request"))
        OutboxMessage.record(contracts.RequestRefund(order_id=uuid.uuid4(), user_id=1, reason="customer_request"))
    OutboxMessage.objects.filter(pk=OutboxMessage.objects.first().pk).update(last_error="NackError()")

    response = staff_client.get(reverse("admin:bus-console"))
    detail = staff_client.get(reverse("admin:bus-service", args=[SERVICE]))

    [orders] = [bus for bus, _ in response.context["rows"] if bus.service == SERVICE]
    assert (orders.unsent, orders.sent, orders.failing) == (2, 0, 1)
    assert "/admin/orders/outboxmessage/?sent=no" in response.content.decode()
    assert [row.type for row in detail.context["bus"].outbox] == ["payment.refund_requested"] * 2
    assert "NackError()" in detail.content.decode()


def test_the_console_says_so_when_rabbitmq_is_unreachable(staff_client, settings):
    settings.BUS = {**settings.BUS, "URL": "amqp://guest:guest@127.0.0.1:1/%2F?connection_attempts=1&socket_timeout=1"}

    console = staff_client.get(reverse("admin:bus-console"))
    replayed = staff_client.post(reverse("admin:bus-replay", args=[SERVICE]), follow=True)

    assert console.status_code == 200
    assert "RabbitMQ is not reachable at 127.0.0.1:1" in console.content.decode()
    assert "guest:guest" not in console.content.decode()
    assert replayed.status_code == 200
    assert "RabbitMQ could not be reached" in replayed.content.decode()


def test_a_service_whose_consumer_never_ran_has_no_dead_letter_queue_yet(staff_client, bus_names):
    response = staff_client.get(reverse("admin:bus-service", args=["payments"]))

    assert response.status_code == 200
    assert response.context["dead"].undeclared == ["payments"]


def test_the_console_is_for_staff_only(client, django_user_model):
    customer = django_user_model.objects.create_user(email="c@example.com", password="x", name="C")
    client.force_login(customer)

    for url in (reverse("admin:bus-console"), reverse("admin:bus-trace"), reverse("admin:bus-service", args=[SERVICE])):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login")), url


def test_an_unknown_service_is_not_found(staff_client):
    assert staff_client.get(reverse("admin:bus-service", args=["billing"])).status_code == 404


def test_the_admin_index_has_a_bus_console_section(staff_client):
    page = staff_client.get(reverse("admin:index")).content.decode()

    assert "Bus console" in page
    assert f'href="{reverse("admin:bus-trace")}"' in page


def _staff(django_user_model, *permissions: str) -> Client:
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user(email="staff@example.com", password="x", name="S", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="shopsite", codename__in=permissions))
    client = Client()
    client.force_login(user)
    return client


def test_staff_without_the_console_permission_get_a_403_and_no_section(django_user_model):
    client = _staff(django_user_model)

    for url in (reverse("admin:bus-console"), reverse("admin:bus-trace"), reverse("admin:bus-service", args=[SERVICE])):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("admin:bus-replay", args=[SERVICE])).status_code == 403
    assert client.get(reverse("admin:index")).status_code == 200
    assert "Bus console" not in client.get(reverse("admin:index")).content.decode()


def test_the_view_permission_shows_the_console_but_replaying_needs_its_own(django_user_model, bus_names):
    [message_id] = park_bad_messages(bus_names, b"not json")
    client = _staff(django_user_model, "view_bus_console")

    page = client.get(reverse("admin:bus-service", args=[SERVICE]))
    replayed = client.post(reverse("admin:bus-replay", args=[SERVICE]), {"message_id": message_id})

    assert page.status_code == 200 and message_id in page.content.decode()
    assert 'value="Replay"' not in page.content.decode()
    assert "Bus console" in client.get(reverse("admin:index")).content.decode()
    assert replayed.status_code == 403
    assert [letter.message_id for letter in list_dead_letters(SERVICE)] == [message_id]


def test_both_permissions_let_staff_replay(django_user_model, bus_names):
    [message_id] = park_bad_messages(bus_names, b"not json")
    client = _staff(django_user_model, "view_bus_console", "replay_dead_letters")

    page = client.get(reverse("admin:bus-service", args=[SERVICE])).content.decode()
    replayed = client.post(reverse("admin:bus-replay", args=[SERVICE]), {"message_id": message_id})

    assert 'value="Replay"' in page
    assert replayed.status_code == 302
    assert list_dead_letters(SERVICE) == []


@pytest.mark.parametrize("queue_type", ["classic", "quorum"])
def test_listing_dead_letters_25_times_by_the_cli_and_the_console_keeps_every_one(
        csrf_client, bus_names, settings, queue_type):
    # A quorum queue counts a message handed back as a delivery: with a limit
    # of 2 the third listing would drop them if listing handed them back.
    settings.BUS = {**settings.BUS, "QUEUE_TYPE": queue_type, "DELIVERY_LIMIT": 2}
    ids = park_bad_messages(bus_names, *[b"{oops %d" % n for n in range(5)])
    page = reverse("admin:bus-service", args=[SERVICE])

    for _ in range(25):
        listed = io.StringIO()
        call_command("dead_letters", "list", "--service", SERVICE, stdout=listed)
        assert sorted(json.loads(line)["id"] for line in listed.getvalue().splitlines()) == sorted(ids)
        html = csrf_client.get(page).content.decode()
        assert all(message_id in html for message_id in ids)

    assert sorted(letter.message_id for letter in list_dead_letters(SERVICE)) == sorted(ids)
    assert replay_dead_letters(SERVICE) == len(ids)
    assert list_dead_letters(SERVICE) == []
    assert sorted(waiting_in_queue(bus_names)) == sorted(ids)
