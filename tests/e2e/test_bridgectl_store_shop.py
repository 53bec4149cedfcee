#!/usr/bin/env python3
"""bridgectl store test|remove against shopsim: what the credentials can do
(API version, Shopify access scopes, WooCommerce read/write permission, the
webhooks the shop holds), failures for missing scopes, a read-only key and
wrong credentials; remove unregisters only the bridge's webhooks in the shop
and deletes the store with its credentials and everything hanging on it."""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402

RUN = f"{os.getpid() % 100000}{int(time.time()) % 100000}"
SP, SPLOW, WOO, WOORO = f"tsp{RUN}", f"tsplow{RUN}", f"twoo{RUN}", f"twooro{RUN}"
ALL_SCOPES = ["read_orders", "write_orders", "read_products", "read_inventory", "write_inventory", "read_locations",
              "read_merchant_managed_fulfillment_orders", "write_merchant_managed_fulfillment_orders", "read_returns",
              "write_returns"]
R = h.Reporter()


class World:
    sim = None


W = World()


def ctl(*args, stdin=None):
    env = dict(os.environ, WB_MASTER_KEY=h.MASTER_KEY)
    return subprocess.run([str(h.BUILD / "bin" / "bridgectl"), *args], input=stdin, env=env, capture_output=True,
                          text=True, timeout=120)


def expect_error(p, code, message, where="stderr"):
    assert p.returncode == code, f"exit {p.returncode} (wanted {code}): {p.stdout} {p.stderr}"
    text = p.stderr if where == "stderr" else p.stdout
    assert message in text, f"{where} lacks {message!r}: {text!r}"


def add(store, platform, creds, url=None):
    h.bridgectl("store", "add", store, "--platform", platform, "--url", url or f"{W.sim.base}/{store}",
                "--owner", f"own{RUN}", "--credentials", "-", stdin=json.dumps(creds))


def hook(store, topic, address):
    W.sim.call("POST", f"/_sim/stores/{store}/webhooks", {"topic": topic, "address": address, "secret": "s"})


def setup():
    W.sim = h.Shopsim()
    h.bridgectl("db", "migrate")
    W.sim.call("POST", "/_sim/stores", {"id": SP, "platform": "shopify"})
    W.sim.call("POST", "/_sim/stores", {"id": SPLOW, "platform": "shopify", "access_scopes": "read_orders,write_products"})
    W.sim.call("POST", "/_sim/stores", {"id": WOO, "platform": "woocommerce"})
    W.sim.call("POST", "/_sim/stores", {"id": WOORO, "platform": "woocommerce", "key_permissions": "read"})
    for s in (SP, SPLOW):
        add(s, "shopify", {"access_token": f"shpat_{s}", "api_secret": "shopsim-secret"})
    for s in (WOO, WOORO):
        add(s, "woocommerce", {"consumer_key": f"ck_{s}", "consumer_secret": f"cs_{s}", "webhook_secret": "x"})
    hook(SP, "orders/create", f"https://bridge.example/webhooks/shopify/{SP}")
    hook(SP, "products/update", f"https://bridge.example/webhooks/shopify/{SP}")
    hook(SP, "orders/create", "https://someone-else.example/hooks")
    hook(WOO, "order.created", f"https://bridge.example/webhooks/woocommerce/{WOO}")
    hook(WOO, "order.updated", "https://someone-else.example/hooks")
    h.bridgectl("location", "map", SP, "gid://shopify/Location/1", "WH1", "--default")


def test_shopify_store_test_reports_scopes_and_webhooks():
    rep = json.loads(h.bridgectl("store", "test", SP, "--json"))
    assert rep["ok"] is True and rep["problems"] == [], rep
    assert rep["api"] == "Shopify Admin GraphQL 2026-07" and rep["shop"] == f"{SP}.myshopify.com", rep
    assert sorted(rep["scopes"]) == sorted(ALL_SCOPES) and rep["missing_scopes"] == [], rep
    hooks = sorted((w["topic"], w["bridge"]) for w in rep["webhooks"])
    assert hooks == [("ORDERS_CREATE", False), ("ORDERS_CREATE", True), ("PRODUCTS_UPDATE", True)], hooks
    human = h.bridgectl("store", "test", SP)
    assert "result     ok" in human and "(every scope the bridge needs)" in human and "(bridge)" in human, human


def test_shopify_missing_scopes_fail():
    p = ctl("store", "test", SPLOW, "--json")
    expect_error(p, 1, "the shop check failed")
    rep = json.loads(p.stdout)
    assert rep["ok"] is False and "write_inventory" in rep["missing_scopes"], rep
    # write_products is not read_orders, but read_orders itself is granted.
    assert "read_orders" not in rep["missing_scopes"] and "read_products" not in rep["missing_scopes"], rep


