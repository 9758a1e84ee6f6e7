"""deploy/prometheus: the alert rules pass promtool's check and their own unit tests, every alert is tested
firing and quiet, says how bad it is and what to do, and the example configuration loads them."""

import re
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from tests.operations.promql import KNOWN_METRICS, assert_promtool_passes, metric_names, promtool

PROMETHEUS = settings.BASE_DIR / "deploy" / "prometheus"
RULES = PROMETHEUS / "alerts.yaml"
RULE_TESTS = PROMETHEUS / "alerts.test.yaml"
CONFIG = PROMETHEUS / "prometheus.yml"
OPERATING = settings.BASE_DIR / "docs" / "operating.md"


def _rules() -> list[dict]:
    return [rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]


def _alerts() -> list[dict]:
    return [rule for rule in _rules() if "alert" in rule]


def test_the_rules_pass_promtool_check():
    assert_promtool_passes("check", "rules", str(RULES))


def test_the_alerts_pass_their_unit_tests():
    assert_promtool_passes("test", "rules", str(RULE_TESTS))


def test_the_example_configuration_is_valid_and_loads_the_rules():
    assert_promtool_passes("check", "config", str(CONFIG))
    config = yaml.safe_load(CONFIG.read_text())
    assert config["rule_files"] == ["alerts.yaml"]


def test_every_alert_is_tested_firing_and_quiet():
    cases = [case for test in yaml.safe_load(RULE_TESTS.read_text())["tests"] for case in test["alert_rule_test"]]
    for alert in _alerts():
        own = [case for case in cases if case["alertname"] == alert["alert"]]
        assert any(case.get("exp_alerts") for case in own), f"no test where {alert['alert']} fires"
        assert any(not case.get("exp_alerts") for case in own), f"no test where {alert['alert']} stays quiet"


def test_every_alert_says_how_bad_it_is_and_what_to_do():
    runbook = OPERATING.read_text()
    for alert in _alerts():
        name = alert["alert"]
        assert alert["labels"]["severity"] in ("critical", "warning"), name
        assert alert["annotations"]["summary"] and alert["annotations"]["description"], name
        assert f"docs/operating.md#{name.lower()}" in alert["annotations"]["description"], name
        assert re.search(rf"^#+ {name}$", runbook, re.MULTILINE), f"docs/operating.md has no heading {name}"


def test_the_rules_read_only_the_agreed_metrics():
    recorded = {rule["record"] for rule in _rules() if "record" in rule}
    for rule in _rules():
        unknown = metric_names(rule["expr"]) - KNOWN_METRICS - recorded
        assert not unknown, f"{rule.get('alert') or rule.get('record')} reads unknown metrics {unknown}"


def test_the_rules_and_the_example_name_the_shops_services():
    services = "|".join(settings.SERVICES)
    listed = re.findall(r"\[\.\]\(([a-z|]+)\)", RULES.read_text())
    assert listed and set(listed) == {services}
    consumers = next(job for job in yaml.safe_load(CONFIG.read_text())["scrape_configs"]
                     if job["job_name"] == "shop-consumer")
    assert [target["labels"]["service"] for target in consumers["static_configs"]] == settings.SERVICES


def test_a_broken_rules_file_fails_the_check(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text(RULES.read_text().replace("rate(shop_handler_duration_seconds_bucket[5m])",
                                                "rate(shop_handler_duration_seconds_bucket[5m]", 1))
    assert promtool("check", "rules", str(broken)).returncode != 0
    with pytest.raises(AssertionError, match="parse error"):
        assert_promtool_passes("check", "rules", str(broken))


def test_a_wrong_expectation_fails_the_unit_tests(tmp_path):
    """ShopWebDown waits a minute: a test that expects it at once must fail."""
    impatient = tmp_path / "impatient.test.yaml"
    impatient.write_text(yaml.safe_dump({
        "rule_files": [str(RULES)],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": [{"series": 'up{job="shop-web",instance="127.0.0.1:8000"}', "values": "0 0"}],
            "alert_rule_test": [{"eval_time": "0m", "alertname": "ShopWebDown", "exp_alerts": [
                {"exp_labels": {"severity": "critical", "job": "shop-web", "instance": "127.0.0.1:8000"}}]}],
        }],
    }))
    with pytest.raises(AssertionError, match="FAILED"):
        assert_promtool_passes("test", "rules", str(impatient))


@pytest.mark.parametrize(("expr", "names"), [
    ('histogram_quantile(0.99, sum by (service, le) (rate(a_bucket{le="1.0"}[5m]))) > 1', {"a_bucket"}),
    ("b offset 5m and on (job, instance) (up offset 5m == 1) or c", {"b", "up", "c"}),
    ('label_replace(d, "service", "$1", "queue", ".+[.]([a-z]+)") / ignoring (x) e', {"d", "e"}),
    ("sum(rate(f[1m])) by (service) * 1e3", {"f"}),
])
def test_metric_names_are_read_out_of_promql(expr, names):
    assert metric_names(expr) == names
