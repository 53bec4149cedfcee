#!/usr/bin/env python3
"""Catalog import benchmark: one WooCommerce and one Shopify store in shopsim,
each with a catalog of --products products and --variants variants each
(default 10,000 x 10 = 100,000 articles), imported by one catalog-ingest
replica through `bridgectl products sync`. Prints figures; asserts nothing
about time.

    scripts/stack up && set -a && . .state/stack.env && set +a
    cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build build
    python3 bench/catalog_ingest.py [--build build] [--products 10000] [--variants 10]
                                    [--plan enterprise] [--shopify-page N] [--woo-page 100]
                                    [--woo-rps 0] [--woo-workers N] [--shopify-bulk-min N]

Figures, per store:
- time to import the whole catalog (the sync's started_at -> finished_at);
- shop API calls against the lower bound. WooCommerce: ceil(products / 100)
  product pages plus, per variable product, ceil(variations / 100) pages
  (100 is the largest per_page WooCommerce accepts; it has no call that
  lists the variations of several products), plus the one call that reads
  the store's units. Shopify: ceil(variants / 199) + 1: 199 is the largest
  `first:` our CatalogVariants query may ask within Shopify's 1000-point cap
  on one query (3 points a page and 5 a variant: the node, its product,
  inventoryItem, measurement and weight; `first: 250` would be refused with
  MAX_COST_EXCEEDED), plus the one CatalogCounts query that gives the
  progress its total. productVariants' own largest `first:` (250) is
  printed beside it;
- throttled calls (Shopify; target 0);
- Shopify with a bulk operation (the service's default for a store of 5000
  variants or more, WB_CATALOG_BULK_MIN_VARIANTS; `--shopify-bulk-min 0`
  pages instead, for the paged figures): the import time against what the
  cost budget allows the pages (the points they are charged, 3 a variant
  and 2 a page, less the bucket, over the restore rate: 150 s for 100,000
  variants on Enterprise), and the calls (the count, the mutation, the
  polls) against the pages' 504;
- Shopify: the time the cost budget allows, computed from shopsim's bucket
  size and restore rate and the actual query costs of the calls made:
  (sum of actual costs - bucket size) / restore rate. The import cannot be
  faster without being throttled, so that is its target.
"""
import argparse
import json
import math
import os
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

SHOPIFY_MAX_FIRST = 250
SHOPIFY_MAX_QUERY_COST = 1000
SHOPIFY_PAGE_COST, SHOPIFY_VARIANT_COST = 3, 5  # CatalogVariants: a page's connection and pageInfo; one variant
WOO_MAX_PER_PAGE = 100


