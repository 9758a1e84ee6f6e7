"""Django's PostgreSQL backend, with a health check that costs no round trip while the server has said nothing,
and room for more prepared statements on a connection (``PREPARED_MAX``).

With ``CONN_HEALTH_CHECKS`` (settings.py turns it on) Django checks a kept
connection before its first use in every request by sending ``SELECT 1``: a
round trip to the server, for every database a request touches. The checkout
touches three (accounts for the token, payments for the card, cart): three
checks beside its ten round trips of work (eight statements, BEGIN and
COMMIT), each one a wake-up of a server process.

A connection the server has ended is one it has written to before closing:
``pg_terminate_backend``, a restart or a crash all leave an error message or
the end of the stream on the socket. So an idle connection with nothing to
read is as usable as ``SELECT 1`` would find it, and one with something to
read, or in any state but idle, gets Django's own check. (A peer that vanished
without a word fools both: ``SELECT 1`` would wait on it as long as the next
query does.)
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg import pq


def _nothing_to_read(socket: int) -> bool:
    poller = select.poll()
    poller.register(socket, select.POLLIN | select.POLLPRI)
    return not poller.poll(0)


#: How many statements psycopg keeps prepared on a connection (its own default: 100). A consumer's batch writes its
#: inbox rows in one statement and its outbox rows in another, whose shapes depend on the batch's size (up to 32
#: and 64 rows), so a busy connection runs well over a hundred shapes; past the limit psycopg deallocates the
#: least recently used one, a round trip, and prepares it again when it comes back.
PREPARED_MAX = 500


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        connection.prepared_max = PREPARED_MAX
        return connection

    def is_usable(self) -> bool:
        connection = self.connection
        if connection is not None:
            pgconn = connection.pgconn
            if (pgconn.status == pq.ConnStatus.OK and pgconn.transaction_status == pq.TransactionStatus.IDLE
                    and _nothing_to_read(pgconn.socket)):
                return True
        return super().is_usable()
