#!/usr/bin/env python3
"""Configures shopsim's demo stores in the bridge, for scripts/run.

For each store of the stores file (sim/stores.example.json) that shopsim
serves, idempotently:
  - `bridgectl store add` with the shopsim store's tokens and secrets
    (credentials on stdin), goods owner --owner, base URL shopsim/<id>;
  - `bridgectl store set <id> window_seconds 5` (a snappy demo);
  - `bridgectl location map`: Shopify's first location gid, WooCommerce's
    `default`, to --warehouse, as the default;
  - product mappings for every variant of the store's seed
    (GET /_sim/stores/<id>/products): catalog-ingest will write these, until
    then rows go into product_mappings through psql (existing rows are kept);
  - shopsim webhooks to order-ingest (Shopify orders/create, orders/updated,
    orders/cancelled to <webhook-base>/webhooks/shopify/<id>; WooCommerce
    order.created, order.updated to <webhook-base>/webhooks/woocommerce/<id>),
    added when missing; a WooCommerce webhook that was disabled after failed
    deliveries (order-ingest down) is set active again.
With --forget-sent (shopsim was just started, so its stores hold the seed's
stock again) the bridge's record of the stock last sent to these stores
(stock_sent) is dropped, so the next levels go out even where they equal
what the previous shopsim got.
Writes every demo SKU, comma-separated, to --skus-out (wmssim's --sku-list).
Needs WB_PG_DSN and WB_MASTER_KEY. Prints one line per change; exit 1 on failure.
"""
import argparse
import base64
import json
import subprocess
import sys
import time
import urllib.request

SHOPIFY_TOPICS = ["orders/create", "orders/updated", "orders/cancelled"]
WOO_TOPICS = ["order.created", "order.updated"]


def say(msg):
    print(f"demo: {msg}", file=sys.stderr, flush=True)


def http(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        payload = resp.read()
    return json.loads(payload) if payload else None


def wait_shopsim(base):
    deadline = time.monotonic() + 30
    while True:
        try:
            if http("GET", f"{base}/_sim/health").get("ok"):
                return
        except (OSError, ValueError):
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"demo: shopsim at {base} does not answer")
        time.sleep(0.2)


