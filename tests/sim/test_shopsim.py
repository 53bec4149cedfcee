#!/usr/bin/env python3
"""Behaviour tests for shopsim, the simulated Shopify/WooCommerce stores.

Starts $WB_BUILD_DIR/sim/shopsim/shopsim on a free port, drives it through
its control API and the platform APIs, and prints one line per case:
`PASS name` or `FAIL name: why`. Exits non-zero when a case fails.
Python standard library only.
"""
import base64
import hashlib
import hmac
import http.client
import http.server
import json
import os
import pathlib
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
BUILD = pathlib.Path(os.environ.get("WB_BUILD_DIR") or ROOT / "build-sim")
BINARY = BUILD / "sim" / "shopsim" / "shopsim"
GQL = "/admin/api/2026-07/graphql.json"
RESULTS = []


class Check(Exception):
    pass


def check(cond, why):
    if not cond:
        raise Check(why)


# ---------------------------------------------------------------- simulator

class Sim:
    def __init__(self):
        self.log_path = BUILD / "test-logs" / "shopsim-under-test.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.err = open(self.log_path.with_suffix(".stderr"), "w+")
        env = dict(os.environ, WB_SHOPSIM_PORT="0", WB_SHOPSIM_THREADS="4")
        self.proc = subprocess.Popen([str(BINARY)], stdout=subprocess.PIPE, stderr=self.err, env=env, text=True)
        first = json.loads(self.proc.stdout.readline())
        self.port = first["port"]
        self.lines = [first]
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    def stop(self):
        """SIGTERM, then returns (exit code, sanitizer report or None)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.seek(0)
        text = self.err.read()
        bad = None
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            if marker in text:
                bad = text[text.index(marker):][:1500]
        return self.proc.returncode, bad


SIM = None


def call(method, path, body=None, headers=None, raw=False, timeout=10):
    """Returns (status, headers, parsed JSON body or raw bytes)."""
    data = None
    hdrs = dict(headers or {})
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(f"http://127.0.0.1:{SIM.port}{path}", data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, rh, payload = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        status, rh, payload = e.code, e.headers, e.read()
    if raw:
        return status, rh, payload
    return status, rh, (json.loads(payload) if payload else None)


def ctl(method, path, body=None):
    status, _, data = call(method, "/_sim" + path, body)
    check(200 <= status < 300, f"control {method} {path} -> {status} {data}")
    return data


def new_store(platform, **extra):
    sid = f"{platform[:4]}-{secrets.token_hex(4)}"
    cfg = {"id": sid, "platform": platform, "app_secret": "sekrit-" + sid}
    cfg.update(extra)
    ctl("POST", "/stores", cfg)
    return sid


def gql(sid, query, variables=None, token=None):
    body = {"query": query}
    if variables is not None:
        body["variables"] = variables
    return call("POST", f"/{sid}{GQL}", body, {"X-Shopify-Access-Token": token or f"shpat_{sid}"})


def woo(sid, method, path, body=None, prefix="/wp-json/wc/v3/"):
    auth = base64.b64encode(f"ck_{sid}:cs_{sid}".encode()).decode()
    return call(method, f"/{sid}{prefix}{path}", body, {"Authorization": "Basic " + auth})


def levels(sid, sku):
    return ctl("GET", f"/stores/{sid}/stock?sku={urllib.parse.quote(sku)}")


def wait_for(fn, timeout=10.0, every=0.05):
    end = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() > end:
            return value
        time.sleep(every)


def openssl_hmac_b64(secret, body):
    """The reference computation: openssl dgst -sha256 -hmac SECRET -binary | base64."""
    out = subprocess.run(f"openssl dgst -sha256 -hmac '{secret}' -binary | base64", shell=True,
                         input=body, stdout=subprocess.PIPE, check=True)
    return out.stdout.decode().strip()


# ---------------------------------------------------------------- webhook receiver

class Receiver:
    """Records every POST; /fail answers 500, /flaky/N fails N times then 200,
    /slow sleeps past shopsim's 5 s timeout, anything else 200."""

    def __init__(self):
        self.requests = []
        self.counts = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.counts[self.path] = receiver.counts.get(self.path, 0) + 1
                    n = receiver.counts[self.path]
                    receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status = 200
                if self.path.startswith("/slow"):
                    time.sleep(6)
                if self.path.startswith("/fail"):
                    status = 500
                elif self.path.startswith("/flaky/"):
                    status = 500 if n <= int(self.path.split("/")[2]) else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def got(self, path):
        with self.lock:
            return [r for r in self.requests if r["path"] == path]

    def stop(self):
        self.server.shutdown()


RECEIVER = None


# ---------------------------------------------------------------- Shopify cases

def first_inventory(sid):
    status, _, data = gql(sid, "{ productVariants(first: 5) { nodes { sku inventoryItem { id } } } "
                               "locations(first: 5) { nodes { id } } }")
    check(status == 200 and "data" in data, f"inventory read failed: {status} {data}")
    items = [(n["sku"], n["inventoryItem"]["id"]) for n in data["data"]["productVariants"]["nodes"]]
    locs = [n["id"] for n in data["data"]["locations"]["nodes"]]
    return items, locs


SET_QTY = """mutation Set($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { reason changes { name delta quantityAfterChange item { id } location { id } } }
    userErrors { code field message }
  }
}"""

ADJUST = """mutation Adj($input: InventoryAdjustQuantitiesInput!, $key: String!) {
  inventoryAdjustQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { changes { delta quantityAfterChange } }
    userErrors { code field message }
  }
}"""


def case_shopify_auth_401():
    sid = new_store("shopify")
    status, _, data = gql(sid, "{ shop { name } }", token="wrong")
    check(status == 401, f"wrong token gave {status}")
    status, _, data = gql(sid, "{ shop { name } }")
    check(status == 200 and data["data"]["shop"]["name"] == sid, f"right token gave {status} {data}")


