#!/usr/bin/env python3
"""bridgectl as a user runs it: stores and locations added, listed, shown and
changed; every error case exits non-zero with its message; no credential is
ever printed; the credentials column holds no plaintext."""
import json
import os
import pathlib
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402

R = h.Reporter()
RUN = str(os.getpid())
BIN = pathlib.Path(os.environ["WB_BUILD_DIR"]) / "bin" / "bridgectl"
KEY = "11" * 32
SECRET_TOKEN = f"shpat_secret_{RUN}_token"
SECRET_HOOK = f"shpss_secret_{RUN}_hook"
WC_SECRET = f"cs_secret_{RUN}_wc"


def ctl(*args, stdin=None, key=KEY, env_extra=None):
    env = dict(os.environ, WB_PG_DSN=os.environ["WB_TEST_PG_DSN"])
    env.pop("WB_MASTER_KEY", None)
    if key is not None:
        env["WB_MASTER_KEY"] = key
    env.update(env_extra or {})
    p = subprocess.run([str(BIN), *args], input=stdin, env=env, capture_output=True, text=True, timeout=30)
    for secret in (SECRET_TOKEN, SECRET_HOOK, WC_SECRET):
        assert secret not in p.stdout + p.stderr, f"bridgectl {' '.join(args)} printed a credential"
    return p


def expect_ok(p):
    assert p.returncode == 0, f"exit {p.returncode}: {p.stderr}"
    return p.stdout


def expect_error(p, code, message):
    assert p.returncode == code, f"exit {p.returncode} (wanted {code}): {p.stdout} {p.stderr}"
    assert message in p.stderr, f"stderr lacks {message!r}: {p.stderr!r}"


S1, S2 = f"acme-{RUN}", f"beta-{RUN}"
SHOPIFY_CREDS = json.dumps({"access_token": SECRET_TOKEN, "api_secret": SECRET_HOOK})
WC_CREDS = json.dumps({"consumer_key": "ck_1", "consumer_secret": WC_SECRET, "webhook_secret": "wh_1"})


def test_migrate_and_add():
    expect_ok(ctl("db", "migrate"))
    out = expect_ok(ctl("store", "add", S1, "--platform", "shopify", "--url", "https://acme.myshopify.com",
                        "--owner", "acme", "--credentials", "-", stdin=SHOPIFY_CREDS))
    assert f"store {S1} added" in out, out
    expect_ok(ctl("store", "add", S2, "--platform", "woocommerce", "--url", "http://127.0.0.1:9/shop",
                  "--owner", "beta", "--credentials", "-", stdin=WC_CREDS))


def test_list_and_show():
    stores = json.loads(expect_ok(ctl("store", "list", "--json")))
    ids = [s["id"] for s in stores]
    assert S1 in ids and S2 in ids, ids
    human = expect_ok(ctl("store", "list"))
    assert S1 in human and "shopify" in human, human
    shown = json.loads(expect_ok(ctl("store", "show", S1, "--json")))
    assert shown["platform"] == "shopify" and shown["window_seconds"] == 30, shown
    assert shown["credentials"] == "sealed, decrypt ok", shown
    assert shown["credential_fields"] == "access_token, api_secret", shown


def test_set_and_disable():
    expect_ok(ctl("store", "set", S1, "window_seconds", "5"))
    expect_ok(ctl("store", "set", S1, "stock_mode", "delta"))
    expect_ok(ctl("store", "disable", S2))
    shown = json.loads(expect_ok(ctl("store", "show", S1, "--json")))
    assert shown["window_seconds"] == 5 and shown["stock_mode"] == "delta", shown
    beta = json.loads(expect_ok(ctl("store", "show", S2, "--json")))
    assert beta["enabled"] is False, beta


