#!/usr/bin/env python3
"""The catalog path end to end: simulated Shopify and WooCommerce stores ->
catalog-ingest (real PostgreSQL) -> shop.catalog.v1 on the real broker and
product_mappings. Syncs are started with `bridgectl products sync`, as an
operator would; each case checks the messages on the topic and the rows."""
import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402

RUN = f"{os.getpid() % 100000}{int(time.time()) % 100000}"
OWNER = f"cown{RUN}"
WA, SA, WR = f"cwa{RUN}", f"csa{RUN}", f"cwr{RUN}"
R = h.Reporter()
TOPIC = "shop.catalog.v1"


class World:
    sim = None
    svc = None
    inc = {}
    changes = 0
    woo = []
    shop = []
    virtual_sku = None


W = World()


def start_service():
    return h.service("catalog-ingest", {"WB_CATALOG_POLL_MS": "0", "WB_LOG_LEVEL": "info",
                                        "WB_CATALOG_WOO_PAGE": os.environ.get("CI_WOO_PAGE", "100")})


def add_store(store, platform, owner=OWNER):
    base = W.sim.base
    if platform == "shopify":
        creds = f'{{"access_token":"shpat_{store}","api_secret":"shopsim-secret"}}'
    else:
        creds = f'{{"consumer_key":"ck_{store}","consumer_secret":"cs_{store}","webhook_secret":"shopsim-secret"}}'
    h.bridgectl("store", "add", store, "--platform", platform, "--url", f"{base}/{store}", "--owner", owner,
                "--credentials", "-", stdin=creds)


def messages(store):
    """(key, value dict) of every message of the store on the topic, in offset order per partition."""
    return [(k, json.loads(v)) for _, _, k, v in h.consume(TOPIC, f"{store}/", idle_seconds=3)]


def sync(store):
    out = h.bridgectl("products", "sync", store)
    assert " done: " in out, out
    return out


def setup():
    W.sim = h.Shopsim()
    h.bridgectl("db", "migrate")
    h.bridgectl("topics", "ensure")
    W.sim.call("POST", "/_sim/stores", {"id": WA, "platform": "woocommerce"})
    W.woo = W.sim.call("POST", f"/_sim/stores/{WA}/seed", {"products": 1, "variants": 250, "sku_prefix": f"V{RUN}"})
    W.woo += W.sim.call("POST", f"/_sim/stores/{WA}/seed", {"products": 2, "variants": 1, "sku_prefix": f"V{RUN}"})
    W.virtual_sku = f"VIRT{RUN}"
    W.woo.append(W.sim.call("POST", f"/_sim/stores/{WA}/products",
                            {"title": "Gift wrapping", "virtual": True,
                             "variants": [{"sku": W.virtual_sku, "barcode": "4000000000017", "price": "2.00"}]}))
    add_store(WA, "woocommerce")
    W.sim.call("POST", "/_sim/stores", {"id": SA, "platform": "shopify", "plan": "plus"})
    W.shop = W.sim.call("POST", f"/_sim/stores/{SA}/seed", {"products": 4, "variants": 2, "sku_prefix": f"S{RUN}"})
    add_store(SA, "shopify")
    W.svc = start_service()


def test_woo_variable_product_with_250_variations_imported_whole():
    out = sync(WA)
    msgs = messages(WA)
    keys = {k for k, _ in msgs}
    variable = W.woo[0]
    assert variable["type"] == "variable" and len(variable["variants"]) == 250
    want = {f"{WA}/{v['sku']}" for p in W.woo for v in p["variants"]}
    assert len(want) == 253, len(want)
    assert keys == want, (len(keys), sorted(want - keys)[:5], sorted(keys - want)[:5], out)
    assert len(msgs) == 253, len(msgs)
    by_sku = {m["sku"]: m for _, m in msgs}
    v0 = variable["variants"][0]
    m = by_sku[v0["sku"]]
    assert m["product_id"] == str(variable["id"]) and m["variant_id"] == str(v0["id"]), m
    assert m["name"].startswith(variable["title"] + " - "), m
    assert m["unit"] == "st" and m["is_stock_article"] is True and m["barcode"] == v0["barcode"], m
    assert m["weight"]["unit"] == "kg" and m["dimensions"]["unit"] == "cm", m
    assert "categories" not in m, m
    simple = W.woo[1]
    ms = by_sku[simple["variants"][0]["sku"]]
    assert "variant_id" not in ms and ms["name"] == simple["title"], ms
    rows = h.psql(f"SELECT count(*), count(*) FILTER (WHERE shop_variant_id <> ''), "
                  f"count(*) FILTER (WHERE inventory_item_id = ''), count(content_hash) "
                  f"FROM product_mappings WHERE store_id = '{WA}'").strip()
    assert rows == "253|250|253|253", rows
    row = h.psql(f"SELECT shop_product_id || '/' || shop_variant_id FROM product_mappings "
                 f"WHERE store_id = '{WA}' AND sku = {h.sql_literal(v0['sku'])}").strip()
    assert row == f"{variable['id']}/{v0['id']}", row