def case_shopify_cost_in_every_response():
    sid = new_store("shopify", seed={"products": 3})
    status, _, data = gql(sid, "{ products(first: 2) { edges { node { id variants(first: 3) { nodes { sku } } } } } }")
    cost = data["extensions"]["cost"]
    # 2 + 2 x (1 product + (2 + 3 x 1 variant)) = 14
    check(cost["requestedQueryCost"] == 14, f"requested cost {cost}")
    check(cost["actualQueryCost"] <= 14, f"actual cost {cost}")
    ts = cost["throttleStatus"]
    check(ts["maximumAvailable"] == 1000 and ts["restoreRate"] == 100 and ts["currentlyAvailable"] <= 1000, f"{ts}")
    status, _, data = gql(sid, "mutation { orderClose(input: {id: \"gid://shopify/Order/1\"}) { userErrors { message } } }")
    check(data["extensions"]["cost"]["requestedQueryCost"] == 10, f"mutation cost {data['extensions']}")
    data = gql(sid, "{ products(first: 250) { nodes { variants(first: 250) { nodes { id } } } } }")[2]
    check(data["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED", f"{data}")


def throttle_setup(mode):
    sid = new_store("shopify", seed={"products": 3}, plan="standard", throttle_mode=mode)
    ctl("PUT", f"/stores/{sid}/settings", {"bucket_available": 5, "restore_rate": 1})
    return sid


QUERY_COST_12 = "{ products(first: 10) { nodes { id } } }"


def case_shopify_throttled_200_form():
    sid = throttle_setup("graphql")
    status, _, data = gql(sid, QUERY_COST_12)
    check(status == 200, f"expected 200, got {status}")
    codes = [e.get("extensions", {}).get("code") for e in data.get("errors", [])]
    check("THROTTLED" in codes, f"no THROTTLED error: {data}")
    check("data" not in data or data["data"] is None, "throttled call returned data")
    check(data["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] < 12, f"{data['extensions']}")
    counters = ctl("GET", f"/stores/{sid}/counters")
    check(counters["throttled"] == 1, f"counters {counters}")


def case_shopify_throttled_429_form():
    sid = throttle_setup("http429")
    status, headers, data = gql(sid, QUERY_COST_12)
    check(status == 429, f"expected 429, got {status}")
    check(int(headers.get("Retry-After", "0")) >= 1, f"Retry-After missing: {dict(headers)}")
    check(data["errors"][0]["extensions"]["code"] == "THROTTLED", f"{data}")


def case_shopify_throttled_alternates():
    sid = throttle_setup("alternate")
    statuses = [gql(sid, QUERY_COST_12)[0] for _ in range(4)]
    check(200 in statuses and 429 in statuses, f"statuses {statuses}")
    calls = ctl("GET", f"/stores/{sid}/calls")
    check(sum(1 for c in calls if c["throttled"]) == 4, f"call log {calls}")


def case_shopify_bucket_past_size():
    sid = new_store("shopify", seed={"products": 300})
    used = 0
    for _ in range(6):  # each query costs 2 + 250 = 252; the bucket holds 1000
        status, _, data = gql(sid, "{ products(first: 250) { nodes { id } } }")
        if status == 429 or any(e.get("extensions", {}).get("code") == "THROTTLED" for e in data.get("errors", [])):
            break
        used += 1
    check(1 <= used <= 5, f"no throttle after {used} expensive queries")


def case_inventory_set_stale_applies_nothing():
    sid = new_store("shopify", seed={"products": 2, "stock": 7})
    items, locs = first_inventory(sid)
    quantities = [
        {"inventoryItemId": items[0][1], "locationId": locs[0], "quantity": 3, "changeFromQuantity": 7},
        {"inventoryItemId": items[1][1], "locationId": locs[0], "quantity": 4, "changeFromQuantity": 99},
    ]
    status, _, data = gql(sid, SET_QTY, {"key": "k-stale", "input": {"name": "available", "reason": "correction",
                                                                      "quantities": quantities}})
    payload = data["data"]["inventorySetQuantities"]
    codes = [e["code"] for e in payload["userErrors"]]
    check(codes == ["CHANGE_FROM_QUANTITY_STALE"], f"userErrors {payload['userErrors']}")
    check(payload["userErrors"][0]["field"] == ["input", "quantities", "1", "changeFromQuantity"], f"{payload}")
    check(payload["inventoryAdjustmentGroup"] is None, "adjustment group returned on error")
    for sku, _ in items[:2]:
        check(levels(sid, sku)[0]["available"] == 7, f"{sku} changed despite the stale quantity")


def case_inventory_set_missing_change_from_quantity():
    sid = new_store("shopify", seed={"products": 1, "stock": 7})
    items, locs = first_inventory(sid)
    quantities = [{"inventoryItemId": items[0][1], "locationId": locs[0], "quantity": 3}]
    status, _, data = gql(sid, SET_QTY, {"key": "k-missing", "input": {"name": "available", "reason": "correction",
                                                                        "quantities": quantities}})
    check(data.get("errors"), f"no error for a missing changeFromQuantity: {data}")
    check(levels(sid, items[0][0])[0]["available"] == 7, "applied despite the error")


def case_inventory_set_null_and_matching_apply():
    sid = new_store("shopify", seed={"products": 2, "stock": 7})
    items, locs = first_inventory(sid)
    quantities = [
        {"inventoryItemId": items[0][1], "locationId": locs[0], "quantity": 3, "changeFromQuantity": None},
        {"inventoryItemId": items[1][1], "locationId": locs[0], "quantity": 9, "changeFromQuantity": 7},
    ]
    status, _, data = gql(sid, SET_QTY, {"key": "k-ok", "input": {"name": "available", "reason": "correction",
                                                                   "quantities": quantities}})
    payload = data["data"]["inventorySetQuantities"]
    check(payload["userErrors"] == [], f"{payload}")
    changes = payload["inventoryAdjustmentGroup"]["changes"]
    check([c["delta"] for c in changes] == [-4, 2], f"changes {changes}")
    check(levels(sid, items[0][0])[0]["available"] == 3 and levels(sid, items[1][0])[0]["available"] == 9, "not applied")
    on_hand = levels(sid, items[0][0])[0]["on_hand"]
    check(on_hand == 3, f"on_hand should follow available when nothing is committed: {on_hand}")
    check(ctl("GET", f"/stores/{sid}/counters")["quantities_set"] == 2, "quantities_set counter")


def case_idempotency_key_applied_once():
    sid = new_store("shopify", seed={"products": 1, "stock": 10})
    items, locs = first_inventory(sid)
    variables = {"key": "adjust-1", "input": {"name": "available", "reason": "correction", "changes": [
        {"inventoryItemId": items[0][1], "locationId": locs[0], "delta": -3}]}}
    first = gql(sid, ADJUST, variables)[2]
    second = gql(sid, ADJUST, variables)[2]
    check(first["data"] == second["data"], f"second answer differs: {first} / {second}")
    check(levels(sid, items[0][0])[0]["available"] == 7, f"applied twice: {levels(sid, items[0][0])}")
    variables["key"] = "adjust-2"
    gql(sid, ADJUST, variables)
    check(levels(sid, items[0][0])[0]["available"] == 4, "a new key was not applied")


def case_idempotency_directive_required():
    sid = new_store("shopify", seed={"products": 1, "stock": 10})
    items, locs = first_inventory(sid)
    query = """mutation($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) {
      userErrors { code message } } }"""
    status, _, data = gql(sid, query, {"input": {"name": "available", "reason": "correction", "quantities": [
        {"inventoryItemId": items[0][1], "locationId": locs[0], "quantity": 1, "changeFromQuantity": None}]}})
    check(data.get("errors") and "idempotent" in data["errors"][0]["message"], f"{data}")
    check(levels(sid, items[0][0])[0]["available"] == 10, "applied without a key")


def case_inventory_set_over_250_refused():
    sid = new_store("shopify", seed={"products": 1, "stock": 10})
    items, locs = first_inventory(sid)
    q = {"inventoryItemId": items[0][1], "locationId": locs[0], "quantity": 1, "changeFromQuantity": None}
    status, _, data = gql(sid, SET_QTY, {"key": "big", "input": {"name": "available", "reason": "correction",
                                                                  "quantities": [q] * 251}})
    check(data.get("errors") and data["errors"][0]["extensions"]["code"] == "MAX_INPUT_SIZE_EXCEEDED", f"{data}")
    check(levels(sid, items[0][0])[0]["available"] == 10, "applied")
    status, _, data = gql(sid, SET_QTY, {"key": "max", "input": {"name": "available", "reason": "correction",
                                                                  "quantities": [q] * 250}})
    check(data["data"]["inventorySetQuantities"]["userErrors"] == [], f"250 refused: {data}")


def case_shopify_pagination_all_pages():
    sid = new_store("shopify", seed={"products": 23, "variants": 2})
    seen, after, pages = [], None, 0
    query = """query Page($first: Int!, $after: String) { productVariants(first: $first, after: $after) {
      edges { cursor node { id sku } } pageInfo { hasNextPage endCursor } } }"""
    while True:
        data = gql(sid, query, {"first": 10, "after": after})[2]["data"]["productVariants"]
        pages += 1
        seen += [e["node"]["sku"] for e in data["edges"]]
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
        check(pages < 10, "pagination does not end")
    check(pages == 5 and len(seen) == 46 and len(set(seen)) == 46, f"pages {pages}, {len(seen)} variants")


def case_shopify_counts_with_limit_and_precision():
    sid = new_store("shopify", seed={"products": 3, "variants": 4})
    data = gql(sid, """{ all: productsCount { count precision } active: productsCount(query: "status:active")
      { count precision } drafts: productsCount(query: "status:draft", limit: null) { count precision }
      capped: productsCount(limit: 2) { count precision } variants: productVariantsCount(limit: null)
      { count precision } variantsCapped: productVariantsCount(limit: 12) { count } }""")[2]
    check("errors" not in data, f"counts refused: {data}")
    d = data["data"]
    check(d["all"] == {"count": 3, "precision": "EXACT"} and d["active"]["count"] == 3 and
          d["drafts"] == {"count": 0, "precision": "EXACT"}, f"products: {d}")
    check(d["capped"] == {"count": 2, "precision": "AT_LEAST"}, f"limit: {d['capped']}")
    check(d["variants"] == {"count": 12, "precision": "EXACT"} and d["variantsCapped"] == {"count": 12},
          f"variants: {d}")


def case_shopify_parse_error_and_unknown_field():
    sid = new_store("shopify")
    data = gql(sid, "{ products(first: 1) { nodes { id }")[2]
    check(data["errors"][0]["message"].find("[1,") > 0, f"no location in {data}")
    data = gql(sid, "query A { shop { name } } query B { shop { id } }")[2]
    check(data.get("errors"), "two operations without operationName accepted")
    data = gql(sid, "{ productz(first: 1) { nodes { id } } }")[2]
    check("doesn't exist" in data["errors"][0]["message"], f"{data}")


def case_shopify_aliases_fragments_variables():
    sid = new_store("shopify", seed={"products": 3})
    query = """query Q($n: Int = 2) { a: products(first: $n) { nodes { ...P } } b: products(first: 1) { nodes { id } } }
               fragment P on Product { id t: title }"""
    data = gql(sid, query)[2]["data"]
    check(len(data["a"]["nodes"]) == 2 and data["a"]["nodes"][0]["t"] == "Product 1", f"{data}")
    check(len(data["b"]["nodes"]) == 1, f"{data}")


def place_shopify_order(sid, lines):
    return ctl("POST", f"/stores/{sid}/orders", {"lines": lines})


FO_QUERY = """query($id: ID!) { order(id: $id) { displayFulfillmentStatus
  fulfillmentOrders(first: 5) { nodes { id status lineItems(first: 10) { nodes { id sku remainingQuantity totalQuantity } } } } } }"""

FULFIL = """mutation F($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) {
  fulfillment { id status trackingInfo { company number url } fulfillmentLineItems(first: 10) { nodes { id quantity } } }
  userErrors { field message } } }"""


def case_idempotent_key_only_where_shopify_offers_it():
    # fulfillmentCreate's description offers no @idempotent: the directive
    # changes nothing there (a client must find its earlier attempt itself),
    # while refundCreate and the inventory mutations replay on the same key.
    sid = new_store("shopify", seed={"products": 1, "stock": 10})
    order = place_shopify_order(sid, [{"sku": "SKU-00001-1", "quantity": 2}])
    fo = gql(sid, FO_QUERY, {"id": order["gid"]})[2]["data"]["order"]["fulfillmentOrders"]["nodes"][0]
    line = fo["lineItems"]["nodes"][0]
    keyed = FULFIL.replace("mutation F($f: FulfillmentInput!)", "mutation F($f: FulfillmentInput!, $k: String!)") \
                  .replace("fulfillmentCreate(fulfillment: $f)", "fulfillmentCreate(fulfillment: $f) @idempotent(key: $k)")
    ids = []
    for _ in range(2):
        data = gql(sid, keyed, {"f": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo["id"],
                                      "fulfillmentOrderLineItems": [{"id": line["id"], "quantity": 1}]}]},
                                "k": "same-key"})[2]
        res = data["data"]["fulfillmentCreate"]
        check(res["userErrors"] == [], f"{res}")
        ids.append(res["fulfillment"]["id"])
    check(ids[0] != ids[1], f"the key was honoured on fulfillmentCreate: {ids}")


