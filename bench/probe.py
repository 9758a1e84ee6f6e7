"""When each order was confirmed and its confirmation email sent, read from the services' databases.

Run in a shop's environment (``python -m bench.probe``): prints one JSON
object, ``{order_id: [status, confirmed_at, emailed_at, placed_at]}`` with POSIX times.
Like the reliability audit, a measuring tool may read every service's tables;
the shop itself never does.
"""

import json
import os

import django


def probe() -> dict:
    from notifications.models import Notification
    from orders.models import Order, OrderEvent

    orders = {str(pk): [status, None, None, None] for pk, status in Order.objects.values_list("id", "status")}
    for column, kind in ((1, OrderEvent.Kind.CONFIRMED), (3, OrderEvent.Kind.PLACED)):
        for order_id, at in OrderEvent.objects.filter(kind=kind).values_list("order_id", "occurred_at"):
            orders[str(order_id)][column] = at.timestamp()
    sent = Notification.objects.filter(kind=Notification.Kind.ORDER_CONFIRMED, status=Notification.Status.SENT)
    for order_id, at in sent.values_list("order_id", "sent_at"):
        if str(order_id) in orders:
            orders[str(order_id)][2] = at.timestamp()
    return orders


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopsite.settings")
    django.setup()
    print(json.dumps(probe()))