def test_virtual_product_non_stock_only_when_configured():
    before = messages(WA)
    virt = [m for _, m in before if m["sku"] == W.virtual_sku]
    assert len(virt) == 1 and virt[0]["is_stock_article"] is True, virt
    h.bridgectl("store", "set", WA, "virtual_as_non_stock", "true")
    sync(WA)
    after = messages(WA)
    new = after[len(before):] if len(after) > len(before) else []
    new = [m for k, m in after if (k, m) not in before]
    assert [m["sku"] for m in new] == [W.virtual_sku], [m["sku"] for m in new]
    assert new[0]["is_stock_article"] is False, new[0]


def test_unchanged_catalog_sends_nothing():
    before = len(messages(WA))
    out = sync(WA)
    assert " 0 sent" in out, out
    after = len(messages(WA))
    assert after == before, (before, after)


def test_progress_bar_on_a_terminal():
    env = dict(os.environ, WB_MASTER_KEY=h.MASTER_KEY)
    cmd = f"{h.BUILD / 'bin' / 'bridgectl'} products sync {WA}"
    p = subprocess.run(["script", "-qec", cmd, "/dev/null"], env=env, capture_output=True, timeout=120)
    out = p.stdout.decode(errors="replace")  # bytes: text mode would turn the bar's \r into \n
    assert p.returncode == 0, (p.returncode, out, p.stderr)
    assert "\r" + WA + " [" in out and "items/s" in out and "ETA" in out and "1/1 pages" in out, out
    assert "[########################]" in out and " done: " in out, out
    plain = sync(WA)  # not a terminal: plain lines, no bar
    assert "\r" not in plain and "items/s" in plain, plain


def test_categories_sent_when_the_store_says_so():
    h.bridgectl("store", "set", WA, "catalog_categories", "true")
    W.sim.call("POST", f"/_sim/stores/{WA}/products",
               {"title": "Tea", "categories": ["Drinks"], "variants": [{"sku": f"TEA{RUN}", "price": "3.00"}]})
    sync(WA)
    tea = [m for _, m in messages(WA) if m["sku"] == f"TEA{RUN}"]
    assert len(tea) == 1 and tea[0]["categories"] == ["Drinks"], tea


def shop_variant(p, i):
    return p["variants"][i]


