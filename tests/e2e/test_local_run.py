#!/usr/bin/env python3
"""The local run's pieces end to end, on the test stack: what scripts/run
does after the stack is up, minus the fixed ports.

shopsim (port 0) with two stores shaped like sim/stores.example.json (ids and
goods owner unique per run) -> scripts/demo_setup.py configures them in the
bridge (stores, locations, product mappings, webhooks) -> stock-publisher
(own consumer group) and wmssim's gentle scenario (own group, this run's
stores only) -> every demo SKU reaches both shops with wmssim's level.
scripts/run itself (fixed dev ports, the dev stack, the release build) is
checked by hand: see docs/local-run.md."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402

RUN = f"{os.getpid() % 100000}{int(time.time()) % 100000}"
OWNER = f"lr{RUN}"
SHOP, WOO = f"lrs{RUN}", f"lrw{RUN}"
INITIAL = 33
R = h.Reporter()


class World:
    sim = None
    stores_file = None
    skus_file = None
    setup_out = None
    publisher = None
    wmssim = None


W = World()


def demo_setup(*extra):
    env = dict(os.environ, WB_MASTER_KEY=h.MASTER_KEY)
    return subprocess.run(
        [sys.executable, str(h.ROOT / "scripts" / "demo_setup.py"), "--shopsim", W.sim.base,
         "--stores", W.stores_file, "--bridgectl", str(h.BUILD / "bin" / "bridgectl"),
         "--dsn", os.environ["WB_PG_DSN"], "--owner", OWNER, "--warehouse", "WH1", "--window", "1",
         "--webhook-base", "http://127.0.0.1:9", "--skus-out", W.skus_file, *extra],
        env=env, capture_output=True, text=True, timeout=120)


def start():
    example = json.loads((h.ROOT / "sim" / "stores.example.json").read_text())
    stores = []
    for s in example:
        s = dict(s, id=SHOP if s["platform"] == "shopify" else WOO)
        s["seed"] = dict(s["seed"], products=6)
        stores.append(s)
    f = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    json.dump(stores, f)
    f.close()
    W.stores_file = f.name
    W.skus_file = tempfile.NamedTemporaryFile(suffix=".txt", delete=False).name
    W.sim = h.Shopsim.__new__(h.Shopsim)
    W.sim.proc = h.Process([str(h.BUILD / "sim" / "shopsim" / "shopsim"), "--port", "0", "--stores", W.stores_file],
                           dict(os.environ), port_pattern=r'"msg":"listening".*?"port":(\d+)')
    W.sim.port = W.sim.proc.wait_port()
    W.sim.base = f"http://127.0.0.1:{W.sim.port}"


def test_setup_configures_the_stores():
    p = demo_setup()
    assert p.returncode == 0, p.stderr
    W.setup_out = p.stderr
    stores = {s["id"]: s for s in json.loads(h.bridgectl("store", "list", "--json"))}
    assert stores[SHOP]["platform"] == "shopify" and stores[WOO]["platform"] == "woocommerce", stores
    assert stores[SHOP]["goods_owner"] == OWNER and stores[SHOP]["window_seconds"] == 1, stores[SHOP]
    assert stores[WOO]["url"] == f"{W.sim.base}/{WOO}", stores[WOO]
    gid = W.sim.call("GET", f"/_sim/stores/{SHOP}")["locations"][0]["gid"]
    assert json.loads(h.bridgectl("location", "list", SHOP, "--json")) == [
        {"location": gid, "warehouse": "WH1", "default": True}]
    assert json.loads(h.bridgectl("location", "list", WOO, "--json")) == [
        {"location": "default", "warehouse": "WH1", "default": True}]
    counts = h.psql(f"SELECT store_id, count(*), count(barcode) FROM product_mappings WHERE store_id IN "
                    f"({h.sql_literal(SHOP)}, {h.sql_literal(WOO)}) GROUP BY 1 ORDER BY 1")
    assert counts.split() == [f"{SHOP}|12|12", f"{WOO}|12|12"], counts
    item = h.psql(f"SELECT inventory_item_id FROM product_mappings WHERE store_id = {h.sql_literal(SHOP)} "
                  "AND sku = 'DEMO-00001-2'").strip()
    assert item.startswith("gid://shopify/InventoryItem/"), item
    hooks = {s: sorted((w["topic"], w["delivery_url"]) for w in W.sim.call("GET", f"/_sim/stores/{s}/webhooks"))
             for s in (SHOP, WOO)}
    assert [t for t, _ in hooks[SHOP]] == ["orders/cancelled", "orders/create", "orders/updated"], hooks
    assert {u for _, u in hooks[SHOP]} == {f"http://127.0.0.1:9/webhooks/shopify/{SHOP}"}, hooks
    assert [t for t, _ in hooks[WOO]] == ["order.created", "order.updated"], hooks
    assert {u for _, u in hooks[WOO]} == {f"http://127.0.0.1:9/webhooks/woocommerce/{WOO}"}, hooks
    skus = open(W.skus_file).read().strip().split(",")
    assert len(skus) == 24 and "DEMO-00001-1" in skus and "WOO-00006-2" in skus, skus


def test_setup_twice_changes_nothing():
    p = demo_setup()
    assert p.returncode == 0, p.stderr
    assert p.stderr.strip() == "", f"second run changed: {p.stderr}"
    n = h.psql(f"SELECT count(*) FROM product_mappings WHERE store_id IN ({h.sql_literal(SHOP)}, {h.sql_literal(WOO)})")
    assert n.strip() == "24", n
    assert len(W.sim.call("GET", f"/_sim/stores/{SHOP}/webhooks")) == 3


def shop_levels():
    out = {}
    for s in (SHOP, WOO):
        for row in W.sim.call("GET", f"/_sim/stores/{s}/stock"):
            out[(s, row["sku"])] = row["available"]
    return out


def test_wmssim_stock_reaches_both_shops():
    before = shop_levels()
    assert set(before.values()) == {25}, before  # the seed
    W.publisher = h.service("stock-publisher", {
        "WB_STOCK_GROUP": f"stock-lr-{RUN}", "WB_STOCK_ROUTES_REFRESH_MS": "500",
        "WB_STOCK_FLUSH_INTERVAL_MS": "100", "WB_LOG_LEVEL": "info"})
    skus = open(W.skus_file).read().strip()
    W.wmssim = h.Process([str(h.BUILD / "sim" / "wmssim" / "wmssim"), "--scenario", "gentle", "--owner", OWNER,
                          "--warehouse", "WH1", "--sku-list", skus, "--initial", str(INITIAL),
                          "--stock-every-ms", "0", "--group", f"wmssim-lr-{RUN}", "--stores", f"{SHOP},{WOO}"],
                         dict(os.environ))
    levels = h.wait_for("every demo sku at wmssim's level in both shops",
                        lambda: (lambda l: l if set(l.values()) == {INITIAL} else None)(shop_levels()),
                        timeout=120, interval=0.5)
    assert len(levels) == 24, levels
    rc = W.wmssim.stop(signal.SIGTERM)
    out = W.wmssim.output()
    assert rc == 0, f"wmssim exit {rc}: {out[-500:]}"
    for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
        assert marker not in out, out[out.index(marker):][:800]
    assert "snapshot: 24 levels" in out, out[-500:]


def test_forget_sent_after_a_shopsim_restart():
    W.publisher.stop()
    ids = f"{h.sql_literal(SHOP)}, {h.sql_literal(WOO)}"
    sent = h.psql(f"SELECT count(*) FROM stock_sent WHERE store_id IN ({ids})").strip()
    assert sent == "24", f"stock_sent rows: {sent}"
    p = demo_setup("--forget-sent")
    assert p.returncode == 0, p.stderr
    assert "forgot the stock last sent to its stores (24 values)" in p.stderr, p.stderr
    assert h.psql(f"SELECT count(*) FROM stock_sent WHERE store_id IN ({ids})").strip() == "0"


def main():
    if not os.environ.get("WB_PG_DSN") or not os.environ.get("WB_KAFKA_BROKERS"):
        print("FAIL local_run_setup: WB_PG_DSN / WB_KAFKA_BROKERS not set (run through tests/run.py)")
        return 1
    try:
        start()
        h.bridgectl("db", "migrate")
        if R.run("local_run_setup_configures_the_stores", test_setup_configures_the_stores):
            R.run("local_run_setup_twice_changes_nothing", test_setup_twice_changes_nothing)
            if R.run("local_run_wmssim_stock_reaches_both_shops", test_wmssim_stock_reaches_both_shops):
                R.run("local_run_forget_sent_after_a_shopsim_restart", test_forget_sent_after_a_shopsim_restart)
    except Exception as exc:  # noqa: BLE001
        R.failures += 1
        print(f"FAIL local_run_start: {exc!r}"[:2000])
    finally:
        for p in (W.wmssim, W.publisher, W.sim and W.sim.proc):
            if p:
                p.stop()
                p.cleanup()
        for f in (W.stores_file, W.skus_file):
            if f:
                os.unlink(f)
    return 1 if R.failures else 0


if __name__ == "__main__":
    sys.exit(main())