class Bridge:
    def __init__(self, path):
        self.path = path

    def run(self, *args, stdin=None):
        p = subprocess.run([self.path, *args], input=stdin, capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise SystemExit(f"demo: bridgectl {' '.join(args[:2])} failed: {p.stderr.strip()}")
        return p.stdout

    def json(self, *args):
        return json.loads(self.run(*args, "--json"))


def sql_literal(s):
    return "'" + str(s).replace("'", "''") + "'"


def psql(dsn, sql):
    p = subprocess.run(["psql", dsn, "-v", "ON_ERROR_STOP=1", "-qAtc", sql], capture_output=True, text=True,
                       timeout=60)
    if p.returncode != 0:
        raise SystemExit(f"demo: psql: {p.stderr.strip()}")
    return p.stdout


def credentials(store):
    sid = store["id"]
    secret = store.get("app_secret") or store.get("webhook_secret") or "shopsim-secret"
    if store["platform"] == "shopify":
        # shopsim's shop domain: order-ingest matches X-Shopify-Shop-Domain against it
        return {"access_token": store.get("access_token", f"shpat_{sid}"), "api_secret": secret,
                "shop_domain": store.get("shop_domain", f"{sid}.myshopify.com")}
    return {"consumer_key": store.get("consumer_key", f"ck_{sid}"),
            "consumer_secret": store.get("consumer_secret", f"cs_{sid}"), "webhook_secret": secret}


def mapping_rows(store, products):
    """(shop_product_id, shop_variant_id, inventory_item_id, sku, barcode) per variant, as the
    stock path reads them: Shopify gids; WooCommerce product id, and the variation id for a
    variable product."""
    rows = []
    for p in products:
        for v in p["variants"]:
            if not v.get("sku"):
                continue
            if store["platform"] == "shopify":
                rows.append((p["gid"], v["gid"], v["inventory_item_gid"], v["sku"], v.get("barcode")))
            elif p.get("type") == "variable":
                rows.append((str(p["id"]), str(v["id"]), "", v["sku"], v.get("barcode")))
            else:
                rows.append((str(p["id"]), "", "", v["sku"], v.get("barcode")))
    return rows


def woo_reactivate(base, store, hook_id):
    creds = credentials(store)
    auth = base64.b64encode(f"{creds['consumer_key']}:{creds['consumer_secret']}".encode()).decode()
    req = urllib.request.Request(f"{base}/{store['id']}/wp-json/wc/v3/webhooks/{hook_id}", method="PUT",
                                 data=b'{"status":"active"}',
                                 headers={"Content-Type": "application/json", "Authorization": "Basic " + auth})
    urllib.request.urlopen(req, timeout=10).read()


def setup_store(args, bridge, dsn, store, existing):
    sid, platform = store["id"], store["platform"]
    sim = f"{args.shopsim}/_sim/stores/{sid}"
    summary = http("GET", sim)
    if sid not in existing:
        bridge.run("store", "add", sid, "--platform", platform, "--url", f"{args.shopsim}/{sid}",
                   "--owner", args.owner, "--credentials", "-", stdin=json.dumps(credentials(store)))
        say(f"store {sid} added ({platform}, goods owner {args.owner})")
    bridge.run("store", "set", sid, "window_seconds", str(args.window))

    location = summary["locations"][0]["gid"] if platform == "shopify" else "default"
    locations = bridge.json("location", "list", sid)
    if not any(l["location"] == location and l["warehouse"] == args.warehouse for l in locations):
        flags = [] if any(l["default"] for l in locations) else ["--default"]
        bridge.run("location", "map", sid, location, args.warehouse, *flags)
        say(f"store {sid}: location {location} <- warehouse {args.warehouse}")

    products = http("GET", f"{sim}/products")
    rows = mapping_rows(store, products)
    if rows:
        values = ",".join(
            f"({sql_literal(sid)},{sql_literal(p)},{sql_literal(v)},{sql_literal(i)},{sql_literal(s)},"
            f"{sql_literal(b) if b else 'NULL'})" for p, v, i, s, b in rows)
        added = psql(dsn, "WITH added AS (INSERT INTO product_mappings "
                          "(store_id, shop_product_id, shop_variant_id, inventory_item_id, sku, barcode) "
                          f"VALUES {values} ON CONFLICT DO NOTHING RETURNING 1) SELECT count(*) FROM added")
        if int(added.strip() or 0):
            say(f"store {sid}: {added.strip()} product mappings added")

    kind = "shopify" if platform == "shopify" else "woocommerce"
    address = f"{args.webhook_base}/webhooks/{kind}/{sid}"
    hooks = http("GET", f"{sim}/webhooks") or []
    for topic in SHOPIFY_TOPICS if platform == "shopify" else WOO_TOPICS:
        have = [h for h in hooks if h.get("delivery_url", h.get("address")) == address
                and h.get("topic", "").lower().replace("_", "/") == topic]
        if not have:
            http("POST", f"{sim}/webhooks", {"topic": topic, "address": address})
            say(f"store {sid}: webhook {topic} -> {address}")
        for h in have:
            if h.get("status") == "disabled":  # WooCommerce gave up after failed deliveries
                woo_reactivate(args.shopsim, store, h["id"])
                say(f"store {sid}: webhook {topic} was disabled, set active again")
    return [r[3] for r in rows]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shopsim", required=True, help="shopsim base URL, http://127.0.0.1:8787")
    ap.add_argument("--stores", required=True, help="the stores file shopsim was started with")
    ap.add_argument("--bridgectl", required=True)
    ap.add_argument("--dsn", required=True, help="PostgreSQL URL (WB_PG_DSN)")
    ap.add_argument("--owner", default="demo")
    ap.add_argument("--warehouse", default="WH1")
    ap.add_argument("--window", type=int, default=5)
    ap.add_argument("--webhook-base", default="http://127.0.0.1:8081")
    ap.add_argument("--skus-out", required=True)
    ap.add_argument("--forget-sent", action="store_true", help="shopsim was just started: drop stock_sent")
    args = ap.parse_args()
    args.shopsim = args.shopsim.rstrip("/")

    wait_shopsim(args.shopsim)
    bridge = Bridge(args.bridgectl)
    existing = {s["id"] for s in bridge.json("store", "list")}
    served = set(http("GET", f"{args.shopsim}/_sim/stores") or [])
    skus = []
    for store in json.load(open(args.stores)):
        if store["id"] not in served:
            raise SystemExit(f"demo: shopsim does not serve store {store['id']}")
        skus += setup_store(args, bridge, args.dsn, store, existing)
    if args.forget_sent:
        ids = ",".join(sql_literal(s["id"]) for s in json.load(open(args.stores)))
        gone = psql(args.dsn, f"WITH gone AS (DELETE FROM stock_sent WHERE store_id IN ({ids}) RETURNING 1) "
                              "SELECT count(*) FROM gone").strip()
        if int(gone or 0):
            say(f"shopsim started afresh: forgot the stock last sent to its stores ({gone} values)")
    with open(args.skus_out, "w") as f:
        f.write(",".join(skus) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
