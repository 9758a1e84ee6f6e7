from django.db import models

from shopsite.bus import models as bus


class OutboxMessage(bus.OutboxMessage):
    pass


class InboxMessage(bus.InboxMessage):
    pass
