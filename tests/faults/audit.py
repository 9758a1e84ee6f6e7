"""What must be true once every flow has settled, read from the services' databases.

Run inside a shop's environment (``python -m tests.faults.audit``): it prints
one JSON object. With ``--serve`` it stays up and prints one for each line it
reads (harness.Auditor): a test that polls for the settled state starts Django
once, not once a poll. Test code may read every service's tables; the shop never does.
"""

import json
import os
import sys
import traceback
from collections import Counter
from decimal import Decimal

import django


def audit() -> dict:
    from django.apps import apps
    from django.conf import settings
    from django.db.models import Sum

    Order = apps.get_model("orders", "Order")
    Product = apps.get_model("catalog", "Product")
    Charge = apps.get_model("payments", "Charge")
    Notification = apps.get_model("notifications", "Notification")

    statuses = Counter(Order.objects.values_list("status", flat=True))
    confirmed = set(Order.objects.filter(status__in=["confirmed", "shipped", "delivered"]).values_list("id", flat=True))
    cancelled = set(Order.objects.filter(status="cancelled").values_list("id", flat=True))

    charges = Counter()
    net_paid_for_cancelled = Decimal("0")
    for order_id, status, amount, refunded in Charge.objects.values_list("order_id", "status", "amount", "refunded_amount"):
        if status == "succeeded":
            charges[order_id] += 1
            if order_id in cancelled:
                net_paid_for_cancelled += amount - refunded

    emails = Counter(
        Notification.objects.filter(kind="order_confirmed", status="sent").values_list("order_id", flat=True)
    )
    unsent = {
        service: apps.get_model(service, "OutboxMessage").objects.filter(sent_at__isnull=True).count()
        for service in settings.SERVICES
    }
    stock = Product.objects.aggregate(
        on_hand=Sum("stock_on_hand"), reserved=Sum("stock_reserved"), sold=Sum("stock_sold")
    )
    return {
        "orders": sum(statuses.values()),
        "statuses": dict(statuses),
        "not_final": sum(n for s, n in statuses.items() if s in ("pending", "awaiting_payment")),
        "confirmed": len(confirmed),
        "cancelled": len(cancelled),
        "confirmed_without_one_charge": sum(1 for o in confirmed if charges[o] != 1),
        "double_charges": sum(1 for n in charges.values() if n > 1),
        "net_paid_for_cancelled": str(net_paid_for_cancelled),
        "confirmed_without_one_email": sum(1 for o in confirmed if emails[o] != 1),
        "confirmed_not_emailed_yet": sum(1 for o in confirmed if emails[o] == 0),
        "unsent_outbox": unsent,
        "stock": {k: v or 0 for k, v in stock.items()},
        "products": {
            p.id: [p.stock_on_hand, p.stock_reserved, p.stock_sold] for p in Product.objects.all()
        },
    }


def serve() -> None:
    """One audit for each line read from stdin, as one line of JSON; a failed one as ``{"error": traceback}``.

    Every query runs in autocommit, so each audit reads what the services have committed by then.
    """
    for _ in sys.stdin:
        try:
            answer = audit()
        except Exception:  # the caller fails the test with it, as it did the subprocess's exit code
            answer = {"error": traceback.format_exc()}
        finally:
            from django.db import close_old_connections

            close_old_connections()
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopsite.settings")
    django.setup()
    if sys.argv[1:] == ["--serve"]:
        serve()
    else:
        print(json.dumps(audit()))
