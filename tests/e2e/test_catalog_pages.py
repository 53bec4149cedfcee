#!/usr/bin/env python3
"""How catalog-ingest pages through a shop, end to end with shopsim and the
real broker: a Shopify product with 250 variants imported whole across
productVariants pages (199 a page, the most the query cost cap allows),
with the pages' total from productVariantsCount for the progress; a
WooCommerce catalog whose variable products' variations are read on
several connections, every article there once and the API calls at their
lower bound, and the calls paced at the store's rate_limit_rps. A large
Shopify store's full sync as one bulk operation (bulkOperationRunQuery,
polled with bulkOperation(id:), its JSONL result read a batch of lines a
page): the same messages as the pages give, nothing new when the next sync
pages, a failed operation falling back to pages, and a replica killed while
the operation runs polling that same operation when it starts again."""
import datetime
import json
import math
import os
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402

RUN = f"{os.getpid() % 100000}{int(time.time()) % 100000}"
OWNER = f"pown{RUN}"
SS, WS = f"pgs{RUN}", f"pgw{RUN}"
BK = f"pgb{RUN}"  # the shopsim store the bulk cases read, through three bridge stores
BB, BP, BF, BR, BX = f"pgbb{RUN}", f"pgbp{RUN}", f"pgbf{RUN}", f"pgbr{RUN}", f"pgbx{RUN}"
R = h.Reporter()
TOPIC = "shop.catalog.v1"


class World:
    sim = None
    svc = None
    shop = []
    woo = []
    bulk = []


W = World()