def test_shopify_mapping_by_sku_and_barcode_existing_left_untouched():
    p0, p1 = W.shop[0], W.shop[1]
    kept = shop_variant(p0, 0)
    # An existing mapping (made by hand) with another inventory item: left as it is.
    h.bridgectl("mapping", "add", SA, kept["sku"], "--product", p0["gid"], "--variant", kept["gid"],
                "--item", "gid://shopify/InventoryItem/999999")
    # A WMS article whose barcode is a shop variant's, under another sku.
    by_barcode = shop_variant(p1, 0)
    wms_sku = f"WMS-{RUN}"
    h.psql(f"INSERT INTO wms_articles (goods_owner, sku, barcode) VALUES ('{OWNER}', '{wms_sku}', "
           f"{h.sql_literal(by_barcode['barcode'])})")
    sync(SA)
    msgs = {m["sku"]: m for _, m in messages(SA)}
    assert len(msgs) == 8, sorted(msgs)
    row = h.psql(f"SELECT inventory_item_id FROM product_mappings WHERE store_id = '{SA}' "
                 f"AND sku = {h.sql_literal(kept['sku'])}").strip()
    assert row == "gid://shopify/InventoryItem/999999", row
    assert by_barcode["sku"] not in msgs and wms_sku in msgs, sorted(msgs)
    m = msgs[wms_sku]
    assert m["product_id"] == p1["gid"] and m["variant_id"] == by_barcode["gid"], m
    row = h.psql(f"SELECT sku, shop_sku, inventory_item_id FROM product_mappings WHERE store_id = '{SA}' "
                 f"AND shop_variant_id = {h.sql_literal(by_barcode['gid'])}").strip()
    assert row == f"{wms_sku}|{by_barcode['sku']}|{by_barcode['inventory_item_gid']}", row
    other = shop_variant(W.shop[2], 1)
    row = h.psql(f"SELECT inventory_item_id FROM product_mappings WHERE store_id = '{SA}' "
                 f"AND sku = {h.sql_literal(other['sku'])}").strip()
    assert row == other["inventory_item_gid"], row
    assert msgs[other["sku"]]["name"].startswith(W.shop[2]["title"] + " - "), msgs[other["sku"]]


def test_shopify_sku_conflicts_reported():
    taken = shop_variant(W.shop[3], 0)
    dup = W.sim.call("POST", f"/_sim/stores/{SA}/products",
                     {"title": "Copy", "variants": [{"sku": taken["sku"], "barcode": "4000000000024"},
                                                    {"sku": "", "barcode": "4000000000031"}]})
    before = len(messages(SA))
    sync(SA)
    after = messages(SA)
    assert len(after) == before, (before, len(after))  # neither goes out
    conflicts = json.loads(h.bridgectl("products", "conflicts", SA, "--json"))
    kinds = {(c["kind"], c["product"]) for c in conflicts}
    assert ("duplicate_sku", dup["gid"]) in kinds and ("missing_sku", dup["gid"]) in kinds, conflicts
    text = h.bridgectl("products", "conflicts", SA)
    assert "duplicate_sku" in text and taken["sku"] in text, text
    row = h.psql(f"SELECT shop_product_id FROM product_mappings WHERE store_id = '{SA}' "
                 f"AND sku = {h.sql_literal(taken['sku'])}").strip()
    assert row == W.shop[3]["gid"], row  # the first mapping stays
    metrics = h.http("GET", f"http://127.0.0.1:{W.svc.port}/metrics")[1]
    assert f'wb_catalog_conflicts_total{{store="{SA}",kind="duplicate_sku"}} 1' in metrics, metrics[-1500:]


def test_sku_changed_for_an_existing_variant_reported():
    p = W.shop[2]
    v = shop_variant(p, 0)
    new_sku = f"CHANGED-{RUN}"
    W.sim.call("PATCH", f"/_sim/stores/{SA}/products/{p['id']}", {"variants": [{"sku": v["sku"], "new_sku": new_sku}]})
    sync(SA)
    conflicts = json.loads(h.bridgectl("products", "conflicts", SA, "--json"))
    changed = [c for c in conflicts if c["kind"] == "sku_changed"]
    assert len(changed) == 1 and changed[0]["variant"] == v["gid"] and new_sku in changed[0]["detail"], conflicts
    row = h.psql(f"SELECT sku FROM product_mappings WHERE store_id = '{SA}' "
                 f"AND shop_variant_id = {h.sql_literal(v['gid'])}").strip()
    assert row == v["sku"], row
    assert not [m for _, m in messages(SA) if m["sku"] == new_sku]


def test_woo_product_webhook_reaches_the_topic():
    simple = W.woo[2]
    W.sim.call("POST", f"/_sim/stores/{WA}/webhooks",
               {"topic": "product.updated", "address": f"http://127.0.0.1:{W.svc.port}/webhooks/woocommerce/{WA}",
                "secret": "shopsim-secret"})
    W.sim.call("PATCH", f"/_sim/stores/{WA}/products/{simple['id']}", {"title": f"Renamed {RUN}"})
    sku = simple["variants"][0]["sku"]

    def renamed():
        return [m for _, m in messages(WA) if m["sku"] == sku and m["name"] == f"Renamed {RUN}"]
    h.wait_for("renamed article on the topic", renamed, timeout=60, interval=1)
    status, _ = h.http("POST", f"http://127.0.0.1:{W.svc.port}/webhooks/woocommerce/{WA}", b'{"id":1}',
                       {"X-WC-Webhook-Signature": "AAAA", "X-WC-Webhook-Topic": "product.updated"})
    assert status == 401, status


