#!/usr/bin/env python3
"""Hostile input on every HTTP endpoint of the four services: the table of
docs/security.md, row by row. Each row sends one hostile request over a raw
socket and checks the documented answer (HTTP status, Allow header, a dead
letter where that is the rule, or a disconnect without an answer); after
every row the service must still answer /healthz 200, and at the end every
service stops cleanly (exit 0, no sanitizer report).

The services run with WB_HTTP_MAX_BODY=65536 and WB_HTTP_REQUEST_TIMEOUT_MS=3000
so oversized and slow rows are quick; the rules are the same at the defaults.
"""
import base64
import hashlib
import hmac
import json
import pathlib
import socket
import sys
import threading
import time
import uuid

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness as h  # noqa: E402

RUN = uuid.uuid4().hex[:8]
SHOP, WOO = f"hz-s-{RUN}", f"hz-w-{RUN}"
SECRET = "hostile-webhook-secret"
MAX_BODY = 65536
ENV = {"WB_HTTP_MAX_BODY": str(MAX_BODY), "WB_HTTP_REQUEST_TIMEOUT_MS": "3000", "WB_LOG_LEVEL": "info",
       "WB_ORDER_RECONCILE_MS": "0", "WB_CATALOG_POLL_MS": "0"}
SERVICES = ["order-ingest", "catalog-ingest", "stock-publisher", "fulfilment-reporter"]
ORDER = json.loads((h.ROOT / "tests/fuzz/corpus/fuzz_webhook/shopify_private-signed").read_text()
                   .split("\n\n", 1)[1])
rep = h.Reporter()
procs = {}
dead_expected = []  # (row, body bytes, words the reason must contain)


# ---------------------------------------------------------------- raw HTTP

def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_answer(s):
    """(status, headers, body) of one answer, or None when the server closed
    the connection without one."""
    data = b""
    while b"\r\n\r\n" not in data:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            return None if not data else (0, {}, data)
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:] if ":" in l)}
    want = int(headers.get("content-length", "0"))
    while len(body) < want:
        chunk = s.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, headers, body