def add_store(store, platform, shop=None):
    shop = shop or store
    creds = (f'{{"access_token":"shpat_{shop}","api_secret":"shopsim-secret"}}' if platform == "shopify" else
             f'{{"consumer_key":"ck_{shop}","consumer_secret":"cs_{shop}","webhook_secret":"shopsim-secret"}}')
    h.bridgectl("store", "add", store, "--platform", platform, "--url", f"{W.sim.base}/{shop}", "--owner", OWNER,
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


# ---------------------------------------------------------------- bulk operations

BULK_ENV = {"WB_CATALOG_POLL_MS": "0", "WB_LOG_LEVEL": "info", "WB_CATALOG_BULK_MIN_VARIANTS": "1",
            "WB_CATALOG_BULK_BATCH": "40", "WB_CATALOG_BULK_POLL_MS": "100"}
PAGED_ENV = {"WB_CATALOG_POLL_MS": "0", "WB_LOG_LEVEL": "info", "WB_CATALOG_BULK_MIN_VARIANTS": "0",
             "WB_CATALOG_SHOPIFY_PAGE": "50"}


def restart(env):
    """One replica at a time, so the sync runs with these settings."""
    if W.svc:
        W.svc.stop()
        W.svc.cleanup()
    W.svc = h.service("catalog-ingest", env)
    return W.svc


def bulk_shop():
    """One shopsim store for the bulk cases: 30 products of 4 variants, every
    fifth a draft, some virtual, with categories."""
    if not W.bulk:
        W.sim.call("POST", "/_sim/stores", {"id": BK, "platform": "shopify", "plan": "plus"})
        W.bulk = W.sim.call("POST", f"/_sim/stores/{BK}/seed",
                            {"products": 30, "variants": 4, "sku_prefix": f"PB{RUN}", "draft_every": 5,
                             "virtual_every": 7, "categories": ["Shoes"]})
    return W.bulk


def active_skus():
    return {v["sku"] for p in bulk_shop() for v in p["variants"] if p.get("status", "ACTIVE").upper() == "ACTIVE"}


def comparable(store):
    """The store's messages as the WMS reads them, its id and the send time left out."""
    out = {}
    for _, _, k, v in h.consume(TOPIC, f"{store}/", idle_seconds=3):
        m = json.loads(v)
        m.pop("updated_at", None)
        m.pop("store_id", None)
        out[k.split("/", 1)[1]] = m
    return out


def bulk_ops():
    return W.sim.call("GET", f"/_sim/stores/{BK}/bulk")["operations"]


def test_shopify_bulk_full_sync_publishes_what_pages_publish():
    bulk_shop()
    skus = active_skus()
    assert 0 < len(skus) < 120, len(skus)
    add_store(BB, "shopify", shop=BK)
    add_store(BP, "shopify", shop=BK)
    before = len(bulk_ops())
    restart(BULK_ENV)
    W.sim.call("DELETE", f"/_sim/stores/{BK}/calls")
    out = h.bridgectl("products", "sync", BB)
    assert f" done: {len(skus)} items, {len(skus)} sent" in out, out
    ops = bulk_ops()[before:]
    assert len(ops) == 1 and ops[0]["status"] == "COMPLETED" and ops[0]["roots"] == 120, ops
    calls = [c["op"] for c in W.sim.call("GET", f"/_sim/stores/{BK}/calls")]
    assert not any(op.startswith("query:productVariants") and "Count" not in op for op in calls), calls
    assert calls.count("mutation:bulkOperationRunQuery") == 1, calls
    # The start, then 120 result lines 40 a page.
    assert last_sync(BB) == f"done|4|4|{len(skus)}", last_sync(BB)
    bulk = comparable(BB)
    assert set(bulk) == skus, (sorted(skus - set(bulk))[:3], sorted(set(bulk) - skus)[:3])
    restart(PAGED_ENV)
    out = h.bridgectl("products", "sync", BP)
    assert f" done: {len(skus)} items, {len(skus)} sent" in out, out
    paged = comparable(BP)
    assert paged == bulk, [(k, paged.get(k), bulk.get(k)) for k in skus if paged.get(k) != bulk.get(k)][:2]
    virtual = [m for m in bulk.values() if m.get("is_stock_article") is False]
    assert all(m["product_id"].startswith("gid://shopify/Product/") and m["variant_id"] for m in bulk.values())
    assert len(virtual) == 0, virtual[:1]  # virtual_as_non_stock is off: every article is a stock article
    # Switching paths: the same content hashes, nothing goes out again.
    out = h.bridgectl("products", "sync", BB)
    assert f" done: {len(skus)} items, 0 sent" in out, out
    rows = h.psql(f"SELECT count(*) FROM product_mappings WHERE store_id = '{BB}' AND content_hash IS NOT NULL")
    assert rows.strip() == str(len(skus)), rows


def test_failed_bulk_operation_falls_back_to_pages():
    skus = active_skus()
    add_store(BF, "shopify", shop=BK)
    W.sim.call("PUT", f"/_sim/stores/{BK}/bulk", {"fail": "INTERNAL_SERVER_ERROR", "fail_after": 50})
    try:
        svc = restart(BULK_ENV)
        out = h.bridgectl("products", "sync", BF)
    finally:
        W.sim.call("PUT", f"/_sim/stores/{BK}/bulk", {"fail": None, "fail_after": 0})
    assert f" done: {len(skus)} items, {len(skus)} sent" in out, out
    op = bulk_ops()[-1]
    assert op["status"] == "FAILED" and op["error_code"] == "INTERNAL_SERVER_ERROR" and op["roots"] == 50, op
    log = svc.output()
    assert "FAILED INTERNAL_SERVER_ERROR" in log and "reading the catalog by pages instead" in log, log[-2000:]
    assert set(comparable(BF)) == skus
    state, done, total, _ = last_sync(BF).split("|")
    assert state == "done" and done == total, last_sync(BF)


def test_bulk_sync_killed_while_the_operation_runs_polls_it_again():
    skus = active_skus()
    add_store(BR, "shopify", shop=BK)
    before = len(bulk_ops())
    W.sim.call("PUT", f"/_sim/stores/{BK}/bulk", {"chunk_delay_ms": 30000})  # 250 roots a chunk: runs until told
    try:
        restart(BULK_ENV)
        h.bridgectl("products", "sync", BR, "--no-wait")
        h.wait_for("the operation recorded", lambda: h.psql(
            f"SELECT count(*) FROM catalog_syncs WHERE store_id = '{BR}' AND cursor LIKE 'bulk:%:0'").strip() == "1",
            timeout=60, interval=0.05)
        W.svc.kill9()
        W.svc.cleanup()
        W.svc = None
        assert [o["status"] for o in bulk_ops()[before:]] in (["RUNNING"], ["CREATED"]), bulk_ops()[before:]
    finally:
        W.sim.call("PUT", f"/_sim/stores/{BK}/bulk", {"chunk_delay_ms": 0})
    h.wait_for("the operation completed", lambda: bulk_ops()[-1]["status"] == "COMPLETED", timeout=60)
    restart(BULK_ENV)
    out = h.bridgectl("products", "sync", BR)  # joins the running sync
    assert f" done: " in out, out
    ops = bulk_ops()[before:]
    assert len(ops) == 1, ops  # polled again, not started again
    assert set(comparable(BR)) == skus
    assert last_sync(BR).startswith("done|4|4|"), last_sync(BR)


def test_bulk_sync_resumed_mid_result_reads_only_the_lines_left():
    """A replica killed after 80 of the result's 120 lines were done: the
    sync's row says so (bulk:<gid>:80), and the next one downloads the
    completed operation's result again and reads only the last 40 lines."""
    add_store(BX, "shopify", shop=BK)
    op = [o for o in bulk_ops() if o["status"] == "COMPLETED" and "productVariants" in o["query"]][0]
    with urllib.request.urlopen(f"{W.sim.base}/_sim/stores/{BK}/bulk/{op['id']}.jsonl", timeout=30) as r:
        lines = [json.loads(line) for line in r.read().decode().splitlines()]
    assert len(lines) == 120, len(lines)
    left = {l["sku"] for l in lines[80:] if l["product"]["status"] == "ACTIVE"}
    before = len(bulk_ops())
    W.svc.stop()  # no replica claims the row before the one started below
    W.svc.cleanup()
    W.svc = None
    h.psql(f"INSERT INTO catalog_syncs (store_id, source, kind, state, started_at, cursor, pages_total, pages_done) "
           f"VALUES ('{BX}', 'test', 'full', 'running', now(), 'bulk:gid://shopify/BulkOperation/{op['id']}:80', 4, 3)")
    restart(BULK_ENV)
    h.wait_for("the resumed sync done", lambda: last_sync(BX).startswith("done|"), timeout=60)
    got = set(comparable(BX))
    assert got == left, (len(got), len(left), [l for l in W.svc.output().splitlines() if BX in l][-6:])
    assert len(bulk_ops()) == before  # no operation started
    assert last_sync(BX) == f"done|4|4|{len(left)}", last_sync(BX)


def gql(store, document, variables=None):
    status, doc = h.http("POST", f"{W.sim.base}/{store}/admin/api/2026-07/graphql.json",
                         json.dumps({"query": document, "variables": variables or {}}).encode(),
                         {"X-Shopify-Access-Token": f"shpat_{store}", "Content-Type": "application/json"})
    assert status == 200 and "errors" not in doc, (status, doc)
    return doc["data"]


def test_shopsim_bulk_result_flattens_nested_connections():
    """What the catalog's flat query does not use, as Shopify documents it:
    a nested connection's nodes on lines of their own with __parentId; the
    query's rules refused as userErrors."""
    shop = bulk_shop()
    start = """mutation B($q: String!) { bulkOperationRunQuery(query: $q) {
      bulkOperation { id status } userErrors { field message code } } }"""
    q = "{ products(first: 2) { edges { node { id title variants(first: 1) { edges { node { id sku } } } } } } }"
    op = gql(BK, start, {"q": q})["bulkOperationRunQuery"]
    assert op["userErrors"] == [] and op["bulkOperation"]["status"] == "CREATED", op
    status = """query S($id: ID!) { bulkOperation(id: $id) { status objectCount rootObjectCount url } }"""
    h.wait_for("completed", lambda: gql(BK, status, {"id": op["bulkOperation"]["id"]})["bulkOperation"]["status"]
               == "COMPLETED")
    done = gql(BK, status, {"id": op["bulkOperation"]["id"]})["bulkOperation"]
    assert done["rootObjectCount"] == "30" and done["objectCount"] == "150", done  # first: is ignored
    with urllib.request.urlopen(done["url"], timeout=30) as r:  # JSONL: not one JSON document
        lines = [json.loads(line) for line in r.read().decode().splitlines()]
    products = [l for l in lines if "__parentId" not in l]
    variants = [l for l in lines if "__parentId" in l]
    assert len(products) == 30 and len(variants) == 120 and "variants" not in products[0], lines[:2]
    first = shop[0]
    assert {v["sku"] for v in variants if v["__parentId"] == first["gid"]} == {v["sku"] for v in first["variants"]}
    refused = gql(BK, start, {"q": "{ nodes(ids: []) { id } }"})["bulkOperationRunQuery"]
    assert refused["bulkOperation"] is None and refused["userErrors"][0]["code"] == "INVALID", refused


def test_sigterm_exits_clean():
    h.assert_clean_stop(W.svc)
    W.svc = None


def cleanup():
    if W.svc:
        W.svc.stop()
        W.svc.cleanup()
    if W.sim:
        W.sim.close()
    h.psql(f"DELETE FROM stores WHERE id IN ('{SS}', '{WS}', '{BB}', '{BP}', '{BF}', '{BR}', '{BX}')")


if __name__ == "__main__":
    sys.exit(R.run_module(setup, globals(), cleanup))
