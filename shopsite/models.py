"""Permissions of the staff console that belong to no service's table."""

from django.db import models


class BusConsole(models.Model):
    """No table: it only carries the bus console's two permissions.

    The console shows every service's messages (customer addresses and emails
    among them) and its replay puts parked messages back on the bus, so being
    staff is not enough: a user needs these (a superuser has them all).
    """

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_bus_console", "Can see the bus console: outboxes, inboxes, dead letters and message traces"),
            ("replay_dead_letters", "Can send dead letters back to their queue"),
        ]


VIEW_PERMISSION = "shopsite.view_bus_console"
REPLAY_PERMISSION = "shopsite.replay_dead_letters"