def request(port, method, path, body=b"", headers=None, raw=None):
    """One request with Connection: close; body bytes are sent as given."""
    s = connect(port)
    try:
        if raw is None:
            hdrs = {"Host": "127.0.0.1", "Connection": "close", **(headers or {})}
            if body is not None and "Content-Length" not in hdrs and "Transfer-Encoding" not in hdrs:
                hdrs["Content-Length"] = str(len(body))
            raw = (f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items())
                   + "\r\n").encode("latin-1") + (body or b"")
        try:
            s.sendall(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass  # answered (413) and closed while we were still sending
        return read_answer(s)
    finally:
        s.close()


def healthz(port):
    a = request(port, "GET", "/healthz", None)
    assert a and a[0] == 200, f"/healthz after the row: {a}"


def sign(body):
    return base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()


def shopify_headers(body, topic="orders/create", signed=True):
    out = {"Content-Type": "application/json", "X-Shopify-Topic": topic,
           "X-Shopify-Webhook-Id": uuid.uuid4().hex}
    if signed:
        out["X-Shopify-Hmac-Sha256"] = sign(body)
    return out


def woo_headers(body, topic="order.created", signed=True):
    out = {"Content-Type": "application/json", "X-WC-Webhook-Topic": topic}
    if signed:
        out["X-WC-Webhook-Signature"] = sign(body)
    return out


def order(**changes):
    o = json.loads(json.dumps(ORDER))
    o["id"] = int(uuid.uuid4().int % 10**15)
    o["admin_graphql_api_id"] = f"gid://shopify/Order/{o['id']}"
    o.update(changes)
    return o


# ---------------------------------------------------------------- expectations

def status_is(code, allow=None, body_has=None):
    def check(a):
        assert a is not None, f"no answer, expected {code}"
        assert a[0] == code, f"status {a[0]}, expected {code}: {a[2][:300]!r}"
        if allow:
            assert a[1].get("allow") == allow, f"Allow {a[1].get('allow')!r}, expected {allow!r}"
        if body_has:
            assert body_has.encode() in a[2], f"{body_has!r} not in {a[2][:300]!r}"
    return check


def closed_without_answer(a):
    assert a is None, f"expected a disconnect without an answer, got {a}"


def dead_letter(row, body, *words):
    def check(a):
        status_is(200, body_has='"dead_letter"')(a)
        dead_expected.append((row, body, words))
    return check


# ---------------------------------------------------------------- the rows

def common_rows(svc):
    """Rows every service answers the same way (built-in endpoints, the server)."""
    big = b"x" * (MAX_BODY + 1)
    chunk = b"%x\r\n" % len(big) + big + b"\r\n0\r\n\r\n"
    return [
        ("get_healthz", dict(method="GET", path="/healthz", body=None), status_is(200)),
        ("head_metrics", dict(method="HEAD", path="/metrics", body=None), status_is(200)),
        ("post_healthz_405", dict(method="POST", path="/healthz", body=b"{}"), status_is(405, "GET, HEAD")),
        ("delete_readyz_405", dict(method="DELETE", path="/readyz", body=None), status_is(405, "GET, HEAD")),
        ("put_metrics_405", dict(method="PUT", path="/metrics", body=b"x"), status_is(405, "GET, HEAD")),
        ("unknown_path_404", dict(method="GET", path="/admin/../../etc/passwd", body=None), status_is(404)),
        ("unknown_post_path_404", dict(method="POST", path="/nothing", body=b"{}"), status_is(404)),
        ("oversized_announced_413", dict(method="POST", path="/healthz",
                                         raw=b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n"),
         status_is(413)),
        ("oversized_chunked_413", dict(method="POST", path="/nothing", raw=(
            b"POST /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk)),
         status_is(413)),
        ("huge_query_string", dict(method="GET", path="/healthz?" + "a=1&" * 20000, body=None),
         lambda a: None if a is None else status_is(a[0])(a) if a[0] in (200, 400, 413, 414, 431) else
         (_ for _ in ()).throw(AssertionError(f"status {a[0]}"))),
        ("header_flood", dict(method="GET", path="/healthz", raw=(
            b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-F%d: %s\r\n" % (i, b"y" * 100) for i in range(2000))
            + b"\r\n")),
         lambda a: None if a is None else
         (_ for _ in ()).throw(AssertionError(f"status {a[0]}")) if a[0] not in (400, 413, 431) else None),
        ("garbage_request_line_400", dict(method="GET", path="/", raw=b"\x00\xff\xfe GARBAGE\r\n\r\n"),
         lambda a: None if a is None else status_is(400)(a)),
        ("invalid_utf8_path_404", dict(method="GET", path="/", raw=b"GET /\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n"),
         lambda a: None if a is None else status_is(a[0])(a) if a[0] in (400, 404) else
         (_ for _ in ()).throw(AssertionError(f"status {a[0]}"))),
    ]


def order_rows():
    rows = []
    good = json.dumps(order()).encode()
    rows.append(("shopify_signed_order_taken", dict(method="POST", path=f"/webhooks/shopify/{SHOP}", body=good,
                                                   headers=shopify_headers(good)),
                 status_is(200, body_has='"order_id"')))
    rows.append(("shopify_no_signature_401", dict(method="POST", path=f"/webhooks/shopify/{SHOP}", body=good,
                                                 headers=shopify_headers(good, signed=False)), status_is(401)))
    rows.append(("shopify_wrong_signature_401", dict(method="POST", path=f"/webhooks/shopify/{SHOP}", body=good,
                                                    headers=dict(shopify_headers(good), **{
                                                        "X-Shopify-Hmac-Sha256": sign(good + b" ")})),
                 status_is(401)))
    rows.append(("shopify_missing_headers_401", dict(method="POST", path=f"/webhooks/shopify/{SHOP}", body=good),
                 status_is(401)))
    no_topic = json.dumps(order()).encode()
    hdr = shopify_headers(no_topic)
    del hdr["X-Shopify-Topic"]
    rows.append(("shopify_missing_topic_ignored", dict(method="POST", path=f"/webhooks/shopify/{SHOP}",
                                                      body=no_topic, headers=hdr),
                 status_is(200, body_has='"ignored"')))
    text = json.dumps(order()).encode()
    rows.append(("shopify_wrong_content_type_judged_by_hmac", dict(
        method="POST", path=f"/webhooks/shopify/{SHOP}", body=text,
        headers=dict(shopify_headers(text), **{"Content-Type": "text/plain; charset=latin-1"})),
        status_is(200, body_has='"order_id"')))
    rows.append(("unknown_store_404", dict(method="POST", path=f"/webhooks/shopify/nope-{RUN}", body=good,
                                          headers=shopify_headers(good)), status_is(404)))
    rows.append(("store_id_traversal_404", dict(method="POST", path="/webhooks/shopify/..%2F..%2Fetc", body=good,
                                               headers=shopify_headers(good)), status_is(404)))
    rows.append(("webhook_get_405", dict(method="GET", path=f"/webhooks/shopify/{SHOP}", body=None),
                 status_is(405, "POST")))
    bad_utf8 = json.dumps(order()).encode().replace(b'"Bob"', b'"B\xff\xfeb"')
    rows.append(("signed_invalid_utf8_dead_letter", dict(method="POST", path=f"/webhooks/shopify/{SHOP}",
                                                        body=bad_utf8, headers=shopify_headers(bad_utf8)),
                 dead_letter("signed_invalid_utf8_dead_letter", bad_utf8, "UTF-8")))
    nested = b"[" * 10000 + b"]" * 10000
    rows.append(("signed_nested_10000_dead_letter", dict(method="POST", path=f"/webhooks/shopify/{SHOP}",
                                                        body=nested, headers=shopify_headers(nested)),
                 dead_letter("signed_nested_10000_dead_letter", nested, "malformed JSON")))
    o = order()
    del o["admin_graphql_api_id"]
    huge_id = json.dumps(o).encode().replace(b'"id":', b'"id":1e999,"x":', 1)
    rows.append(("signed_huge_id_dead_letter", dict(method="POST", path=f"/webhooks/shopify/{SHOP}",
                                                   body=huge_id, headers=shopify_headers(huge_id)),
                 dead_letter("signed_huge_id_dead_letter", huge_id, "id")))
    o = order()
    o["line_items"][0]["quantity"] = 1
    huge_qty = json.dumps(o).encode().replace(b'"quantity": 1', b'"quantity": 1e308', 1)
    rows.append(("signed_huge_quantity_dead_letter", dict(method="POST", path=f"/webhooks/shopify/{SHOP}",
                                                         body=huge_qty, headers=shopify_headers(huge_qty)),
                 dead_letter("signed_huge_quantity_dead_letter", huge_qty, "quantity")))
    not_json = b"<xml>not json</xml>"
    rows.append(("signed_not_json_dead_letter", dict(method="POST", path=f"/webhooks/woocommerce/{WOO}",
                                                    body=not_json, headers=woo_headers(not_json)),
                 dead_letter("signed_not_json_dead_letter", not_json, "malformed JSON")))
    ping = b"webhook_id=42"
    rows.append(("woo_unsigned_form_ping_200", dict(method="POST", path=f"/webhooks/woocommerce/{WOO}", body=ping,
                                                   headers={"Content-Type": "application/x-www-form-urlencoded"}),
                 status_is(200, body_has='"pong"')))
    rows.append(("woo_unsigned_order_401", dict(method="POST", path=f"/webhooks/woocommerce/{WOO}", body=good,
                                               headers=woo_headers(good, signed=False)), status_is(401)))
    rows.append(("webhook_oversized_413", dict(method="POST", path=f"/webhooks/shopify/{SHOP}",
                                              body=b"{" + b" " * MAX_BODY + b"}",
                                              headers={"X-Shopify-Topic": "orders/create"}), status_is(413)))
    rows.append(("reconcile_get_405", dict(method="GET", path="/reconcile", body=None), status_is(405, "POST")))
    rows.append(("reconcile_oversized_413", dict(method="POST", path="/reconcile", body=b"x" * (MAX_BODY + 1)),
                 status_is(413)))
    return rows


def catalog_rows():
    rows = []
    product = json.dumps({"id": 4242, "title": "Mug"}).encode()
    rows.append(("product_no_signature_401", dict(method="POST", path=f"/webhooks/shopify/{SHOP}", body=product,
                                                 headers=shopify_headers(product, "products/update", False)),
                 status_is(401)))
    rows.append(("product_signed_queued", dict(method="POST", path=f"/webhooks/woocommerce/{WOO}", body=product,
                                              headers=woo_headers(product, "product.updated")),
                 status_is(200, body_has='"queued"')))
    bad_utf8 = b'{"id":"\xff\xfe","title":"\xc0\xaf"}'
    rows.append(("product_signed_invalid_utf8_ignored", dict(
        method="POST", path=f"/webhooks/woocommerce/{WOO}", body=bad_utf8,
        headers=woo_headers(bad_utf8, "product.updated")), status_is(200, body_has="no product id")))
    nested = b"{\"a\":" * 10000 + b"1" + b"}" * 10000
    rows.append(("product_signed_nested_ignored", dict(method="POST", path=f"/webhooks/shopify/{SHOP}", body=nested,
                                                      headers=shopify_headers(nested, "products/update")),
                 status_is(200, body_has="no product id")))
    huge = b'{"id":1e999}'
    rows.append(("product_signed_huge_id_ignored", dict(method="POST", path=f"/webhooks/shopify/{SHOP}", body=huge,
                                                       headers=shopify_headers(huge, "products/update")),
                 status_is(200, body_has="no product id")))
    rows.append(("product_unknown_store_404", dict(method="POST", path=f"/webhooks/woocommerce/nope-{RUN}",
                                                  body=product, headers=woo_headers(product)), status_is(404)))
    rows.append(("sync_unknown_store_404", dict(method="POST", path=f"/sync/nope-{RUN}", body=b""), status_is(404)))
    rows.append(("sync_bad_store_id_404", dict(method="POST", path="/sync/%00%FF", body=b""), status_is(404)))
    rows.append(("sync_get_405", dict(method="GET", path=f"/sync/{WOO}", body=None), status_is(405, "POST")))
    rows.append(("sync_oversized_413", dict(method="POST", path=f"/sync/{WOO}", body=b"x" * (MAX_BODY + 1)),
                 status_is(413)))
    return rows


# ---------------------------------------------------------------- slow clients

def slowloris(port):
    """A client sending its headers a byte a second must not hold up others,
    and the server must cut it (request timeout 3 s here)."""
    s = connect(port)
    stop = threading.Event()
    cut = threading.Event()

    def drip():
        payload = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 600
        for b in payload:
            if stop.is_set():
                return
            try:
                s.send(bytes([b]))
            except OSError:
                cut.set()
                return
            time.sleep(1)

    t = threading.Thread(target=drip, daemon=True)
    t.start()
    try:
        for _ in range(3):  # others are served while it drips
            healthz(port)
        s.settimeout(120)
        try:
            got = s.recv(4096)
        except (ConnectionResetError, socket.timeout):
            got = b""
        assert got == b"" or cut.is_set(), f"slow client got an answer instead of a disconnect: {got[:200]!r}"
    finally:
        stop.set()
        s.close()
        t.join(5)


def truncated_body(port, path):
    """Content-Length larger than what is sent: no handler runs on half a
    body; the connection is cut, and others are served meanwhile."""
    s = connect(port)
    try:
        s.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  f"Content-Length: 1000\r\n\r\n".encode() + b'{"id": 1, "line_items": [')
        healthz(port)
        s.settimeout(120)
        a = read_answer(s)
        assert a is None, f"a truncated body was answered: {a}"
    finally:
        s.close()


# ---------------------------------------------------------------- run

def run_rows(svc, rows):
    port = procs[svc].port
    for name, req, check in rows:
        def one(req=req, check=check):
            a = request(port, req.get("method", "GET"), req.get("path", "/"), req.get("body", b""),
                        req.get("headers"), req.get("raw"))
            check(a)
            healthz(port)
            assert procs[svc].proc.poll() is None, f"{svc} exited: {procs[svc].output()[-800:]}"
        rep.run(f"{svc}:{name}", one)


def check_dead_letters():
    want = {base64.b64encode(body).decode(): (row, words) for row, body, words in dead_expected}
    found = {}

    def collect():
        for _, _, _, value in h.consume("bridge.deadletter.v1", "", idle_seconds=3):
            try:
                d = json.loads(value)
            except ValueError:
                continue
            if d.get("store_id") in (SHOP, WOO) and d.get("original_base64") in want:
                found[d["original_base64"]] = d
        return len(found) == len(want)

    h.wait_for("every expected dead letter", collect, timeout=90, interval=1)
    for b64, (row, words) in want.items():
        d = found[b64]
        assert d["service"] == "order-ingest" and d["source"]["kind"] == "webhook", d
        for w in words:
            assert w in d["reason"], f"{row}: reason {d['reason']!r} lacks {w!r}"


def setup():
    h.bridgectl("db", "migrate")
    h.bridgectl("topics", "ensure")
    h.bridgectl("store", "add", SHOP, "--platform", "shopify", "--url", "https://hostile.example", "--owner",
                "hz", "--credentials", "-", stdin=json.dumps({"access_token": "shpat_hz", "api_secret": SECRET}))
    h.bridgectl("store", "add", WOO, "--platform", "woocommerce", "--url", "https://hostile-woo.example",
                "--owner", "hz", "--credentials", "-",
                stdin=json.dumps({"consumer_key": "ck_hz", "consumer_secret": "cs_hz", "webhook_secret": SECRET}))
    for svc in SERVICES:
        procs[svc] = h.service(svc, ENV)


def main():
    try:
        if not rep.run("setup", setup):
            return 1
        for svc in SERVICES:
            run_rows(svc, common_rows(svc))
        run_rows("order-ingest", order_rows())
        run_rows("catalog-ingest", catalog_rows())
        for svc in SERVICES:
            rep.run(f"{svc}:slowloris_cut_others_served", slowloris, procs[svc].port)
        for svc, path in [("order-ingest", f"/webhooks/shopify/{SHOP}"), ("catalog-ingest", f"/sync/{WOO}"),
                          ("stock-publisher", "/healthz"), ("fulfilment-reporter", "/nothing")]:
            rep.run(f"{svc}:truncated_body_cut", truncated_body, procs[svc].port, path)
        rep.run("order-ingest:dead_letters_with_reasons", check_dead_letters)
        for svc in SERVICES:
            p = procs.pop(svc)
            rep.run(f"{svc}:clean_stop_after_hostile_input", h.assert_clean_stop, p)
    finally:
        for p in procs.values():
            p.stop()
            p.cleanup()
    return 1 if rep.failures else 0


if __name__ == "__main__":
    sys.exit(main())
