"""When each order was confirmed and its confirmation email sent, read from the services' databases.

Run in a shop's environment (``python -m bench.probe``): prints one JSON
object, ``{order_id: [status, confirmed_at, emailed_at, placed_at]}`` with POSIX times.
Like the reliability audit, a measuring tool may read every service's tables;
the shop itself never does.
"""

import json
import os
import sys

import django


def probe(since: float | None = None) -> dict:
    """Orders placed since the POSIX time ``since`` (every order without it).

    A shop with a long history (bench/grow.py) has hundreds of thousands of
    older orders: only the run's own are read, by their ids, so that reading
    them stays quick.
    """
    from datetime import UTC, datetime

    from notifications.models import Notification
    from orders.models import Order, OrderEvent

    recent = Order.objects.all()
    if since is not None:
        recent = recent.filter(created_at__gte=datetime.fromtimestamp(since, UTC))
    orders = {str(pk): [status, None, None, None] for pk, status in recent.values_list("id", "status")}
    ids = list(recent.values_list("id", flat=True))
    for chunk in (ids[n:n + 500] for n in range(0, len(ids), 500)):
        for column, kind in ((1, OrderEvent.Kind.CONFIRMED), (3, OrderEvent.Kind.PLACED)):
            events = OrderEvent.objects.filter(kind=kind, order_id__in=chunk)
            for order_id, at in events.values_list("order_id", "occurred_at"):
                orders[str(order_id)][column] = at.timestamp()
        sent = Notification.objects.filter(kind=Notification.Kind.ORDER_CONFIRMED, status=Notification.Status.SENT,
                                           order_id__in=chunk)
        for order_id, at in sent.values_list("order_id", "sent_at"):
            orders[str(order_id)][2] = at.timestamp()
    return orders


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopsite.settings")
    django.setup()
    print(json.dumps(probe(float(sys.argv[1]) if len(sys.argv) > 1 else None)))
