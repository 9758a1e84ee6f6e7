"""The Celery app of ``bench.celery_saga``: each step of ``bench.saga_writes`` as a task on its app's queue.

Configured the way a Django team configures Celery for work that must not be
lost: acks late (a task is acknowledged after it ran), persistent messages,
results ignored (nothing waits for them; a chain needs no result backend).
Publishing keeps Celery's default, without publisher confirms. The prefetch is
the shop consumer's (64), as in ``bench.celery_app``.

Queues are named ``<BENCH_SAGA_PREFIX>.<service>``, one per app, each with a
direct exchange of the same name (Celery makes both when a queue is first
named), and the workers' event exchange ``<BENCH_SAGA_PREFIX>.celeryev``; a
run gives its own prefix and deletes them all afterwards.
"""

from __future__ import annotations

import os

import django
from celery import Celery, chain
from django.apps import apps

from .common import BROKER_URL, SERVICES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopsite.settings")
if not apps.ready:  # a worker; the web process has set Django up already
    django.setup()

from . import saga_writes  # noqa: E402  (imports the apps' models)

PREFIX = os.environ.get("BENCH_SAGA_PREFIX", "bench-saga")


def queue_name(service: str) -> str:
    return f"{PREFIX}.{service}"


QUEUES = [queue_name(service) for service in SERVICES]
#: Where the workers send their heartbeat events (nothing listens): prefixed like the queues, and deleted with them.
EVENT_EXCHANGE = f"{PREFIX}.celeryev"

app = Celery("saga", broker=BROKER_URL)
app.conf.update(
    task_acks_late=True,
    task_default_delivery_mode="persistent",
    task_ignore_result=True,
    worker_prefetch_multiplier=64,
    worker_enable_remote_control=False,  # no pidbox queues left behind
    # The workers keep their heartbeat events (their loop wakes for them: without, a warm shutdown waits ~10 s).
    event_exchange=EVENT_EXCHANGE,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
    task_serializer="json",
    accept_content=["json"],
)

#: Each step of the saga after the checkout, as a task routed to the queue of the app whose database it writes.
TASKS = [
    app.task(name=f"saga.{service}.{function.__name__}", queue=queue_name(service))(function)
    for service, function in saga_writes.STEPS
]


def saga(order: saga_writes.SagaOrder) -> chain:
    """The whole saga for a checked-out order: each task's result (the order) is the next one's argument."""
    first, *rest = TASKS
    return chain(first.s(order), *(task.s() for task in rest))