def case_partial_fulfilment_leaves_rest_open():
    sid = new_store("shopify", seed={"products": 2, "stock": 10})
    order = place_shopify_order(sid, [{"sku": "SKU-00001-1", "quantity": 3}, {"sku": "SKU-00002-1", "quantity": 1}])
    fo = gql(sid, FO_QUERY, {"id": order["gid"]})[2]["data"]["order"]["fulfillmentOrders"]["nodes"][0]
    line = next(n for n in fo["lineItems"]["nodes"] if n["sku"] == "SKU-00001-1")
    data = gql(sid, FULFIL, {"f": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo["id"],
                                   "fulfillmentOrderLineItems": [{"id": line["id"], "quantity": 2}]}],
                                   "trackingInfo": {"company": "DHL", "number": "JJD0001", "url": "https://t.example/1"},
                                   "notifyCustomer": False}})[2]
    res = data["data"]["fulfillmentCreate"]
    check(res["userErrors"] == [], f"{res}")
    check(res["fulfillment"]["trackingInfo"][0]["number"] == "JJD0001", f"{res}")
    upd = gql(sid, """mutation($id: ID!, $t: FulfillmentTrackingInput!) { fulfillmentTrackingInfoUpdate(
              fulfillmentId: $id, trackingInfoInput: $t, notifyCustomer: false) { fulfillment { trackingInfo { number } }
              userErrors { message } } }""", {"id": res["fulfillment"]["id"], "t": {"company": "DHL", "number": "JJD0002"}})[2]
    check(upd["data"]["fulfillmentTrackingInfoUpdate"]["fulfillment"]["trackingInfo"][0]["number"] == "JJD0002", f"{upd}")
    after = gql(sid, FO_QUERY, {"id": order["gid"]})[2]["data"]["order"]
    fo2 = after["fulfillmentOrders"]["nodes"][0]
    remaining = {n["sku"]: n["remainingQuantity"] for n in fo2["lineItems"]["nodes"]}
    check(fo2["status"] == "IN_PROGRESS" and remaining == {"SKU-00001-1": 1, "SKU-00002-1": 1}, f"{fo2}")
    check(after["displayFulfillmentStatus"] == "PARTIALLY_FULFILLED", f"{after['displayFulfillmentStatus']}")
    over = gql(sid, FULFIL, {"f": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo["id"],
                                   "fulfillmentOrderLineItems": [{"id": line["id"], "quantity": 2}]}]}})[2]
    check(over["data"]["fulfillmentCreate"]["userErrors"], "over-fulfilment accepted")
    gql(sid, FULFIL, {"f": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo["id"]}]}})
    done = gql(sid, FO_QUERY, {"id": order["gid"]})[2]["data"]["order"]
    check(done["fulfillmentOrders"]["nodes"][0]["status"] == "CLOSED" and done["displayFulfillmentStatus"] == "FULFILLED",
          f"{done}")
    stock = levels(sid, "SKU-00001-1")[0]
    check(stock["on_hand"] == 7 and stock["committed"] == 0 and stock["available"] == 7, f"stock after shipping {stock}")