def test_locations():
    expect_ok(ctl("location", "map", S1, "gid://shopify/Location/1", "WH1", "--default"))
    expect_ok(ctl("location", "map", S1, "gid://shopify/Location/2", "WH2"))
    locs = json.loads(expect_ok(ctl("location", "list", S1, "--json")))
    assert locs == [{"location": "gid://shopify/Location/1", "warehouse": "WH1", "default": True},
                    {"location": "gid://shopify/Location/2", "warehouse": "WH2", "default": False}], locs


def test_error_cases():
    cases = [
        (ctl("store", "show", "ghost"), 1, "no store 'ghost'"),
        (ctl("store", "set", "ghost", "enabled", "false"), 1, "no store 'ghost'"),
        (ctl("store", "disable", "ghost"), 1, "no store 'ghost'"),
        (ctl("location", "list", "ghost"), 1, "no store 'ghost'"),
        (ctl("location", "map", "ghost", "L", "W"), 1, "no store 'ghost'"),
        (ctl("store", "add", "x1", "--platform", "shopify", "--url", "not a url", "--owner", "o",
             "--credentials", "-", stdin=SHOPIFY_CREDS), 1, "url 'not a url'"),
        (ctl("store", "add", "x1", "--platform", "magento", "--url", "https://x", "--owner", "o",
             "--credentials", "-", stdin=SHOPIFY_CREDS), 1, "platform 'magento'"),
        (ctl("store", "add", S1, "--platform", "shopify", "--url", "https://x", "--owner", "o",
             "--credentials", "-", stdin=SHOPIFY_CREDS), 1, f"store '{S1}' already exists"),
        (ctl("store", "add", "x1", "--platform", "shopify", "--url", "https://x", "--owner", "o",
             "--credentials", "/nonexistent/creds.json"), 1, "cannot open /nonexistent/creds.json"),
        (ctl("store", "add", "x1", "--platform", "shopify", "--url", "https://x", "--owner", "o"), 2,
         "--credentials is required"),
        (ctl("location", "map", S1, "gid://shopify/Location/3", "WH3", "--default"), 1,
         f"store '{S1}' already has a default location (gid://shopify/Location/1 -> WH1)"),
        (ctl("store", "show", S1, key="22" * 32), 1, "wrong WB_MASTER_KEY"),
        (ctl("store", "show", S1, key=None), 2, "WB_MASTER_KEY is required"),
        (ctl("store", "show", S1, key="short"), 2, "WB_MASTER_KEY: expected 32 bytes"),
        (ctl("store", "set", S1, "window_seconds", "never"), 1, "window_seconds: expected an integer"),
        (ctl("store", "set", S1, "colour", "red"), 1, "unknown setting 'colour'"),
        (ctl("store", "frobnicate"), 2, "unknown command 'store frobnicate'"),
        (ctl("store", "list", "--bogus"), 2, "unknown option --bogus"),
        (ctl("store", "list", env_extra={"WB_PG_DSN": "mysql://x"}), 2, "WB_PG_DSN: expected a URL"),
        (ctl("store", "list", env_extra={"WB_PG_DSN": "postgresql://u:pw@127.0.0.1:1/x"}), 1,
         "bridgectl: postgresql:"),
    ]
    for i, (proc, code, message) in enumerate(cases):
        try:
            expect_error(proc, code, message)
        except AssertionError as exc:
            raise AssertionError(f"case {i}: {exc}") from None


def test_credentials_column_has_no_plaintext():
    dsn = os.environ["WB_TEST_PG_DSN"]
    p = subprocess.run(["psql", dsn, "-Atc", f"SELECT credentials_sealed FROM stores WHERE id IN ('{S1}', '{S2}')"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    rows = p.stdout.split()
    assert len(rows) == 2 and all(r.startswith("v1:") for r in rows), rows
    for secret in (SECRET_TOKEN, SECRET_HOOK, WC_SECRET, "access_token", "consumer_secret"):
        assert secret not in p.stdout, f"{secret} in the credentials column"


def main():
    for name, fn in list(globals().items()):
        if name.startswith("test_"):
            R.run(name, fn)
    return 1 if R.failures else 0


if __name__ == "__main__":
    sys.exit(main())
