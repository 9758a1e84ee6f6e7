"""Each service's outbox records only the message types it declares (``OutboxMessage.PUBLISHES``)."""

import uuid

import pytest
from django.apps import apps
from django.conf import settings
from django.db import transaction

from orders.models import OutboxMessage
from shopsite import contracts
from shopsite.bus.models import UndeclaredMessage


@pytest.mark.django_db(databases=["orders"], transaction=True)
def test_a_service_cannot_record_a_message_type_it_does_not_declare():
    stolen = contracts.StockReleased(order_id=uuid.uuid4(), lines=[])
    with pytest.raises(UndeclaredMessage, match=r"orders does not publish stock\.released .*orders\.models"):
        with transaction.atomic(using="orders"):
            OutboxMessage.record(stolen)
    assert not OutboxMessage.objects.exists()


def test_every_message_type_has_exactly_one_publishing_service():
    publishers = {}
    for service in settings.SERVICES:
        for kind in apps.get_model(service, "OutboxMessage").PUBLISHES:
            publishers.setdefault(kind.TYPE, []).append(service)
    assert {kind: len(services) for kind, services in publishers.items() if len(services) != 1} == {}
    assert sorted(publishers) == sorted(contracts.MESSAGE_TYPES)
