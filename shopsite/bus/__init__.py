"""The shop's message bus: envelope, outbox, relay and idempotent consumer."""