def test_shopify_product_webhook_reaches_the_topic():
    p = W.shop[1]
    W.sim.call("POST", f"/_sim/stores/{SA}/webhooks",
               {"topic": "products/update", "address": f"http://127.0.0.1:{W.svc.port}/webhooks/shopify/{SA}"})
    W.sim.call("PATCH", f"/_sim/stores/{SA}/products/{p['id']}", {"title": f"Shirt {RUN}"})
    sku = shop_variant(p, 1)["sku"]

    def renamed():
        return [m for _, m in messages(SA) if m["sku"] == sku and m["name"].startswith(f"Shirt {RUN} - ")]
    h.wait_for("renamed Shopify article on the topic", renamed, timeout=60, interval=1)
    status, _ = h.http("POST", f"http://127.0.0.1:{W.svc.port}/webhooks/shopify/{SA}", b'{"id":1}',
                       {"X-Shopify-Hmac-Sha256": "AAAA", "X-Shopify-Topic": "products/update"})
    assert status == 401, status
    status, _ = h.http("POST", f"http://127.0.0.1:{W.svc.port}/webhooks/shopify/nosuchstore{RUN}", b'{"id":1}',
                       {"X-Shopify-Hmac-Sha256": "AAAA", "X-Shopify-Topic": "products/update"})
    assert status == 404, status


def signed_post(platform, store, topic, body):
    """A product webhook as the platform sends it, signed with the store's secret."""
    raw = json.dumps(body).encode()
    sig = base64.b64encode(hmac.new(b"shopsim-secret", raw, hashlib.sha256).digest()).decode()
    headers = ({"X-Shopify-Hmac-Sha256": sig, "X-Shopify-Topic": topic} if platform == "shopify" else
               {"X-WC-Webhook-Signature": sig, "X-WC-Webhook-Topic": topic})
    return h.http("POST", f"http://127.0.0.1:{W.svc.port}/webhooks/{platform}/{store}", raw, headers)


def removal_of(store, sku):
    return [m for _, m in messages(store) if m["sku"] == sku and "removed" in m]


def test_unpublished_product_reported_and_back_again():
    simple = W.woo[1]
    sku = simple["variants"][0]["sku"]
    W.sim.call("PATCH", f"/_sim/stores/{WA}/products/{simple['id']}", {"status": "draft"})  # fires product.updated
    gone = h.wait_for("unpublished article on the topic", lambda: removal_of(WA, sku), timeout=60, interval=1)
    m = gone[-1]
    assert m["removed"] == "unpublished" and m["product_id"] == str(simple["id"]), m
    assert m["name"] == simple["title"] and m["barcode"] == simple["variants"][0]["barcode"], m  # as last sent
    row = h.psql(f"SELECT removed, removed_at IS NOT NULL FROM product_mappings WHERE store_id = '{WA}' "
                 f"AND sku = {h.sql_literal(sku)}").strip()
    assert row == "unpublished|t", row
    before = len([1 for _, x in messages(WA) if x["sku"] == sku])
    W.sim.call("PATCH", f"/_sim/stores/{WA}/products/{simple['id']}", {"status": "publish"})

    def back():
        ms = [x for _, x in messages(WA) if x["sku"] == sku]
        return len(ms) > before and "removed" not in ms[-1]
    h.wait_for("article back on the topic", back, timeout=60, interval=1)
    row = h.psql(f"SELECT coalesce(removed, 'none') FROM product_mappings WHERE store_id = '{WA}' "
                 f"AND sku = {h.sql_literal(sku)}").strip()
    assert row == "none", row


