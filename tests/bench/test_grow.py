"""bench/grow.py writes a consistent history, and the statements that ran over one use their indexes.

The index tests read SQLite's plan of the statements the services actually
run (captured while they run), so a test fails if its index goes away or the
statement stops matching it. That a shop holding such a history still takes
every checkout is checked by tests/bench/test_smoke.py (its run's growth part).
"""

import json
import sqlite3
import subprocess
import sys
import uuid
from collections import Counter
from contextlib import closing
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ["accounts", "catalog", "cart", "orders", "payments", "notifications"]


def plans(alias: str, statements: list[str]) -> list[str]:
    """SQLite's plan of each statement, one line per step."""
    with connections[alias].cursor() as cursor:
        return [" / ".join(row[-1] for row in cursor.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall())
                for sql in statements]


def captured(alias: str, run, table: str, verb: str) -> list[str]:
    with CaptureQueriesContext(connections[alias]) as queries:
        run()
    statements = [q["sql"] for q in queries.captured_queries
                  if q["sql"].startswith(verb) and f'"{table}"' in q["sql"]]
    assert statements, f"no {verb} of {table} ran"
    return statements


# --- the indexes ----------------------------------------------------------------


@pytest.mark.django_db(databases=["cart"])
def test_a_stock_change_finds_the_cart_lines_of_its_product_by_index():
    from cart import services

    services.product_replica_apply(product_id=7, sku="S-7", name="Seven", price=Decimal("5.00"), is_active=True,
                                   available=10, version=1)
    services.cart_item_add(user_id=1, product_id=7, quantity=3)
    statements = captured("cart", lambda: services.stock_replica_apply(product_id=7, available=2, version=2),
                          "cart_cartline", "UPDATE")
    for plan in plans("cart", statements):
        assert "USING INDEX cart_line_product" in plan and "SCAN" not in plan, plan


@pytest.mark.django_db(databases=["default"])
def test_registering_and_logging_in_find_the_email_by_index():
    from accounts import services
    from accounts.models import User

    services.user_register(email="Someone@Example.com", password="a-long-test-password", name="Someone")
    statements = captured("default", lambda: services.user_sign_up(email="SOMEONE@example.com",
                                                                   password="a-long-test-password", name="Again"),
                          "accounts_user", "SELECT")
    statements += captured("default", lambda: User.objects.get_by_natural_key("someone@EXAMPLE.com"),
                           "accounts_user", "SELECT")
    for plan in plans("default", statements):
        if "email" in plan:  # the others read by primary key
            assert "(email=?)" in plan and "SCAN" not in plan, plan
    assert User.objects.get_by_natural_key("SOMEONE@example.COM").name == "Someone"


@pytest.mark.django_db(databases=["notifications"])
def test_an_order_email_is_looked_up_by_order_and_kind_by_index():
    from notifications import services
    from notifications.models import Notification

    services.recipient_apply(user_id=1, email="a@example.com", name="A")
    send = lambda: services.notification_send_for_order(  # noqa: E731
        kind=Notification.Kind.ORDER_CANCELLED, order_id=uuid.uuid4(), user_id=1, total=Decimal("1.00"),
        currency="USD", reason="customer_request")
    for plan in plans("notifications", captured("notifications", send, "notifications_notification", "SELECT")):
        assert plan.startswith("SEARCH") and "(order_id=? AND kind=?)" in plan, plan


@pytest.mark.django_db(databases=["orders"])
def test_the_relay_sweep_reads_only_the_index_of_unsent_rows():
    from shopsite.bus import publisher

    class Nothing:
        def publish_rows(self, outbox, rows):
            return len(list(rows))

    from orders.models import OutboxMessage

    statements = captured("orders", lambda: publisher.sweep(Nothing(), only=[OutboxMessage]),
                          "orders_outboxmessage", "SELECT")
    for plan in plans("orders", statements):
        assert "USING INDEX orders_outbox_unsent" in plan, plan


# --- the history ----------------------------------------------------------------


def _counts(data_dir: Path) -> dict[str, Counter]:
    counts = {}
    for service in SERVICES:
        with closing(sqlite3.connect(data_dir / "db" / f"{service}.sqlite3")) as db:
            tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                                     "AND name LIKE ? ESCAPE '\\'", (f"{service}\\_%",))]
            counts[service] = Counter({table: db.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
                                       for table in tables})
    return counts


def _outbox(data_dir: Path, service: str) -> list[tuple[str, str | None]]:
    with closing(sqlite3.connect(data_dir / "db" / f"{service}.sqlite3")) as db:
        return db.execute(f"SELECT type, sent_at FROM {service}_outboxmessage").fetchall()


def test_grow_writes_every_services_rows_of_its_history():
    from bench.common import django_env, migrated_data_dir, remove_temp_dirs, run_prefix

    data_dir = migrated_data_dir("grow-test")
    try:
        env = django_env(data_dir, run_prefix("grow-test"))
        args = ["--orders=50", "--products=20", "--customers=30"]
        result = subprocess.run([sys.executable, "-m", "bench.grow", *args], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr[-3000:]
        written = json.loads(result.stdout.strip().splitlines()[-1])
        counts = _counts(data_dir)
        assert all(counts[service] for service in SERVICES)
        for service in SERVICES:
            for table, count in counts[service].items():
                assert count == written.get(table, 0), table
        accounts, catalog, cart = counts["accounts"], counts["catalog"], counts["cart"]
        orders, payments, notifications = counts["orders"], counts["payments"], counts["notifications"]
        for count in (accounts["accounts_user"], accounts["accounts_userversion"], catalog["catalog_userrole"],
                      notifications["notifications_recipient"], payments["payments_paymentmethod"],
                      cart["cart_cart"]):
            assert count == 30
        assert catalog["catalog_product"] == cart["cart_productreplica"] == 20
        for count in (orders["orders_order"], cart["cart_checkout"], catalog["catalog_reservationoutcome"],
                      accounts["accounts_customerorder"], cart["cart_outboxmessage"]):
            assert count == 50
        assert orders["orders_orderline"] == cart["cart_checkoutline"] >= 50
        assert orders["orders_orderevent"] >= 4 * 50
        emails = notifications["notifications_notification"]
        assert emails >= 50 and accounts["accounts_inboxitem"] == emails == notifications[
            "notifications_outboxmessage"]
        assert 0 < payments["payments_charge"] == payments["payments_inboxmessage"] <= 50
        # The bus left it all delivered: every message sent, and applied once by each of its subscribers.
        from bench.grow import _subscribers

        subscribers = {message_type.TYPE: len(keys) for message_type, keys in _subscribers().items()}
        expected_inbox = 0
        for service in SERVICES:
            rows = _outbox(data_dir, service)
            assert rows and all(sent_at is not None for _, sent_at in rows), service
            expected_inbox += sum(subscribers.get(message_type, 0) for message_type, _ in rows)
        assert sum(counts[service][f"{service}_inboxmessage"] for service in SERVICES) == expected_inbox
    finally:
        remove_temp_dirs()
