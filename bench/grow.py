"""A shop's history, written straight into its six databases: what N past orders would have left behind.

``python -m bench.grow --orders N --products P --customers C`` runs in a
shop's environment (like bench/seed.py) once its databases are migrated and
before its processes start. It writes, for every service, the rows the bus
and the services would have written over that history:

- customers: accounts users (with their version rows and ``user.registered``
  outbox rows), their replicas in catalog and notifications with the inbox
  rows of the message that made them, a saved card each, a cart each, and a
  few abandoned carts with lines still in them;
- products: catalog products (``product.published`` in the outbox) and the
  cart's replicas (with their inbox rows);
- orders: each one's checkout and lines (cart), order, lines and timeline
  (orders), reservations and outcome (catalog), charge (payments), emails
  (notifications), order summary and inbox items (accounts), and every
  message of its saga as a sent outbox row in its producer and an inbox row
  in each of its consumers (subscriptions read from the apps' HANDLERS).

Rows are built in Python from a seeded random generator (the same arguments
give the same rows) and written in big batches: ``executemany`` inside one
transaction per table and chunk on SQLite, ``COPY`` on PostgreSQL. The
envelopes in the outbox bodies are representative in size and shape; nothing
reads them once they are sent. Prints progress on stderr and one JSON object
(rows written per table) on stdout.
"""

from __future__ import annotations

import argparse
import json
import operator
import os
import random
import sys
import time
import uuid
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Callable, Iterable

from shopsite.ids import short, uuid7

#: Orders written per round: every table gets one transaction (or COPY) per round.
CHUNK = 5_000
#: What each past order ended as, with its share of the history.
OUTCOMES = (("delivered", 80), ("shipped", 6), ("confirmed", 6), ("payment_declined", 5), ("out_of_stock", 3))
#: Of the customers, how many left something in their cart.
ABANDONED_CARTS = 0.1
HISTORY = timedelta(days=365)
ADDRESS = {"name": "Grown Customer", "line1": "2 History Lane", "line2": "", "city": "Pastville", "region": "",
           "postal_code": "54321", "country": "US"}


@dataclass(frozen=True)
class Existing:
    """How much history a shop has before a measurement: past orders, products and customers."""

    orders: int
    products: int = 10_000
    customers: int = 50_000
    #: The random generator's seed: the same sizes and seed give the same rows.
    seed: int = 16

    def args(self) -> list[str]:
        return [f"--{name}={value}" for name, value in asdict(self).items()]


# --- writing rows -----------------------------------------------------------


