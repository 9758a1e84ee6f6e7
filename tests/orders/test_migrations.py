"""An order placed before addresses had fields keeps its address through the migration."""

import uuid

import pytest
from django.db import connections
from django.db.migrations.executor import MigrationExecutor

from orders.models import Order

pytestmark = pytest.mark.django_db(databases=["orders"], transaction=True)

BEFORE = ("orders", "0003_orderline_images")
AFTER = ("orders", "0004_structured_shipping_address")


def latest():
    return next(node for node in MigrationExecutor(connections["orders"]).loader.graph.leaf_nodes()
                if node[0] == "orders")


def migrate(target):
    executor = MigrationExecutor(connections["orders"])
    executor.loader.build_graph()
    executor.migrate([target])
    return executor.loader.project_state([target]).apps


def test_the_old_free_text_address_is_kept_as_it_was_written():
    old = migrate(BEFORE).get_model("orders", "Order")
    order_id = uuid.uuid4()
    old.objects.using("orders").create(
        id=order_id, checkout_id=uuid.uuid4(), user_id=7, total="19.00",
        shipping_address="Casey Customer\n1 Main St\nSpringfield", payment_method_id=uuid.uuid4(),
    )

    try:
        migrate(AFTER)
    finally:
        migrate(latest())  # the other tests expect the schema of today

    order = Order.objects.get(pk=order_id)
    assert order.shipping_text == "Casey Customer\n1 Main St\nSpringfield"
    assert (order.shipping_name, order.shipping_line1, order.shipping_country) == ("", "", "")
    assert order.shipping_address.lines() == ["Casey Customer", "1 Main St", "Springfield"]
