"""``python -m bench``'s part "peers": the whole saga done another way, measured in the same run as the shop.

The Celery saga (``bench.celery_saga``) takes as many checkouts as the shop's
closed loop and then arrivals at the shop's fixed rate, on one started set of
processes; the ceiling (``bench.ceiling``) writes as many orders in one
process; the shop in one process (``bench.in_process``) runs its own code for
as many orders (the checkout through Django, every handler through its real
consumer) with no broker, no HTTP server and no process switches. Each is
measured once (the shop's end-to-end run is one run too), and each ends with
its audit of every database, kept in the results.
"""

from __future__ import annotations

from .ceiling import run_ceiling
from .celery_saga import run_celery_saga
from .common import Sizes, retrying
from .in_process import run_in_process

#: The steps ``run_all`` reports to the progress bar (the Celery saga's own, one for the ceiling, one for the
#: shop in one process; one more for it on PostgreSQL: ``steps``).
STEPS = 9


def steps(sizes: Sizes) -> int:
    return STEPS + sizes.e2e_postgres


def run_all(sizes: Sizes, step) -> dict:
    celery = retrying("the Celery saga", lambda: run_celery_saga(sizes.e2e_orders, step=step, latency=sizes))
    step(f"the ceiling: {sizes.e2e_orders} orders in one process")
    ceiling = retrying("the ceiling", lambda: run_ceiling(sizes.e2e_orders))
    step(f"the shop in one process: {sizes.e2e_orders} orders, no broker")
    in_process = retrying("the shop in one process", lambda: run_in_process(sizes.e2e_orders))
    peers = {"celery_saga": celery, "ceiling": ceiling, "in_process": in_process}
    if sizes.e2e_postgres:  # what PostgreSQL adds to the same code, with no transport in the way
        step(f"the shop in one process on PostgreSQL: {sizes.e2e_orders} orders, no broker")
        peers["in_process_postgresql"] = retrying("the shop in one process on PostgreSQL",
                                                  lambda: run_in_process(sizes.e2e_orders, "postgresql"))
    return {"peers": peers}
