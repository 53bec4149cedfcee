#!/usr/bin/env python3
"""How catalog-ingest pages through a shop, end to end with shopsim and the
real broker: a Shopify product with 250 variants imported whole across
productVariants pages (199 a page, the most the query cost cap allows),
with the pages' total from productVariantsCount for the progress; a
WooCommerce catalog whose variable products' variations are read on
several connections, every article there once and the API calls at their
lower bound, and the calls paced at the store's rate_limit_rps."""
import datetime
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402

RUN = f"{os.getpid() % 100000}{int(time.time()) % 100000}"
OWNER = f"pown{RUN}"
SS, WS = f"pgs{RUN}", f"pgw{RUN}"
R = h.Reporter()
TOPIC = "shop.catalog.v1"


class World:
    sim = None
    svc = None
    shop = []
    woo = []


W = World()


def add_store(store, platform):
    creds = (f'{{"access_token":"shpat_{store}","api_secret":"shopsim-secret"}}' if platform == "shopify" else
             f'{{"consumer_key":"ck_{store}","consumer_secret":"cs_{store}","webhook_secret":"shopsim-secret"}}')
    h.bridgectl("store", "add", store, "--platform", platform, "--url", f"{W.sim.base}/{store}", "--owner", OWNER,
                "--credentials", "-", stdin=creds)


def keys(store):
    return [k for _, _, k, _ in h.consume(TOPIC, f"{store}/", idle_seconds=3)]


def last_sync(store):
    return h.psql(f"SELECT state, pages_done, coalesce(pages_total, -1), items_done FROM catalog_syncs "
                  f"WHERE store_id = '{store}' AND product_id IS NULL ORDER BY id DESC LIMIT 1").strip()


def setup():
    W.sim = h.Shopsim()
    h.bridgectl("db", "migrate")
    h.bridgectl("topics", "ensure")
    W.sim.call("POST", "/_sim/stores", {"id": SS, "platform": "shopify", "plan": "plus"})
    W.shop = W.sim.call("POST", f"/_sim/stores/{SS}/seed", {"products": 1, "variants": 250, "sku_prefix": f"PS{RUN}"})
    W.shop += W.sim.call("POST", f"/_sim/stores/{SS}/seed", {"products": 2, "variants": 1, "sku_prefix": f"PS{RUN}"})
    W.sim.call("POST", "/_sim/stores", {"id": WS, "platform": "woocommerce"})
    W.woo = W.sim.call("POST", f"/_sim/stores/{WS}/seed", {"products": 9, "variants": 120, "sku_prefix": f"PW{RUN}"})
    W.woo += W.sim.call("POST", f"/_sim/stores/{WS}/seed", {"products": 3, "variants": 1, "sku_prefix": f"PW{RUN}"})
    add_store(SS, "shopify")
    add_store(WS, "woocommerce")
    h.bridgectl("store", "set", WS, "rate_limit_rps", "0")
    # Pages of 5 (products and variations): three product pages, each with
    # variable products to read at once, of 24 variation pages each.
    W.svc = h.service("catalog-ingest", {"WB_CATALOG_POLL_MS": "0", "WB_LOG_LEVEL": "info",
                                         "WB_CATALOG_WOO_PAGE": "5", "WB_CATALOG_WOO_WORKERS": "4"})


def test_shopify_product_with_250_variants_imported_whole():
    W.sim.call("DELETE", f"/_sim/stores/{SS}/calls")
    out = h.bridgectl("products", "sync", SS)
    assert " done: 252 items, 252 sent" in out, out
    big = W.shop[0]
    assert len(big["variants"]) == 250
    want = {f"{SS}/{v['sku']}" for p in W.shop for v in p["variants"]}
    got = keys(SS)
    assert len(got) == 252 and set(got) == want, (len(got), len(want - set(got)))
    rows = h.psql(f"SELECT count(*) FROM product_mappings WHERE store_id = '{SS}' "
                  f"AND shop_product_id = {h.sql_literal(big['gid'])}").strip()
    assert rows == "250", rows
    calls = W.sim.call("GET", f"/_sim/stores/{SS}/calls")
    ops = [c["op"] for c in calls]
    pages = [c for c in calls if c["op"] == "query:productVariants"]
    assert len(pages) == 2, ops  # ceil(252 / 199)
    assert all(c["cost"] <= 1000 and not c["throttled"] for c in calls), calls


def test_shopify_progress_has_a_total_from_the_counts():
    calls = W.sim.call("GET", f"/_sim/stores/{SS}/calls")
    counts = [c for c in calls if "productVariantsCount" in c["op"]]
    assert len(counts) == 1 and "productsCount" in counts[0]["op"], [c["op"] for c in calls]
    assert last_sync(SS) == "done|2|2|252", last_sync(SS)


def test_woo_variations_read_concurrently_all_there_once():
    W.sim.call("DELETE", f"/_sim/stores/{WS}/calls")
    out = h.bridgectl("products", "sync", WS)
    total = 9 * 120 + 3
    assert f" done: {total} items, {total} sent" in out, out
    want = {f"{WS}/{v['sku']}" for p in W.woo for v in p["variants"]}
    got = keys(WS)
    assert len(got) == total and set(got) == want, (len(got), len(want - set(got)))
    counters = W.sim.call("GET", f"/_sim/stores/{WS}/counters")
    bound = 1 + math.ceil(12 / 5) + 9 * math.ceil(120 / 5)  # units, product pages, variation pages (5 a page)
    assert counters["rest_calls"] == bound, (counters, bound)
    rows = h.psql(f"SELECT count(*) FROM product_mappings WHERE store_id = '{WS}' AND shop_variant_id <> ''")
    assert rows.strip() == str(9 * 120), rows


def at(call):
    return datetime.datetime.fromisoformat(call["at"].replace("Z", "+00:00")).timestamp()


def test_woo_calls_paced_at_the_store_rate():
    h.bridgectl("store", "set", WS, "rate_limit_rps", "20")
    W.sim.call("DELETE", f"/_sim/stores/{WS}/calls")
    out = h.bridgectl("products", "sync", WS)
    assert " done: " in out, out
    calls = [c for c in W.sim.call("GET", f"/_sim/stores/{WS}/calls") if c["method"] == "GET"]
    assert len(calls) >= 20, len(calls)
    span = at(calls[-1]) - at(calls[0])
    # 20 a second whatever the connections: n calls take at least (n - 1) / 20 s
    # (a little less allowed for when each arrival was stamped).
    assert span >= (len(calls) - 1) / 20 * 0.9, (len(calls), span)


def test_sigterm_exits_clean():
    h.assert_clean_stop(W.svc)
    W.svc = None


def cleanup():
    if W.svc:
        W.svc.stop()
        W.svc.cleanup()
    if W.sim:
        W.sim.close()
    h.psql(f"DELETE FROM stores WHERE id IN ('{SS}', '{WS}')")


if __name__ == "__main__":
    sys.exit(R.run_module(setup, globals(), cleanup))