class Tables:
    """Rows buffered per model and written in batches, each model in its service's database.

    A row is a dict by attribute name; fields left out take their model default
    (or NULL). Values are turned into what the database column takes here,
    once per value, rather than through Django's per-field preparation.
    """

    def __init__(self) -> None:
        from django.db import connections, router

        self.connections, self.router = connections, router
        self.buffers: dict[type, list[dict]] = defaultdict(list)
        self.order: list[type] = []  # models in the order first seen: parents before children
        self.written: dict[str, int] = defaultdict(int)
        self._plans: dict[type, tuple] = {}
        self.tuned: set[str] = set()

    def add(self, model: type, **row: Any) -> None:
        if model not in self.buffers:
            self.order.append(model)
        self.buffers[model].append(row)

    def next_id(self, model: type) -> int:
        """The first free integer primary key of ``model`` (its table may already hold rows)."""
        from django.db.models import Max

        return (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1

    def flush(self) -> None:
        for model in self.order:
            rows, self.buffers[model] = self.buffers[model], []
            if rows:
                self._write(model, rows)

    def _plan(self, model: type) -> tuple:
        if model not in self._plans:
            alias = self.router.db_for_write(model)
            vendor = self.connections[alias].vendor
            fields = model._meta.concrete_fields
            # Millions of rows: the tuple is taken from the row (merged over the defaults) by one C-level
            # itemgetter, and only the columns SQLite cannot take as they are get converted.
            defaults = {field.attname: value for field in fields if (value := _default(field)) is not _REQUIRED}
            required = {field.attname for field in fields} - set(defaults)
            conversions = [(n, convert) for n, field in enumerate(fields)
                           if (convert := _converter(field, vendor)) is not None]
            self._plans[model] = (alias, vendor, [field.column for field in fields], defaults, required,
                                  operator.itemgetter(*[field.attname for field in fields]), conversions)
        return self._plans[model]

    def _write(self, model: type, rows: list[dict]) -> None:
        from django.db import transaction

        alias, vendor, columns, defaults, required, take, conversions = self._plan(model)
        if missing := required - rows[0].keys():  # every row of a model is built alike: the first tells
            raise KeyError(f"{model._meta.label} rows need {sorted(missing)}")
        values = [take(defaults | row) for row in rows]
        if conversions:
            for n, row in enumerate(values):
                row = list(row)
                for column, convert in conversions:
                    if row[column] is not None:
                        row[column] = convert(row[column])
                values[n] = row
        connection = self.connections[alias]
        table = connection.ops.quote_name(model._meta.db_table)
        names = ", ".join(connection.ops.quote_name(column) for column in columns)
        connection.ensure_connection()
        raw = connection.connection
        if vendor == "sqlite" and alias not in self.tuned:
            # Only this connection's writes: a crash mid-way leaves a half-grown bench shop, made again.
            raw.execute("PRAGMA synchronous=OFF")
            raw.execute("PRAGMA cache_size=-131072")  # 128 MiB, so the indexes of the big tables stay cached
            self.tuned.add(alias)
        with transaction.atomic(using=alias):
            if vendor == "postgresql":
                with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for value in values:
                        copy.write_row(value)
            else:
                raw.executemany(f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})", values)
        self.written[model._meta.db_table] += len(values)

    def finish(self) -> None:
        """Make the databases ready for the shop: sequences past the ids written, tables vacuumed, statistics
        gathered."""
        from django.apps import apps
        from django.core.management.color import no_style

        by_alias: dict[str, list[type]] = defaultdict(list)
        for model in apps.get_models():
            if model._meta.db_table in self.written:
                by_alias[self.router.db_for_write(model)].append(model)
        for alias, models in by_alias.items():
            connection = self.connections[alias]
            with connection.cursor() as cursor:
                for sql in connection.ops.sequence_reset_sql(no_style(), models):
                    cursor.execute(sql)
                if connection.vendor == "postgresql":
                    # A shop that grew over a year has had its tables vacuumed and analysed by autovacuum
                    # many times; rows copied in a minute have not: the planner would guess their sizes, and
                    # autovacuum would set about millions of new rows in the middle of the measurement.
                    cursor.execute("VACUUM (ANALYZE)")
        postgresql = [alias for alias in by_alias if self.connections[alias].vendor == "postgresql"]
        if postgresql:
            # ... and has long since written those pages out: millions of rows just written (and their hint bits
            # set by the vacuum) would otherwise be flushed by a checkpoint the WAL's size sets off in the middle
            # of the measurement, stalling commits (seen: p99 0.7 s at 15 orders/s where it was 31 ms). The
            # server-wide CHECKPOINT needs a superuser, which the benchmark's databases have.
            with self.connections[postgresql[0]].cursor() as cursor:
                cursor.execute("CHECKPOINT")


_REQUIRED = object()


def _default(field) -> Any:
    """What Django would give a field left out of a row (its plain default, "" or NULL); else ``_REQUIRED``.

    A field whose default is computed (a new uuid, now) or that has none must be given.
    """
    value = None if field.has_default() and callable(field.default) else field.get_default()
    return _REQUIRED if value is None and not field.null else value


def _converter(field, vendor: str) -> Callable[[Any], Any] | None:
    """Python value -> what the column takes, where that differs (psycopg adapts Python types itself)."""
    if vendor == "postgresql":
        return None
    # A foreign key's column holds what the key it points at holds.
    kind = (field.target_field if field.is_relation else field).get_internal_type()
    if kind == "UUIDField":
        return operator.attrgetter("hex")
    if kind == "DateTimeField":
        # What Django writes with USE_TZ: UTC without an offset (every time made here is in UTC).
        return lambda value: value.isoformat(" ")[:-6]
    if kind == "DecimalField":
        return str
    return None


# --- what the shop would have written ------------------------------------------


@dataclass
class Customer:
    user_id: int
    email: str
    name: str
    method_id: uuid.UUID


@dataclass
class Item:
    product_id: int
    sku: str
    name: str
    price: Decimal