def case_return_and_refund():
    sid = new_store("shopify", seed={"products": 1, "stock": 10})
    order = place_shopify_order(sid, [{"sku": "SKU-00001-1", "quantity": 2}])
    fo = gql(sid, FO_QUERY, {"id": order["gid"]})[2]["data"]["order"]["fulfillmentOrders"]["nodes"][0]
    ful = gql(sid, FULFIL, {"f": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo["id"]}]}})[2]
    fli = ful["data"]["fulfillmentCreate"]["fulfillment"]["fulfillmentLineItems"]["nodes"][0]["id"]
    ret = gql(sid, """mutation($r: ReturnInput!) { returnCreate(returnInput: $r) { return { id status
              returnLineItems(first: 5) { nodes { id quantity } }
              reverseFulfillmentOrders(first: 1) { nodes { lineItems(first: 5) { nodes { id } } } } }
              userErrors { field message } } }""",
              {"r": {"orderId": order["gid"], "returnLineItems": [{"fulfillmentLineItemId": fli, "quantity": 1,
                                                                  "returnReason": "DEFECTIVE"}]}})[2]
    r = ret["data"]["returnCreate"]["return"]
    check(r and r["status"] == "OPEN", f"{ret}")
    rfo_line = r["reverseFulfillmentOrders"]["nodes"][0]["lineItems"]["nodes"][0]["id"]
    loc = gql(sid, "{ locations(first: 1) { nodes { id } } }")[2]["data"]["locations"]["nodes"][0]["id"]
    proc = gql(sid, """mutation($i: ReturnProcessInput!) { returnProcess(input: $i) { return { id status }
               userErrors { message } } }""",
               {"i": {"returnId": r["id"], "returnLineItems": [{"id": r["returnLineItems"]["nodes"][0]["id"], "quantity": 1,
                      "dispositions": [{"dispositionType": "RESTOCKED", "quantity": 1, "locationId": loc,
                                        "reverseFulfillmentOrderLineItemId": rfo_line}]}]}})[2]
    check(proc["data"]["returnProcess"]["return"]["status"] == "CLOSED", f"{proc}")
    check(levels(sid, "SKU-00001-1")[0]["available"] == 9, f"restock: {levels(sid, 'SKU-00001-1')}")
    refund_q = """mutation($i: RefundInput!, $k: String!) { refundCreate(input: $i) @idempotent(key: $k) {
                  refund { id totalRefundedSet { shopMoney { amount } } } userErrors { message } } }"""
    order_data = gql(sid, "query($id: ID!) { order(id: $id) { lineItems(first: 5) { nodes { id } } } }",
                     {"id": order["gid"]})[2]
    line_id = order_data["data"]["order"]["lineItems"]["nodes"][0]["id"]
    variables = {"k": "refund-1", "i": {"orderId": order["gid"], "refundLineItems": [
        {"lineItemId": line_id, "quantity": 1, "restockType": "NO_RESTOCK"}]}}
    a = gql(sid, refund_q, variables)[2]
    b = gql(sid, refund_q, variables)[2]
    check(a["data"]["refundCreate"]["refund"]["totalRefundedSet"]["shopMoney"]["amount"] == "19.95", f"{a}")
    check(a["data"] == b["data"], "repeated refund key gave another answer")
    detail = ctl("GET", f"/stores/{sid}/orders/{order['id']}")
    check(len(detail["refunds"]) == 1, f"refund applied {len(detail['refunds'])} times")
    no_key = gql(sid, refund_q.replace(" @idempotent(key: $k)", "").replace(", $k: String!", ""),
                 {"i": variables["i"]})[2]
    check(no_key.get("errors"), "refundCreate without key accepted")


def case_return_process_refund_cancel_and_tags():
    sid = new_store("shopify", seed={"products": 1, "stock": 10})
    order = place_shopify_order(sid, [{"sku": "SKU-00001-1", "quantity": 2}])
    fo = gql(sid, FO_QUERY, {"id": order["gid"]})[2]["data"]["order"]["fulfillmentOrders"]["nodes"][0]
    ful = gql(sid, FULFIL, {"f": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo["id"]}]}})[2]
    fli = ful["data"]["fulfillmentCreate"]["fulfillment"]["fulfillmentLineItems"]["nodes"][0]["id"]
    r = gql(sid, """mutation($r: ReturnInput!) { returnCreate(returnInput: $r) { return { id
              returnLineItems(first: 5) { nodes { id returnReasonNote } }
              reverseFulfillmentOrders(first: 1) { nodes { lineItems(first: 5) { nodes { id } } } } } } }""",
            {"r": {"orderId": order["gid"], "returnLineItems": [{"fulfillmentLineItemId": fli, "quantity": 2,
                                                                "returnReasonNote": "damaged [return R1]"}]}})[2]
    r = r["data"]["returnCreate"]["return"]
    check(r["returnLineItems"]["nodes"][0]["returnReasonNote"] == "damaged [return R1]", f"{r}")
    line = r["returnLineItems"]["nodes"][0]["id"]
    rfo_line = r["reverseFulfillmentOrders"]["nodes"][0]["lineItems"]["nodes"][0]["id"]
    sale = gql(sid, "query($id: ID!) { order(id: $id) { transactions(first: 5) { id kind status } } }",
               {"id": order["gid"]})[2]["data"]["order"]["transactions"][0]
    check(sale["kind"] == "SALE" and sale["status"] == "SUCCESS", f"{sale}")
    process = """mutation($i: ReturnProcessInput!) { returnProcess(input: $i) { return { status }
                 userErrors { message } } }"""

    def attempt(dispositions, amount):
        return gql(sid, process, {"i": {"returnId": r["id"], "returnLineItems": [
            {"id": line, "quantity": 2, "dispositions": dispositions}], "refundShipping": {"fullRefund": True},
            "financialTransfer": {"issueRefund": {"orderTransactions": [
                {"parentId": sale["id"], "transactionAmount": {"amount": amount, "currencyCode": "EUR"}}]}}}})[2]
    restock = {"reverseFulfillmentOrderLineItemId": rfo_line, "quantity": 1, "dispositionType": "RESTOCKED"}
    keep = {"reverseFulfillmentOrderLineItemId": rfo_line, "quantity": 1, "dispositionType": "NOT_RESTOCKED"}
    no_location = attempt([restock, keep], "10.00")["data"]["returnProcess"]
    check(no_location["userErrors"], f"RESTOCKED without a location accepted: {no_location}")
    loc = gql(sid, "{ locations(first: 1) { nodes { id } } }")[2]["data"]["locations"]["nodes"][0]["id"]
    restock["locationId"] = loc
    too_much = attempt([restock, keep], "999.00")["data"]["returnProcess"]
    check(too_much["userErrors"], f"refund above the paid amount accepted: {too_much}")
    before = levels(sid, "SKU-00001-1")[0]["available"]
    ok = attempt([restock, keep], "44.80")["data"]["returnProcess"]
    check(not ok["userErrors"] and ok["return"]["status"] == "CLOSED", f"{ok}")
    check(levels(sid, "SKU-00001-1")[0]["available"] == before + 1, "only the RESTOCKED unit goes back on stock")
    detail = ctl("GET", f"/stores/{sid}/orders/{order['id']}")
    check([x["amount"] for x in detail["refunds"]] == ["44.80"], f"{detail['refunds']}")
    tag = "mutation($id: ID!) { tagsAdd(id: $id, tags: [\"wms-cancelled\"]) { userErrors { message } } }"
    gql(sid, tag, {"id": order["gid"]})
    gql(sid, tag, {"id": order["gid"]})
    check(ctl("GET", f"/stores/{sid}/orders/{order['id']}")["tags"] == ["wms-cancelled"], "tag kept once")
    other = place_shopify_order(sid, [{"sku": "SKU-00001-1", "quantity": 1}])
    cancel = """mutation($id: ID!) { orderCancel(orderId: $id, reason: OTHER, restock: true,
                refundMethod: { originalPaymentMethodsRefund: true }) { job { done } orderCancelUserErrors { message } } }"""
    first = gql(sid, cancel, {"id": other["gid"]})[2]["data"]["orderCancel"]
    second = gql(sid, cancel, {"id": other["gid"]})[2]["data"]["orderCancel"]
    got = ctl("GET", f"/stores/{sid}/orders/{other['id']}")
    check(first["job"]["done"] and not first["orderCancelUserErrors"], f"{first}")
    check(second["orderCancelUserErrors"], "a second cancel accepted")
    check(got["cancelled"] and len(got["refunds"]) == 1, f"{got}")


def case_shopify_orders_query_filter():
    sid = new_store("shopify", seed={"products": 1, "stock": 50})
    old = place_shopify_order(sid, [{"sku": "SKU-00001-1", "quantity": 1}])
    mark = old["updated_at"]  # Shopify compares whole seconds: the next order is in a later one
    time.sleep(1.1)
    new = place_shopify_order(sid, [{"sku": "SKU-00001-1", "quantity": 1}])
    data = gql(sid, "query($q: String) { orders(first: 10, query: $q, sortKey: UPDATED_AT) { nodes { id } } }",
               {"q": f"updated_at:>'{mark}'"})[2]
    ids = [n["id"] for n in data["data"]["orders"]["nodes"]]
    check(ids == [new["gid"]], f"filter gave {ids}, old {old['gid']}")


# ---------------------------------------------------------------- Shopify webhooks

