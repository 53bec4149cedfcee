#!/usr/bin/env python3
"""bridgectl status against running services: stock-publisher and
fulfilment-reporter up and ready, the other two down; consumer lag per group,
topic and partition from Kafka (a stock event held in an open window keeps
its partition's offset uncommitted: lag 1 there); per store the last order,
the last stock flush, pending windows with the oldest one's age, the rate
budget and dead letters; a stopped service shows as down; bad usage exits 2."""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402

RUN = f"{os.getpid() % 100000}{int(time.time()) % 100000}"
OWNER = f"stown{RUN}"
FLUSH, HOLD = f"stflush{RUN}", f"sthold{RUN}"
STOCK_GROUP, FULFIL_GROUP = f"st-stock-{RUN}", f"st-fulfil-{RUN}"
R = h.Reporter()


class World:
    sim = None
    publisher = None
    reporter = None
    skus = {}
    hold_partition = None


W = World()


def env():
    e = {"WB_STOCK_GROUP": STOCK_GROUP, "WB_FULFIL_GROUP": FULFIL_GROUP,
         "WB_ORDER_INGEST_URL": "http://127.0.0.1:1", "WB_CATALOG_INGEST_URL": "http://127.0.0.1:1",
         "WB_STOCK_PUBLISHER_URL": f"http://127.0.0.1:{W.publisher.port}",
         "WB_FULFILMENT_REPORTER_URL": f"http://127.0.0.1:{W.reporter.port if W.reporter else 1}"}
    return e


def ctl(*args, extra=None, drop=()):
    e = dict(os.environ, WB_MASTER_KEY=h.MASTER_KEY, **env())
    e.update(extra or {})
    for name in drop:
        e.pop(name, None)
    return subprocess.run([str(h.BUILD / "bin" / "bridgectl"), *args], env=e, capture_output=True, text=True,
                          timeout=120)


def status():
    p = ctl("status", "--json")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def store(rep, sid):
    return next(s for s in rep["stores"] if s["id"] == sid)


