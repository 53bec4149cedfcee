#!/usr/bin/env python3
"""bridgectl store add --platform woocommerce --connect against shopsim:
the key is checked (read and write) before anything is saved, a webhook
secret is generated and the order and product webhooks are registered with
it; an order placed in the shop then reaches shop.orders.v1 through
order-ingest, which proves the shop and the bridge share the secret. A
read-only or wrong key adds nothing; bad usage exits 2."""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402

RUN = f"{os.getpid() % 100000}{int(time.time()) % 100000}"
WOO, RO, AUTH = f"wcon{RUN}", f"wconro{RUN}", f"wauth{RUN}"
R = h.Reporter()


class World:
    sim = None
    ingest = None
    port = None


W = World()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def ctl(*args, stdin=None, extra=None, drop=()):
    env = dict(os.environ, WB_MASTER_KEY=h.MASTER_KEY, WB_ORDER_PUBLIC_URL=f"http://127.0.0.1:{W.port}/",
               WB_CATALOG_PUBLIC_URL="http://127.0.0.1:9")
    env.update(extra or {})
    for name in drop:
        env.pop(name, None)
    return subprocess.run([str(h.BUILD / "bin" / "bridgectl"), *args], input=stdin, env=env, capture_output=True,
                          text=True, timeout=120)


def add(store, secret, *more, **kw):
    return ctl("store", "add", store, "--platform", "woocommerce", "--url", f"{W.sim.base}/{store}", "--owner",
               f"wo{RUN}", "--credentials", "-", "--connect", *more,
               stdin=json.dumps({"consumer_key": f"ck_{store}", "consumer_secret": secret}), **kw)


def count(store):
    return h.psql(f"SELECT count(*) FROM stores WHERE id = {h.sql_literal(store)}").strip()


def setup():
    W.sim = h.Shopsim()
    h.bridgectl("db", "migrate")
    W.sim.call("POST", "/_sim/stores", {"id": WOO, "platform": "woocommerce"})
    W.sim.call("POST", "/_sim/stores", {"id": RO, "platform": "woocommerce", "key_permissions": "read"})
    W.sim.call("POST", "/_sim/stores", {"id": AUTH, "platform": "woocommerce", "key_permissions": "read"})
    W.sim.call("POST", f"/_sim/stores/{WOO}/seed", {"products": 1, "variants": 1, "stock": 5, "sku_prefix": f"C{RUN}"})
    W.port = free_port()
    W.ingest = h.service("order-ingest", {"WB_HTTP_PORT": str(W.port), "WB_ORDER_RECONCILE_MS": "0"})


def test_connect_checks_and_registers_webhooks():
    p = add(WOO, f"cs_{WOO}")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "credentials ok: read and write, WooCommerce REST wc/v3" in p.stdout, p.stdout
    assert f"store {WOO} added and connected" in p.stdout, p.stdout
    hooks = sorted((w["topic"], w["delivery_url"], w["status"]) for w in W.sim.call("GET", f"/_sim/stores/{WOO}/webhooks"))
    order, product = f"http://127.0.0.1:{W.port}/webhooks/woocommerce/{WOO}", f"http://127.0.0.1:9/webhooks/woocommerce/{WOO}"
    assert hooks == [("order.created", order, "active"), ("order.deleted", order, "active"),
                     ("order.updated", order, "active"), ("product.created", product, "active"),
                     ("product.updated", product, "active")], hooks
    shown = json.loads(h.bridgectl("store", "show", WOO, "--json"))
    assert shown["credential_fields"] == "consumer_key, consumer_secret, webhook_secret", shown


def test_an_order_reaches_the_wms_signed_with_the_generated_secret():
    h.bridgectl("location", "map", WOO, "default", "WH1", "--default")
    sku = W.sim.call("GET", f"/_sim/stores/{WOO}/products")[0]["variants"][0]["sku"]
    order = W.sim.call("POST", f"/_sim/stores/{WOO}/orders", {"lines": [{"sku": sku, "quantity": 1}]})
    def sent():
        return [v for (_, _, k, v) in h.consume("shop.orders.v1", f"{WOO}/", idle_seconds=2)]
    msgs = h.wait_for("the order on shop.orders.v1", sent, 60, 1)
    assert any(str(order["id"]) in m for m in msgs), msgs


def test_read_only_or_wrong_key_adds_nothing():
    p = add(RO, f"cs_{RO}")
    assert p.returncode == 1 and "does not have write permissions" in p.stderr, p.stdout + p.stderr
    assert f"store {RO} not added" in p.stderr and count(RO) == "0", p.stderr
    assert W.sim.call("GET", f"/_sim/stores/{RO}/webhooks") == []
    p = add(f"x{RO}", "cs_wrong")
    assert p.returncode == 1 and "not added" in p.stderr and count(f"x{RO}") == "0", p.stderr


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):  # noqa: D102
        return None


