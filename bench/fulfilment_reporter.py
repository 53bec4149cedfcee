#!/usr/bin/env python3
"""Fulfilment reporter benchmark: a backlog of `dispatched` events (one
shipment with a tracking number per order) for a Shopify and a WooCommerce
store in shopsim, one reporter replica. Prints figures; asserts nothing about
time.

    scripts/stack up && set -a && . .state/stack.env && set +a
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build
    python3 bench/fulfilment_reporter.py [--orders 300] [--build build]

Figures:
- dispatch events per second turned into shop calls (backlog drain rate,
  from the reporter's start to the last report recorded);
- shop calls per event against the minimum: one call per shipment (Shopify
  fulfillmentCreate; WooCommerce tracking entry) plus one for completion where
  the platform needs it (WooCommerce `completed`), so 1 on Shopify and 2 on
  WooCommerce. The reporter also reads before it writes (Shopify: the
  order's fulfillment orders, to spread the shipment's lines; WooCommerce:
  the order's status, to skip completing a completed order), which is the
  difference.
"""
import argparse
import json
import os
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "e2e"))


def figure(name, value, unit, target, goal):
    """One headline figure for the report bench/run builds (goal min: at
    least the target; max: at most)."""
    print("FIGURE " + json.dumps({"name": name, "value": round(value, 3), "unit": unit, "target": target,
                                  "goal": goal}), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=300, help="orders per store")
    ap.add_argument("--build", default=str(ROOT / "build"))
    ap.add_argument("--woo-rps", type=int, default=0,
                    help="the WooCommerce store's rate_limit_rps (default 0 = no limit: the reporter's own speed; "
                         "at the store default 10 the shared rate budget paces it to 10 calls a second)")
    args = ap.parse_args()
    os.environ["WB_BUILD_DIR"] = str(pathlib.Path(args.build).resolve())
    import harness as h  # after WB_BUILD_DIR is set
    import subprocess

    run = f"{os.getpid() % 10000}{int(time.time()) % 100000}"
    sim = h.Shopsim()
    h.bridgectl("db", "migrate")
    stores = {"shopify": f"fb{run}s", "woocommerce": f"fb{run}w"}
    events = []
    try:
        for platform, sid in stores.items():
            sim.call("POST", "/_sim/stores", {"id": sid, "platform": platform, "plan": "enterprise",
                                               "shipment_tracking": platform == "woocommerce"})
            products = sim.call("POST", f"/_sim/stores/{sid}/seed",
                                {"products": 5, "variants": 1, "stock": 100000, "sku_prefix": f"FB{sid}"})
            skus = [p["variants"][0]["sku"] for p in products]
            creds = (f'{{"access_token":"shpat_{sid}","api_secret":"shopsim-secret"}}' if platform == "shopify" else
                     f'{{"consumer_key":"ck_{sid}","consumer_secret":"cs_{sid}","webhook_secret":"x"}}')
            h.bridgectl("store", "add", sid, "--platform", platform, "--url", f"{sim.base}/{sid}", "--owner",
                        f"fbo{run}", "--credentials", "-", stdin=creds)
            if platform == "woocommerce":
                h.bridgectl("store", "set", sid, "shipment_tracking", "true")
                h.bridgectl("store", "set", sid, "rate_limit_rps", str(args.woo_rps))
            print(f"placing {args.orders} orders in {sid} ({platform})", flush=True)
            for i in range(args.orders):
                o = sim.call("POST", f"/_sim/stores/{sid}/orders",
                             {"lines": [{"sku": skus[i % len(skus)], "quantity": 1 + i % 3, "price": "9.90"},
                                        {"sku": skus[(i + 1) % len(skus)], "quantity": 1, "price": "4.50"}],
                              "shipping_method": {"code": "flat_rate", "title": "Flat", "total": "4.90"}})
                shipment = {"id": f"S{run}-{o['id']}", "carrier": "dhl", "tracking_number": f"JJD{run}{o['id']}",
                            "tracking_url": f"https://track.example/JJD{run}{o['id']}",
                            "lines": [{"line_id": str(l["id"]), "sku": l["sku"], "quantity": l["quantity"]}
                                      for l in o["lines"]]}
                events.append((f"{sid}/{o['id']}", {"type": "dispatched", "store_id": sid, "order_id": str(o["id"]),
                                                    "occurred_at": "2026-11-25T10:00:00Z",
                                                    "shipments": [shipment]}))
            sim.call("DELETE", f"/_sim/stores/{sid}/calls")
        group = f"fbench-{run}"
        subprocess.run([str(pathlib.Path(args.build) / "bin" / "testkafka"), "seek-end", "wms.fulfilment.v1",
                        group], check=True, timeout=60)
        h.produce("wms.fulfilment.v1", events)
        print(f"produced {len(events)} dispatched events", flush=True)
        in_stores = ", ".join(h.sql_literal(s) for s in stores.values())
        done_sql = (f"SELECT count(*) FROM fulfilment_reports WHERE store_id IN ({in_stores}) "
                    f"AND kind = 'shipment' AND state = 'done'")
        t0 = time.time()
        rep = h.service("fulfilment-reporter", {"WB_FULFIL_GROUP": group, "WB_LOG_LEVEL": "info"})
        try:
            h.wait_for("all reported", lambda: int(h.psql(done_sql).strip()) >= len(events), 600, 0.2)
            elapsed = time.time() - t0
            # The last event's completion follows its record: wait until the
            # shop has it before counting calls.
            last_woo = [k for k, _ in events if k.startswith(stores["woocommerce"])][-1].split("/")[1]
            h.wait_for("last completed", lambda: sim.call(
                "GET", f"/_sim/stores/{stores['woocommerce']}/orders/{last_woo}")["status"] == "completed", 60, 0.2)
            log = rep.output()
            waits = [l for l in log.splitlines() if " waits: " in l]
            print(f"events held for a retry: {len(waits)}" + (f" (first: {waits[0][:300]})" if waits else ""))
            print(f"shipments found reported already: {log.count('was already in the shop')}; "
                  f"partitions handed over: {log.count('handed over')}; assigned: {log.count('assign')}")
        finally:
            rep.stop()
            rep.cleanup()
        calls = {p: sim.call("GET", f"/_sim/stores/{sid}/counters") for p, sid in stores.items()}
        failed = int(h.psql(f"SELECT count(*) FROM fulfilment_reports WHERE store_id IN ({in_stores}) "
                            f"AND state <> 'done'").strip())
        rate = len(events) / elapsed
        per_event = {p: calls[p]["calls"] / args.orders for p in stores}
        minimum = {"shopify": 1, "woocommerce": 2}
        print(f"{len(events)} events reported in {elapsed:.1f}s: {rate:.0f} events/s "
              f"(includes the replica's start and group join); reports not done: {failed}")
        for p, sid in stores.items():
            ops = {}
            for c in sim.call("GET", f"/_sim/stores/{sid}/calls"):
                op = c["op"] if p == "shopify" else c["method"] + " " + "/".join(
                    "N" if part.isdigit() else part for part in c["path"].split("?")[0].split("/")[-3:])
                op += f" {c['status']}"
                ops[op] = ops.get(op, 0) + 1
            print(f"{p} calls by kind (last 2000): " + ", ".join(f"{k} {v}" for k, v in sorted(ops.items())))
        for p in stores:
            print(f"{p}: {calls[p]['calls']} calls for {args.orders} events = {per_event[p]:.2f} per event, "
                  f"minimum {minimum[p]} ({per_event[p] / minimum[p]:.2f}x); throttled {calls[p]['throttled']}")
        figure("fulfilment dispatch events per second", rate, "events/s", 50, "min")
        figure("fulfilment Shopify calls per event vs minimum", per_event["shopify"] / minimum["shopify"], "x", 2,
               "max")
        figure("fulfilment WooCommerce calls per event vs minimum", per_event["woocommerce"] / minimum["woocommerce"],
               "x", 1.5, "max")
    finally:
        sim.close()
        h.psql(f"DELETE FROM stores WHERE id IN ({', '.join(h.sql_literal(s) for s in stores.values())})")


if __name__ == "__main__":
    main()
