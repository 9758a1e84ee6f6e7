"""deploy/grafana/shop.json: a Grafana dashboard whose every query parses and reads only the agreed metrics,
through the data source chosen in its `datasource` variable."""

import copy
import json
import re

import pytest
from django.conf import settings

from tests.operations.promql import KNOWN_METRICS, assert_expressions_parse, metric_names

DASHBOARD = settings.BASE_DIR / "deploy" / "grafana" / "shop.json"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
#: What Grafana puts in for its own variables and the dashboard's, for the check: any value of the right kind.
SUBSTITUTES = {"__rate_interval": "5m", "__interval": "1m", "__range": "1h", "service": "orders|cart"}


@pytest.fixture(scope="module")
def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def panels(dashboard: dict) -> list[dict]:
    found = []
    for panel in dashboard["panels"]:
        found += [panel] if panel["type"] != "row" else panel.get("panels", [])
    return found


def expressions(dashboard: dict) -> dict[str, str]:
    """Every query of the dashboard by where it is, with the variables put in."""
    found = {f"{panel['title']} {target['refId']}": target["expr"]
             for panel in panels(dashboard) for target in panel.get("targets", [])}
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            selector = re.fullmatch(r"label_values\((.+),\s*\w+\)", variable["definition"])
            found[f"variable {variable['name']}"] = selector.group(1)
    return {where: _substituted(expr) for where, expr in found.items()}


def _substituted(expr: str) -> str:
    return re.sub(r"\$\{?(\w+)\}?", lambda match: SUBSTITUTES.get(match.group(1), match.group(0)), expr)


def problems(queries: dict[str, str]) -> list[str]:
    found = []
    for where, expr in queries.items():
        if "$" in expr:
            found.append(f"{where}: unknown variable in {expr}")
        if unknown := metric_names(expr) - KNOWN_METRICS:
            found.append(f"{where}: unknown metrics {sorted(unknown)}")
    return found


def test_the_dashboard_is_a_current_grafana_dashboard(dashboard):
    assert dashboard["schemaVersion"] >= 39
    assert dashboard["uid"] and dashboard["title"]
    variables = {variable["name"]: variable for variable in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    service = variables["service"]
    assert service["type"] == "query" and service["datasource"] == DATASOURCE
    assert service["definition"].startswith("label_values(") and service["includeAll"] and service["multi"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))


def test_every_panel_queries_the_chosen_data_source(dashboard):
    for panel in panels(dashboard):
        assert panel["datasource"] == DATASOURCE, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == DATASOURCE and target["expr"], panel["title"]
        assert 0 <= panel["gridPos"]["x"] and panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24, panel["title"]


def test_the_panels_cover_the_shops_metrics(dashboard):
    read = set().union(*(metric_names(expr) for expr in expressions(dashboard).values()))
    shop_metrics = {name for name in KNOWN_METRICS if name.startswith("shop_")}
    histogram_sums = {name for name in shop_metrics if name.endswith(("_sum", "_count"))} - {
        "shop_batch_size_sum", "shop_batch_size_count"}
    assert shop_metrics - histogram_sums - read == set()
    assert {"rabbitmq_queue_messages_ready", "rabbitmq_queue_messages_unacked"} <= read


def test_every_query_reads_only_agreed_metrics_and_known_variables(dashboard):
    assert problems(expressions(dashboard)) == []


def test_every_query_parses(dashboard):
    assert_expressions_parse(expressions(dashboard))


def test_a_wrong_query_is_found(dashboard):
    broken = copy.deepcopy(dashboard)
    targets = panels(broken)[0]["targets"]
    targets[0]["expr"] = targets[0]["expr"].replace("shop_messages_handled_total", "shop_messages_handeld_total")
    targets[1]["expr"] = targets[1]["expr"].replace("$service", "$servcie")
    found = problems(expressions(broken))
    assert len(found) == 2
    assert "shop_messages_handeld_total" in found[0] and "$servcie" in found[1]
    targets[1]["expr"] = "sum by (service) (rate(shop_messages_handled_total[5m])"
    with pytest.raises(AssertionError, match="parse error"):
        assert_expressions_parse(expressions(broken))
