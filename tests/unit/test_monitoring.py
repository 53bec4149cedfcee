#!/usr/bin/python3
"""deploy/prometheus and deploy/grafana: promtool checks the rules, runs their
unit tests and checks the compose stack's Prometheus configuration; every
metric and label the rules and the dashboard use is one a service declares
(tests/unit/wbmetrics.py reads the wb_counter/wb_gauge/wb_histogram calls),
so renaming a metric breaks this test; the dashboard has its datasource
variable and its panels in the order of the issue. The services' real
/metrics output is checked by tests/e2e/test_metrics_promtool.py."""
import json
import pathlib
import subprocess
import sys
import tempfile

import yaml

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import wbmetrics  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "e2e"))
from harness import ROOT, Reporter  # noqa: E402

PROM = ROOT / "deploy" / "prometheus"
RULES = PROM / "wmsbridge-rules.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "wmsbridge-dashboard.json"
SERVICES = {"order-ingest", "catalog-ingest", "stock-publisher", "fulfilment-reporter"}


def promtool(*args, cwd=PROM):
    p = subprocess.run(["promtool", *args], capture_output=True, text=True, cwd=cwd, timeout=120)
    return p.returncode, p.stdout + p.stderr


def rules():
    return yaml.safe_load(RULES.read_text())["groups"][0]["rules"]


def dashboard():
    return json.loads(DASHBOARD.read_text())


def panels():
    return [p for p in dashboard()["panels"] if p["type"] != "row"]


# ---------------------------------------------------------------- cases


def check_rules():
    code, out = promtool("check", "rules", str(RULES))
    assert code == 0, out
    assert "SUCCESS" in out, out
    # promtool does refuse a broken rule (so the check above means something).
    with tempfile.TemporaryDirectory() as tmp:
        bad = pathlib.Path(tmp) / "bad-rules.yml"
        bad.write_text("groups:\n  - name: x\n    rules:\n      - alert: X\n        expr: sum(rate(x[5m])\n")
        code, out = promtool("check", "rules", str(bad))
        assert code != 0, out


def rule_unit_tests():
    code, out = promtool("test", "rules", "wmsbridge-rules.test.yml")
    assert code == 0, out
    tests = yaml.safe_load((PROM / "wmsbridge-rules.test.yml").read_text())["tests"]
    tested = {a["alertname"] for t in tests for a in t.get("alert_rule_test", []) if a.get("exp_alerts")}
    assert len(tested) >= 2, tested
    assert {"WmsbridgeConsumerLagGrowing", "WmsbridgeDeadLetters", "WmsbridgeStoreFailing",
            "WmsbridgeStockWindowOverdue", "WmsbridgeServiceDown"} <= tested, tested


def alerts_of_the_issue():
    names = {r["alert"] for r in rules()}
    for alert in ("WmsbridgeConsumerLagGrowing", "WmsbridgeDeadLetters", "WmsbridgeStoreFailing",
                  "WmsbridgeStockWindowOverdue", "WmsbridgeServiceDown"):
        assert alert in names, alert
    for r in rules():
        assert r["labels"]["severity"] in ("warning", "critical"), r
        assert r["annotations"].get("summary"), r
    down = {r["labels"]["service"] for r in rules() if r["alert"] == "WmsbridgeServiceDown"}
    assert down == SERVICES, down


def prometheus_config():
    code, out = promtool("check", "config", "prometheus.yml")
    assert code == 0, out
    cfg = yaml.safe_load((PROM / "prometheus.yml").read_text())
    assert cfg["rule_files"] == ["wmsbridge-rules.yml"], cfg["rule_files"]
    job = next(j for j in cfg["scrape_configs"] if j["job_name"] == "wmsbridge")
    labelled = {c["labels"]["service"]: c["targets"] for c in job["static_configs"]}
    assert set(labelled) == SERVICES, labelled
    # The compose service names and their default ports.
    ports = {"order-ingest": 8081, "catalog-ingest": 8082, "stock-publisher": 8083, "fulfilment-reporter": 8084}
    for svc, targets in labelled.items():
        assert targets == [f"{svc}:{ports[svc]}"], targets


def declared_metrics():
    metrics = wbmetrics.declared()
    # The parser finds the library's and every service's metrics.
    for name in ("wb_kafka_consumer_lag", "wb_deadletters_total", "wb_shop_calls_total", "wb_orders_total",
                 "wb_stock_events_total", "wb_fulfilment_events_total", "wb_catalog_items_total"):
        assert name in metrics, (name, sorted(metrics))
    assert metrics["wb_kafka_consumer_lag"]["labels"] == {"group", "topic", "partition"}
    assert metrics["wb_shop_call_seconds"]["type"] == "histogram"
    return metrics


def rules_use_exported_metrics():
    metrics = wbmetrics.declared()
    problems = []
    for r in rules():
        problems += [f"{r['alert']}: {p}" for p in wbmetrics.check_expression(r["expr"], metrics)]
    assert not problems, problems
    used = {m.group(1) for r in rules() for m in wbmetrics.SELECTOR.finditer(r["expr"])}
    assert "wb_kafka_consumer_lag" in used and "wb_stock_oldest_window_overdue_seconds" in used, used