def test_deleted_products_reported_on_delete_webhooks():
    # Products the shop no longer has (shopsim answers 404 / no variants for
    # them, as the platforms do), mapped by hand and never sent.
    cases = [("shopify", SA, f"gid://shopify/Product/9{RUN}", f"gid://shopify/ProductVariant/9{RUN}",
              "products/delete"),
             ("woocommerce", WA, f"9{RUN}", "", "product.deleted")]
    for platform, store, product, variant, topic in cases:
        sku = f"GONE-{platform}-{RUN}"
        args = ["mapping", "add", store, sku, "--product", product]
        if variant:
            args += ["--variant", variant, "--item", f"gid://shopify/InventoryItem/9{RUN}"]
        h.bridgectl(*args)
        status, body = signed_post(platform, store, topic, {"id": int(f"9{RUN}")})
        assert status == 200 and body.get("status") == "queued", (status, body)
        gone = h.wait_for(f"{platform} deletion on the topic", lambda: removal_of(store, sku), timeout=60,
                          interval=1)
        m = gone[-1]
        assert m["removed"] == "deleted" and m["product_id"] == product and m["name"] == sku, m
        row = h.psql(f"SELECT removed FROM product_mappings WHERE store_id = '{store}' "
                     f"AND sku = {h.sql_literal(sku)}").strip()
        assert row == "deleted", row
    status, _ = signed_post("shopify", SA, "products/delete", {"id": 1})
    assert status == 200, status
    status, _ = h.http("POST", f"http://127.0.0.1:{W.svc.port}/webhooks/shopify/{SA}", b'{"id":1}',
                       {"X-Shopify-Hmac-Sha256": "AAAA", "X-Shopify-Topic": "products/delete"})
    assert status == 401, status


def test_sync_resumable_after_kill_9():
    W.sim.call("POST", "/_sim/stores", {"id": WR, "platform": "woocommerce"})
    seeded = W.sim.call("POST", f"/_sim/stores/{WR}/seed", {"products": 60, "variants": 1, "sku_prefix": f"R{RUN}"})
    add_store(WR, "woocommerce", owner=f"{OWNER}r")  # its own WMS articles
    W.svc.stop()
    W.svc.cleanup()
    os.environ["CI_WOO_PAGE"] = "5"
    W.sim.call("PUT", f"/_sim/stores/{WR}/faults", {"slow_ms": 250})
    W.svc = start_service()
    h.bridgectl("products", "sync", WR, "--no-wait")
    h.wait_for("three pages done", lambda: int(h.psql(
        f"SELECT coalesce(max(pages_done), 0) FROM catalog_syncs WHERE store_id = '{WR}'").strip() or 0) >= 3,
        timeout=60, interval=0.05)
    W.svc.kill9()
    W.svc.cleanup()
    state = h.psql(f"SELECT state, pages_done FROM catalog_syncs WHERE store_id = '{WR}'").strip()
    assert state.startswith("running|"), state
    W.sim.call("PUT", f"/_sim/stores/{WR}/faults", {"slow_ms": 0})
    # A webhook's product sync queued meanwhile runs between the pages (or after).
    h.psql(f"INSERT INTO catalog_syncs (store_id, product_id, source) VALUES ('{WR}', '{seeded[-1]['id']}', 'test')")
    W.svc = start_service()
    out = sync(WR)  # joins the running sync
    h.wait_for("product sync done", lambda: h.psql(
        f"SELECT state FROM catalog_syncs WHERE store_id = '{WR}' AND product_id IS NOT NULL").strip() == "done")
    msgs = messages(WR)
    counts = {}
    for k, _ in msgs:
        counts[k] = counts.get(k, 0) + 1
    want = {f"{WR}/{p['variants'][0]['sku']}" for p in seeded}
    assert set(counts) == want, (sorted(want - set(counts))[:3], sorted(set(counts) - want)[:3], out)
    twice = [k for k, n in counts.items() if n > 1]
    assert max(counts.values()) <= 2 and len(twice) <= 5, twice  # at most the last page again
    row = h.psql(f"SELECT state, pages_done, pages_total FROM catalog_syncs WHERE store_id = '{WR}' "
                 f"AND product_id IS NULL").strip()
    assert row == "done|12|12", row


