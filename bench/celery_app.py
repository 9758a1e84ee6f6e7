"""The peer: the same no-op work as a Celery task on the same RabbitMQ.

Configured as a Django team would for reliable work: acks late (a task is
acknowledged after it ran), persistent messages, one solo worker process.
Publishing keeps Celery's default (no publisher confirms), which favours the
peer: the shop's every message is confirmed.
The prefetch is the shop consumer's (64), so neither side gets a bigger
window. The worker notes when its first and its last expected task ran in a
small file, so the count costs the tasks nothing.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from celery import Celery
from celery.signals import task_postrun, worker_ready

from .common import BROKER_URL

QUEUE = os.environ.get("BENCH_CELERY_QUEUE", "bench-celery")
EXPECT = int(os.environ.get("BENCH_CELERY_EXPECT", "0"))
STATE_DIR = Path(os.environ.get("BENCH_CELERY_STATE", "/tmp"))

app = Celery("bench", broker=BROKER_URL)
app.conf.update(
    task_acks_late=True,
    task_default_delivery_mode="persistent",
    task_default_queue=QUEUE,
    task_default_exchange=QUEUE,
    task_default_routing_key=QUEUE,
    worker_prefetch_multiplier=64,
    task_ignore_result=True,
    worker_enable_remote_control=False,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
)


@app.task(name="bench.noop")
def noop(payload: dict) -> None:
    return None


_done = {"count": 0, "first": 0.0}


@task_postrun.connect
def _count(**_) -> None:
    _done["count"] += 1
    if _done["count"] == 1:
        _done["first"] = time.time()
    if _done["count"] == EXPECT:
        (STATE_DIR / "done.json").write_text(json.dumps({"first": _done["first"], "last": time.time()}))


@worker_ready.connect
def _ready(**_) -> None:
    (STATE_DIR / "ready").write_text("ready")
