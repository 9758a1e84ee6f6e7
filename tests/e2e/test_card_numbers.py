"""No card number ever reaches a database, a log line, a mail or a message on the bus."""

import pika
import pytest

from shopsite.bus.names import Names

pytestmark = pytest.mark.e2e

CARDS = ["4242424242424242", "4000000000000002", "4000000000009995"]


@pytest.fixture
def bus_tap(shop):
    """A queue that receives a copy of every message published during the test."""
    connection = pika.BlockingConnection(pika.URLParameters("amqp://guest:guest@127.0.0.1:5672/%2F"))
    channel = connection.channel()
    queue = channel.queue_declare("", exclusive=True).method.queue
    channel.queue_bind(queue, Names(shop.env["BUS_PREFIX"]).exchange, routing_key="#")

    def drain() -> list[bytes]:
        bodies = []
        while (delivery := channel.basic_get(queue, auto_ack=True))[0] is not None:
            bodies.append(delivery[2])
        return bodies

    yield drain
    connection.close()


def test_card_numbers_stay_out_of_every_store(shop, new_product, bus_tap):
    product = new_product(stock=20)
    customer = shop.customer()
    orders = []
    for card in CARDS:
        customer.add_to_cart(product["id"], 1)
        response = customer.checkout(customer.card(card))
        assert response.status_code == 202, response.text
        orders.append(customer.order_when(response.json()["order_id"], {"confirmed", "cancelled"}))
    assert [o["status"] for o in orders] == ["confirmed", "cancelled", "cancelled"]

    messages = bus_tap()
    assert any(b"payment.requested" in body for body in messages)  # the tap really saw the flow
    stores = {
        "bus": b"\n".join(messages),
        "logs": shop.logs().encode(),
        "mail": "\n".join(shop.mails()).encode(),
    }
    for path in (shop.workdir / "db").iterdir():  # every SQLite file, with its WAL
        stores[path.name] = path.read_bytes()
    for card in CARDS:
        for variant in (card, " ".join(card[i:i + 4] for i in range(0, 16, 4))):
            leaks = [name for name, data in stores.items() if variant.encode() in data]
            assert leaks == [], f"card number found in {leaks}"
    assert any(b"4242" in data for name, data in stores.items() if name.startswith("payments"))  # last4 is kept
