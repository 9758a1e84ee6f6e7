"""Names of everything the shop declares on the broker, all under one prefix."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class Names:
    prefix: str

    @classmethod
    def configured(cls) -> Names:
        return cls(settings.BUS["PREFIX"])

    @property
    def exchange(self) -> str:
        return f"{self.prefix}.events"

    def queue(self, service: str) -> str:
        return f"{self.prefix}.{service}"

    def retry_queue(self, service: str, delay: float) -> str:
        # The delay is in the name: changing the delays declares new queues
        # instead of clashing with the arguments of the old ones.
        return f"{self.prefix}.{service}.retry.{int(delay * 1000)}ms"

    def dead_letter_queue(self, service: str) -> str:
        return f"{self.prefix}.{service}.dead"
