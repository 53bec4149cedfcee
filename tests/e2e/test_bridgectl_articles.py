#!/usr/bin/env python3
"""bridgectl articles load|list: the WMS's articles from a CSV into
wms_articles (rows checked in PostgreSQL: inserted, updated, unchanged), a
bad row refused with its line number and nothing loaded, and then a catalog
import through the real catalog-ingest and shopsim that maps a Shopify
variant and a WooCommerce variation to the loaded WMS sku by barcode."""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402

RUN = f"{os.getpid() % 100000}{int(time.time()) % 100000}"
OWNER = f"aown{RUN}"
SS, WS = f"ars{RUN}", f"arw{RUN}"
R = h.Reporter()
TOPIC = "shop.catalog.v1"


class World:
    sim = None
    svc = None
    shop = []
    woo = []


W = World()


def run_bridgectl(*args, stdin=None):
    """bridgectl with its exit status, for the cases that must fail."""
    env = dict(os.environ, WB_MASTER_KEY=h.MASTER_KEY)
    return subprocess.run([str(h.BUILD / "bin" / "bridgectl"), *args], input=stdin, env=env,
                          capture_output=True, text=True, timeout=60)


def rows():
    out = h.psql(f"SELECT sku, coalesce(barcode, '<null>') FROM wms_articles WHERE goods_owner = "
                 f"{h.sql_literal(OWNER)} ORDER BY sku")
    return [tuple(line.split("|")) for line in out.splitlines() if line]


def load(text, *extra):
    return run_bridgectl("articles", "load", OWNER, "-", *extra, stdin=text)


def setup():
    W.sim = h.Shopsim()
    h.bridgectl("db", "migrate")
    h.bridgectl("topics", "ensure")
    W.sim.call("POST", "/_sim/stores", {"id": SS, "platform": "shopify", "plan": "plus"})
    W.shop = W.sim.call("POST", f"/_sim/stores/{SS}/seed", {"products": 2, "variants": 2, "sku_prefix": f"AS{RUN}"})
    W.sim.call("POST", "/_sim/stores", {"id": WS, "platform": "woocommerce"})
    W.woo = W.sim.call("POST", f"/_sim/stores/{WS}/seed", {"products": 1, "variants": 3, "sku_prefix": f"AW{RUN}"})
    h.bridgectl("store", "add", SS, "--platform", "shopify", "--url", f"{W.sim.base}/{SS}", "--owner", OWNER,
                "--credentials", "-", stdin=f'{{"access_token":"shpat_{SS}","api_secret":"shopsim-secret"}}')
    h.bridgectl("store", "add", WS, "--platform", "woocommerce", "--url", f"{W.sim.base}/{WS}", "--owner", OWNER,
                "--credentials", "-",
                stdin=f'{{"consumer_key":"ck_{WS}","consumer_secret":"cs_{WS}","webhook_secret":"shopsim-secret"}}')


