#!/usr/bin/env python3
"""Connecting a Shopify store as its owner expects, through shopsim's OAuth
endpoints: bridgectl prints the install URL (client id, exactly the bridge's
scopes, order-ingest's callback, a state nonce kept in PostgreSQL); the
shop redirects to order-ingest's callback, which checks the hmac and the
state, exchanges the code, stores the token sealed and registers the
webhooks; then an order placed in the shop reaches shop.orders.v1. A forged
hmac, an unknown, replayed or expired state are refused; bad usage exits 2."""
import hashlib
import hmac
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
SID = f"inst{RUN}"
SHOP = f"{SID}.myshopify.com"
CLIENT_ID, CLIENT_SECRET = f"app-{RUN}", f"app-secret-{RUN}-x"
SCOPES = ("read_orders,write_orders,read_products,read_inventory,write_inventory,read_locations,"
          "read_merchant_managed_fulfillment_orders,write_merchant_managed_fulfillment_orders,read_returns,"
          "write_returns")
R = h.Reporter()


class World:
    sim = None
    ingest = None
    port = None
    install = None


W = World()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def ctl(*args, extra=None, drop=()):
    env = dict(os.environ, WB_MASTER_KEY=h.MASTER_KEY, WB_SHOPIFY_CLIENT_ID=CLIENT_ID,
               WB_ORDER_PUBLIC_URL=f"http://127.0.0.1:{W.port}")
    env.update(extra or {})
    for name in drop:
        env.pop(name, None)
    return subprocess.run([str(h.BUILD / "bin" / "bridgectl"), *args], env=env, capture_output=True, text=True,
                          timeout=120)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):  # noqa: D102
        return None


def get(url, follow=True):
    opener = urllib.request.build_opener() if follow else urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=30) as r:
            return r.status, r.read().decode(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), dict(e.headers)


def signed(params):
    msg = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    return dict(params, hmac=hmac.new(CLIENT_SECRET.encode(), msg.encode(), hashlib.sha256).hexdigest())


def callback(params):
    return get(f"http://127.0.0.1:{W.port}/shopify/oauth/callback?" + urllib.parse.urlencode(params))


def setup():
    W.sim = h.Shopsim()
    h.bridgectl("db", "migrate")
    # The app's secret signs its webhooks too, as on Shopify.
    W.sim.call("POST", "/_sim/stores", {"id": SID, "platform": "shopify", "client_id": CLIENT_ID,
                                         "client_secret": CLIENT_SECRET, "app_secret": CLIENT_SECRET,
                                         "access_scopes": "read_orders"})
    W.sim.call("POST", f"/_sim/stores/{SID}/seed", {"products": 1, "variants": 1, "stock": 5,
                                                     "sku_prefix": f"I{RUN}"})
    W.port = free_port()
    W.ingest = h.service("order-ingest", {
        "WB_HTTP_PORT": str(W.port), "WB_SHOPIFY_CLIENT_ID": CLIENT_ID, "WB_SHOPIFY_CLIENT_SECRET": CLIENT_SECRET,
        "WB_ORDER_PUBLIC_URL": f"http://127.0.0.1:{W.port}", "WB_CATALOG_PUBLIC_URL": "http://127.0.0.1:9",
        "WB_ORDER_RECONCILE_MS": "0"})