def case_shopify_webhook_retried_then_delivered():
    ctl("PUT", "/clock", {"factor": 1000})
    try:
        sid = new_store("shopify", seed={"products": 1, "stock": 5})
        ctl("POST", f"/stores/{sid}/webhooks", {"topic": "orders/create", "address": RECEIVER.url(f"/flaky/2/{sid}")})
        order = place_shopify_order(sid, [{"sku": "SKU-00001-1", "quantity": 1}])
        got = wait_for(lambda: len(RECEIVER.got(f"/flaky/2/{sid}")) >= 3, timeout=10)
        check(got, f"got {len(RECEIVER.got(f'/flaky/2/{sid}'))} attempts")
        reqs = RECEIVER.got(f"/flaky/2/{sid}")
        ids = {r["headers"]["X-Shopify-Webhook-Id"] for r in reqs}
        check(len(ids) == 1, f"webhook id changed between retries: {ids}")
        h = reqs[-1]["headers"]
        check(h["X-Shopify-Topic"] == "orders/create" and h["X-Shopify-Shop-Domain"] == f"{sid}.myshopify.com", f"{h}")
        check(json.loads(reqs[-1]["body"])["id"] == order["id"], "body is not the order")
        expected = openssl_hmac_b64("sekrit-" + sid, reqs[-1]["body"])
        check(h["X-Shopify-Hmac-Sha256"] == expected, f"signature {h['X-Shopify-Hmac-Sha256']} != {expected}")
        outcomes = [d["outcome"] for d in ctl("GET", f"/stores/{sid}/deliveries")]
        check(outcomes == ["failed", "failed", "delivered"], f"outcomes {outcomes}")
    finally:
        ctl("PUT", "/clock", {"factor": 1})


def case_shopify_subscription_removed_after_retries():
    ctl("PUT", "/clock", {"factor": 20000})
    try:
        sid = new_store("shopify", seed={"products": 1, "stock": 5})
        ctl("POST", f"/stores/{sid}/webhooks", {"topic": "ORDERS_CREATE", "address": RECEIVER.url(f"/fail/{sid}")})
        place_shopify_order(sid, [{"sku": "SKU-00001-1", "quantity": 1}])
        gone = wait_for(lambda: ctl("GET", f"/stores/{sid}/webhooks") == [], timeout=15)
        check(gone, "subscription still there")
        check(len(RECEIVER.got(f"/fail/{sid}")) == 9, f"{len(RECEIVER.got(f'/fail/{sid}'))} attempts, want 1 + 8 retries")
    finally:
        ctl("PUT", "/clock", {"factor": 1})


def case_shopify_graphql_subscription_and_product_webhook():
    sid = new_store("shopify", seed={"products": 1})
    data = gql(sid, """mutation($t: WebhookSubscriptionTopic!, $s: WebhookSubscriptionInput!) {
      webhookSubscriptionCreate(topic: $t, webhookSubscription: $s) { webhookSubscription { id topic uri }
      userErrors { message } } }""", {"t": "PRODUCTS_UPDATE", "s": {"uri": RECEIVER.url(f"/ok/{sid}"), "format": "JSON"}})[2]
    sub = data["data"]["webhookSubscriptionCreate"]["webhookSubscription"]
    check(sub["topic"] == "PRODUCTS_UPDATE", f"{data}")
    product = ctl("GET", f"/stores/{sid}/products")[0]
    ctl("PATCH", f"/stores/{sid}/products/{product['id']}", {"title": "Renamed"})
    got = wait_for(lambda: RECEIVER.got(f"/ok/{sid}"), timeout=5)
    check(got and json.loads(got[0]["body"])["title"] == "Renamed", "no products/update delivery")


# ---------------------------------------------------------------- WooCommerce cases

def case_woo_auth_401():
    sid = new_store("woocommerce")
    status, _, data = call("GET", f"/{sid}/wp-json/wc/v3/products")
    check(status == 401 and data["code"] == "woocommerce_rest_cannot_view", f"{status} {data}")
    status, _, data = woo(sid, "GET", "products")
    check(status == 200, f"basic auth gave {status}")


def oauth_url(sid, method, path, secret):
    url = f"http://127.0.0.1:{SIM.port}/{sid}/wp-json/wc/v3/{path}"
    params = {"oauth_consumer_key": f"ck_{sid}", "oauth_nonce": secrets.token_hex(8),
              "oauth_signature_method": "HMAC-SHA256", "oauth_timestamp": str(int(time.time())), "per_page": "5"}
    enc = lambda s: urllib.parse.quote(s, safe="~")
    pairs = "%26".join(f"{enc(k)}%3D{enc(v)}" for k, v in sorted(params.items()))
    base = f"{method}&{enc(url)}&{pairs}"
    sig = base64.b64encode(hmac.new(f"{secret}&".encode(), base.encode(), hashlib.sha256).digest()).decode()
    params["oauth_signature"] = sig
    return f"/{sid}/wp-json/wc/v3/{path}?" + urllib.parse.urlencode(params)


def case_woo_oauth1_query_auth():
    sid = new_store("woocommerce", seed={"products": 2})
    status, _, data = call("GET", oauth_url(sid, "GET", "products", f"cs_{sid}"))
    check(status == 200 and len(data) == 2, f"signed request gave {status} {data}")
    status, _, data = call("GET", oauth_url(sid, "GET", "products", "wrong"))
    check(status == 401 and "signature" in data["message"], f"bad signature gave {status} {data}")


def case_woo_batch_101_refused():
    sid = new_store("woocommerce", seed={"products": 101})
    products = woo(sid, "GET", "products?per_page=100")[2] + woo(sid, "GET", "products?per_page=100&page=2")[2]
    updates = [{"id": p["id"], "stock_quantity": 3} for p in products]
    check(len(updates) == 101, f"{len(updates)} products")
    status, _, data = woo(sid, "POST", "products/batch", {"update": updates})
    # WooCommerce answers 413 woocommerce_rest_request_entity_too_large past 100 items.
    check(status == 413 and data["code"] == "woocommerce_rest_request_entity_too_large", f"{status} {data}")
    check(ctl("GET", f"/stores/{sid}/counters")["quantities_set"] == 0, "part of the batch was applied")
    status, _, data = woo(sid, "POST", "products/batch", {"update": updates[:60], "delete": [1, 2], "create": []})
    check(status == 200 and len(data["update"]) == 60 and data["delete"][0]["error"]["code"], f"{status}")
    status, _, data = woo(sid, "POST", "products/batch", {"update": updates[:60], "create": [{"name": "x"}] * 41})
    check(status == 413, "create+update over 100 accepted")


def case_woo_variations_pagination():
    sid = new_store("woocommerce", seed={"products": 1, "variants": 23})
    pid = ctl("GET", f"/stores/{sid}/products")[0]["id"]
    status, headers, data = woo(sid, "GET", f"products/{pid}/variations?per_page=10&page=1")
    check(headers["X-WP-Total"] == "23" and headers["X-WP-TotalPages"] == "3", f"{dict(headers)}")
    seen = [v["id"] for v in data]
    for page in (2, 3):
        seen += [v["id"] for v in woo(sid, "GET", f"products/{pid}/variations?per_page=10&page={page}")[2]]
    check(len(seen) == 23 and len(set(seen)) == 23, f"{len(seen)} variations")
    status, _, data = woo(sid, "GET", f"products/{pid}/variations?per_page=101")
    check(status == 400 and data["code"] == "rest_invalid_param", f"per_page 101 gave {status}")
    status, _, data = woo(sid, "POST", f"products/{pid}/variations/batch",
                          {"update": [{"id": seen[0], "stock_quantity": 42}]})
    check(status == 200 and data["update"][0]["stock_quantity"] == 42, f"{data}")


