"""Log lines that say which flow they belong to."""

import logging

from . import context


class CorrelationFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "correlation_id"):
            current = context.current()
            record.correlation_id = str(current.correlation_id) if current else "-"
        return True
