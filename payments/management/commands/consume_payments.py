from shopsite.bus.commands import ConsumeCommand


class Command(ConsumeCommand):
    service = "payments"
