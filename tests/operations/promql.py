"""What the alert and dashboard tests share: promtool, and the metric names a PromQL expression may use.

promtool comes with Debian's ``prometheus`` package (``bin/test`` installs it). Without it these tests are
skipped on a developer's machine and fail in CI.
"""

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import yaml

from tests.system_tools import unavailable

#: The metric names agreed for issue 15 (docs/operating.md): the shop's own, with the series a histogram
#: and the default process collector expose, RabbitMQ's per-object ones the rules and dashboard read, and `up`.
_COUNTERS = ["handled", "duplicate", "failed", "retried", "parked"]
_HISTOGRAMS = ["shop_handler_duration_seconds", "shop_batch_duration_seconds", "shop_batch_size",
               "shop_publish_confirm_seconds"]
KNOWN_METRICS = frozenset(
    [f"shop_messages_{counter}_total" for counter in _COUNTERS]
    + [f"{histogram}_{series}" for histogram in _HISTOGRAMS for series in ("bucket", "sum", "count")]
    + ["shop_outbox_unsent", "shop_outbox_oldest_unsent_age_seconds", "shop_consumer_connected",
       "shop_checkouts_total", "shop_orders_finished_total", "process_start_time_seconds"]
    # As rabbitmq_prometheus 3.10 serves them at /metrics/per-object, each labelled {vhost, queue}.
    + ["rabbitmq_queue_messages_ready", "rabbitmq_queue_messages_unacked", "rabbitmq_queue_messages",
       "rabbitmq_queue_consumers"]
    + ["up"]
)

_KEYWORDS = {"and", "or", "unless", "bool", "inf", "nan", "offset", "by", "without", "on", "ignoring",
             "group_left", "group_right"}


def promtool(*args: str) -> subprocess.CompletedProcess:
    executable = shutil.which("promtool")
    if executable is None:
        unavailable("promtool is not installed (`sudo apt-get install prometheus`)")
    return subprocess.run([executable, *args], capture_output=True, text=True, timeout=60)


def assert_promtool_passes(*args: str) -> None:
    result = promtool(*args)
    assert result.returncode == 0, f"promtool {' '.join(args)}:\n{result.stdout}{result.stderr}"


def assert_expressions_parse(expressions: dict[str, str]) -> None:
    """Each expression, named, parses as PromQL: promtool checks them as recording rules of a file of their own
    (it has no check for a lone expression)."""
    rules = [{"record": f"check:{re.sub(r'[^a-zA-Z0-9_]', '_', name)}", "expr": expr}
             for name, expr in expressions.items()]
    with tempfile.TemporaryDirectory(prefix="promql-") as folder:
        path = Path(folder) / "expressions.yaml"
        path.write_text(yaml.safe_dump({"groups": [{"name": "expressions", "rules": rules}]}))
        assert_promtool_passes("check", "rules", str(path))


def metric_names(expr: str) -> set[str]:
    """The metric names an expression reads: its identifiers, less functions, keywords, label names (in
    matchers and in by/on clauses), strings, durations and numbers."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    expr = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    expr = re.sub(r"\boffset\s+-?\w+", "", expr)
    names = set()
    for match in re.finditer(r"(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?", expr):
        name, is_call = match.groups()
        if not is_call and name.lower() not in _KEYWORDS:
            names.add(name)
    return names
