#!/usr/bin/env python3
"""Stock publisher benchmark: a backlog of stock events for many stores and
items, one publisher replica, shopsim as the shops. Prints figures and ratios;
asserts nothing about time.

    scripts/stack up && set -a && . .state/stack.env && set +a
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build
    python3 bench/stock_publisher.py [--stores 50] [--items 100000] [--events 200000] [--window 10]

Figures:
- events consumed and coalesced per second by the replica (backlog drain rate);
- the coalescing ratio (events per window flushed);
- shop calls against the lower bound (per store: changed items / 250 for
  Shopify, / 100 for WooCommerce, rounded up, when a store's changes share a
  window);
- throttled calls, and the waits the shared rate budget imposed;
- p50/p99 from a window's end to the shop's acceptance;
- the replica's peak RSS.

The headline figures also come as FIGURE lines for bench/run's report.
"""
import argparse
import json
import math
import os
import pathlib
import random
import re
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "e2e"))


def metric_sum(text, name, **labels):
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def histogram_quantile(text, name, q):
    buckets = {}
    for line in text.splitlines():
        m = re.match(rf'{name}_bucket{{.*le="([^"]+)"}} (\S+)', line)
        if m:
            le = math.inf if m.group(1) == "+Inf" else float(m.group(1))
            buckets[le] = buckets.get(le, 0) + float(m.group(2))
    if not buckets:
        return None
    total = buckets[math.inf]
    for le in sorted(buckets):
        if total and buckets[le] >= q * total:
            return le
    return None


def gauge(text, name, **labels):
    """One series' value, or None."""
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


STAGES = ["lag", "tick", "claim", "compute", "queue", "read", "budget", "send", "settle"]


