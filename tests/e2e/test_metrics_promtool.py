#!/usr/bin/env python3
"""The four services as processes against the stack, given a little work each
(a stock event, a broken fulfilment event that becomes a dead letter, webhooks
for a store that does not exist) so their labelled counters and histograms
have series; then `promtool check metrics` on each /metrics, and every
metric a service exports is one tests/unit/wbmetrics.py finds declared in the
sources with the same type and labels (which keeps the dashboard and rules
check of tests/unit/test_monitoring.py honest). shopsim and wmssim serve no
/metrics, so they have nothing to check."""
import pathlib
import subprocess
import sys
import uuid

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "unit"))
import harness as h  # noqa: E402
import wbmetrics  # noqa: E402

SERVICES = ["order-ingest", "catalog-ingest", "stock-publisher", "fulfilment-reporter"]
RUN = uuid.uuid4().hex[:8]


def promtool_check(text):
    p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    return p.returncode, (p.stdout + p.stderr).strip()


def metrics_of(proc):
    status, text = h.http("GET", f"http://127.0.0.1:{proc.port}/metrics")
    assert status == 200, (status, text[:300])
    return text


def promtool_lints():
    """promtool does complain about a badly named metric (so a pass means something)."""
    code, out = promtool_check("# HELP wb_things Things.\n# TYPE wb_things counter\nwb_things 1\n")
    assert code != 0 and "_total" in out, (code, out)
    code, out = promtool_check("# HELP wb_things_total Things.\n# TYPE wb_things_total counter\n"
                               "wb_things_total 1\n")
    assert code == 0, out


def work(procs):
    """Something for each service to count."""
    owner = f"ops-{RUN}"
    h.produce("wms.stock.v1", [(f"{owner}/SKU-1", {
        "schema": "wms.stock.v1", "event_id": str(uuid.uuid4()), "type": "snapshot", "goods_owner": owner,
        "warehouse": "WH1", "sku": "SKU-1", "on_hand": 5, "reserved": 0, "version": 1,
        "occurred_at": "2026-11-25T04:00:00Z"})])
    h.produce("wms.fulfilment.v1", [(f"ops-{RUN}/1", "this is not JSON")])
    for platform in ("woocommerce", "shopify"):
        h.http("POST", f"http://127.0.0.1:{procs['order-ingest'].port}/webhooks/{platform}/nostore-{RUN}",
               {"id": 1})
        h.http("POST", f"http://127.0.0.1:{procs['catalog-ingest'].port}/webhooks/{platform}/nostore-{RUN}",
               {"id": 1})


def check_service(name, proc, declared):
    def ready():
        text = metrics_of(proc)
        if name == "stock-publisher":
            return "wb_stock_events_total{" in text and "wb_kafka_consumer_lag{" in text and text
        if name == "fulfilment-reporter":
            return "wb_deadletters_total{" in text and "wb_kafka_consumer_lag{" in text and text
        return "wb_http_requests_total{" in text and text
    # The richer output is preferred, not required: on a shared stack a
    # consumer may still be busy with older messages of its group.
    try:
        text = h.wait_for(f"{name} metrics with series", ready, timeout=60, interval=0.5)
    except AssertionError:
        text = metrics_of(proc)
    code, out = promtool_check(text)
    assert code == 0, f"promtool check metrics: {out}"
    exported = wbmetrics.parse_exposition(text)
    assert exported, text[:300]
    for metric, info in exported.items():
        assert metric in declared, f"{metric} is exported but the sources declare no such metric"
        assert info["type"] == declared[metric]["type"], (metric, info["type"], declared[metric]["type"])
        assert info["labels"] <= declared[metric]["labels"], (metric, info["labels"], declared[metric]["labels"])
    return exported


def main():
    rep = h.Reporter()
    rep.run("promtool_check_metrics_refuses_bad_names", promtool_lints)
    declared = wbmetrics.declared()
    procs = {}
    try:
        extra = {"WB_KAFKA_STATS_INTERVAL_MS": "500"}
        for name in SERVICES:
            procs[name] = h.service(name, extra)
        for name, proc in procs.items():
            h.wait_for(f"{name} ready", lambda p=proc: h.http("GET", f"http://127.0.0.1:{p.port}/readyz")[0] == 200,
                       timeout=60, interval=0.3)
        work(procs)
        for name in SERVICES:
            rep.run(f"promtool_check_metrics_{name.replace('-', '_')}", check_service, name,
                                 procs[name], declared)
        # what the dashboard's first panel needs is there
        lag = lambda: "wb_kafka_consumer_lag{group=" in metrics_of(procs["stock-publisher"])  # noqa: E731
        rep.run("consumer_lag_gauge_per_topic_and_partition", lambda: h.wait_for("lag gauge", lag, 30))
        for name, proc in procs.items():
            rep.run(f"stops_cleanly_{name.replace('-', '_')}", h.assert_clean_stop, proc)
    finally:
        for proc in procs.values():
            proc.cleanup()
    return 1 if rep.failures else 0


if __name__ == "__main__":
    sys.exit(main())