class History:
    """Writes an ``Existing`` history into the shop's databases through ``Tables``."""

    def __init__(self, existing: Existing, progress: Callable[[str], None]) -> None:
        from shopsite import contracts

        self.existing, self.progress = existing, progress
        self.random = random.Random(existing.seed)
        self.tables = Tables()
        self.contracts = contracts
        self.models = _models()
        self.subscribers = _subscribers()
        self.end = datetime.now(UTC) - timedelta(days=1)  # the newest past order: a day before the run
        self.start = self.end - HISTORY
        self.customers: list[Customer] = []
        self.items: list[Item] = []

    def uuid(self, at: datetime) -> uuid.UUID:
        """An id as the shop would have minted it at ``at`` (time-ordered, shopsite/ids.py), from the seed."""
        return uuid7(at.timestamp(), random_bits=self.random.getrandbits(80))

    def write(self) -> dict[str, int]:
        started = time.monotonic()
        m = self.models
        # Integer keys are given rather than left to the database, so a chunk's rows can point at each other.
        self.ids = {model: self.tables.next_id(model)
                    for model in (m.OrderLine, m.OrderEvent, m.CheckoutLine, m.Reservation, *self._inboxes())}
        self._products()
        self._customers()
        step = HISTORY / max(1, self.existing.orders)
        for first in range(0, self.existing.orders, CHUNK):
            for n in range(first, min(first + CHUNK, self.existing.orders)):
                self._order(self.start + step * n)
            self.tables.flush()
            done = min(first + CHUNK, self.existing.orders)
            self.progress(f"{done:,} of {self.existing.orders:,} orders ({time.monotonic() - started:.0f} s)")
        self.tables.finish()
        self.progress(f"history written in {time.monotonic() - started:.0f} s")
        return dict(self.tables.written)

    def _inboxes(self) -> list[type]:
        return [self.models.inbox[service] for service in self.models.inbox]

    def _id(self, model: type) -> int:
        value = self.ids[model]
        self.ids[model] = value + 1
        return value

    # --- messages ---------------------------------------------------------

    def message(self, producer: str, message_type: type, at: datetime, correlation_id: uuid.UUID,
                payload: dict, *, causation_id: uuid.UUID | None = None) -> uuid.UUID:
        """A message as the bus leaves it: sent from ``producer``'s outbox, applied by every subscriber."""
        message_id = self.uuid(at)
        body = json.dumps({
            "id": str(message_id), "type": message_type.TYPE, "version": 1, "occurred_at": at.isoformat(),
            "producer": producer, "correlation_id": str(correlation_id),
            "causation_id": str(causation_id or correlation_id), "payload": payload,
        }, default=str)
        self.tables.add(self.models.outbox[producer], id=message_id, type=message_type.TYPE, body=body,
                        correlation_id=correlation_id, created_at=at, sent_at=at + timedelta(milliseconds=5),
                        attempts=1)
        processed = at + timedelta(milliseconds=20)
        for service, key in self.subscribers.get(message_type, ()):
            inbox = self.models.inbox[service]
            self.tables.add(inbox, id=self._id(inbox), message_id=message_id, handler=key,
                            type=message_type.TYPE, correlation_id=correlation_id, processed_at=processed)
        return message_id

    # --- products and customers --------------------------------------------

    def _products(self) -> None:
        m, c = self.models, self.contracts
        first = self.tables.next_id(m.Product)
        for n in range(self.existing.products):
            product_id = first + n
            at = self.start - timedelta(days=30) + timedelta(seconds=n)
            price = Decimal(self.random.randint(199, 19999)) / 100
            item = Item(product_id, f"G-{product_id:07d}", f"Grown product {product_id}", price)
            self.items.append(item)
            self.tables.add(m.Product, id=product_id, sku=item.sku, name=item.name, category="grown", price=price,
                            stock_on_hand=1_000_000, created_at=at, updated_at=at)
            self.tables.add(m.ProductReplica, product_id=product_id, sku=item.sku, name=item.name, price=price,
                            is_active=True, available=1_000_000, version=1, stock_version=1, updated_at=at)
            self.message("catalog", c.ProductPublished, at, self.uuid(at),
                         {"product_id": product_id, "sku": item.sku, "name": item.name, "price": price,
                          "is_active": True, "available": 1_000_000, "version": 1})
            if n % CHUNK == CHUNK - 1:
                self.tables.flush()
        self.tables.flush()
        self.progress(f"{self.existing.products:,} products")

    def _customers(self) -> None:
        from django.contrib.auth.hashers import make_password

        m, c = self.models, self.contracts
        password = make_password("a-long-grown-password")  # one hash for all: hashing 50,000 would take minutes
        first_user, first_cart, first_line = (self.tables.next_id(model) for model in (m.User, m.Cart, m.CartLine))
        line_id = first_line
        for n in range(self.existing.customers):
            user_id = first_user + n
            at = self.start - timedelta(days=20) + timedelta(seconds=n)
            customer = Customer(user_id, f"grown-{user_id}@example.com", f"Grown {user_id}", self.uuid(at))
            self.customers.append(customer)
            self.tables.add(m.User, id=user_id, password=password, is_superuser=False, is_staff=False,
                            is_active=True, date_joined=at, email=customer.email, name=customer.name,
                            role="customer")
            self.tables.add(m.UserVersion, user_id=user_id, version=1)
            self.tables.add(m.UserRole, user_id=user_id, email=customer.email, role="customer", version=1,
                            updated_at=at)
            self.tables.add(m.Recipient, user_id=user_id, email=customer.email, name=customer.name, version=1,
                            updated_at=at)
            self.message("accounts", c.UserRegistered, at, self.uuid(at),
                         {"user_id": user_id, "email": customer.email, "name": customer.name, "is_staff": False,
                          "role": "customer", "is_active": True, "version": 1})
            self.tables.add(m.PaymentMethod, id=customer.method_id, user_id=user_id, token=f"tok_{user_id}",
                            brand="visa", last4="4242", exp_month=12, exp_year=2031, created_at=at)
            cart_id = first_cart + n
            self.tables.add(m.Cart, id=cart_id, user_id=user_id, created_at=at, updated_at=at)
            if self.random.random() < ABANDONED_CARTS:
                for item in self.random.sample(self.items, self.random.randint(1, 3)):
                    self.tables.add(m.CartLine, id=line_id, cart_id=cart_id, product_id=item.product_id,
                                    quantity=self.random.randint(1, 3), added_at=at, updated_at=at)
                    line_id += 1
            if n % CHUNK == CHUNK - 1:
                self.tables.flush()
        self.tables.flush()
        self.progress(f"{self.existing.customers:,} customers")

    # --- orders -------------------------------------------------------------

    def _order(self, placed: datetime) -> None:
        m, c, add = self.models, self.contracts, self.tables.add
        rnd = self.random
        customer = rnd.choice(self.customers)
        outcome = rnd.choices([name for name, _ in OUTCOMES], [weight for _, weight in OUTCOMES])[0]
        bought = [(item, rnd.randint(1, 2)) for item in rnd.sample(self.items, rnd.randint(1, 3))]
        total = sum((item.price * quantity for item, quantity in bought), Decimal("0.00"))
        order_id, checkout_id = self.uuid(placed), self.uuid(placed)
        user_id = customer.user_id
        clock = iter(placed + timedelta(milliseconds=100 * k) for k in range(1000))
        lines = [{"product_id": item.product_id, "quantity": quantity} for item, quantity in bought]

        def event(kind: str, detail: str = "", at: datetime | None = None) -> None:
            add(m.OrderEvent, id=self._id(m.OrderEvent), order_id=order_id, kind=kind, detail=detail,
                occurred_at=at or next(clock))

        def status(message_type, label: str) -> uuid.UUID:
            return self.message("orders", message_type, next(clock), checkout_id,
                                {"order_id": order_id, "user_id": user_id, "total": total, "status": label})

        # The cart: the checkout that emptied it, and its message.
        at = next(clock)
        cancelled = outcome in ("payment_declined", "out_of_stock")
        add(m.Checkout, id=checkout_id, user_id=user_id, idempotency_key=self.uuid(placed).hex, order_id=order_id,
            total=total, created_at=at, placed_at=at + timedelta(seconds=1),
            restored_at=at + timedelta(seconds=5) if cancelled else None)
        for item, quantity in bought:
            add(m.CheckoutLine, id=self._id(m.CheckoutLine), checkout_id=checkout_id, product_id=item.product_id,
                sku=item.sku, name=item.name, unit_price=item.price, quantity=quantity)
        self.message("cart", c.CartCheckedOut, at, checkout_id,
                     {"checkout_id": checkout_id, "order_id": order_id, "user_id": user_id, "lines": lines,
                      "total": total, "currency": "USD", "shipping_address": ADDRESS,
                      "payment_method_id": customer.method_id})

        # Orders places it; catalog reserves (or not).
        final = {"payment_declined": "cancelled", "out_of_stock": "cancelled"}.get(outcome, outcome)
        add(m.Order, id=order_id, checkout_id=checkout_id, user_id=user_id, status=final,
            cancel_reason=outcome if cancelled else "", total=total, currency="USD",
            **{f"shipping_{key}": value for key, value in ADDRESS.items()},
            payment_method_id=customer.method_id, created_at=placed, updated_at=placed + timedelta(days=3))
        for item, quantity in bought:
            add(m.OrderLine, id=self._id(m.OrderLine), order_id=order_id, product_id=item.product_id, sku=item.sku,
                name=item.name, unit_price=item.price, quantity=quantity)
        event("placed", f"{len(bought)} item(s), total {total} USD")
        self.message("orders", c.OrderPlaced, next(clock), checkout_id,
                     {"order_id": order_id, "user_id": user_id, "lines": lines, "total": total})
        decided = next(clock)
        add(m.ReservationOutcome, order_id=order_id, outcome="rejected" if outcome == "out_of_stock" else "reserved",
            decided_at=decided)
        if outcome == "out_of_stock":
            self.message("catalog", c.StockRejected, decided, checkout_id, {"order_id": order_id, "shortages": []})
            event("stock_rejected", "product: 0 left")
            self._cancelled(order_id, user_id, total, checkout_id, customer, clock, event, status)
            return
        for item, quantity in bought:
            add(m.Reservation, id=self._id(m.Reservation), order_id=order_id, product_id=item.product_id,
                quantity=quantity, status="released" if cancelled else "committed", created_at=decided,
                updated_at=decided + timedelta(seconds=2))
            self.message("catalog", c.StockChanged, decided, checkout_id,
                         {"product_id": item.product_id, "available": 1_000_000, "version": 2})
        self.message("catalog", c.StockReserved, decided, checkout_id, {"order_id": order_id, "lines": lines})
        event("stock_reserved")
        event("payment_requested", f"{total} USD")
        self.message("orders", c.RequestPayment, next(clock), checkout_id,
                     {"order_id": order_id, "user_id": user_id, "amount": total, "currency": "USD",
                      "payment_method_id": customer.method_id})
        charged = next(clock)
        charge_id = self.uuid(charged)
        paid = outcome != "payment_declined"
        add(m.Charge, id=charge_id, order_id=order_id, user_id=user_id, payment_method_id=customer.method_id,
            amount=total, currency="USD", status="succeeded" if paid else "failed",
            failure_code="" if paid else "card_declined", gateway_reference=f"ch_{charge_id.hex[:16]}",
            created_at=charged)
        if not paid:
            self.message("payments", c.PaymentFailed, charged, checkout_id,
                         {"order_id": order_id, "code": "card_declined", "reason": "Your card was declined."})
            event("payment_failed", "Your card was declined. (card_declined)")
            self._cancelled(order_id, user_id, total, checkout_id, customer, clock, event, status, bought=bought)
            return
        self.message("payments", c.PaymentSucceeded, charged, checkout_id,
                     {"order_id": order_id, "charge_id": charge_id, "amount": total})
        event("paid", f"{total} USD")
        event("confirmed")
        status(c.OrderConfirmed, "confirmed")
        self._emailed(order_id, user_id, customer, "order_confirmed", checkout_id, clock, event)
        for later, message_type in (("shipped", c.OrderShipped), ("delivered", c.OrderDelivered)):
            if later == "shipped" and outcome == "confirmed" or later == "delivered" and outcome != "delivered":
                break
            event(later)
            status(message_type, later)
            self._emailed(order_id, user_id, customer, f"order_{later}", checkout_id, clock, event)
        add(m.CustomerOrder, order_id=order_id, user_id=user_id, status=final, version=c.ORDER_SAGA[final],
            total=total, updated_at=next(clock))

    def _cancelled(self, order_id, user_id, total, checkout_id, customer, clock, event, status, *,
                   bought=()) -> None:
        m, c = self.models, self.contracts
        event("cancelled")
        status(c.OrderCancelled, "cancelled")
        if bought:  # reserved stock goes back
            at = next(clock)
            for item, _ in bought:
                self.message("catalog", c.StockChanged, at, checkout_id,
                             {"product_id": item.product_id, "available": 1_000_000, "version": 3})
            self.message("catalog", c.StockReleased, at, checkout_id, {"order_id": order_id, "lines": []})
            event("stock_released")
        self._emailed(order_id, user_id, customer, "order_cancelled", checkout_id, clock, event)
        self.tables.add(m.CustomerOrder, order_id=order_id, user_id=user_id, status="cancelled",
                        version=c.ORDER_SAGA["cancelled"], total=total, updated_at=next(clock))

    def _emailed(self, order_id, user_id, customer: Customer, kind: str, checkout_id, clock, event) -> None:
        """The email about a change: the notification, its message, the customer's inbox and the timeline."""
        m, c = self.models, self.contracts
        at = next(clock)
        notification_id = self.uuid(at)
        subject = f"Your order {short(order_id)}: {kind.removeprefix('order_')}"
        body = f"Hello {customer.name},\n\n{subject}.\n\n" + "Thank you for shopping with us. " * 6
        self.tables.add(m.Notification, id=notification_id, user_id=user_id, order_id=order_id, kind=kind,
                        to_email=customer.email, subject=subject, body=body, status="sent", created_at=at,
                        sent_at=at)
        self.message("notifications", c.NotificationSent, at, checkout_id,
                     {"notification_id": notification_id, "user_id": user_id, "order_id": order_id, "kind": kind,
                      "subject": subject, "body": body, "sent_at": at})
        self.tables.add(m.InboxItem, notification_id=notification_id, user_id=user_id, order_id=order_id,
                        kind=kind, subject=subject, body=body, sent_at=at,
                        read_at=at + timedelta(hours=2) if self.random.random() < 0.5 else None)
        event("customer_notified", subject)