def test_full_sync_reports_products_no_longer_published():
    seeded = json.loads(h.psql(f"SELECT json_agg(json_build_object('p', shop_product_id, 's', sku)) "
                               f"FROM product_mappings WHERE store_id = '{WR}'").strip())
    target = sorted(seeded, key=lambda x: int(x["p"]))[0]
    W.sim.call("PATCH", f"/_sim/stores/{WR}/products/{target['p']}", {"status": "draft"})  # WR has no webhooks
    before = messages(WR)
    sync(WR)
    after = messages(WR)
    new = [m for k, m in after if (k, m) not in before]  # partitions interleave: not after[len(before):]
    assert [(m["sku"], m.get("removed")) for m in new] == [(target["s"], "unpublished")], new
    row = h.psql(f"SELECT removed FROM product_mappings WHERE store_id = '{WR}' "
                 f"AND sku = {h.sql_literal(target['s'])}").strip()
    assert row == "unpublished", row
    sync(WR)  # reported once: nothing more
    assert len(messages(WR)) == len(after), len(messages(WR))


def test_woo_store_units_read_and_converted():
    store = f"cwu{RUN}"
    W.sim.call("POST", "/_sim/stores", {"id": store, "platform": "woocommerce", "weight_unit": "lbs",
                                        "dimension_unit": "yd"})
    seeded = W.sim.call("POST", f"/_sim/stores/{store}/seed", {"products": 1, "variants": 1, "sku_prefix": f"U{RUN}"})
    add_store(store, "woocommerce", owner=f"{OWNER}u")
    sync(store)
    msgs = [m for _, m in messages(store)]
    assert [m["sku"] for m in msgs] == [seeded[0]["variants"][0]["sku"]], msgs
    m = msgs[0]
    # shopsim's seeded article: weight 0.50, dimensions 10 x 10 x 5, in the store's units
    assert m["weight"] == {"value": "0.5", "unit": "lb"}, m
    assert m["dimensions"] == {"length": "360", "width": "360", "height": "180", "unit": "in"}, m
    calls = W.sim.call("GET", f"/_sim/stores/{store}/calls")
    assert any(c["path"].endswith("/settings/products") and c["status"] == 200 for c in calls), calls


# ---- incremental polls: two stores of their own, a service that polls every second

IW, IS = f"ciw{RUN}", f"cis{RUN}"


def poll_service():
    # Small pages, so that a full catalog read is many calls and a poll's one or two stand out.
    return h.service("catalog-ingest", {"WB_CATALOG_POLL_MS": "1000", "WB_CATALOG_POLL_OVERLAP_MS": "1000",
                                        "WB_CATALOG_WOO_PAGE": "5", "WB_CATALOG_SHOPIFY_PAGE": "5",
                                        "WB_LOG_LEVEL": "info"})


def syncs_done(store, kind):
    return int(h.psql(f"SELECT count(*) FROM catalog_syncs WHERE store_id = '{store}' AND product_id IS NULL "
                      f"AND kind = '{kind}' AND state = 'done'").strip())


def wait_polls(n=2):
    """n more polls of each store done: the first may have started before the caller's change."""
    base = {s: syncs_done(s, "changes") for s in (IW, IS)}

    def done():
        return all(syncs_done(s, "changes") >= base[s] + n for s in (IW, IS))
    try:
        h.wait_for(f"{n} polls of each store", done, timeout=120, interval=0.25)
    except AssertionError:
        raise AssertionError(h.psql(f"SELECT store_id, kind, state, error FROM catalog_syncs WHERE store_id "
                                    f"IN ('{IW}', '{IS}') ORDER BY id DESC LIMIT 6")) from None


def cursor(store):
    return h.psql(f"SELECT value FROM sync_cursors WHERE store_id = '{store}' "
                  f"AND name = 'catalog_changed_since'").strip()


def last_seq(store):
    calls = W.sim.call("GET", f"/_sim/stores/{store}/calls")
    return calls[-1]["seq"] if calls else 0


def calls_since(store, seq):
    return W.sim.call("GET", f"/_sim/stores/{store}/calls?since={seq}")


def woo_full_reads(calls):
    """WooCommerce product lists that are not a poll's (no modified_after)."""
    return [c for c in calls if c["path"].endswith("/wc/v3/products") and "modified_after=" not in c.get("query", "")]


