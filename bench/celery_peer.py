"""Celery no-op tasks against the same RabbitMQ: a solo worker, acks late, persistent."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid

from .common import ROOT, Stopwatch, delete_queues, rate, rss_kib, run_prefix, temp_dir


def _wait(path, timeout: float, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None:
            raise RuntimeError(f"the Celery worker exited with {process.returncode}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout}s for {path}")
        time.sleep(0.02)


def celery_noop(count: int) -> dict:
    """Tasks per second from the first publish to the last task done (the worker started and idle first)."""
    queue = run_prefix("celery")
    state = temp_dir("celery")
    env = {**os.environ, "BENCH_CELERY_QUEUE": queue, "BENCH_CELERY_EXPECT": str(count),
           "BENCH_CELERY_STATE": str(state)}
    log = open(state / "worker.log", "wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "bench.celery_app", "worker", "-P", "solo", "-Q", queue,
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        _wait(state / "ready", 60, worker)
        os.environ["BENCH_CELERY_QUEUE"] = queue  # the client side names the same queue
        from . import celery_app

        celery_app.app.conf.task_default_queue = celery_app.app.conf.task_default_exchange = queue
        celery_app.app.conf.task_default_routing_key = queue
        payload = {"order_id": str(uuid.uuid4()), "lines": [{"product_id": 1, "quantity": 2}]}
        started = time.time()
        with Stopwatch() as publishing:
            with celery_app.app.producer_or_acquire() as producer:
                for _ in range(count):
                    celery_app.noop.apply_async((payload,), producer=producer)
        _wait(state / "done.json", 300, worker)
        done = json.loads((state / "done.json").read_text())
        rss = rss_kib(worker.pid)
        prefetch = celery_app.app.conf.worker_prefetch_multiplier  # a solo worker: its whole window
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()
        delete_queues(queue, exchanges=(queue,))
    seconds = done["last"] - started
    return {"tasks": count, "seconds": seconds, "per_second": rate(count, seconds),
            "publish_per_second": rate(count, publishing.seconds),
            "worker_only_per_second": rate(count - 1, done["last"] - done["first"]), "rss_kib": rss,
            "prefetch": prefetch}


def run_all(sizes, step) -> dict:
    step("Celery: no-op tasks, solo worker, acks late")
    return {"celery": celery_noop(sizes.celery)}