def test_install_url():
    p = ctl("store", "add", SID, "--platform", "shopify", "--shop", SHOP, "--owner", f"io{RUN}",
            "--url", f"{W.sim.base}/{SID}", "--json")
    assert p.returncode == 0, p.stderr
    W.install = json.loads(p.stdout)
    url = urllib.parse.urlparse(W.install["install_url"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{W.sim.base}/{SID}/admin/oauth/authorize", url
    q = urllib.parse.parse_qs(url.query)
    assert q["client_id"] == [CLIENT_ID] and q["scope"] == [SCOPES], q
    assert q["redirect_uri"] == [f"http://127.0.0.1:{W.port}/shopify/oauth/callback"], q
    state = q["state"][0]
    assert len(state) == 64 and int(state, 16) >= 0, state
    row = h.psql(f"SELECT store_id, shop_domain, used_at IS NULL, expires_at > now() + interval '50 minutes' "
                 f"FROM shopify_installs WHERE state = {h.sql_literal(state)}").strip()
    assert row == f"{SID}|{SHOP}|t|t", row
    human = ctl("store", "add", f"x{SID}", "--platform", "shopify", "--shop", f"x{SHOP}", "--owner", "o")
    assert human.returncode == 0 and f"https://x{SHOP}/admin/oauth/authorize?client_id={CLIENT_ID}" in human.stdout, \
        human.stdout + human.stderr


def test_forged_and_unknown_callbacks_are_refused():
    state = urllib.parse.parse_qs(urllib.parse.urlparse(W.install["install_url"]).query)["state"][0]
    base = {"code": "abc", "shop": SHOP, "state": state, "timestamp": str(int(time.time())), "host": "eA"}
    forged = signed(base)
    forged["code"] = "other"
    status, body, _ = callback(forged)
    assert status == 400 and "hmac" in body, (status, body)
    status, body, _ = callback(dict(base, hmac="00" * 32))
    assert status == 400 and "hmac" in body, (status, body)
    status, body, _ = callback(signed(dict(base, state=hashlib.sha256(f"unknown-{RUN}".encode()).hexdigest())))
    assert status == 400 and "unknown, already used or expired state" in body, (status, body)
    status, body, _ = callback(signed(dict(base, shop="evil.example.com")))
    assert status == 400 and "myshopify.com" in body, (status, body)
    # None of that spent the nonce.
    assert h.psql(f"SELECT used_at IS NULL FROM shopify_installs WHERE state = '{state}'").strip() == "t"
    old = hashlib.sha256(f"expired-{RUN}".encode()).hexdigest()
    h.psql(f"INSERT INTO shopify_installs (state, store_id, shop_domain, base_url, goods_owner, scopes, requested_by, "
           f"expires_at) VALUES ('{old}', 'old{RUN}', '{SHOP}', 'http://127.0.0.1:9', 'o', 'x', 't', "
           f"now() - interval '1 minute')")
    status, body, _ = callback(signed(dict(base, state=old)))
    assert status == 400 and "expired" in body, (status, body)


def test_owner_approves_and_the_store_is_connected():
    # The shop answers the authorize URL with a redirect to the callback...
    status, body, headers = get(W.install["install_url"], follow=False)
    assert status == 302, (status, body)
    location = headers.get("Location") or json.loads(body)["redirect"]
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(location).query))
    assert location.startswith(f"http://127.0.0.1:{W.port}/shopify/oauth/callback?"), location
    assert set(q) == {"code", "hmac", "host", "shop", "state", "timestamp"} and q["shop"] == SHOP, q
    # ...which the browser follows.
    status, body, _ = get(location)
    assert status == 200 and f"store {SID} connected; 6 webhooks registered" in body, (status, body)
    # A replay of the same callback finds the nonce used.
    status, body, _ = get(location)
    assert status == 400 and "already used" in body, (status, body)
    sealed = h.psql(f"SELECT platform || ' ' || base_url || ' ' || credentials_sealed FROM stores "
                    f"WHERE id = {h.sql_literal(SID)}").strip()
    assert sealed.startswith(f"shopify {W.sim.base}/{SID} v1:") and "shpat_" not in sealed, sealed
    rep = json.loads(h.bridgectl("store", "test", SID, "--json"))
    assert rep["ok"] is True and sorted(rep["scopes"]) == sorted(SCOPES.split(",")), rep
    hooks = sorted((w["topic"], w["address"]) for w in rep["webhooks"])
    mine = f"http://127.0.0.1:{W.port}/webhooks/shopify/{SID}"
    assert hooks == sorted([("APP_UNINSTALLED", mine), ("ORDERS_CANCELLED", mine), ("ORDERS_CREATE", mine),
                            ("ORDERS_UPDATED", mine), ("PRODUCTS_CREATE", f"http://127.0.0.1:9/webhooks/shopify/{SID}"),
                            ("PRODUCTS_UPDATE", f"http://127.0.0.1:9/webhooks/shopify/{SID}")]), hooks
    outcome = h.psql(f"SELECT outcome FROM shopify_installs WHERE store_id = {h.sql_literal(SID)} "
                     f"AND used_at IS NOT NULL").strip()
    assert outcome == "connected; 6 webhooks registered", outcome


def test_an_order_reaches_the_wms():
    location = W.sim.call("GET", f"/_sim/stores/{SID}")["locations"][0]["gid"]
    h.bridgectl("location", "map", SID, location, "WH1", "--default")
    sku = W.sim.call("GET", f"/_sim/stores/{SID}/products")[0]["variants"][0]["sku"]
    order = W.sim.call("POST", f"/_sim/stores/{SID}/orders", {"lines": [{"sku": sku, "quantity": 1}]})
    def sent():
        return [v for (_, _, k, v) in h.consume("shop.orders.v1", f"{SID}/", idle_seconds=2)]
    msgs = h.wait_for("the order on shop.orders.v1", sent, 60, 1)
    assert any(str(order["id"]) in m for m in msgs), msgs


def test_errors():
    cases = [
        (ctl("store", "add", "y1", "--platform", "shopify", "--shop", "y1.myshopify.com", "--owner", "o",
             drop=("WB_SHOPIFY_CLIENT_ID",)), 2, "WB_SHOPIFY_CLIENT_ID"),
        (ctl("store", "add", "y1", "--platform", "shopify", "--shop", "y1.myshopify.com", "--owner", "o",
             drop=("WB_ORDER_PUBLIC_URL",)), 2, "WB_ORDER_PUBLIC_URL"),
        (ctl("store", "add", "y1", "--platform", "shopify", "--shop", "evil.example.com", "--owner", "o"), 2,
         "--shop 'evil.example.com': expected NAME.myshopify.com"),
        (ctl("store", "add", "y1", "--platform", "shopify", "--shop", "y1.myshopify.com"), 2, "--owner is required"),
        (ctl("store", "add", SID, "--platform", "shopify", "--shop", SHOP, "--owner", "o"), 1,
         f"store '{SID}' already exists"),
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
    h.psql(f"DELETE FROM stores WHERE id = {h.sql_literal(SID)}")


def main():
    return R.run_module(setup, globals(), cleanup)


if __name__ == "__main__":
    sys.exit(main())