def case_woo_products_filters():
    sid = new_store("woocommerce", seed={"products": 6, "virtual_every": 3, "draft_every": 2})
    all_ = woo(sid, "GET", "products?per_page=100&status=any")[2]
    publish = woo(sid, "GET", "products?per_page=100&status=publish")[2]
    virtual = woo(sid, "GET", "products?per_page=100&virtual=true")[2]
    check(len(all_) == 6 and len(publish) == 3 and len(virtual) == 2, f"{len(all_)} {len(publish)} {len(virtual)}")
    sku = woo(sid, "GET", "products?sku=SKU-00001-1")[2]
    check(len(sku) == 1 and sku[0]["type"] == "simple" and sku[0]["manage_stock"] is True, f"{sku}")


def case_woo_products_modified_after():
    """modified_after / dates_are_gmt as WooCommerce v3 documents them; a
    saved variation saves its parent; `any` leaves trash out."""
    sid = new_store("woocommerce", seed={"products": 3})
    var = ctl("POST", f"/stores/{sid}/seed", {"products": 1, "variants": 3})[0]
    simple = woo(sid, "GET", "products?per_page=100&orderby=id&order=asc")[2]
    mark = max(p["date_modified_gmt"] for p in simple)  # whole seconds, GMT
    time.sleep(1.1)
    ctl("PATCH", f"/stores/{sid}/products/{simple[1]['id']}", {"title": "Renamed"})
    vid = var["variants"][1]["variant_id"] if "variant_id" in var["variants"][1] else var["variants"][1]["id"]
    status, _, _ = woo(sid, "PUT", f"products/{var['id']}/variations/{vid}", {"regular_price": "9.99"})
    check(status == 200, f"variation update {status}")
    q = f"products?modified_after={mark}&dates_are_gmt=true&status=any&orderby=id&order=asc"
    got = [p["id"] for p in woo(sid, "GET", q)[2]]
    check(got == [simple[1]["id"], var["id"]], f"modified_after gave {got}")
    calls = ctl("GET", f"/stores/{sid}/calls")
    check(f"modified_after={mark}" in calls[-1].get("query", "") and "dates_are_gmt=true" in calls[-1]["query"],
          f"call log query {calls[-1]}")
    for bad in ("modified_after=yesterday", f"modified_after={mark}&dates_are_gmt=maybe"):
        status, _, data = woo(sid, "GET", f"products?{bad}")
        check(status == 400 and data["code"] == "rest_invalid_param", f"{bad} gave {status} {data}")
    status, _, _ = woo(sid, "POST", "products/batch", {"delete": [simple[0]["id"]]})
    check(status == 200, f"batch delete {status}")
    listed = [p["id"] for p in woo(sid, "GET", "products?per_page=100&status=any")[2]]
    trash = [p["id"] for p in woo(sid, "GET", "products?per_page=100&status=trash")[2]]
    check(simple[0]["id"] not in listed and trash == [simple[0]["id"]], f"any {listed}, trash {trash}")


def case_shopify_products_updated_at_sorted():
    sid = new_store("shopify", seed={"products": 3})
    q = "query($q: String) { products(first: 10, query: $q, sortKey: UPDATED_AT) { nodes { id updatedAt } } }"
    nodes = gql(sid, q, {"q": ""})[2]["data"]["products"]["nodes"]
    mark = max(n["updatedAt"] for n in nodes)
    ids = [n["id"] for n in nodes]
    time.sleep(1.1)  # Shopify compares whole seconds
    ctl("PATCH", f"/stores/{sid}/products/{ids[2].rsplit('/', 1)[1]}", {"title": "Third, changed first"})
    time.sleep(1.1)
    ctl("PATCH", f"/stores/{sid}/products/{ids[0].rsplit('/', 1)[1]}", {"title": "First, changed last"})
    got = [n["id"] for n in gql(sid, q, {"q": f"updated_at:>'{mark}'"})[2]["data"]["products"]["nodes"]]
    check(got == [ids[2], ids[0]], f"updated_at filter gave {got}, products {ids}")


def case_woo_orders_filters_and_update():
    sid = new_store("woocommerce", seed={"products": 2, "stock": 10})
    a = ctl("POST", f"/stores/{sid}/orders", {"lines": [{"sku": "SKU-00001-1", "quantity": 2}]})
    mark = woo(sid, "GET", f"orders/{a['id']}")[2]["date_modified_gmt"]  # whole seconds, as WooCommerce
    time.sleep(1.1)
    b = ctl("POST", f"/stores/{sid}/orders", {"lines": [{"sku": "SKU-00002-1", "quantity": 1}], "status": "on-hold"})
    got = woo(sid, "GET", f"orders?modified_after={mark}&dates_are_gmt=true")[2]
    check([o["id"] for o in got] == [b["id"]], f"modified_after gave {[o['id'] for o in got]}")
    got = woo(sid, "GET", "orders?status=processing")[2]
    check([o["id"] for o in got] == [a["id"]], "status filter")
    got = woo(sid, "GET", "orders?orderby=id&order=asc")[2]
    check([o["id"] for o in got] == [a["id"], b["id"]], "orderby id asc")
    check(levels(sid, "SKU-00001-1")[0]["available"] == 8, "placing did not reduce stock")
    status, _, data = woo(sid, "PUT", f"orders/{a['id']}", {"status": "completed"})
    check(status == 200 and data["status"] == "completed", f"{status} {data.get('status')}")
    notes = woo(sid, "GET", f"orders/{a['id']}/notes")[2]
    check(any("completed" in n["note"] for n in notes), f"no status note: {notes}")
    status, _, note = woo(sid, "POST", f"orders/{a['id']}/notes", {"note": "Shipped with DHL", "customer_note": True})
    check(status == 201 and note["customer_note"] is True, f"{status} {note}")


def case_woo_refund_restocks():
    sid = new_store("woocommerce", seed={"products": 1, "stock": 10})
    order = ctl("POST", f"/stores/{sid}/orders", {"lines": [{"sku": "SKU-00001-1", "quantity": 3}]})
    line = order["lines"][0]["id"]
    status, _, data = woo(sid, "POST", f"orders/{order['id']}/refunds", {
        "amount": "19.95", "reason": "damaged", "api_refund": False, "api_restock": True,
        "line_items": [{"id": line, "quantity": 1, "refund_total": 19.95}]})
    check(status == 201 and data["amount"] == "19.95" and data["refunded_payment"] is False, f"{status} {data}")
    check(levels(sid, "SKU-00001-1")[0]["available"] == 8, f"restock: {levels(sid, 'SKU-00001-1')}")
    status, _, data = woo(sid, "POST", f"orders/{order['id']}/refunds", {"amount": "999", "api_restock": False})
    check(status == 500 and data["code"] == "woocommerce_rest_cannot_create_order_refund", f"{status} {data}")


def case_woo_shipment_tracking_only_when_enabled():
    off = new_store("woocommerce", seed={"products": 1})
    on = new_store("woocommerce", seed={"products": 1}, shipment_tracking=True)
    for sid, want in ((off, 404), (on, 201)):
        order = ctl("POST", f"/stores/{sid}/orders", {"lines": [{"sku": "SKU-00001-1", "quantity": 1}]})
        status, _, data = woo(sid, "POST", f"orders/{order['id']}/shipment-trackings",
                              {"tracking_provider": "DHL", "tracking_number": "3S123", "date_shipped": "2026-11-25"},
                              prefix="/wp-json/wc-shipment-tracking/v3/")
        check(status == want, f"{sid}: {status} {data}")
    status, _, data = woo(on, "GET", f"orders/{order['id']}/shipment-trackings", prefix="/wp-json/wc-shipment-tracking/v3/")
    check(status == 200 and data[0]["tracking_number"] == "3S123" and len(data[0]["tracking_id"]) == 32, f"{data}")


def woo_deliveries(sid):
    return ctl("GET", f"/stores/{sid}/deliveries")


