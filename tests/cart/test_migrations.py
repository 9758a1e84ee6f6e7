"""A product replicated before the availability had its own version keeps its ordering through the migration."""

from decimal import Decimal

import pytest
from django.db import connections
from django.db.migrations.executor import MigrationExecutor

from cart import services
from cart.models import ProductReplica

pytestmark = pytest.mark.django_db(databases=["cart"], transaction=True)

BEFORE = ("cart", "0005_inbox_handler_keys")
AFTER = ("cart", "0006_productreplica_stock_version")


def migrate(target):
    executor = MigrationExecutor(connections["cart"])
    executor.loader.build_graph()
    executor.migrate([target])
    return executor.loader.project_state([target]).apps


def latest():
    return next(node for node in MigrationExecutor(connections["cart"]).loader.graph.leaf_nodes()
                if node[0] == "cart")


def test_the_stored_availability_is_as_new_as_the_row_was():
    old = migrate(BEFORE).get_model("cart", "ProductReplica")
    old.objects.using("cart").create(product_id=1, sku="MUG", name="Mug", price=Decimal("9.50"), available=5,
                                     version=7)
    try:
        migrate(AFTER)
    finally:
        migrate(latest())  # the other tests expect the schema of today

    # A stock change older than what the row held before the migration still changes nothing.
    assert services.stock_replica_apply(product_id=1, available=0, version=6) is None
    assert (ProductReplica.objects.get(pk=1).available, ProductReplica.objects.get(pk=1).stock_version) == (5, 7)
