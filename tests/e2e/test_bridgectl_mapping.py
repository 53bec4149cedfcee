#!/usr/bin/env python3
"""bridgectl mapping add|list: product mappings by hand. Added, listed (human
and --json), added again identically without change, contradictions refused
with the existing row named, Shopify without --item refused, unknown stores
and bad usage reported with their exit codes."""
import json
import os
import pathlib
import subprocess
import sys

failures = 0
RUN = str(os.getpid())
BIN = pathlib.Path(os.environ["WB_BUILD_DIR"]) / "bin" / "bridgectl"
KEY = "22" * 32
SP, WC = f"map-sp-{RUN}", f"map-wc-{RUN}"


def report(name, error=None):
    global failures
    if error:
        failures += 1
        print(f"FAIL {name}: {error}", flush=True)
    else:
        print(f"PASS {name}", flush=True)


def ctl(*args, stdin=None):
    env = dict(os.environ, WB_PG_DSN=os.environ["WB_TEST_PG_DSN"], WB_MASTER_KEY=KEY)
    return subprocess.run([str(BIN), *args], input=stdin, env=env, capture_output=True, text=True, timeout=30)


def ok(p):
    assert p.returncode == 0, f"exit {p.returncode}: {p.stderr}"
    return p.stdout


def error(p, code, message):
    assert p.returncode == code, f"exit {p.returncode} (wanted {code}): {p.stdout} {p.stderr}"
    assert message in p.stderr, f"stderr lacks {message!r}: {p.stderr!r}"


def test_setup():
    ok(ctl("db", "migrate"))
    ok(ctl("store", "add", SP, "--platform", "shopify", "--url", "https://map.myshopify.com", "--owner", "o",
           "--credentials", "-", stdin='{"access_token":"shpat_x","api_secret":"s"}'))
    ok(ctl("store", "add", WC, "--platform", "woocommerce", "--url", "https://map.example", "--owner", "o",
           "--credentials", "-", stdin='{"consumer_key":"ck","consumer_secret":"cs","webhook_secret":"w"}'))


def test_add_and_list():
    out = ok(ctl("mapping", "add", SP, "SKU-1", "--product", "gid://shopify/Product/1", "--variant",
                 "gid://shopify/ProductVariant/2", "--item", "gid://shopify/InventoryItem/3", "--barcode",
                 "8710000100011"))
    assert f"store {SP}: sku SKU-1 <- product gid://shopify/Product/1" in out, out
    ok(ctl("mapping", "add", WC, "W-1", "--product", "101"))
    ok(ctl("mapping", "add", WC, "W-2/blue", "--product", "102", "--variant", "103"))
    assert json.loads(ok(ctl("mapping", "list", SP, "--json"))) == [
        {"sku": "SKU-1", "product": "gid://shopify/Product/1", "variant": "gid://shopify/ProductVariant/2",
         "item": "gid://shopify/InventoryItem/3", "barcode": "8710000100011"}]
    assert json.loads(ok(ctl("mapping", "list", WC, "--json"))) == [
        {"sku": "W-1", "product": "101"}, {"sku": "W-2/blue", "product": "102", "variant": "103"}]
    human = ok(ctl("mapping", "list", WC))
    assert human.splitlines()[0].split() == ["SKU", "PRODUCT", "VARIANT", "ITEM"] and "W-2/blue" in human, human


def test_same_again_unchanged():
    out = ok(ctl("mapping", "add", WC, "W-2/blue", "--product", "102", "--variant", "103"))
    assert "unchanged" in out, out
    assert len(json.loads(ok(ctl("mapping", "list", WC, "--json")))) == 2


def test_contradictions_refused():
    error(ctl("mapping", "add", WC, "W-1", "--product", "999"), 1,
          f"store '{WC}': sku W-1 is already mapped to product 101; not changed")
    error(ctl("mapping", "add", WC, "W-9", "--product", "102", "--variant", "103"), 1,
          f"store '{WC}': product 102 variant 103 is already mapped to sku W-2/blue; not changed")
    assert json.loads(ok(ctl("mapping", "list", WC, "--json")))[0] == {"sku": "W-1", "product": "101"}


def test_errors():
    error(ctl("mapping", "add", SP, "SKU-2", "--product", "gid://shopify/Product/5"), 2, "--item")
    error(ctl("mapping", "add", f"nope-{RUN}", "X", "--product", "1"), 1, f"store 'nope-{RUN}' not found")
    error(ctl("mapping", "add", WC, "X"), 2, "--product is required")
    error(ctl("mapping", "add", WC, "", "--product", "1"), 2, "must not be empty")
    error(ctl("mapping", "list"), 2, "usage: bridgectl mapping list")


for name, fn in [("bridgectl_mapping_setup", test_setup), ("bridgectl_mapping_add_and_list", test_add_and_list),
                 ("bridgectl_mapping_same_again_unchanged", test_same_again_unchanged),
                 ("bridgectl_mapping_contradictions_refused", test_contradictions_refused),
                 ("bridgectl_mapping_errors", test_errors)]:
    try:
        fn()
        report(name)
    except AssertionError as e:
        report(name, str(e))
sys.exit(1 if failures else 0)
