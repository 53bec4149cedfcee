#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target into tests/fuzz/corpus/<target>/.

Seeds come from the repository's own examples and fixtures, so they follow the
code: proto/examples/<topic>/{valid,invalid} for the decoders, the webhook
bodies of tests/unit/order-ingest/test_order_mapping.c and the items of
tests/unit/catalog-ingest/test_catalog_logic.c for the webhook path, and shop
answers shaped as shopsim sends them for the clients. Files named regress-*
are inputs that once found a bug; they are kept. Run it again after the
fixtures change; libFuzzer finds the rest. The files are committed.
"""
import ast
import json
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "tests/fuzz/corpus"
TOPICS = {"stock": "wms.stock.v1", "fulfilment": "wms.fulfilment.v1", "orders": "shop.orders.v1",
          "catalog": "shop.catalog.v1", "deadletter": "bridge.deadletter.v1"}


def c_strings(path):
    """NAME -> text of every `static const char *NAME = "..." "...";` in a C file."""
    src = path.read_text()
    found = {}
    for m in re.finditer(r'static const char \*([A-Z_0-9]+)\s*=\s*((?:\s*"(?:[^"\\]|\\.)*")+)\s*;', src):
        parts = re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(2))
        found[m.group(1)] = "".join(ast.literal_eval('"' + p + '"') for p in parts)
    return found


def parse_calls(path):
    """The JSON texts given to cJSON_Parse("...") in a C file."""
    src = path.read_text()
    out = []
    for m in re.finditer(r'cJSON_Parse\(((?:\s*"(?:[^"\\]|\\.)*")+)\s*\)', src):
        parts = re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1))
        out.append("".join(ast.literal_eval('"' + p + '"') for p in parts))
    return out


def write(target, name, data):
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data.encode() if isinstance(data, str) else data)


def main():
    # regress-* files are inputs that once found a bug: they stay.
    for f in OUT.glob("*/*"):
        if not f.name.startswith("regress-"):
            f.unlink()
    for short, topic in TOPICS.items():
        for kind in ("valid", "invalid"):
            for f in sorted((ROOT / "proto/examples" / topic / kind).glob("*.json")):
                write(f"fuzz_proto_{short}", f"{kind}-{f.name}", f.read_bytes())

    orders = c_strings(ROOT / "tests/unit/order-ingest/test_order_mapping.c")
    for name, body in orders.items():
        if not body.lstrip().startswith("{"):
            continue
        shop = name.startswith("SHOPIFY")
        path = "/webhooks/shopify/s1" if shop else "/webhooks/woocommerce/s1"
        topic = "X-Shopify-Topic: orders/create" if shop else "X-WC-Webhook-Topic: order.created"
        write("fuzz_webhook", f"{name.lower()}-signed", f":path: {path}\n:sign: good\n{topic}\n\n{body}")
        write("fuzz_webhook", f"{name.lower()}-unsigned", f":path: {path}\n{topic}\n\n{body}")
    if "SHOPIFY_GQL_COMPANY" in orders and "SHOPIFY_GQL_MORE_LINES" in orders:
        node = json.loads(orders["SHOPIFY_GQL_COMPANY"])
        node["extraLines"] = json.loads(orders["SHOPIFY_GQL_MORE_LINES"])
        write("fuzz_webhook", "shopify_gql_with_extra_lines-signed",
              ":path: /webhooks/shopify/s1\n:sign: good\nX-Shopify-Topic: orders/updated\n\n" + json.dumps(node))
    write("fuzz_webhook", "woo-ping", ":path: /webhooks/woocommerce/s1\n\nwebhook_id=17")
    write("fuzz_webhook", "shopify-bad-signature",
          ":path: /webhooks/shopify/s1\nX-Shopify-Hmac-Sha256: AAAA\n\n{}")
    items = parse_calls(ROOT / "tests/unit/catalog-ingest/test_catalog_logic.c")
    for i, body in enumerate(items):
        write("fuzz_webhook", f"catalog-item-{i}",
              f":path: /webhooks/woocommerce/s1\n:sign: good\nX-WC-Webhook-Topic: product.updated\n\n{body}")

    variants = [json.loads(t) for t in items if "ProductVariant" in t]
    cost = {"requestedQueryCost": 12, "actualQueryCost": 10,
            "throttleStatus": {"maximumAvailable": 2000, "currentlyAvailable": 1990, "restoreRate": 100}}
    page = {"data": {"productVariants": {"nodes": variants,
                                         "pageInfo": {"hasNextPage": True, "endCursor": "c2"}}},
            "extensions": {"cost": cost}}
    last = {"data": {"productVariants": {"nodes": variants, "pageInfo": {"hasNextPage": False}}},
            "extensions": {"cost": cost}}
    throttled = {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                 "extensions": {"cost": dict(cost, actualQueryCost=None,
                                             throttleStatus={"maximumAvailable": 2000,
                                                             "currentlyAvailable": 3, "restoreRate": 100})}}
    ok = "HTTP/1.1 200 OK\nContent-Type: application/json\n\n"
    sep = "\n=====\n"
    write("fuzz_shopify_client", "one-page", ok + json.dumps(page))
    write("fuzz_shopify_client", "two-pages", ok + json.dumps(page) + sep + ok + json.dumps(last))
    write("fuzz_shopify_client", "throttled-then-ok", ok + json.dumps(throttled) + sep + ok + json.dumps(last))
    write("fuzz_shopify_client", "429-retry-after",
          "HTTP/1.1 429 Too Many Requests\nRetry-After: 2\n\n{}" + sep + ok + json.dumps(last))
    write("fuzz_shopify_client", "500-then-timeout-then-ok",
          "HTTP/1.1 500 Internal\n\noops" + sep + "TIMEOUT" + sep + ok + json.dumps(last))
    write("fuzz_shopify_client", "401", "HTTP/1.1 401 Unauthorized\n\n{\"errors\":\"[API] Invalid API key\"}")
    write("fuzz_shopify_client", "graphql-error",
          ok + json.dumps({"errors": [{"message": "Field 'x' doesn't exist"}]}))

    products = [json.loads(t) for t in items if "ProductVariant" not in t]
    woo_ok = "HTTP/1.1 200 OK\nX-WP-Total: {n}\nX-WP-TotalPages: {p}\n\n"
    simple = {"id": 12, "name": "Mug", "type": "simple", "status": "publish", "sku": "MUG-1",
              "weight": "0.4", "dimensions": {"length": "10", "width": "8", "height": "9"},
              "categories": [{"id": 3, "name": "Kitchen"}], "date_modified_gmt": "2026-11-18T08:00:00"}
    parent = next((p for p in products if p.get("type") == "variable"), None)
    variation = next((p for p in products if p.get("type") != "variable"), {})
    write("fuzz_woo_client", "simple-page", woo_ok.format(n=1, p=1) + json.dumps([simple]))
    if parent:
        write("fuzz_woo_client", "variable-page",
              woo_ok.format(n=2, p=3) + json.dumps([simple, dict(parent, status="publish")]) + sep +
              woo_ok.format(n=1, p=1) + json.dumps([dict(variation, status="publish")]))
        write("fuzz_woo_client", "one-product", ok + json.dumps(dict(parent, status="publish")) + sep +
              woo_ok.format(n=1, p=1) + json.dumps([variation]))
    write("fuzz_woo_client", "404", "HTTP/1.1 404 Not Found\n\n{\"code\":\"woocommerce_rest_product_invalid_id\"}")
    write("fuzz_woo_client", "503-reset-ok",
          "HTTP/1.1 503 Busy\nRetry-After: 1\n\n" + sep + "RESET" + sep + woo_ok.format(n=1, p=1) + "[]")
    write("fuzz_woo_client", "odd-headers", "HTTP/1.1 200 OK\nX-WP-TotalPages: -99999999999999999999\n"
          "x-wp-total:   7abc\n\n" + json.dumps([simple]))


if __name__ == "__main__":
    main()