class _Models:
    """The models written, by name, and each service's outbox and inbox."""


def _models() -> _Models:
    from django.apps import apps
    from django.conf import settings

    models = _Models()
    for name in ("accounts.User", "accounts.UserVersion", "accounts.CustomerOrder", "accounts.InboxItem",
                 "catalog.Product", "catalog.Reservation", "catalog.ReservationOutcome", "catalog.UserRole",
                 "cart.ProductReplica", "cart.Cart", "cart.CartLine", "cart.Checkout", "cart.CheckoutLine",
                 "orders.Order", "orders.OrderLine", "orders.OrderEvent", "payments.PaymentMethod",
                 "payments.Charge", "notifications.Recipient", "notifications.Notification"):
        setattr(models, name.split(".")[1], apps.get_model(name))
    models.outbox = {service: apps.get_model(service, "OutboxMessage") for service in settings.SERVICES}
    models.inbox = {service: apps.get_model(service, "InboxMessage") for service in settings.SERVICES}
    return models


def _subscribers() -> dict[type, list[tuple[str, str]]]:
    """Each message type with the (service, handler key) pairs that apply it: one inbox row each."""
    import importlib

    from django.conf import settings

    subscribers: dict[type, list[tuple[str, str]]] = defaultdict(list)
    for service in settings.SERVICES:
        for message_type, handlers in importlib.import_module(f"{service}.handlers").HANDLERS.items():
            for handler in handlers if isinstance(handlers, tuple) else (handlers,):
                subscribers[message_type].append((service, handler.key))
    return subscribers


def grow(existing: Existing, progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Write ``existing``'s history into the configured databases; rows written per table."""
    return History(existing, progress or (lambda line: None)).write()


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name, default in (("orders", None), ("products", 10_000), ("customers", 50_000), ("seed", 16)):
        parser.add_argument(f"--{name}", type=int, default=default, required=default is None)
    args = parser.parse_args(list(argv) if argv is not None else None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopsite.settings")
    import django

    django.setup()
    existing = Existing(orders=args.orders, products=args.products, customers=args.customers, seed=args.seed)
    written = grow(existing, lambda line: print(f"grow: {line}", file=sys.stderr, flush=True))
    print(json.dumps(written))


if __name__ == "__main__":
    main()