def test_woocommerce_store_test_reports_permissions():
    rep = json.loads(h.bridgectl("store", "test", WOO, "--json"))
    assert rep["ok"] is True and rep["permissions"] == {"read": True, "write": True}, rep
    assert rep["api"] == "WooCommerce REST wc/v3 (WooCommerce 9.4.2, WordPress 6.7.1)", rep
    hooks = sorted((w["topic"], w["bridge"]) for w in rep["webhooks"])
    assert hooks == [("order.created", True), ("order.updated", False)], hooks


def test_woocommerce_read_only_key_fails():
    p = ctl("store", "test", WOORO, "--json")
    expect_error(p, 1, "the shop check failed")
    rep = json.loads(p.stdout)
    assert rep["permissions"] == {"read": True, "write": False}, rep
    assert any("does not have write permissions" in x for x in rep["problems"]), rep
    # The write probe changed nothing in the shop.
    assert W.sim.call("GET", f"/_sim/stores/{WOORO}/products") == []


def test_wrong_credentials_fail():
    bad_sp, bad_woo = f"tbadsp{RUN}", f"tbadwoo{RUN}"
    add(bad_sp, "shopify", {"access_token": "shpat_wrong", "api_secret": "x"}, f"{W.sim.base}/{SP}")
    add(bad_woo, "woocommerce", {"consumer_key": f"ck_{WOO}", "consumer_secret": "cs_wrong", "webhook_secret": "x"},
        f"{W.sim.base}/{WOO}")
    p = ctl("store", "test", bad_sp)
    expect_error(p, 1, "the shop check failed")
    assert "PROBLEM" in p.stdout and "result     FAILED" in p.stdout, p.stdout
    p = ctl("store", "test", bad_woo, "--json")
    expect_error(p, 1, "the shop check failed")
    rep = json.loads(p.stdout)
    assert rep["permissions"]["read"] is False and any("401" in x for x in rep["problems"]), rep
    h.psql(f"DELETE FROM stores WHERE id IN ({h.sql_literal(bad_sp)}, {h.sql_literal(bad_woo)})")


def test_remove_unregisters_the_bridges_webhooks_and_deletes_the_store():
    out = h.bridgectl("store", "remove", SP)
    assert f"store {SP} removed: 2 webhook(s) unregistered, credentials deleted" in out, out
    left = W.sim.call("GET", f"/_sim/stores/{SP}/webhooks")
    assert [w["delivery_url"] for w in left] == ["https://someone-else.example/hooks"], left
    rows = h.psql(f"SELECT (SELECT count(*) FROM stores WHERE id = {h.sql_literal(SP)}) || ' ' || "
                  f"(SELECT count(*) FROM store_locations WHERE store_id = {h.sql_literal(SP)})").strip()
    assert rows == "0 0", rows
    expect_error(ctl("store", "show", SP), 1, f"no store '{SP}'")
    expect_error(ctl("store", "remove", SP), 1, f"no store '{SP}'")
    out = h.bridgectl("store", "remove", WOO)
    assert "1 webhook(s) unregistered" in out, out
    assert [w["delivery_url"] for w in W.sim.call("GET", f"/_sim/stores/{WOO}/webhooks")] == \
        ["https://someone-else.example/hooks"]


def test_remove_keeps_the_store_when_the_shop_is_unreachable():
    gone = f"tgone{RUN}"
    add(gone, "woocommerce", {"consumer_key": "ck", "consumer_secret": "cs", "webhook_secret": "x"},
        "http://127.0.0.1:1/shop")
    expect_error(ctl("store", "remove", gone), 1, "--force removes it anyway")
    assert h.psql(f"SELECT count(*) FROM stores WHERE id = {h.sql_literal(gone)}").strip() == "1"
    p = ctl("store", "remove", gone, "--force")
    assert p.returncode == 0 and f"store {gone} removed" in p.stdout, p.stdout + p.stderr
    assert h.psql(f"SELECT count(*) FROM stores WHERE id = {h.sql_literal(gone)}").strip() == "0"


def test_usage_errors():
    cases = [
        (ctl("store", "test"), 2, "usage: bridgectl store test ID [--json]"),
        (ctl("store", "remove"), 2, "usage: bridgectl store remove ID [--force]"),
        (ctl("store", "test", "ghost"), 1, "no store 'ghost'"),
        (ctl("store", "remove", "ghost"), 1, "no store 'ghost'"),
        (ctl("store", "test", WOORO, "--bogus"), 2, "unknown option --bogus"),
    ]
    for i, (proc, code, message) in enumerate(cases):
        try:
            expect_error(proc, code, message)
        except AssertionError as exc:
            raise AssertionError(f"case {i}: {exc}") from None


def cleanup():
    if W.sim:
        W.sim.close()
    h.psql("DELETE FROM stores WHERE id IN (" + ", ".join(h.sql_literal(s) for s in (SP, SPLOW, WOO, WOORO)) + ")")


def main():
    return R.run_module(setup, globals(), cleanup)


if __name__ == "__main__":
    sys.exit(main())