def cpu_seconds(pid):
    """utime + stime of the process (all threads) so far."""
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def figure(name, value, unit, target, goal):
    """One headline figure for the report bench/run builds (goal min: at
    least the target; max: at most)."""
    print("FIGURE " + json.dumps({"name": name, "value": round(value, 3), "unit": unit, "target": target,
                                  "goal": goal}), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stores", type=int, default=50)
    ap.add_argument("--items", type=int, default=100000)
    ap.add_argument("--events", type=int, default=200000)
    ap.add_argument("--window", type=int, default=10)
    ap.add_argument("--build", default=str(ROOT / "build"))
    ap.add_argument("--env", action="append", default=[], help="NAME=VALUE for the publisher")
    args = ap.parse_args()
    os.environ["WB_BUILD_DIR"] = str(pathlib.Path(args.build).resolve())
    import harness as h  # after WB_BUILD_DIR is set

    run = f"{os.getpid() % 10000}{int(time.time()) % 100000}"
    per_store = args.items // args.stores
    print(f"setting up {args.stores} stores x {per_store} items (half Shopify, half WooCommerce)", flush=True)
    sim = h.Shopsim()
    items = []  # (store, platform, owner, sku)
    mappings = []
    for i in range(args.stores):
        sid, owner = f"b{run}s{i}", f"b{run}o{i}"
        shopify = i % 2 == 0
        sim.call("POST", "/_sim/stores", {"id": sid, "platform": "shopify" if shopify else "woocommerce",
                                           "plan": "enterprise"})
        seed = {"products": per_store // 2 if shopify else per_store, "variants": 2 if shopify else 1,
                "stock": 0, "sku_prefix": f"B{i}"}
        products = sim.call("POST", f"/_sim/stores/{sid}/seed", seed)
        creds = (f'{{"access_token":"shpat_{sid}","api_secret":"shopsim-secret"}}' if shopify else
                 f'{{"consumer_key":"ck_{sid}","consumer_secret":"cs_{sid}","webhook_secret":"x"}}')
        h.bridgectl("store", "add", sid, "--platform", "shopify" if shopify else "woocommerce", "--url",
                    f"{sim.base}/{sid}", "--owner", owner, "--credentials", "-", stdin=creds)
        h.bridgectl("store", "set", sid, "window_seconds", str(args.window))
        location = sim.call("GET", f"/_sim/stores/{sid}")["locations"][0]["gid"] if shopify else "default"
        h.bridgectl("location", "map", sid, location, "WH1", "--default")
        for p in products:
            for v in p["variants"]:
                items.append((sid, "shopify" if shopify else "woocommerce", owner, v["sku"]))
                if shopify:
                    mappings.append(f"('{sid}','{p['gid']}','{v['gid']}','{v['inventory_item_gid']}','{v['sku']}')")
                else:
                    mappings.append(f"('{sid}','{p['id']}','','','{v['sku']}')")
    for k in range(0, len(mappings), 5000):
        h.psql("INSERT INTO product_mappings (store_id, shop_product_id, shop_variant_id, inventory_item_id, sku) "
               "VALUES " + ",".join(mappings[k:k + 5000]))

    print(f"producing {args.events} events over {len(items)} items", flush=True)
    rng = random.Random(7)
    version, last = {}, {}
    lines = []
    for _ in range(args.events):
        store, platform, owner, sku = items[rng.randrange(len(items))]
        key = (owner, sku)
        version[key] = version.get(key, 0) + 1
        value = rng.randrange(0, 500)
        last[key] = (store, platform, value)
        lines.append((f"{owner}/{sku}", {"goods_owner": owner, "warehouse": "WH1", "sku": sku, "on_hand": value,
                                         "reserved": 0, "version": version[key], "movement": "adjustment",
                                         "occurred_at": "2026-11-25T10:00:00Z"}))
    group = f"bench-{run}"
    # The bench's group starts at the topic's end: it measures this backlog,
    # not whatever the stack's topic held before.
    import subprocess
    subprocess.run([str(pathlib.Path(args.build) / "bin" / "testkafka"), "seek-end", "wms.stock.v1", group],
                   check=True, timeout=60)
    t0 = time.time()
    h.produce("wms.stock.v1", lines)
    print(f"produced in {time.time() - t0:.1f}s", flush=True)

    changed = {}
    for (owner, sku), (store, platform, _) in last.items():
        changed.setdefault((store, platform), 0)
        changed[(store, platform)] += 1
    bound = sum(math.ceil(n / (250 if platform == "shopify" else 100)) for (s, platform), n in changed.items())

    env = {"WB_STOCK_GROUP": group, "WB_LOG_LEVEL": "info", "WB_STOCK_ROUTES_REFRESH_MS": "60000"}
    env.update(kv.split("=", 1) for kv in args.env)  # e.g. --env WB_STOCK_COMMIT_INTERVAL_MS=5000
    pub = h.service("stock-publisher", env)
    perf = None
    if os.environ.get("WB_BENCH_PERF"):  # profile the drain: perf report -i /tmp/stock-bench.perf
        import subprocess
        perf = subprocess.Popen(["perf", "record", "-g", "-o", "/tmp/stock-bench.perf", "-p", str(pub.proc.pid)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sample = rng.sample(sorted(last), min(300, len(last)))

    def wrong_in_shops():
        wrong = 0
        for owner, sku in sample:
            store, platform, value = last[(owner, sku)]
            rows = sim.call("GET", f"/_sim/stores/{store}/stock?sku={sku}")
            wrong += rows[0]["available"] != value
        return wrong

    start = time.time()
    consumed_at = done = first_at = None
    metrics = ""
    wrong = len(sample)
    try:
        while time.time() - start < 600:
            _, metrics = h.http("GET", f"http://127.0.0.1:{pub.port}/metrics")
            seen = metric_sum(metrics, "wb_stock_events_total")
            if first_at is None and seen > 0:
                first_at, cpu_first = time.time(), cpu_seconds(pub.proc.pid)
            if consumed_at is None and seen >= args.events:
                consumed_at, cpu_consumed = time.time(), cpu_seconds(pub.proc.pid)
                if perf:
                    perf.send_signal(2)
                    perf.wait()
            if consumed_at and time.time() - consumed_at > args.window:
                wrong = wrong_in_shops()
                if wrong == 0:
                    done = time.time()
                    break
            time.sleep(0.05 if consumed_at is None else 0.2)
        time.sleep(args.window + 3)  # let any later window show itself in the call counts
        _, metrics = h.http("GET", f"http://127.0.0.1:{pub.port}/metrics")
        cpu_total = cpu_seconds(pub.proc.pid)
        load = os.getloadavg()
        rss = int(re.search(r"VmHWM:\s+(\d+)", pathlib.Path(f"/proc/{pub.proc.pid}/status").read_text()).group(1))
    finally:
        pub.stop()
        pub.cleanup()

    calls = throttled = 0
    for (store, platform) in changed:
        c = sim.call("GET", f"/_sim/stores/{store}/counters")
        calls += c["mutations"] if platform == "shopify" else c["rest_calls"]
        throttled += c["throttled"]
    sim.close()

    if os.environ.get("WB_BENCH_VERBOSE"):
        print("\n".join(l for l in metrics.splitlines() if l.startswith(("wb_stock_events", "wb_stock_windows"))))
    events = metric_sum(metrics, "wb_stock_events_total")
    ours = [store for store, _ in changed]
    windows = sum(metric_sum(metrics, "wb_stock_windows_flushed_total", store=s) for s in ours)
    coalesced = sum(metric_sum(metrics, "wb_stock_events_coalesced_total", store=s) for s in ours)
    drain = max((consumed_at or time.time()) - (first_at or start), 0.05)
    print()
    print(f"events consumed:             {events:.0f} in {drain:.2f}s = {events / drain:,.0f} events/s (one replica;"
          f" from the first event seen to the last, polled every 50 ms)")
    print(f"windows flushed:             {windows:.0f} for {coalesced:.0f} events: coalescing ratio "
          f"{coalesced / max(windows, 1):.2f} events/window ({len(last)} distinct items changed)")
    print(f"shop calls:                  {calls}  lower bound {bound}  ratio {calls / max(bound, 1):.2f}")
    print(f"throttled calls:             {throttled}")
    waits = sum(metric_sum(metrics, "wb_stock_throttled_waits_total", store=s) for s in ours)
    print(f"rate budget waits:           {waits:.0f} (calls that waited for a store's shared Redis budget)")
    print(f"window end -> acceptance:    p50 <= {histogram_quantile(metrics, 'wb_stock_flush_lag_seconds', 0.5)}s"
          f"  p99 <= {histogram_quantile(metrics, 'wb_stock_flush_lag_seconds', 0.99)}s")
    print(f"sample of {len(sample)} items right in the shops {done - start:.1f}s after start" if done else
          f"after 600s {wrong} of {len(sample)} sampled items still wrong")
    print(f"publisher peak RSS:          {rss / 1024:.1f} MiB")
    if first_at and consumed_at:
        # CPU time does not depend on how busy the machine is (wall clock does).
        print(f"publisher CPU while draining: {cpu_consumed - cpu_first:.2f}s = "
              f"{(cpu_consumed - cpu_first) * 1e6 / max(events, 1):.2f} us/event "
              f"(= {max(events, 1) / max(cpu_consumed - cpu_first, 1e-3):,.0f} events per CPU second); "
              f"whole run {cpu_total:.2f}s")
    print(f"load average at the end:     {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print("window end -> acceptance, exact (ms, per accepted value; p50 / p99 / max):")
    for stage in STAGES:
        q = [gauge(metrics, "wb_stock_flush_stage_ms", stage=stage, quantile=x) for x in ("0.5", "0.99", "1")]
        print(f"  {stage:8} {' / '.join('-' if v is None else f'{v:.0f}' for v in q)}")
    exact = gauge(metrics, "wb_stock_flush_stage_ms", stage="lag", quantile="0.99")
    p99 = exact / 1000.0 if exact is not None and exact >= 0 else histogram_quantile(metrics, 'wb_stock_flush_lag_seconds', 0.99)
    figure("stock events consumed and coalesced per replica", events / drain, "events/s", 100000, "min")
    figure("stock shop calls / lower bound", calls / max(bound, 1), "ratio", 1.0, "max")
    figure("stock throttled calls", throttled, "calls", 0, "max")
    # p99 is a bucket's upper bound; beyond the last bucket it is infinite: report 999.
    figure("stock window end -> acceptance p99", p99 if p99 not in (None, math.inf) else 999, "s", 2, "max")
    figure("stock publisher peak RSS", rss / 1024, "MiB", 1024, "max")


if __name__ == "__main__":
    main()
