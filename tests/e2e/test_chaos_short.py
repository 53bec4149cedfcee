#!/usr/bin/env python3
"""The chaos run (tests/chaos/chaos.py) at a small scale with a fixed seed, on
the test stack: 4 stores, 40 orders, 1,500 stock events, 45 s of faults (each
service killed twice, Redis flushed and restarted, PostgreSQL and the broker
restarted, 5xx/429 storms, dropped webhooks). One PASS/FAIL line per check of
the run's summary; the run's own output is printed when one fails."""
import os
import re
import subprocess
import sys
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = os.environ.get("WB_BUILD_DIR", str(ROOT / "build-asan"))

# Stock mismatches the run diagnoses as the two bugs found and mended (docs/chaos.md, "Found", 1 and 2):
# reported on their own line and failing the test like any other wrong value. WB_CHAOS_LENIENT=1 only
# prints them, for bisecting.
KNOWN = ["stock wrong: in-flight counted twice", "stock wrong: shop moved after the last value sent"]
STRICT = not os.environ.get("WB_CHAOS_LENIENT")

CHECKS = {
    "chaos_no_order_lost": ["orders lost"],
    "chaos_no_order_version_duplicated": ["orders duplicated"],
    "chaos_orders_as_placed": ["orders wrong"],
    "chaos_shop_stock_equals_wms": ["stock wrong"],
    "chaos_no_shop_post_lost_or_twice": ["shop posts lost", "shop posts duplicated", "fulfilment wrong"],
    "chaos_dead_letters_have_reasons": ["deadletters without reason", "deadletters unreadable"],
    "chaos_no_secret_in_logs": ["secrets in logs"],
    "chaos_services_survive": ["unexpected service exits", "sanitizer reports"],
}


def main():
    argv = [sys.executable, str(ROOT / "tests" / "chaos" / "chaos.py"), "--build", BUILD,
            "--stores", "4", "--orders", "40", "--events", "1500", "--duration", "45", "--seed", "11",
            "--kills", "2", "--load-skus", "100", "--settle", "240", "--quiet", "15", "--consume-idle", "4",
            "--drop-webhooks", os.environ.get("WB_CHAOS_DROP_WEBHOOKS", "both")]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=560)
    out = p.stdout + p.stderr
    counts = {m.group(1): int(m.group(2)) for m in re.finditer(r"^  ([a-z].*): (\d+)$", out, re.M)}
    failed = 0
    known = {}
    if "orders placed" not in counts or counts.get("orders placed", 0) == 0:
        print(f"FAIL chaos_run: no summary or no orders placed (exit {p.returncode})")
        failed += 1
    else:
        print("PASS chaos_run")
        for name, keys in CHECKS.items():
            bad = {k: counts.get(k) for k in keys if counts.get(k) != 0}
            if bad:
                failed += 1
                print(f"FAIL {name}: {bad}")
            else:
                print(f"PASS {name}")
        known = {k: counts.get(k) for k in KNOWN if counts.get(k) != 0}
        if known and STRICT:
            failed += 1
            print(f"FAIL chaos_stock_known_bugs: {known}")
        elif known:
            print(f"known bugs seen (not failing with WB_CHAOS_LENIENT=1): {known}")
        else:
            print("PASS chaos_stock_known_bugs")
        if "NOT settled" in out:
            failed += 1
            print("FAIL chaos_settles: the bridge did not settle within 240 s")
        else:
            print("PASS chaos_settles")
    if failed or known or p.returncode != 0:
        print(out[-8000:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