def test_poll_first_contact_is_a_full_sync():
    W.sim.call("POST", "/_sim/stores", {"id": IW, "platform": "woocommerce"})
    W.sim.call("PUT", f"/_sim/stores/{IW}/faults", {"drop_webhook_rate": 1})  # changes reach us by polls only
    iw = W.sim.call("POST", f"/_sim/stores/{IW}/seed", {"products": 1, "variants": 3, "sku_prefix": f"IV{RUN}"})
    iw += W.sim.call("POST", f"/_sim/stores/{IW}/seed", {"products": 20, "variants": 1, "sku_prefix": f"IV{RUN}"})
    W.sim.call("POST", "/_sim/stores", {"id": IS, "platform": "shopify", "plan": "plus"})
    W.sim.call("PUT", f"/_sim/stores/{IS}/faults", {"drop_webhook_rate": 1})
    ish = W.sim.call("POST", f"/_sim/stores/{IS}/seed", {"products": 20, "variants": 2, "sku_prefix": f"IS{RUN}"})
    W.inc = {IW: iw, IS: ish}
    W.svc.stop()
    W.svc.cleanup()
    add_store(IW, "woocommerce", owner=f"{OWNER}i")
    add_store(IS, "shopify", owner=f"{OWNER}i")
    W.svc = poll_service()  # nobody asks for a sync: the schedule's first contact does
    h.wait_for("first full syncs", lambda: syncs_done(IW, "full") >= 1 and syncs_done(IS, "full") >= 1,
               timeout=120, interval=0.5)
    for store, seeded in W.inc.items():
        keys = {k for k, _ in messages(store)}
        assert keys == {f"{store}/{v['sku']}" for p in seeded for v in p["variants"]}, (store, len(keys))
        started = h.psql(f"SELECT to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') "
                         f"FROM catalog_syncs WHERE store_id = '{store}' AND kind = 'full'").strip()
        assert cursor(store) >= started, (cursor(store), started)  # the sync's start, or a later poll's


def test_poll_of_an_unchanged_catalog_reads_and_sends_nothing():
    wait_polls(3)  # past the overlap of the seeding
    seq = {s: last_seq(s) for s in (IW, IS)}
    before = {s: len(messages(s)) for s in (IW, IS)}
    wait_polls(2)
    for s in (IW, IS):
        assert len(messages(s)) == before[s], (s, before[s])
    woo = calls_since(IW, seq[IW])
    assert woo and not woo_full_reads(woo), woo
    assert all(c["path"].endswith("/wc/v3/products") for c in woo), [c["path"] for c in woo]  # one list call a poll
    shop = calls_since(IS, seq[IS])
    assert shop and all(c["op"] == "query:products" for c in shop), [c["op"] for c in shop]


def change_one_product_each():
    """A new barcode for one variation of the WooCommerce variable product and
    for one Shopify variant, straight in shopsim (its webhooks dropped)."""
    changed = {}
    for store in (IW, IS):
        product = W.inc[store][0]
        variant = product["variants"][1]
        barcode = f"77{RUN}{W.changes}"[:13]
        W.sim.call("PATCH", f"/_sim/stores/{store}/products/{product['id']}",
                   {"variants": [{"sku": variant["sku"], "barcode": barcode}]})
        changed[store] = (variant["sku"], barcode)
    W.changes += 1
    return changed


def new_messages(store, before):
    return [m for k, m in messages(store) if (k, m) not in before]


def test_poll_publishes_only_the_changed_product():
    before = {s: messages(s) for s in (IW, IS)}
    seq = {s: last_seq(s) for s in (IW, IS)}
    changed = change_one_product_each()
    wait_polls(2)
    for store, (sku, barcode) in changed.items():
        new = new_messages(store, before[store])
        assert [(m["sku"], m.get("barcode")) for m in new] == [(sku, barcode)], (store, new)
    woo = calls_since(IW, seq[IW])
    assert not woo_full_reads(woo), woo
    # Besides one list call a poll: the changed product, its variations and
    # the store's units, and nothing else (read again by the next poll when
    # the change fell within the overlap before its start).
    product = W.inc[IW][0]["id"]
    reads = [c["path"] for c in woo if not c["path"].endswith("/wc/v3/products")]
    assert any(r.endswith(f"/products/{product}/variations") for r in reads), reads
    assert all(r.endswith(("/settings/products", f"/products/{product}", f"/products/{product}/variations"))
               for r in reads), reads
    shop = [c["op"] for c in calls_since(IS, seq[IS])]
    assert 1 <= shop.count("query:productVariants") <= 3, shop  # a full read is 8 pages of 5