def figure(name, value, unit, target, goal):
    print("FIGURE " + json.dumps({"name": name, "value": round(value, 2), "unit": unit, "target": round(target, 2),
                                  "goal": goal}), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--products", type=int, default=10000)
    ap.add_argument("--variants", type=int, default=10)
    ap.add_argument("--plan", default="enterprise", help="the Shopify store's plan (restore rate)")
    ap.add_argument("--shopify-page", type=int, default=None, help="WB_CATALOG_SHOPIFY_PAGE (default: the service's)")
    ap.add_argument("--woo-page", type=int, default=100)
    ap.add_argument("--woo-rps", type=int, default=0, help="the WooCommerce store's rate_limit_rps (0 = no limit)")
    ap.add_argument("--woo-workers", type=int, default=None, help="WB_CATALOG_WOO_WORKERS (default: the service's)")
    ap.add_argument("--platforms", default="woocommerce,shopify")
    ap.add_argument("--shopify-bulk-min", type=int, default=None,
                    help="WB_CATALOG_BULK_MIN_VARIANTS (default: the service's, 5000: a bulk operation here; "
                         "0: pages, for the paged figure)")
    ap.add_argument("--timeout", type=int, default=3600)
    ap.add_argument("--build", default=str(ROOT / "build"))
    args = ap.parse_args()
    os.environ["WB_BUILD_DIR"] = str(pathlib.Path(args.build).resolve())
    import harness as h  # after WB_BUILD_DIR is set

    run = f"{os.getpid() % 10000}{int(time.time()) % 100000}"
    articles = args.products * args.variants
    platforms = [p for p in args.platforms.split(",") if p]
    h.bridgectl("db", "migrate")
    sim = h.Shopsim()
    stores = {}
    for platform in platforms:
        sid = f"cb{run}{platform[0]}"
        body = {"id": sid, "platform": platform}
        if platform == "shopify":
            body["plan"] = args.plan
        sim.call("POST", "/_sim/stores", body)
        print(f"seeding {sid} ({platform}): {args.products} products x {args.variants} variants", flush=True)
        t0 = time.time()
        chunk = 1000
        for k in range(0, args.products, chunk):
            sim.call("POST", f"/_sim/stores/{sid}/seed",
                     {"products": min(chunk, args.products - k), "variants": args.variants, "stock": 0,
                      "sku_prefix": f"CB{platform[0].upper()}{run}"})
        print(f"  seeded in {time.time() - t0:.1f}s", flush=True)
        creds = (f'{{"access_token":"shpat_{sid}","api_secret":"shopsim-secret"}}' if platform == "shopify" else
                 f'{{"consumer_key":"ck_{sid}","consumer_secret":"cs_{sid}","webhook_secret":"x"}}')
        h.bridgectl("store", "add", sid, "--platform", platform, "--url", f"{sim.base}/{sid}",
                    "--owner", f"cbo{run}{platform[0]}", "--credentials", "-", stdin=creds)
        if platform == "woocommerce":
            h.bridgectl("store", "set", sid, "rate_limit_rps", str(args.woo_rps))
        stores[platform] = sid

    env = dict(os.environ, WB_HTTP_PORT="0", WB_HTTP_BIND="127.0.0.1", WB_MASTER_KEY=h.MASTER_KEY,
               WB_CATALOG_POLL_MS="0", WB_LOG_LEVEL="info", WB_CATALOG_WOO_PAGE=str(args.woo_page))
    if args.shopify_page:
        env["WB_CATALOG_SHOPIFY_PAGE"] = str(args.shopify_page)
    if args.woo_workers:
        env["WB_CATALOG_WOO_WORKERS"] = str(args.woo_workers)
    if args.shopify_bulk_min is not None:
        env["WB_CATALOG_BULK_MIN_VARIANTS"] = str(args.shopify_bulk_min)
    svc = h.Process([str(h.BUILD / "bin" / "catalog-ingest")], env)
    try:
        svc.wait_port()
    except Exception:  # nothing left running behind a failed start
        svc.kill9()
        sim.close()
        raise
    perf = []
    if os.environ.get("WB_BENCH_PERF"):  # perf report -i /tmp/catalog-bench-{service,shopsim}.perf
        import subprocess
        for name, pid in (("service", svc.proc.pid), ("shopsim", sim.proc.proc.pid)):
            perf.append(subprocess.Popen(["perf", "record", "-g", "-o", f"/tmp/catalog-bench-{name}.perf", "-p",
                                          str(pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    results = {}
    try:
        for platform, sid in stores.items():
            sim.call("DELETE", f"/_sim/stores/{sid}/calls")
            if platform == "shopify":  # a full bucket at the start, as for a store left alone a while
                sim.call("PUT", f"/_sim/stores/{sid}/settings", {"bucket_available": 1e9})
            print(f"importing {sid} ({platform})", flush=True)
            h.bridgectl("products", "sync", sid, "--no-wait")
            deadline = time.time() + args.timeout
            row = ""
            last_print = 0
            while time.time() < deadline:
                row = h.psql(f"SELECT state, items_done, published, conflicts, coalesce(error, ''), "
                             f"extract(epoch FROM (coalesce(finished_at, now()) - coalesce(started_at, now()))) "
                             f"FROM catalog_syncs WHERE store_id = '{sid}' AND product_id IS NULL "
                             f"ORDER BY id DESC LIMIT 1").strip()
                state = row.split("|")[0]
                if state in ("done", "failed"):
                    break
                if time.time() - last_print > 10:
                    print(f"  {row}", flush=True)
                    last_print = time.time()
                time.sleep(0.25)
            state, items, published, conflicts, error, secs = row.split("|")
            counters = sim.call("GET", f"/_sim/stores/{sid}/counters")
            calls = sim.call("GET", f"/_sim/stores/{sid}/calls")
            summary = sim.call("GET", f"/_sim/stores/{sid}")
            _, metrics = h.http("GET", f"http://127.0.0.1:{svc.port}/metrics")
            in_calls = sum(float(l.rsplit(" ", 1)[1]) for l in metrics.splitlines()
                           if l.startswith("wb_shop_call_seconds_sum{") and f'store="{sid}"' in l)
            results[platform] = dict(in_calls=in_calls, state=state, items=int(items), published=int(published),
                                     conflicts=int(conflicts), error=error, seconds=float(secs),
                                     counters=counters, calls=calls, bucket=summary.get("bucket", {}))
    finally:
        for p in perf:
            p.send_signal(2)
            p.wait()
        svc.stop()
        if os.environ.get("WB_BENCH_LOG"):
            pathlib.Path(os.environ["WB_BENCH_LOG"]).write_text(svc.output())
        svc.cleanup()
        sim.close()

    print()
    for platform, r in results.items():
        sid = stores[platform]
        mapped = int(h.psql(f"SELECT count(*) FROM product_mappings WHERE store_id = '{sid}'").strip())
        print(f"{platform}: sync {r['state']} {r['error']}; {r['items']} items, {r['published']} published, "
              f"{r['conflicts']} conflicts, {mapped} mappings (of {articles})")
        c = r["counters"]
        print(f"  time in shop calls: {r['in_calls']:.1f}s of {r['seconds']:.1f}s (the rest: PostgreSQL, Kafka, "
              f"parsing)")
        if platform == "woocommerce":
            per = WOO_MAX_PER_PAGE
            variable = args.variants > 1
            bound = 1 + math.ceil(args.products / per) + (args.products * math.ceil(args.variants / per)
                                                          if variable else 0)  # 1: the store's units
            calls = c["rest_calls"]
            print(f"  import time:       {r['seconds']:.1f}s = {r['items'] / max(r['seconds'], 0.001):,.0f} "
                  f"articles/s (target < 60 s; rate_limit_rps {args.woo_rps or 'none'})")
            print(f"  API calls:         {calls}  lower bound {bound} (per_page={per})  "
                  f"ratio {calls / max(bound, 1):.3f}")
            figure("catalog woocommerce import time", r["seconds"], "s", 60, "max")
            figure("catalog woocommerce API calls", calls, "calls", bound, "max")
        else:
            calls = c["queries"]
            cap_first = (SHOPIFY_MAX_QUERY_COST - SHOPIFY_PAGE_COST) // SHOPIFY_VARIANT_COST  # 199
            bound = math.ceil(articles / cap_first) + 1  # + the CatalogCounts query
            naive = math.ceil(articles / SHOPIFY_MAX_FIRST)
            log = [e for e in r["calls"] if str(e.get("op", "")).startswith("query:")]
            costs = [e.get("actual_cost", e.get("cost")) or 0 for e in log]  # charged, after the refund
            pages = [e for e in log if e.get("op") == "query:productVariants"]
            requested = max((e.get("cost") or 0 for e in pages), default=0)
            total_cost = sum(costs) * calls / max(len(costs), 1)  # the log keeps the last 2000 calls
            per_call = total_cost / max(calls, 1)
            size, rate = r["bucket"].get("size", 1000), r["bucket"].get("restore_rate", 100)
            budget = max(total_cost - size, 0) / rate
            print(f"  import time:       {r['seconds']:.1f}s = {r['items'] / max(r['seconds'], 0.001):,.0f} "
                  f"articles/s; the cost budget allows {budget:.1f}s (actual cost {total_cost:,.0f} points, "
                  f"{per_call:.0f} a call, {requested:.0f} requested by a full page, bucket {size:.0f}, "
                  f"restore {rate:.0f}/s, plan {args.plan})")
            print(f"  API calls:         {calls}  lower bound {bound} ({cap_first} variants a query, the most within "
                  f"the {SHOPIFY_MAX_QUERY_COST}-point query cap, + 1 count); {naive} at first={SHOPIFY_MAX_FIRST} "
                  f"(over the cap for this query); ratio {calls / max(bound, 1):.3f}")
            print(f"  throttled calls:   {c['throttled']}")
            bulk = c.get("mutations", 0) > 0 and any(e.get("op") == "mutation:bulkOperationRunQuery" for e in r["calls"])
            if bulk:
                # One bulk operation: the count, the mutation and the polls.
                # The target is what the cost budget allows the pages.
                # What the pages are charged (after the refund): 3 points a
                # variant (the node, product, inventoryItem) and 2 a page;
                # 301,008 for 100,000 variants, 150 s at 2,000 a second.
                paged_cost = articles * 3 + bound * 2
                paged_budget = max(paged_cost - size, 0) / rate
                calls += c["mutations"]
                polls = sum(1 for e in r["calls"] if "bulkOperation" in str(e.get("op", "")) and
                            str(e.get("op", "")).startswith("query:"))
                print(f"  bulk operation:    {calls} calls (1 count, {c['mutations']} bulkOperationRunQuery, "
                      f"{polls} polls); paging would take {bound} calls and at least {paged_budget:.1f}s "
                      f"of cost budget ({paged_cost:,} points charged)")
                figure("catalog shopify import time (bulk operation)", r["seconds"], "s", paged_budget, "max")
                figure("catalog shopify API calls (bulk operation)", calls, "calls", bound, "max")
            else:
                figure("catalog shopify import time", r["seconds"], "s", budget, "max")
                figure("catalog shopify API calls", calls, "calls", bound, "max")
            figure("catalog shopify throttled calls", c["throttled"], "calls", 0, "max")


if __name__ == "__main__":
    main()