def case_woo_webhook_signed_and_fresh_delivery_id():
    sid = new_store("woocommerce", seed={"products": 1, "stock": 10})
    status, _, hook = woo(sid, "POST", "webhooks", {"name": "orders", "topic": "order.updated",
                                                    "delivery_url": RECEIVER.url(f"/ok/{sid}"), "secret": "wc-secret"})
    check(status == 201 and hook["status"] == "active", f"{status} {hook}")
    order = ctl("POST", f"/stores/{sid}/orders", {"lines": [{"sku": "SKU-00001-1", "quantity": 1}]})
    for n in (1, 2):
        ctl("PATCH", f"/stores/{sid}/orders/{order['id']}", {"note": f"change {n}"})
        check(wait_for(lambda: len(RECEIVER.got(f"/ok/{sid}")) >= n, timeout=5), f"delivery {n} missing")
    reqs = RECEIVER.got(f"/ok/{sid}")
    h = reqs[0]["headers"]
    check(h["X-WC-Webhook-Topic"] == "order.updated" and h["X-WC-Webhook-ID"] == str(hook["id"]), f"{h}")
    check(h["X-WC-Webhook-Signature"] == openssl_hmac_b64("wc-secret", reqs[0]["body"]), "signature mismatch")
    check(reqs[0]["headers"]["X-WC-Webhook-Delivery-ID"] != reqs[1]["headers"]["X-WC-Webhook-Delivery-ID"],
          "delivery id reused")
    check(json.loads(reqs[1]["body"])["customer_note"] == "change 2", "body is not the state at send time")


def case_woo_webhook_disabled_after_5_failures():
    sid = new_store("woocommerce", seed={"products": 1, "stock": 50})
    hook = woo(sid, "POST", "webhooks", {"topic": "order.updated", "delivery_url": RECEIVER.url(f"/fail/{sid}")})[2]
    order = ctl("POST", f"/stores/{sid}/orders", {"lines": [{"sku": "SKU-00001-1", "quantity": 1}]})
    for n in range(1, 7):
        ctl("PATCH", f"/stores/{sid}/orders/{order['id']}", {"note": f"n{n}"})
        check(wait_for(lambda: len(woo_deliveries(sid)) >= n, timeout=5), f"delivery {n} missing")
        status = woo(sid, "GET", f"webhooks/{hook['id']}")[2]["status"]
        check(status == ("disabled" if n == 6 else "active"), f"after {n} failures status is {status}")
    ctl("PATCH", f"/stores/{sid}/orders/{order['id']}", {"note": "while disabled"})
    time.sleep(0.3)
    check(len(RECEIVER.got(f"/fail/{sid}")) == 6, "delivered to a disabled webhook")
    outcomes = [d["outcome"] for d in woo_deliveries(sid)]
    check(outcomes == ["failed"] * 5 + ["disabled"], f"never retried: {outcomes}")
    status, _, data = woo(sid, "PUT", f"webhooks/{hook['id']}", {"status": "active"})
    check(status == 200 and data["status"] == "active", f"re-activation {status} {data}")


def case_woo_product_webhook_on_stock_update():
    sid = new_store("woocommerce", seed={"products": 1, "stock": 5})
    ctl("POST", f"/stores/{sid}/webhooks", {"topic": "product.updated", "address": RECEIVER.url(f"/ok/{sid}")})
    pid = ctl("GET", f"/stores/{sid}/products")[0]["id"]
    woo(sid, "PUT", f"products/{pid}", {"stock_quantity": 17})
    got = wait_for(lambda: RECEIVER.got(f"/ok/{sid}"), timeout=5)
    check(got and json.loads(got[0]["body"])["stock_quantity"] == 17, "no product.updated with the new stock")


# ---------------------------------------------------------------- faults and load

def case_faults_5xx_429_slow_reset():
    sid = new_store("woocommerce", seed={"products": 1})
    ctl("PUT", f"/stores/{sid}/faults", {"next_errors": 1, "error_status": 502})
    check(woo(sid, "GET", "products")[0] == 502, "no 502")
    ctl("PUT", f"/stores/{sid}/faults", {"next_throttles": 1, "retry_after": 7})
    status, headers, _ = woo(sid, "GET", "products")
    check(status == 429 and headers["Retry-After"] == "7", f"{status} {dict(headers)}")
    ctl("PUT", f"/stores/{sid}/faults", {"slow_ms": 300})
    start = time.monotonic()
    check(woo(sid, "GET", "products")[0] == 200, "slow reply failed")
    check(time.monotonic() - start >= 0.28, "reply was not slow")
    ctl("PUT", f"/stores/{sid}/faults", {"slow_ms": 0, "slow_rate": 0, "next_resets": 1})
    conn = http.client.HTTPConnection("127.0.0.1", SIM.port, timeout=5)
    auth = base64.b64encode(f"ck_{sid}:cs_{sid}".encode()).decode()
    conn.request("GET", f"/{sid}/wp-json/wc/v3/products", headers={"Authorization": "Basic " + auth})
    try:
        resp = conn.getresponse()
        resp.read()
        raise Check("a reset reply was read completely")
    except (http.client.IncompleteRead, ConnectionError, http.client.RemoteDisconnected):
        pass
    finally:
        conn.close()
    check(woo(sid, "GET", "products")[0] == 200, "faults did not stop")
    check(ctl("GET", f"/stores/{sid}/counters")["faults"] >= 4, "faults not counted")


def case_dropped_webhook():
    sid = new_store("woocommerce", seed={"products": 1})
    ctl("POST", f"/stores/{sid}/webhooks", {"topic": "order.created", "address": RECEIVER.url(f"/ok/{sid}")})
    ctl("PUT", f"/stores/{sid}/faults", {"next_drop_webhooks": 1})
    ctl("POST", f"/stores/{sid}/orders", {"lines": [{"sku": "SKU-00001-1", "quantity": 1}]})
    ctl("POST", f"/stores/{sid}/orders", {"lines": [{"sku": "SKU-00001-1", "quantity": 1}]})
    check(wait_for(lambda: len(woo_deliveries(sid)) >= 2, timeout=5), "deliveries missing")
    check([d["outcome"] for d in woo_deliveries(sid)] == ["dropped", "delivered"], f"{woo_deliveries(sid)}")
    check(len(RECEIVER.got(f"/ok/{sid}")) == 1, "dropped webhook arrived")


def case_many_stores_in_parallel():
    sids = [new_store("shopify" if i % 2 else "woocommerce", seed={"products": 5}) for i in range(10)]
    errors = []

    def hammer(sid):
        for _ in range(20):
            if sid.startswith("shop"):
                status = gql(sid, "{ products(first: 5) { nodes { id } } }")[0]
            else:
                status = woo(sid, "GET", "products")[0]
            if status != 200:
                errors.append((sid, status))

    threads = [threading.Thread(target=hammer, args=(s,)) for s in sids]
    [t.start() for t in threads]
    [t.join() for t in threads]
    check(not errors, f"errors {errors[:5]}")
    check(all(ctl("GET", f"/stores/{s}/counters")["calls"] == 20 for s in sids), "calls counted per store")


def case_shopify_cancel_webhook_and_stock_release():
    sid = new_store("shopify", seed={"products": 1, "stock": 5})
    ctl("POST", f"/stores/{sid}/webhooks", {"topic": "orders/cancelled", "address": RECEIVER.url(f"/ok/{sid}")})
    order = place_shopify_order(sid, [{"sku": "SKU-00001-1", "quantity": 2}])
    stock = levels(sid, "SKU-00001-1")[0]
    check(stock["available"] == 3 and stock["committed"] == 2 and stock["on_hand"] == 5, f"after order {stock}")
    ctl("POST", f"/stores/{sid}/orders/{order['id']}/cancel", {"reason": "CUSTOMER"})
    got = wait_for(lambda: RECEIVER.got(f"/ok/{sid}"), timeout=5)
    check(got and json.loads(got[0]["body"])["cancelled_at"], "no orders/cancelled delivery")
    stock = levels(sid, "SKU-00001-1")[0]
    check(stock["available"] == 5 and stock["committed"] == 0, f"after cancel {stock}")
    data = gql(sid, "query($id: ID!) { order(id: $id) { cancelledAt fulfillmentOrders(first: 1) { nodes { status } } } }",
               {"id": order["gid"]})[2]["data"]["order"]
    check(data["cancelledAt"] and data["fulfillmentOrders"]["nodes"][0]["status"] == "CANCELLED", f"{data}")