def test_poll_cursor_kept_in_postgresql_across_a_restart():
    W.svc.stop()
    W.svc.cleanup()
    kept = {s: cursor(s) for s in (IW, IS)}
    assert all(kept.values()), kept
    fulls = {s: syncs_done(s, "full") for s in (IW, IS)}
    before = {s: messages(s) for s in (IW, IS)}
    changed = change_one_product_each()  # while no service runs
    W.svc = poll_service()
    wait_polls(2)
    for store, (sku, barcode) in changed.items():
        new = new_messages(store, before[store])
        assert [(m["sku"], m.get("barcode")) for m in new] == [(sku, barcode)], (store, new)
        assert syncs_done(store, "full") == fulls[store], "a restart must not cost a full sync"
        assert cursor(store) > kept[store], (cursor(store), kept[store])


def woo_api(store, method, path, body=None):
    auth = base64.b64encode(f"ck_{store}:cs_{store}".encode()).decode()
    status, doc = h.http(method, f"{W.sim.base}/{store}/wp-json/wc/v3/{path}", body, {"Authorization": "Basic " + auth})
    assert status == 200, (status, doc)
    return doc


def test_full_sync_still_finds_removed_products():
    # WooCommerce: a product moved to the trash, which no list shows (status
    # any leaves trash out); Shopify: a mapped product the shop does not have.
    gone = W.inc[IW][-1]
    woo_api(IW, "POST", "products/batch", {"delete": [gone["id"]]})
    woo_sku = gone["variants"][0]["sku"]
    shop_sku = f"GONE-{RUN}"
    h.bridgectl("mapping", "add", IS, shop_sku, "--product", f"gid://shopify/Product/8{RUN}",
                "--variant", f"gid://shopify/ProductVariant/8{RUN}", "--item", f"gid://shopify/InventoryItem/8{RUN}")
    wait_polls(2)
    assert not removal_of(IW, woo_sku) and not removal_of(IS, shop_sku), "a poll cannot know of deletions"
    for store, sku in ((IW, woo_sku), (IS, shop_sku)):
        sync(store)
        m = removal_of(store, sku)
        assert len(m) == 1 and m[0]["removed"] == "deleted", (store, m)


def test_bad_poll_settings_refused_at_start():
    for name, value in (("WB_CATALOG_FULL_SYNC_MS", "daily"), ("WB_CATALOG_FULL_SYNC_MS", "-1"),
                        ("WB_CATALOG_POLL_OVERLAP_MS", "10")):
        env = dict(os.environ, WB_HTTP_PORT="0", WB_MASTER_KEY=h.MASTER_KEY, **{name: value})
        p = subprocess.run([str(h.BUILD / "bin" / "catalog-ingest")], env=env, capture_output=True, text=True,
                           timeout=60)
        assert p.returncode == 2 and f"configuration error: {name}: expected an integer" in p.stderr, \
            (name, value, p.returncode, p.stderr)


def test_sigterm_exits_clean():
    code = W.svc.stop()
    assert code == 0, code
    out = W.svc.output()
    assert "LeakSanitizer" not in out and "runtime error" not in out, out[-2000:]


def main():
    setup()
    try:
        for name, fn in [(n, f) for n, f in globals().items() if n.startswith("test_") and callable(f)]:
            R.run(name, fn)
    finally:
        if W.svc:
            W.svc.stop()
            W.svc.cleanup()
        W.sim.close()
        # A later polling service must not keep trying this run's dead shops.
        try:
            h.psql("DELETE FROM stores WHERE id IN (" + ", ".join(
                h.sql_literal(s) for s in (WA, SA, WR, f"cwu{RUN}", IW, IS)) + ")")
        except AssertionError as e:
            print(f"stores of this run not deleted: {e}", flush=True)
    sys.exit(1 if R.failures else 0)


if __name__ == "__main__":
    main()
