from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from shopsite.bus.connection import BROKER_ERRORS, addresses, connect, declare_all, node_parameters, urls
from shopsite.bus.names import Names


class Command(BaseCommand):
    help = "Declare the exchange and every service's queues (idempotent)."

    def handle(self, *args, **options):
        try:
            connection = connect()
        except BROKER_ERRORS as exc:
            raise CommandError(broker_missing_message(exc)) from exc
        declare_all(connection.channel())
        connection.close()
        names = Names.configured()
        self.stdout.write(f"Declared {names.exchange} and the queues of {', '.join(settings.SERVICES)}")


def broker_missing_message(exc: BaseException) -> str:
    return (
        f"RabbitMQ is not reachable at {broker_address()} ({type(exc).__name__}).\n"
        "Start it first, for example `sudo systemctl start rabbitmq-server` or `rabbitmq-server -detached` "
        "(Debian/Ubuntu: `sudo apt-get install rabbitmq-server`; macOS: `brew services start rabbitmq`), "
        "or point BUS_URL at a running broker."
    )


def broker_address() -> str:
    # hosts, ports and vhost only: never the credentials
    return f"{addresses()} (vhost {node_parameters(urls()[0]).virtual_host!r})"
