"""Our bus: the outbox relay and one consumer process, with the real code.

Both run in fresh shop databases under a prefix of their own; the queues
they declare are deleted afterwards.
"""

from __future__ import annotations

from .common import Sizes, delete_shop_topology, django_env, median_of, migrated_data_dir, run_json, run_prefix

RETRY_DELAYS = [0.2, 0.5, 1.0]


def relay(count: int) -> dict:
    """``count`` rows recorded with OutboxMessage.record (no publish on commit), then swept until all are confirmed."""
    prefix = run_prefix("relay")
    env = django_env(migrated_data_dir("relay"), prefix, BUS_PUBLISH_ON_COMMIT="false")
    try:
        return run_json("bench.workloads", env, "relay", str(count))
    finally:
        delete_shop_topology(prefix, RETRY_DELAYS)


def consumer(count: int, *, publish_on_commit: bool = True, handler: str = "minimal", batch: int | None = None) -> dict:
    """The real consumer, as its own process, on ``count`` messages already in its queue.

    Its handler records one outgoing message; with ``publish_on_commit`` the
    consumer publishes it right after each commit, as every shop consumer
    does, otherwise the relay would. ``handler="noop"`` does nothing (the
    inbox row is still written); ``batch`` overrides ``BUS_BATCH``.
    """
    prefix = run_prefix("consumer")
    env = django_env(migrated_data_dir("consumer"), prefix,
                     BUS_PUBLISH_ON_COMMIT="true" if publish_on_commit else "false",
                     **({"BUS_BATCH": str(batch)} if batch else {}))
    try:
        loaded = run_json("bench.workloads", env, "preload", str(count))["loaded"]
        result = run_json("bench.workloads", env, "consumer", str(count), handler)
    finally:
        delete_shop_topology(prefix, RETRY_DELAYS)
    return {**result, "loaded": loaded, "publish_on_commit": publish_on_commit}


def run_all(sizes: Sizes, step) -> dict:
    step("our relay: sweep with confirms")
    results = {"relay": median_of(sizes.repeats, lambda: relay(sizes.relay))}
    step("our consumer: one process, minimal handler")
    results["consumer"] = median_of(sizes.repeats, lambda: consumer(sizes.consumer))
    step("our consumer: one process, no-op handler (inbox only)")
    results["consumer_noop"] = consumer(sizes.consumer, handler="noop")
    if sizes.consumer_variants:
        step("our consumer: no publish on commit")
        results["consumer_no_publish"] = consumer(sizes.consumer, publish_on_commit=False)
        step("our consumer: one message a transaction (BUS_BATCH=1)")
        results["consumer_unbatched"] = consumer(sizes.consumer, batch=1)
    return results