def setup():
    W.sim = h.Shopsim()
    h.bridgectl("db", "migrate")
    for sid, window in ((FLUSH, "0"), (HOLD, "3600")):
        W.sim.call("POST", "/_sim/stores", {"id": sid, "platform": "woocommerce"})
        p = W.sim.call("POST", f"/_sim/stores/{sid}/seed",
                       {"products": 1, "variants": 1, "stock": 0, "sku_prefix": f"X{sid}"})[0]
        W.skus[sid] = p["variants"][0]["sku"]
        h.bridgectl("store", "add", sid, "--platform", "woocommerce", "--url", f"{W.sim.base}/{sid}",
                    "--owner", OWNER, "--credentials", "-",
                    stdin=json.dumps({"consumer_key": f"ck_{sid}", "consumer_secret": f"cs_{sid}",
                                      "webhook_secret": "shopsim-secret"}))
        h.bridgectl("store", "set", sid, "window_seconds", window)
        h.bridgectl("location", "map", sid, "default", "WH1", "--default")
        h.psql(f"INSERT INTO product_mappings (store_id, shop_product_id, shop_variant_id, inventory_item_id, sku) "
               f"VALUES ({h.sql_literal(sid)}, '{p['id']}', '', '', {h.sql_literal(W.skus[sid])})")
    for topic, group in (("wms.fulfilment.v1", FULFIL_GROUP), ("wms.stock.v1", STOCK_GROUP)):
        p = subprocess.run([str(h.BUILD / "bin" / "testkafka"), "seek-end", topic, group],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
    W.publisher = h.service("stock-publisher", {
        "WB_STOCK_GROUP": STOCK_GROUP, "WB_STOCK_ROUTES_REFRESH_MS": "500", "WB_STOCK_FLUSH_INTERVAL_MS": "100",
        "WB_STOCK_COMMIT_INTERVAL_MS": "200", "WB_STOCK_RETRY_MS": "500"})
    W.reporter = h.service("fulfilment-reporter", {"WB_FULFIL_GROUP": FULFIL_GROUP})
    h.psql(f"INSERT INTO ingested_orders (store_id, shop_order_id, version, last_event_id, created_at) "
           f"VALUES ({h.sql_literal(FLUSH)}, '1', '1', 'e1', '2026-11-20T08:00:00Z')")
    letter = {"reason": "status test", "service": "order-ingest", "store_id": HOLD,
              "source": {"kind": "webhook", "path": f"/webhooks/woocommerce/{HOLD}"}, "key": None,
              "original_base64": "e30=", "original_size": 2, "dead_at": "2026-11-25T10:00:00.000Z"}
    h.produce("bridge.deadletter.v1", [(HOLD, letter)])
    ev = lambda sku, n: (f"{OWNER}/{sku}", {"goods_owner": OWNER, "warehouse": "WH1", "sku": sku,  # noqa: E731
                                            "on_hand": n, "reserved": 0, "version": 1, "movement": "adjustment",
                                            "occurred_at": "2026-11-25T10:00:00Z"})
    h.produce("wms.stock.v1", [ev(W.skus[FLUSH], 7), ev(W.skus[HOLD], 9)])
    h.wait_for("the flushed value", lambda: W.sim.call("GET", f"/_sim/stores/{FLUSH}/stock?sku={W.skus[FLUSH]}")[0]
               ["available"] == 7, 60, 0.5)
    mine = [p for (p, _, k, _) in h.consume("wms.stock.v1", f"{OWNER}/", idle_seconds=2)
            if k == f"{OWNER}/{W.skus[HOLD]}"]
    W.hold_partition = mine[0]


def test_services_up_and_down():
    rep = status()
    by = {s["name"]: s for s in rep["services"]}
    assert by["stock-publisher"]["healthz"] == "up" and by["stock-publisher"]["readyz"] == "ready", by
    assert by["fulfilment-reporter"]["healthz"] == "up" and by["fulfilment-reporter"]["readyz"] == "ready", by
    assert by["order-ingest"]["healthz"] == "down" and by["catalog-ingest"]["readyz"] == "down", by


def test_per_store_facts():
    def ready():
        rep = status()
        return rep if store(rep, HOLD)["pending_windows"] == 1 and store(rep, FLUSH)["last_stock_flush_at"] else None
    rep = h.wait_for("a pending window and a flush", ready, 60, 1)
    f, hold = store(rep, FLUSH), store(rep, HOLD)
    assert f["last_order_at"] == "2026-11-20T08:00:00Z" and hold["last_order_at"] is None, (f, hold)
    assert f["pending_windows"] == 0 and f["oldest_window_age_s"] is None, f
    assert hold["last_stock_flush_at"] is None and 0 <= hold["oldest_window_age_s"] < 600, hold
    assert hold["dead_letters"] == 1 and hold["dead_letters_not_replayed"] == 1 and f["dead_letters"] == 0, hold
    # The rate budget is the stock path's bucket in Redis when it keeps one.
    key = f"wb:{{{FLUSH}}}:ratebucket"
    url = os.environ["WB_REDIS_URL"].split("//")[1].split("/")[0]
    host, port = url.rsplit("@", 1)[-1].split(":")
    held = subprocess.run(["redis-cli", "-h", host, "-p", port, "EXISTS", key], capture_output=True, text=True).stdout
    if held.strip() == "1":
        assert f["rate_budget"] and f["rate_budget"]["available"] >= 0, f
    else:
        assert f["rate_budget"] is None, f
    human = ctl("status").stdout
    line = next(l for l in human.splitlines() if l.startswith(HOLD))
    assert " 1 " in line and "1 (1 not replayed)" in line, line


def test_consumer_lag_per_partition():
    def rows():
        rep = status()
        mine = [r for r in rep["consumer_lag"] if r["group"] == STOCK_GROUP and r["topic"] == "wms.stock.v1"]
        held = [r for r in mine if r["partition"] == W.hold_partition]
        return mine if held and held[0]["lag"] == 1 else None
    mine = h.wait_for("lag 1 on the held partition", rows, 60, 1)
    assert len(mine) == 12, mine
    others = [r for r in mine if r["partition"] != W.hold_partition and r["lag"] != 0]
    assert not others, others
    fulfil = [r for r in status()["consumer_lag"] if r["group"] == FULFIL_GROUP]
    assert len(fulfil) == 6 and all(r["lag"] == 0 for r in fulfil), fulfil
    human = ctl("status").stdout
    assert STOCK_GROUP in human and "wms.stock.v1" in human, human


def test_stopped_service_shows_down():
    process, W.reporter = W.reporter, None
    port = process.port
    h.assert_clean_stop(process)
    p = ctl("status", "--json", extra={"WB_FULFILMENT_REPORTER_URL": f"http://127.0.0.1:{port}"})
    by = {s["name"]: s for s in json.loads(p.stdout)["services"]}
    assert by["fulfilment-reporter"]["healthz"] == "down", by


def test_errors():
    cases = [
        (ctl("status", "--bogus"), 2, "unknown option --bogus"),
        (ctl("status", "extra"), 2, "usage: bridgectl status [--json]"),
        (ctl("status", extra={"WB_STOCK_PUBLISHER_URL": "ftp://x"}), 2, "WB_STOCK_PUBLISHER_URL"),
        (ctl("status", extra={"WB_PG_DSN": "postgresql://u:pw@127.0.0.1:1/x"}), 1, "bridgectl: postgresql:"),
    ]
    for i, (proc, code, message) in enumerate(cases):
        assert proc.returncode == code and message in proc.stderr, f"case {i}: {proc.returncode} {proc.stderr}"
    # Without Kafka and Redis it still answers, and says what it left out.
    p = ctl("status", "--json", drop=("WB_KAFKA_BROKERS", "WB_REDIS_URL"))
    assert p.returncode == 0, p.stderr
    rep = json.loads(p.stdout)
    assert rep["consumer_lag"] == [] and any("WB_REDIS_URL is not set" in n for n in rep["notes"]), rep["notes"]


def cleanup():
    for p in (W.publisher, W.reporter):
        if p:
            p.stop()
            p.cleanup()
    if W.sim:
        W.sim.close()
    h.psql(f"DELETE FROM stores WHERE id IN ({h.sql_literal(FLUSH)}, {h.sql_literal(HOLD)})")


def main():
    return R.run_module(setup, globals(), cleanup)


if __name__ == "__main__":
    sys.exit(main())
