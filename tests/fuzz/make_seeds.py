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
    reporter_seeds()


def reporter_seeds():
    """fuzz_reporter_{shopify,woo}: a fulfilment event (proto/examples), then
    the shop's answers as the reporter reads them, hostile numbers included."""
    ok = "HTTP/1.1 200 OK\nContent-Type: application/json\n\n"
    sep = "\n=====\n"
    ex = ROOT / "proto/examples/wms.fulfilment.v1/valid"
    event = {f.stem: json.loads(f.read_text()) for f in ex.glob("*.json")}
    line_ids = ["14086920003638", "14086920036406", "14086920069174"]

    def one(ev):
        return json.dumps(ev, separators=(",", ":"))

    def fo_order(remaining):
        lines = [{"id": f"gid://shopify/FulfillmentOrderLineItem/{i}", "remainingQuantity": q,
                  "lineItem": {"id": f"gid://shopify/LineItem/{lid}"}}
                 for i, (lid, q) in enumerate(zip(line_ids, remaining))]
        return {"data": {"order": {"id": "gid://shopify/Order/5734523158582", "fulfillments": [],
                                   "fulfillmentOrders": {"nodes": [{"id": "gid://shopify/FulfillmentOrder/1",
                                                                    "status": "OPEN",
                                                                    "lineItems": {"nodes": lines}}]}}}}
    created = {"data": {"fulfillmentCreate": {"fulfillment": {"id": "gid://shopify/Fulfillment/9",
                                                              "order": {"displayFulfillmentStatus": "FULFILLED"}},
                                              "userErrors": []}}}
    dispatched = one(event["dispatched-full"])
    write("fuzz_reporter_shopify", "dispatched", dispatched + sep + ok + json.dumps(fo_order([4, 10, 1])) +
          sep + ok + json.dumps(created))
    write("fuzz_reporter_shopify", "dispatched-hostile-numbers",
          dispatched + sep + ok + json.dumps(fo_order([4, 10, 1])).replace('"remainingQuantity": 4', '"remainingQuantity": 1e300')
          .replace('"remainingQuantity": 10', '"remainingQuantity": -1e999').replace('"remainingQuantity": 1,', '"remainingQuantity": 0.5,'))
    fulfilled = {"data": {"order": {"id": "gid://shopify/Order/5734523158582",
                                    "fulfillments": [{"id": "gid://shopify/Fulfillment/9", "fulfillmentLineItems": {"nodes": [
                                        {"id": f"gid://shopify/FulfillmentLineItem/{i}", "quantity": q,
                                         "lineItem": {"id": f"gid://shopify/LineItem/{lid}"}}
                                        for i, (lid, q) in enumerate(zip(line_ids, [4, 10, 1]))]}}],
                                    "returns": {"nodes": []}}}}
    returned = one(event["returned-mixed-restock"])
    write("fuzz_reporter_shopify", "returned", returned + sep + ok + json.dumps(fulfilled))
    write("fuzz_reporter_shopify", "returned-hostile-numbers",
          returned + sep + ok + json.dumps(fulfilled).replace('"quantity": 10', '"quantity": 1e300')
          .replace('"quantity": 4', '"quantity": -9e18'))
    write("fuzz_reporter_shopify", "tracking-updated", one(event["tracking-updated"]) + sep + ok +
          json.dumps({"data": {"fulfillmentTrackingInfoUpdate": {"userErrors": []}}}))
    write("fuzz_reporter_shopify", "cancelled", one(event["cancelled"]) + sep + ok + "{}")

    def woo_event(name):
        ev = dict(event[name], order_id="727")
        return one(ev)
    woo_order = {"id": 727, "status": "completed", "line_items": [
        {"id": int(lid), "sku": sku, "quantity": q, "total": "40.00",
         "taxes": [{"id": 1, "total": "10.00"}]}
        for lid, sku, q in zip(line_ids, ["TYRE-700X28-BLK", "TUBE-700-PV", "TOOL-MULTI-16"], [4, 10, 1])],
        "shipping_lines": [{"total": "9.00", "total_tax": "2.25"}]}
    write("fuzz_reporter_woo", "dispatched-note", woo_event("dispatched-full") + sep + ok +
          json.dumps({"id": 5001, "note": "shipped"}))
    write("fuzz_reporter_woo", "dispatched-hostile-id", woo_event("dispatched-full") + sep + ok +
          '{"id": 1e999}' + sep + ok + '{"id": 727, "status": "processing"}' + sep + ok + "{}")
    write("fuzz_reporter_woo", "returned", woo_event("returned-mixed-restock") + sep + ok + json.dumps(woo_order) +
          sep + ok + "[]" + sep + ok + json.dumps({"id": 88}) + sep + ok + json.dumps({"id": 89}))
    write("fuzz_reporter_woo", "returned-hostile-numbers", woo_event("returned-mixed-restock") + sep + ok +
          json.dumps(woo_order).replace('"quantity": 4', '"quantity": 1e300')
          .replace('"quantity": 10', '"quantity": NaN').replace('"id": 14086920069174', '"id": -1e400') +
          sep + ok + "[]")
    write("fuzz_reporter_woo", "cancelled", woo_event("cancelled") + sep + ok +
          '{"id": 727, "status": "processing"}' + sep + ok + "{}")


if __name__ == "__main__":
    main()