def dashboard_uses_exported_metrics():
    metrics = wbmetrics.declared()
    problems = []
    exprs = [t["expr"] for p in panels() for t in p["targets"]]
    exprs += [v["definition"] for v in dashboard()["templating"]["list"] if v["type"] == "query"]
    for e in exprs:
        problems += [f"{e[:60]}: {p}" for p in wbmetrics.check_expression(e, metrics)]
    assert not problems, problems
    assert len(exprs) >= 15, len(exprs)


def checker_refuses_renamed_metrics():
    metrics = wbmetrics.declared()
    bad = {
        "sum(rate(wb_shop_calls[5m]))": "no service exports it",
        'wb_kafka_consumer_lag{partition="1", store="x"}': "no label 'store'",
        "histogram_quantile(0.9, rate(wb_shop_call_seconds[5m]))": "is a histogram",
        "rate(wb_orders_total_bucket[5m])": "is a counter, not a histogram",
        "sum by (warehouse) (wb_kafka_consumer_lag)": "grouping by 'warehouse'",
    }
    for expr, why in bad.items():
        problems = wbmetrics.check_expression(expr, metrics)
        assert any(why in p for p in problems), (expr, problems)
    assert wbmetrics.check_expression('sum by (le) (rate(wb_shop_call_seconds_bucket{store="a"}[5m]))',
                                      metrics) == []


def dashboard_structure():
    d = dashboard()
    variables = {v["name"]: v for v in d["templating"]["list"]}
    ds = variables["datasource"]
    assert ds["type"] == "datasource" and ds["query"] == "prometheus", ds
    for p in panels():
        assert p["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, p["title"]
        for t in p["targets"]:
            assert t["datasource"]["uid"] == "${datasource}", p["title"]
    ids = [p["id"] for p in d["panels"]]
    assert len(ids) == len(set(ids)), ids
    assert d["uid"] and d["title"], d
    # No two panels overlap on the 24-column grid.
    cells = set()
    for p in d["panels"]:
        g = p["gridPos"]
        assert g["x"] + g["w"] <= 24, p["title"]
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                assert (x, y) not in cells, f"{p['title']} overlaps another panel"
                cells.add((x, y))


def dashboard_order():
    """Consumer lag per topic and partition first, then orders per minute, stock
    events in vs shop calls out, API outcomes per store, dead letters, latency."""
    ps = sorted(panels(), key=lambda p: (p["gridPos"]["y"], p["gridPos"]["x"]))
    first = ps[0]
    assert "wb_kafka_consumer_lag" in first["targets"][0]["expr"], first["title"]
    assert "partition" in first["targets"][0]["expr"] and "topic" in first["targets"][0]["expr"]

    def index(pred, what):
        for i, p in enumerate(ps):
            if pred(p):
                return i
        raise AssertionError(f"no panel for {what}")

    def exprs(p):
        return " ".join(t["expr"] for t in p["targets"])

    order = [
        index(lambda p: "wb_orders_total" in exprs(p) and "* 60" in exprs(p), "orders per minute"),
        index(lambda p: "wb_stock_events_total" in exprs(p) and "wb_shop_calls_total" in exprs(p),
              "stock events in vs shop calls out"),
        index(lambda p: "wb_shop_calls_total" in exprs(p) and "store, outcome" in exprs(p), "API outcomes per store"),
        index(lambda p: "wb_deadletters_total" in exprs(p), "dead letters"),
        index(lambda p: "histogram_quantile" in exprs(p) and "wb_stock_end_to_end_seconds" in exprs(p),
              "end-to-end latency"),
    ]
    assert order == sorted(order) and order[0] > 0, order
    ratio = [p for p in ps if "wb_stock_events_coalesced_total" in exprs(p)]
    assert ratio and "/" in exprs(ratio[0]), "no coalescing ratio panel"


def main():
    rep = Reporter()
    rep.run("promtool_check_rules", check_rules)
    rep.run("promtool_test_rules", rule_unit_tests)
    rep.run("rules_cover_the_issue_alerts", alerts_of_the_issue)
    rep.run("promtool_check_compose_prometheus_config", prometheus_config)
    rep.run("declared_metrics_parsed_from_sources", declared_metrics)
    rep.run("rules_use_only_exported_metrics_and_labels", rules_use_exported_metrics)
    rep.run("dashboard_uses_only_exported_metrics_and_labels", dashboard_uses_exported_metrics)
    rep.run("metric_checker_refuses_renamed_metrics", checker_refuses_renamed_metrics)
    rep.run("dashboard_datasource_variable_ids_and_grid", dashboard_structure)
    rep.run("dashboard_panel_order", dashboard_order)
    return 1 if rep.failures else 0


if __name__ == "__main__":
    sys.exit(main())