def test_load_inserts_updates_and_lists():
    shop_v, woo_v = W.shop[1]["variants"][1], W.woo[0]["variants"][2]
    barcodes = [v["barcode"] for p in W.shop + W.woo for v in p["variants"]]
    assert barcodes.count(shop_v["barcode"]) == 1 and barcodes.count(woo_v["barcode"]) == 1, barcodes
    text = ("sku,barcode\r\n"
            f"WMS-S{RUN},{shop_v['barcode']}\r\n"
            f"WMS-W{RUN},{woo_v['barcode']}\r\n"
            f"\"WMS,Q{RUN}\",\"12\"\"3\"\r\n"
            f"WMS-N{RUN},\r\n")
    p = load(text)
    assert p.returncode == 0, p.stderr
    assert f"goods owner {OWNER}: 4 articles read, 4 inserted, 0 updated, 0 unchanged" in p.stdout, p.stdout
    assert rows() == sorted([(f"WMS,Q{RUN}", '12"3'), (f"WMS-N{RUN}", "<null>"),
                             (f"WMS-S{RUN}", shop_v["barcode"]), (f"WMS-W{RUN}", woo_v["barcode"])]), rows()
    # Columns in another order; one barcode changed, one article new, one the same.
    p = load(f"barcode,sku\n999{RUN},WMS-N{RUN}\n{shop_v['barcode']},WMS-S{RUN}\n777,WMS-X{RUN}\n", "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == {"goods_owner": OWNER, "rows": 3, "inserted": 1, "updated": 1, "unchanged": 1}, \
        p.stdout
    assert (f"WMS-N{RUN}", f"999{RUN}") in rows() and (f"WMS-X{RUN}", "777") in rows(), rows()
    listed = json.loads(h.bridgectl("articles", "list", OWNER, "--sku", f"WMS,Q{RUN}", "--json"))
    assert [(a["sku"], a["barcode"]) for a in listed] == [(f"WMS,Q{RUN}", '12"3')], listed
    text = h.bridgectl("articles", "list", OWNER)
    assert f"WMS-S{RUN}" in text and shop_v["barcode"] in text and len(text.splitlines()) == 6, text


def test_bad_row_names_its_line_and_loads_nothing():
    before = rows()
    cases = [
        (f"sku,barcode\nOK-1{RUN},1\n\nOK-2{RUN},2\n,3\n", "line 5: sku is empty"),
        (f"sku,barcode\nOK-1{RUN},1\nOK-2{RUN},2,3\n", "line 3: 3 fields, the header has 2"),
        (f"sku,barcode\nOK-1{RUN},1\nOK-1{RUN},2\n", f"line 3: sku OK-1{RUN} already on line 2"),
        (f"sku,barcode\nOK-1{RUN},\"1\n", "line 2: a quoted field is not closed"),
        ("sku,ean\nA,1\n", "line 1: column 'ean' unknown"),
        (f"sku,barcode\nOK-1{RUN},1\n OK-2{RUN},2\n", "line 3: sku starts or ends with a space"),
    ]
    for text, message in cases:
        p = load(text)
        assert p.returncode == 1, (text, p.returncode, p.stdout)
        assert message in p.stderr and "nothing loaded" in p.stderr, (message, p.stderr)
    assert rows() == before, rows()
    p = run_bridgectl("articles", "load", OWNER)
    assert p.returncode == 2 and "usage: bridgectl articles load" in p.stderr, p.stderr


def test_catalog_import_maps_by_barcode_to_the_loaded_article():
    W.svc = h.service("catalog-ingest", {"WB_CATALOG_POLL_MS": "0", "WB_LOG_LEVEL": "info"})
    shop_p, shop_v = W.shop[1], W.shop[1]["variants"][1]
    woo_p, woo_v = W.woo[0], W.woo[0]["variants"][2]
    for store in (SS, WS):
        out = h.bridgectl("products", "sync", store)
        assert " done: " in out, out
    msgs = {m["sku"]: m for _, _, _, v in h.consume(TOPIC, f"{SS}/", idle_seconds=3) for m in [json.loads(v)]}
    assert len(msgs) == 4 and shop_v["sku"] not in msgs, sorted(msgs)
    assert msgs[f"WMS-S{RUN}"]["variant_id"] == shop_v["gid"] and msgs[f"WMS-S{RUN}"]["product_id"] == shop_p["gid"]
    row = h.psql(f"SELECT sku, shop_sku FROM product_mappings WHERE store_id = '{SS}' "
                 f"AND shop_variant_id = {h.sql_literal(shop_v['gid'])}").strip()
    assert row == f"WMS-S{RUN}|{shop_v['sku']}", row
    msgs = {m["sku"]: m for _, _, _, v in h.consume(TOPIC, f"{WS}/", idle_seconds=3) for m in [json.loads(v)]}
    assert len(msgs) == 3 and woo_v["sku"] not in msgs, sorted(msgs)
    assert msgs[f"WMS-W{RUN}"]["variant_id"] == str(woo_v["id"]), msgs[f"WMS-W{RUN}"]
    row = h.psql(f"SELECT sku, shop_sku, shop_product_id FROM product_mappings WHERE store_id = '{WS}' "
                 f"AND shop_variant_id = '{woo_v['id']}'").strip()
    assert row == f"WMS-W{RUN}|{woo_v['sku']}|{woo_p['id']}", row
    metrics = h.http("GET", f"http://127.0.0.1:{W.svc.port}/metrics")[1]
    for store in (SS, WS):
        assert f'wb_catalog_items_total{{store="{store}",outcome="mapped_by_barcode"}} 1' in metrics, \
            metrics[-1500:]


def test_sigterm_exits_clean():
    h.assert_clean_stop(W.svc)
    W.svc = None


def cleanup():
    if W.svc:
        W.svc.stop()
        W.svc.cleanup()
    if W.sim:
        W.sim.close()
    h.psql(f"DELETE FROM stores WHERE id IN ('{SS}', '{WS}'); "
           f"DELETE FROM wms_articles WHERE goods_owner = {h.sql_literal(OWNER)}")


if __name__ == "__main__":
    sys.exit(R.run_module(setup, globals(), cleanup))
