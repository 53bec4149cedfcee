#!/usr/bin/env python3
"""shopsim's connection endpoints, as the platforms document them: Shopify's
authorization code grant (/admin/oauth/authorize, /admin/oauth/access_token:
the redirect's hmac, single-use codes, client checks, the granted scopes in
currentAppInstallation), WooCommerce key permissions (read, write,
read_write) and GET system_status."""
import base64
import hashlib
import hmac
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))
import harness as h  # noqa: E402

R = h.Reporter()
SP, RO, WO = "oauth-shop", "woo-read", "woo-write"


class World:
    sim = None


W = World()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):  # noqa: D102
        return None


def get(url):
    try:
        with urllib.request.build_opener(NoRedirect).open(url, timeout=30) as r:
            return r.status, r.read().decode(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), dict(e.headers)


def woo(store, method, path, permissions_key):
    auth = base64.b64encode(f"ck_{store}:cs_{store}".encode()).decode()
    return h.http(method, f"{W.sim.base}/{store}/wp-json/wc/v3/{path}", {} if method != "GET" else None,
                  {"Authorization": f"Basic {auth}", "Content-Type": "application/json"})


def authorize(**params):
    q = dict({"client_id": "app1", "scope": "read_orders,write_inventory",
              "redirect_uri": "https://bridge.example/cb", "state": "s1"}, **params)
    return get(f"{W.sim.base}/{SP}/admin/oauth/authorize?" + urllib.parse.urlencode(q))


def setup():
    W.sim = h.Shopsim()
    W.sim.call("POST", "/_sim/stores", {"id": SP, "platform": "shopify", "client_id": "app1", "client_secret": "sec1"})
    W.sim.call("POST", "/_sim/stores", {"id": RO, "platform": "woocommerce", "key_permissions": "read"})
    W.sim.call("POST", "/_sim/stores", {"id": WO, "platform": "woocommerce", "key_permissions": "write"})


def test_authorize_redirects_with_a_valid_hmac():
    status, body, headers = authorize()
    assert status == 302, (status, body)
    location = json.loads(body)["redirect"]
    assert headers.get("Location") == location, headers
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(location).query))
    assert location.startswith("https://bridge.example/cb?") and q["state"] == "s1" and q["shop"] == f"{SP}.myshopify.com", q
    assert base64.b64decode(q["host"]).decode() == f"admin.shopify.com/store/{SP}", q
    msg = "&".join(f"{k}={v}" for k, v in sorted(q.items()) if k != "hmac")
    assert hmac.new(b"sec1", msg.encode(), hashlib.sha256).hexdigest() == q["hmac"], q
    W.code = q["code"]


def test_code_exchange_once_and_scopes_granted():
    status, doc = h.http("POST", f"{W.sim.base}/{SP}/admin/oauth/access_token",
                         {"client_id": "app1", "client_secret": "wrong", "code": W.code})
    assert status == 400 and doc["error"] == "invalid_client", doc
    status, doc = h.http("POST", f"{W.sim.base}/{SP}/admin/oauth/access_token",
                         {"client_id": "app1", "client_secret": "sec1", "code": W.code})
    assert status == 200 and doc == {"access_token": f"shpat_{SP}", "scope": "read_orders,write_inventory"}, doc
    status, doc = h.http("POST", f"{W.sim.base}/{SP}/admin/oauth/access_token",
                         {"client_id": "app1", "client_secret": "sec1", "code": W.code})
    assert status == 400 and doc["error"] == "invalid_request", doc
    status, doc = h.http("POST", f"{W.sim.base}/{SP}/admin/api/2026-07/graphql.json",
                         {"query": "{ currentAppInstallation { accessScopes { handle } } }"},
                         {"X-Shopify-Access-Token": f"shpat_{SP}", "Content-Type": "application/json"})
    handles = [a["handle"] for a in doc["data"]["currentAppInstallation"]["accessScopes"]]
    assert handles == ["read_orders", "write_inventory"], doc


def test_authorize_refusals():
    for params, why in (({"client_id": "other"}, "client_id"), ({"scope": "read_orders,fly_to_moon"}, "invalid_scope"),
                        ({"redirect_uri": "ftp://x"}, "redirect_uri")):
        status, body, _ = authorize(**params)
        assert status == 400 and why in body, (params, status, body)


def test_woocommerce_key_permissions():
    status, _ = woo(RO, "GET", "products", "read")
    assert status == 200, status
    status, doc = woo(RO, "POST", "products/batch", "read")
    assert status == 401 and doc["message"] == "The API key provided does not have write permissions.", doc
    assert W.sim.call("GET", f"/_sim/stores/{RO}/products") == []
    status, doc = woo(WO, "GET", "products", "write")
    assert status == 401 and doc["message"] == "The API key provided does not have read permissions.", doc
    status, _ = woo(WO, "POST", "products/batch", "write")
    assert status == 200, status


def test_system_status():
    status, doc = woo(RO, "GET", "system_status", "read")
    assert status == 200 and doc["environment"]["version"] == "9.4.2", doc
    assert doc["environment"]["wp_version"] == "6.7.1" and doc["settings"]["api_enabled"] is True, doc
    assert [p["name"] for p in doc["active_plugins"]] == ["WooCommerce"], doc


def main():
    if not R.run("setup", setup):
        return 1
    try:
        for name, fn in list(globals().items()):
            if name.startswith("test_"):
                R.run(name[5:], fn)
    finally:
        W.sim.close()
    return 1 if R.failures else 0


if __name__ == "__main__":
    sys.exit(main())