def get_no_redirect(url):
    try:
        with urllib.request.build_opener(NoRedirect).open(url, timeout=60) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def start_authorize(store, wait="60"):
    env = dict(os.environ, WB_MASTER_KEY=h.MASTER_KEY, WB_ORDER_PUBLIC_URL=f"http://127.0.0.1:{W.port}",
               WB_CATALOG_PUBLIC_URL="http://127.0.0.1:9")
    p = subprocess.Popen([str(h.BUILD / "bin" / "bridgectl"), "store", "add", store, "--platform", "woocommerce",
                          "--url", f"{W.sim.base}/{store}", "--owner", f"wo{RUN}", "--authorize", "--wait", wait],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in p.stdout:
        if "/wc-auth/v1/authorize?" in line:
            return p, line.strip()
    raise AssertionError(f"no authorize URL: {p.stderr.read()}")


def test_woocommerce_key_granting_flow():
    proc, url = start_authorize(AUTH)
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(url).query))
    assert url.startswith(f"{W.sim.base}/{AUTH}/wc-auth/v1/authorize?"), url
    assert q["app_name"] == "wmsbridge" and q["scope"] == "read_write" and len(q["user_id"]) == 64, q
    assert q["callback_url"] == f"http://127.0.0.1:{W.port}/woocommerce/auth/callback", q
    # The owner approves: the shop posts the keys to order-ingest, then redirects.
    status, body = get_no_redirect(url)
    assert status == 302 and f"success=1&user_id={q['user_id']}" in json.loads(body)["redirect"], (status, body)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, out + err
    assert "keys received from the shop" in out and f"store {AUTH} added and connected" in out, out
    hooks = sorted(w["topic"] for w in W.sim.call("GET", f"/_sim/stores/{AUTH}/webhooks"))
    assert hooks == ["order.created", "order.deleted", "order.updated", "product.created", "product.updated"], hooks
    rep = json.loads(h.bridgectl("store", "test", AUTH, "--json"))
    assert rep["ok"] and rep["permissions"] == {"read": True, "write": True}, rep
    # The nonce is spent: the same keys posted again are refused.
    status, body = h.http("POST", f"http://127.0.0.1:{W.port}/woocommerce/auth/callback",
                          {"key_id": 1, "user_id": q["user_id"], "consumer_key": "ck", "consumer_secret": "cs",
                           "key_permissions": "read_write"})
    assert status == 400 and "already used" in body["error"], (status, body)


def test_key_granting_refusals():
    other = f"wauthro{RUN}"
    proc, url = start_authorize(other, wait="30")
    nonce = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(url).query))["user_id"]
    status, body = h.http("POST", f"http://127.0.0.1:{W.port}/woocommerce/auth/callback",
                          {"key_id": 1, "user_id": nonce, "consumer_key": "ck", "consumer_secret": "cs",
                           "key_permissions": "read"})
    assert status == 400 and "read_write" in body["error"], (status, body)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1 and "key permissions read" in err and count(other) == "0", out + err
    status, body = h.http("POST", f"http://127.0.0.1:{W.port}/woocommerce/auth/callback",
                          {"user_id": "f" * 64, "consumer_key": "ck", "consumer_secret": "cs",
                           "key_permissions": "read_write"})
    assert status == 400, (status, body)
    # shopsim refuses a callback that is not over SSL (loopback aside), as WooCommerce does.
    status, body = h.http("GET", f"{W.sim.base}/{AUTH}/wc-auth/v1/authorize?app_name=a&scope=read_write&user_id=1"
                                 f"&return_url=https%3A%2F%2Fa.example&callback_url=http%3A%2F%2Fa.example%2Fcb")
    assert status == 400 and "needs to be over SSL" in json.dumps(body), (status, body)


def test_errors():
    cases = [
        (add("z1", "cs", drop=("WB_ORDER_PUBLIC_URL",)), 2, "WB_ORDER_PUBLIC_URL"),
        (add("z1", "cs", extra={"WB_CATALOG_PUBLIC_URL": "nope"}), 2, "WB_CATALOG_PUBLIC_URL"),
        (ctl("store", "add", "z1", "--platform", "shopify", "--url", "https://x", "--owner", "o", "--credentials",
             "-", "--connect", stdin="{}"), 2, "--connect is for WooCommerce"),
        (add(WOO, f"cs_{WOO}"), 1, f"store '{WOO}' already exists"),
        (ctl("store", "add", "z1", "--platform", "woocommerce", "--url", "https://x", "--owner", "o", "--authorize",
             "--wait", "0"), 2, "--wait: expected seconds"),
        (ctl("store", "add", WOO, "--platform", "woocommerce", "--url", "https://x", "--owner", "o", "--authorize"), 1,
         f"store '{WOO}' already exists"),
    ]
    for i, (proc, code, message) in enumerate(cases):
        assert proc.returncode == code and message in proc.stderr, f"case {i}: {proc.returncode} {proc.stderr}"


def test_graceful_stop_exits_0():
    process, W.ingest = W.ingest, None
    h.assert_clean_stop(process)


def cleanup():
    if W.ingest:
        W.ingest.stop()
        W.ingest.cleanup()
    if W.sim:
        W.sim.close()
    h.psql(f"DELETE FROM stores WHERE id IN ({h.sql_literal(WOO)}, {h.sql_literal(RO)}, {h.sql_literal(AUTH)})")


def main():
    return R.run_module(setup, globals(), cleanup)


if __name__ == "__main__":
    sys.exit(main())