def case_woo_pending_deliveries_coalesce():
    sid = new_store("woocommerce", seed={"products": 1, "stock": 5}, webhook_delay_ms=400)
    ctl("POST", f"/stores/{sid}/webhooks", {"topic": "product.updated", "address": RECEIVER.url(f"/ok/{sid}")})
    pid = ctl("GET", f"/stores/{sid}/products")[0]["id"]
    for qty in (11, 12, 13):
        woo(sid, "PUT", f"products/{pid}", {"stock_quantity": qty})
    check(wait_for(lambda: RECEIVER.got(f"/ok/{sid}"), timeout=5), "no delivery")
    time.sleep(0.6)
    got = RECEIVER.got(f"/ok/{sid}")
    check(len(got) == 1, f"{len(got)} deliveries for one pending resource")
    check(json.loads(got[0]["body"])["stock_quantity"] == 13, "body is not the state at send time")


def case_webhook_timeout_counts_as_failure():
    sid = new_store("woocommerce", seed={"products": 1, "stock": 5})
    ctl("POST", f"/stores/{sid}/webhooks", {"topic": "order.created", "address": RECEIVER.url(f"/slow/{sid}")})
    start = time.monotonic()
    ctl("POST", f"/stores/{sid}/orders", {"lines": [{"sku": "SKU-00001-1", "quantity": 1}]})
    done = wait_for(lambda: woo_deliveries(sid), timeout=9)
    check(done and done[0]["outcome"] == "failed" and done[0]["status"] == 0, f"{done}")
    check(4.5 < time.monotonic() - start < 6, f"gave up after {time.monotonic() - start:.1f}s, want 5s")


def case_location_inventory_level():
    sid = new_store("shopify", seed={"products": 1, "stock": 4}, locations=2)
    items, locs = first_inventory(sid)
    data = gql(sid, """query($l: ID!, $i: ID!) { location(id: $l) { name inventoryLevel(inventoryItemId: $i) {
               quantities(names: ["available", "committed", "on_hand"]) { name quantity } } } }""",
               {"l": locs[1], "i": items[0][1]})[2]
    q = {x["name"]: x["quantity"] for x in data["data"]["location"]["inventoryLevel"]["quantities"]}
    check(q == {"available": 4, "committed": 0, "on_hand": 4}, f"{data}")


def case_hostile_inputs_do_not_crash():
    shop = new_store("shopify", seed={"products": 2})
    wc = new_store("woocommerce", seed={"products": 2})
    queries = [
        "{" * 200 + "}" * 200,
        "{ products(first: 250) { nodes { variants(first: 250) { nodes { inventoryItem { inventoryLevels(first: 250)"
        " { nodes { id } } } } } } } }",
        "{ products(first: 1e300) { nodes { id } } }",
        "{ products(first: -5, after: \"!!notbase64\") { nodes { id } } }",
        "query($x: Int!) { products(first: $x) { nodes { id } } }",
        "{ products(first: $undeclared) { nodes { id } } }",
        "fragment A on Product { ...B } fragment B on Product { ...A } { products(first: 1) { nodes { ...A } } }",
        "mutation { inventorySetQuantities(input: 5) @idempotent(key: \"x\") { userErrors { code } } }",
        "mutation { fulfillmentCreate(fulfillment: {lineItemsByFulfillmentOrder: [1, \"a\", {fulfillmentOrderId: 3}]})"
        " { userErrors { message } } }",
        "\"unterminated",
        "query { shop { name } } # comment \u0000",
    ]
    for q in queries:
        status, _, _ = gql(shop, q, {"x": "not an int"})
        check(status in (200, 400), f"{q[:40]} -> {status}")
    for body in (b"{not json", b"[]", b"{\"query\": 5}", b"\xff\xfe"):
        call("POST", f"/{shop}{GQL}", body, {"X-Shopify-Access-Token": f"shpat_{shop}"})
        call("POST", "/_sim/stores", body)
    for path in ("products?page=99999999999999999999&per_page=100", "products?per_page=abc", "orders/abc/notes",
                 "products/1/variations/batch", "webhooks/0", "products/" + "9" * 40):
        woo(wc, "GET", path)
        woo(wc, "POST", path, {"update": [{"id": 1e300, "stock_quantity": 1e300}], "create": [None, 5]})
    ctl("PUT", f"/stores/{wc}/faults", {"error_rate": 1e300, "next_errors": -1, "slow_ms": 0})
    ctl("PUT", f"/stores/{wc}/faults", {"error_rate": 0})
    call("PUT", "/_sim/clock", {"factor": 1e-300})
    ctl("PUT", "/clock", {"factor": 1})
    call("POST", f"/_sim/stores/{wc}/orders", {"lines": [{"sku": "SKU-00001-1", "quantity": 1e300}]})
    check(call("GET", "/_sim/health")[0] == 200, "simulator died")


CASES = [
    case_shopify_auth_401, case_shopify_cost_in_every_response, case_shopify_throttled_200_form,
    case_shopify_throttled_429_form, case_shopify_throttled_alternates, case_shopify_bucket_past_size,
    case_inventory_set_stale_applies_nothing, case_inventory_set_missing_change_from_quantity,
    case_inventory_set_null_and_matching_apply, case_idempotency_key_applied_once, case_idempotency_directive_required,
    case_inventory_set_over_250_refused, case_shopify_pagination_all_pages, case_shopify_counts_with_limit_and_precision,
    case_shopify_parse_error_and_unknown_field,
    case_shopify_aliases_fragments_variables, case_partial_fulfilment_leaves_rest_open,
    case_idempotent_key_only_where_shopify_offers_it, case_return_and_refund,
    case_return_process_refund_cancel_and_tags,
    case_shopify_orders_query_filter, case_shopify_webhook_retried_then_delivered,
    case_shopify_subscription_removed_after_retries, case_shopify_graphql_subscription_and_product_webhook,
    case_woo_auth_401, case_woo_oauth1_query_auth, case_woo_batch_101_refused, case_woo_variations_pagination,
    case_woo_products_filters, case_woo_products_modified_after, case_shopify_products_updated_at_sorted,
    case_woo_orders_filters_and_update, case_woo_refund_restocks,
    case_woo_shipment_tracking_only_when_enabled, case_woo_webhook_signed_and_fresh_delivery_id,
    case_woo_webhook_disabled_after_5_failures, case_woo_product_webhook_on_stock_update,
    case_faults_5xx_429_slow_reset, case_dropped_webhook, case_many_stores_in_parallel,
    case_shopify_cancel_webhook_and_stock_release, case_woo_pending_deliveries_coalesce,
    case_webhook_timeout_counts_as_failure, case_location_inventory_level, case_hostile_inputs_do_not_crash,
]


def main():
    global SIM, RECEIVER
    if not BINARY.exists():
        print(f"FAIL shopsim_binary: {BINARY} not built (set WB_BUILD_DIR)")
        return 1
    only = sys.argv[1:]
    SIM = Sim()
    RECEIVER = Receiver()
    failed = 0
    try:
        for case in CASES:
            name = case.__name__[len("case_"):]
            if only and not any(o in name for o in only):
                continue
            try:
                case()
                print(f"PASS {name}", flush=True)
            except Check as e:
                failed += 1
                print(f"FAIL {name}: {e}", flush=True)
            except Exception as e:  # a crash in a case is a failure of that case
                failed += 1
                print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)
    finally:
        RECEIVER.stop()
        code, report = SIM.stop()
    if report:
        failed += 1
        print(f"FAIL shopsim_sanitizer_clean: {report.splitlines()[0]} (see {SIM.err.name})")
    elif code != 0:
        failed += 1
        print(f"FAIL shopsim_clean_stop: exit code {code} after SIGTERM")
    else:
        print("PASS shopsim_clean_stop")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
