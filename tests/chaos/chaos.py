#!/usr/bin/env python3
"""Chaos under load (issue 11): the four services as processes against
shopsim, wmssim and a real stack, while services are killed with kill -9,
Redis is flushed and restarted, PostgreSQL and the broker are restarted, and
shops answer 5xx and 429 storms and drop webhooks. After the bridge settles
it checks orders, stock, shop posts, dead letters and logs, prints the counts
and exits 1 when lost, duplicated, wrong (or any other problem count) is not 0.

    scripts/stack up; set -a; . .state/stack.env; set +a; build/bin/bridgectl topics ensure
    python3 tests/chaos/chaos.py --build build [--stores 4 --orders 200 --events 5000 --seed 1 --duration 120]

The stack named by WB_KAFKA_BROKERS / WB_PG_DSN / WB_REDIS_URL must be the one
scripts/stack runs with the same WB_STATE_DIR and WB_STACK_*_PORT: the script
restarts its servers. See docs/chaos.md.
"""
import argparse
import collections
import hashlib
import json
import os
import pathlib
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]
SERVICES = ["order-ingest", "catalog-ingest", "stock-publisher", "fulfilment-reporter"]


def log(msg):
    print(f"chaos: {time.strftime('%H:%M:%S')} {msg}", flush=True)


def http(method, url, body=None, headers=None, timeout=20):
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            text = r.read().decode()
            return r.status, (json.loads(text) if text.strip().startswith(("{", "[")) else text)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def token(rng, n=16):
    return "%0*x" % (n * 2, rng.getrandbits(n * 8))


class Chaos:
    def __init__(self, args):
        self.a = args
        self.rng = random.Random(args.seed)
        self.build = pathlib.Path(args.build).resolve()
        self.run = f"{os.getpid() % 1000}{int(time.time()) % 100000}"
        self.prefix = f"ch{self.run}"
        self.owner = self.prefix
        state = pathlib.Path(os.environ.get("WB_STATE_DIR", ROOT / ".state"))
        self.dir = pathlib.Path(args.out or state / "chaos" / self.run)
        (self.dir / "logs").mkdir(parents=True, exist_ok=True)
        self.master_key = token(self.rng, 32)
        self.env = dict(os.environ, WB_MASTER_KEY=self.master_key)
        self.stores = []          # dicts: id, platform, creds, safety, location
        self.ordered_skus = [f"ORD-{i:03d}" for i in range(1, args.ordered_skus + 1)]
        self.load_skus = [f"LOAD-{i:06d}" for i in range(1, args.load_skus + 1)]
        self.orders = []          # dicts: store, id, lines {sku: qty}, patched
        self.procs = {}           # name -> Popen
        self.ports = {name: free_port() for name in SERVICES}
        self.faults_done = collections.Counter()
        self.unexpected_exits = []
        self.lock = threading.Lock()      # the orders list
        self.plock = threading.RLock()    # the service processes
        self.secrets = {}

    # ------------------------------------------------------------ processes
    def tool(self, *argv, stdin=None, timeout=120):
        p = subprocess.run([str(self.build / "bin" / argv[0]), *argv[1:]], input=stdin, env=self.env,
                           capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            raise SystemExit(f"chaos: {' '.join(argv[:3])}: exit {p.returncode}: {p.stderr.strip()[-500:]}")
        return p.stdout

    def psql(self, sql):
        p = subprocess.run(["psql", os.environ["WB_PG_DSN"], "-v", "ON_ERROR_STOP=1", "-qAt", "-f", "-"],
                           input=sql, capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            raise RuntimeError(f"psql: {p.stderr.strip()}")
        return p.stdout

    def psql_retry(self, sql, tries=60):
        for i in range(tries):
            try:
                return self.psql(sql)
            except RuntimeError:
                if i == tries - 1:
                    raise
                time.sleep(1)

    def start(self, name):
        env = dict(self.env, WB_HTTP_PORT=str(self.ports[name]), WB_HTTP_BIND="127.0.0.1",
                   WB_LOG_LEVEL=self.a.log_level,
                   WB_STOCK_GROUP=f"{self.prefix}-stock", WB_FULFIL_GROUP=f"{self.prefix}-fulfil",
                   WB_STOCK_ROUTES_REFRESH_MS="5000", WB_STOCK_RETRY_MS="2000",
                   WB_FULFIL_RETRY_MAX_MS="10000",
                   WB_ORDER_RECONCILE_MS="10000",
                   WB_ORDER_PUBLIC_URL=f"http://127.0.0.1:{self.ports['order-ingest']}",
                   WB_CATALOG_POLL_MS="30000", WB_CATALOG_FULL_SYNC_MS="30000")  # full syncs, not only polls
        out = open(self.dir / "logs" / f"{name}.log", "ab")
        self.procs[name] = subprocess.Popen([str(self.build / "bin" / name)], env=env, stdout=out,
                                            stderr=subprocess.STDOUT)
        out.close()

    def check_alive(self, restart=True):
        with self.plock:
            self._check_alive(restart)

    def _check_alive(self, restart):
        for name in SERVICES:
            p = self.procs.get(name)
            if p and p.poll() is not None:
                self.unexpected_exits.append((name, p.returncode, time.time()))
                log(f"{name} exited by itself with {p.returncode}; restarting")
                if restart:
                    self.start(name)

    def kill9(self, name):
        self.check_alive()
        with self.plock:
            p = self.procs[name]
            p.kill()
            p.wait()
            time.sleep(self.rng.uniform(0.2, 2.0))
            self.start(name)
        self.faults_done[f"kill -9 {name}"] += 1

    def stack(self, *argv):
        p = subprocess.run([str(ROOT / "scripts" / "stack"), *argv], env=self.env, capture_output=True, text=True,
                           timeout=300)
        if p.returncode != 0:
            raise SystemExit(f"chaos: scripts/stack {' '.join(argv)}: {p.stderr.strip()[-500:]}")

    def restart(self, component, pause=None):
        self.stack("down", component)
        time.sleep(pause if pause is not None else 2)
        self.stack("up", component)
        self.faults_done[f"restart {component}"] += 1

    def redis_flush(self):
        u = urllib.parse.urlparse(os.environ["WB_REDIS_URL"])
        argv = ["redis-cli", "-h", u.hostname or "127.0.0.1", "-p", str(u.port or 6379)]
        if u.password:
            argv += ["-a", u.password, "--no-auth-warning"]
        for _ in range(60):  # a Redis just restarted answers LOADING while it reads its append-only file
            p = subprocess.run(argv + ["FLUSHALL"], capture_output=True, text=True, timeout=30)
            if "OK" in p.stdout:
                break
            time.sleep(0.5)
        else:
            raise SystemExit(f"chaos: FLUSHALL: {p.stdout} {p.stderr}")
        self.faults_done["redis FLUSHALL"] += 1

    # ------------------------------------------------------------ shopsim
    def sim(self, method, path, body=None):
        status, doc = http(method, self.sim_base + path, body)
        if status >= 400:
            raise RuntimeError(f"shopsim {method} {path}: {status} {str(doc)[:300]}")
        return doc

    def start_shopsim(self):
        out = open(self.dir / "logs" / "shopsim.log", "ab")
        self.procs_shopsim = subprocess.Popen(
            [str(self.build / "sim" / "shopsim" / "shopsim"), "--port", "0", "--clock-factor",
             str(self.a.clock_factor), "--webhook-threads", "4"], stdout=out, stderr=subprocess.STDOUT)
        out.close()
        deadline = time.time() + 30
        while time.time() < deadline:
            m = re.search(r'"msg":"listening".*?"port":(\d+)',
                          (self.dir / "logs" / "shopsim.log").read_text(errors="replace"))
            if m:
                self.sim_base = f"http://127.0.0.1:{m.group(1)}"
                return
            time.sleep(0.1)
        raise SystemExit("chaos: shopsim did not start")

    # ------------------------------------------------------------ setup
    def setup(self):
        a = self.a
        log(f"run {self.run}: {a.stores} stores, {a.orders} orders, {a.events} stock events, seed {a.seed}, "
            f"{a.duration}s of faults; logs in {self.dir}")
        self.start_shopsim()
        self.secrets["master key"] = self.master_key
        pw = urllib.parse.urlparse(os.environ["WB_PG_DSN"]).password
        if pw:
            self.secrets["postgres password"] = urllib.parse.unquote(pw)
        mappings = []
        for i in range(a.stores):
            sid = f"{self.prefix}-{i:02d}"
            shopify = i % 2 == 0
            platform = "shopify" if shopify else "woocommerce"
            secret = token(self.rng)
            body = {"id": sid, "platform": platform, "plan": "plus", "app_secret": secret}
            if shopify:
                creds = {"access_token": f"shpat_{token(self.rng)}", "api_secret": secret,
                         "shop_domain": f"{sid}.myshopify.com"}
                body["access_token"] = creds["access_token"]
            else:
                creds = {"consumer_key": f"ck_{token(self.rng, 20)}", "consumer_secret": f"cs_{token(self.rng, 20)}",
                         "webhook_secret": secret}
                body.update(consumer_key=creds["consumer_key"], consumer_secret=creds["consumer_secret"],
                            shipment_tracking=(i % 4 == 1))
            for k, v in creds.items():
                if k != "shop_domain":
                    self.secrets[f"{sid} {k}"] = v
            summary = self.sim("POST", "/_sim/stores", body)
            self.sim("PUT", f"/_sim/stores/{sid}/faults", {"seed": a.seed * 1000 + i})
            products = []
            for sku in self.ordered_skus:
                products.append(self.sim("POST", f"/_sim/stores/{sid}/products",
                                         {"title": sku, "variants": [{"sku": sku, "stock": 1000}]}))
            for k in range(0, len(self.load_skus), 10):
                products.append(self.sim("POST", f"/_sim/stores/{sid}/products", {
                    "title": f"load {k}", "variants": [{"sku": s, "stock": 7} for s in self.load_skus[k:k + 10]]}))
            for p in products:
                for v in p["variants"]:
                    if shopify:
                        mappings.append((sid, p["gid"], v["gid"], v["inventory_item_gid"], v["sku"]))
                    elif p.get("type") == "variable":
                        mappings.append((sid, str(p["id"]), str(v["id"]), "", v["sku"]))
                    else:
                        mappings.append((sid, str(p["id"]), "", "", v["sku"]))
            self.tool("bridgectl", "store", "add", sid, "--platform", platform, "--url", f"{self.sim_base}/{sid}",
                      "--owner", self.owner, "--credentials", "-", stdin=json.dumps(creds))
            self.tool("bridgectl", "store", "set", sid, "window_seconds", str(a.window))
            if body.get("shipment_tracking"):
                self.tool("bridgectl", "store", "set", sid, "shipment_tracking", "true")
            safety = i % 3
            if safety:
                self.tool("bridgectl", "store", "set", sid, "safety_stock", str(safety))
            location = summary["locations"][0]["gid"] if shopify else "default"
            self.tool("bridgectl", "location", "map", sid, location, "WH1", "--default")
            for wh in self.load_warehouses():
                self.tool("bridgectl", "location", "map", sid, location, wh)
            kind = "shopify" if shopify else "woocommerce"
            address = f"http://127.0.0.1:{self.ports['order-ingest']}/webhooks/{kind}/{sid}"
            for topic in (["orders/create", "orders/updated", "orders/cancelled"] if shopify
                          else ["order.created", "order.updated"]):
                self.sim("POST", f"/_sim/stores/{sid}/webhooks", {"topic": topic, "address": address})
            self.stores.append({"id": sid, "platform": platform, "safety": safety, "location": location,
                                "tracking": body.get("shipment_tracking", False), "creds": creds})
        for k in range(0, len(mappings), 5000):
            self.psql("INSERT INTO product_mappings (store_id, shop_product_id, shop_variant_id, inventory_item_id, "
                      "sku) VALUES " + ",".join("(" + ",".join("'" + x.replace("'", "''") + "'" for x in m) + ")"
                                                for m in mappings[k:k + 5000]))
        self.mapping_count = len(mappings)
        # The run's consumer groups start at the topics' ends: earlier runs' messages are not this run's.
        for topic, group in (("wms.stock.v1", f"{self.prefix}-stock"), ("wms.fulfilment.v1", f"{self.prefix}-fulfil"),
                             ("shop.orders.v1", f"{self.prefix}-wmssim")):
            self.tool("testkafka", "seek-end", topic, group)
        log(f"configured {len(self.stores)} stores, {len(mappings)} mappings, secrets {len(self.secrets)}")

    def load_warehouses(self):
        return ["LW"] if self.a.load_warehouses == 1 else [f"LW-{i:02d}" for i in range(1, self.a.load_warehouses + 1)]

    def start_wms(self):
        a = self.a
        # The WMS must not lose its own events while the broker restarts (a real one retries): its
        # producer waits up to 10 minutes for a broker instead of 30 s.
        wms_env = dict(self.env, WB_KAFKA_MESSAGE_TIMEOUT_MS="600000")
        common = ["--brokers", os.environ["WB_KAFKA_BROKERS"], "--owner", self.owner, "--seed", str(a.seed)]
        out = open(self.dir / "logs" / "wmssim-gentle.log", "ab")
        self.gentle = subprocess.Popen(
            [str(self.build / "sim" / "wmssim" / "wmssim"), "--scenario", "gentle", *common, "--warehouse", "WH1",
             "--sku-list", ",".join(self.ordered_skus), "--initial", "1000000", "--stock-every-ms", "0",
             "--partial-every", "4", "--return-every", "5", "--speed", str(a.wms_speed),
             "--group", f"{self.prefix}-wmssim", "--stores", ",".join(s["id"] for s in self.stores)],
            env=wms_env, stdout=out, stderr=subprocess.STDOUT)
        out.close()
        rate = max(1, int(a.events / max(1.0, a.duration * 0.8)))
        out = open(self.dir / "logs" / "wmssim-load.log", "ab")
        self.load = subprocess.Popen(
            [str(self.build / "sim" / "wmssim" / "wmssim"), "--load", *common, "--owners", "1",
             "--warehouse", "LW", "--warehouses", str(a.load_warehouses), "--skus", str(a.load_skus),
             "--sku-prefix", "LOAD", "--rate", str(rate), "--count", str(a.events), "--duration", "0",
             "--initial", "60"], env=wms_env, stdout=out, stderr=subprocess.STDOUT)
        out.close()

    # ------------------------------------------------------------ load and faults
    def place_orders(self, stop_at):
        rng = random.Random(self.a.seed + 1)
        n = self.a.orders
        gap = max(0.0, (stop_at - time.time()) / max(n, 1))
        patch_later = []
        for k in range(n):
            store = self.stores[rng.randrange(len(self.stores))]
            skus = rng.sample(self.ordered_skus, rng.randint(1, min(3, len(self.ordered_skus))))
            lines = {s: rng.randint(1, 3) for s in skus}
            try:
                doc = self.sim("POST", f"/_sim/stores/{store['id']}/orders",
                               {"lines": [{"sku": s, "quantity": q} for s, q in lines.items()],
                                "email": f"c{k}@example.com"})
                order = {"store": store["id"], "id": str(doc["id"]), "lines": lines, "patched": False}
                with self.lock:
                    self.orders.append(order)
                if rng.random() < 0.1:
                    patch_later.append(order)
            except (RuntimeError, OSError) as e:
                log(f"placing an order failed: {e}")
            if patch_later and rng.random() < 0.5:
                o = patch_later.pop(0)
                try:
                    self.sim("PATCH", f"/_sim/stores/{o['store']}/orders/{o['id']}", {"note": "please ring twice"})
                    o["patched"] = True
                except (RuntimeError, OSError) as e:
                    log(f"changing an order failed: {e}")
            time.sleep(max(0.0, gap - 0.002))

    def schedule(self, t0):
        a, rng = self.a, self.rng
        D = a.duration
        ev = []
        for name in SERVICES:
            for _ in range(a.kills):
                ev.append((rng.uniform(0.05 * D, 0.85 * D), "kill", name))
        if not a.no_stack_faults:
            ev.append((rng.uniform(0.1 * D, 0.8 * D), "flush", "redis"))
            for comp in ("redis", "postgres", "kafka"):
                ev.append((rng.uniform(0.1 * D, 0.8 * D), "restart", comp))
        kinds = {"5xx": {"error_rate": 0.5, "error_status": 503}, "429": {"throttle_rate": 0.5, "retry_after": 1},
                 "drop": {"drop_webhook_rate": 0.4}}
        resets = {"5xx": {"error_rate": 0}, "429": {"throttle_rate": 0}, "drop": {"drop_webhook_rate": 0}}
        storms = a.storms if a.storms is not None else max(3, len(self.stores))
        for k in range(storms):
            kind = ["5xx", "429", "drop"][k % 3]
            eligible = [s for s in self.stores if kind != "drop" or a.drop_webhooks in ("both", s["platform"])]
            if not eligible:
                continue
            store = rng.choice(eligible)["id"]
            start = rng.uniform(0.05 * D, 0.8 * D)
            length = rng.uniform(5, 15)
            ev.append((start, "fault", (store, kind, kinds[kind])))
            ev.append((start + length, "unfault", (store, kind, resets[kind])))
        ev.sort(key=lambda e: e[0])
        self.schedule_list = ev
        # Stack restarts take a while (the broker 10-60 s): they run on their own thread, so the
        # kills and storms keep their moments.
        slow = [e for e in ev if e[1] in ("flush", "restart")]
        fast = [e for e in ev if e[1] not in ("flush", "restart")]
        t = threading.Thread(target=self.run_events, args=(t0, slow, False), daemon=True)
        t.start()
        self.run_events(t0, fast, True)
        t.join()

    def run_events(self, t0, ev, watch):
        for at, what, arg in ev:
            while time.time() < t0 + at:
                time.sleep(0.1)
                if watch:
                    self.check_alive()
            try:
                if what == "kill":
                    log(f"kill -9 {arg}")
                    self.kill9(arg)
                elif what == "flush":
                    log("redis FLUSHALL")
                    self.redis_flush()
                elif what == "restart":
                    log(f"restart {arg}")
                    self.restart(arg)
                    log(f"{arg} is back")
                elif what == "fault":
                    log(f"{arg[1]} storm on {arg[0]}")
                    self.sim("PUT", f"/_sim/stores/{arg[0]}/faults", arg[2])
                    self.faults_done[f"{arg[1]} storm"] += 1
                elif what == "unfault":
                    self.sim("PUT", f"/_sim/stores/{arg[0]}/faults", arg[2])
            except (RuntimeError, OSError) as e:
                log(f"fault {what} {arg}: {e}")

    def clear_faults(self):
        for s in self.stores:
            self.sim("PUT", f"/_sim/stores/{s['id']}/faults",
                     {"error_rate": 0, "throttle_rate": 0, "drop_webhook_rate": 0, "next_errors": 0,
                      "next_throttles": 0, "next_drop_webhooks": 0})

    # ------------------------------------------------------------ settle
    def settle_signature(self):
        ids = ",".join(f"'{s['id']}'" for s in self.stores)
        states = self.psql(f"SELECT state, count(*) FROM ingested_orders WHERE store_id IN ({ids}) GROUP BY 1 "
                           "ORDER BY 1").strip()
        stock = hashlib.sha256()
        for s in self.stores:
            stock.update(json.dumps(self.sim("GET", f"/_sim/stores/{s['id']}/stock"), sort_keys=True).encode())
        orders = hashlib.sha256()
        for s in self.stores:
            orders.update(json.dumps(self.sim("GET", f"/_sim/stores/{s['id']}/orders"), sort_keys=True).encode())
        return states, stock.hexdigest(), orders.hexdigest()

    def settle(self):
        log("settling: faults off, every service running; waiting until nothing changes "
            f"for {self.a.quiet}s (at most {self.a.settle}s)")
        self.clear_faults()
        self.check_alive()
        start = time.time()
        last, since = None, time.time()
        while time.time() - start < self.a.settle:
            self.check_alive()
            http("POST", f"http://127.0.0.1:{self.ports['order-ingest']}/reconcile", b"", timeout=5)
            try:
                sig = self.settle_signature()
            except (RuntimeError, OSError) as e:
                log(f"settle poll: {e}")
                time.sleep(2)
                continue
            busy = re.search(r"^(sent|accepted|picking)\|", sig[0], re.M)
            if sig != last:
                last, since = sig, time.time()
            elif not busy and time.time() - since >= self.a.quiet:
                self.settle_seconds = time.time() - start
                log(f"settled after {self.settle_seconds:.0f}s ({sig[0].replace(chr(10), ', ')})")
                return True
            time.sleep(3)
        self.settle_seconds = time.time() - start
        log(f"not settled within {self.a.settle}s: {last[0] if last else ''}")
        return False

    # ------------------------------------------------------------ checks
    def counted_twice(self, store_id, sku):
        """Quantity of sku in orders that were still 'sent' in ingested_orders when the shop's last value
        was sent (stock_sent.sent_at) and left 'sent' afterwards: fulfilment-reporter records the first
        state change (its log line "order N: accepted recorded"), and the WMS had reserved the quantity by
        then. Such a value subtracted those quantities twice: once as in flight, once as reserved or
        picked. Returns the possible totals (the read happened a moment before sent_at) and the last value
        sent (None: never sent)."""
        if not hasattr(self, "left_sent"):
            self.left_sent = {}
            pat = re.compile(r'"ts":"([^"]+)".*"store":"([^"]+)".*"msg":"order (\S+): \w+ recorded"')
            for line in (self.dir / "logs" / "fulfilment-reporter.log").read_text(errors="replace").splitlines():
                m = pat.search(line)
                if m:
                    k = (m.group(2), m.group(3))
                    self.left_sent[k] = min(self.left_sent.get(k, m.group(1)), m.group(1))
        ts = "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'"
        rows = self.psql_retry(
            f"SELECT to_char(s.sent_at AT TIME ZONE 'UTC', {ts}) || '|' || s.quantity FROM stock_sent s JOIN product_mappings m "
            "ON m.store_id = s.store_id AND s.inventory_item_id = CASE WHEN m.inventory_item_id <> '' THEN "
            "m.inventory_item_id WHEN m.shop_variant_id <> '' THEN m.shop_product_id || '/' || m.shop_variant_id "
            f"ELSE m.shop_product_id END WHERE s.store_id = '{store_id}' AND m.sku = '{sku}'").split()
        if not rows:
            return [], None
        sent_at, sent = rows[0].split("|")
        self.answered = getattr(self, "answered", {})
        if store_id not in self.answered:
            self.answered[store_id] = [l.split("|", 2) for l in self.psql_retry(
                f"SELECT shop_order_id, to_char(created_at AT TIME ZONE 'UTC', {ts}), last_message "
                f"FROM ingested_orders WHERE store_id = '{store_id}' AND state <> 'sent'").splitlines()]
        # The in-flight quantities were read a moment before the shop accepted the value (sent_at): any
        # instant of the 5 s before it may be the one, so every later-first cut of the candidates counts.
        import calendar
        lo = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(
            calendar.timegm(time.strptime(sent_at[:19], "%Y-%m-%dT%H:%M:%S")) - 5)) + sent_at[19:]
        cands = []
        for oid, created, msg in self.answered[store_id]:
            left = self.left_sent.get((store_id, oid))
            if not left or not (created < sent_at and left > lo):
                continue
            try:
                q = sum(l["quantity"] for l in json.loads(msg).get("lines", []) if l["sku"] == sku)
            except (ValueError, KeyError):
                q = 0
            if q:
                cands.append((left, q))
        totals, total = [], 0
        for left, q in sorted(cands, reverse=True):
            total += q
            totals.append(total)
        return totals, int(sent)

    def woo_refunds(self, store, order_id):
        """The order's refunds through WooCommerce's REST API: the control API has no reasons."""
        import base64
        auth = base64.b64encode(f"{store['creds']['consumer_key']}:{store['creds']['consumer_secret']}".encode())
        status, doc = http("GET", f"{self.sim_base}/{store['id']}/wp-json/wc/v3/orders/{order_id}/refunds",
                           headers={"Authorization": "Basic " + auth.decode()})
        if status != 200 or not isinstance(doc, list):
            raise RuntimeError(f"refunds of {store['id']}/{order_id}: {status} {str(doc)[:200]}")
        return doc

    def consume(self, topic, prefix):
        p = subprocess.run([str(self.build / "bin" / "testkafka"), "consume", topic, str(self.a.consume_idle),
                            prefix], env=self.env, capture_output=True, text=True, timeout=1800)
        out = []
        for line in p.stdout.splitlines():
            part, offset, key, value = line.split("\t", 3)
            out.append((int(part), int(offset), key, value))
        return out

    def check(self):
        c = collections.Counter()
        notes = collections.defaultdict(list)

        def problem(kind, msg):
            c[kind] += 1
            if len(notes[kind]) < self.a.show:
                notes[kind].append(msg)

        # dead letters: everything this run's stores produced
        dls = []
        for _, _, key, value in self.consume("bridge.deadletter.v1", ""):
            try:
                d = json.loads(value)
            except ValueError:
                # The topic is shared with other tests on one stack (some put
                # deliberately broken records on it): only this run's count.
                if (key or "").startswith(self.prefix) or self.prefix in value:
                    problem("deadletters unreadable", value[:200])
                continue
            if (d.get("store_id") or "").startswith(self.prefix) or (key or "").startswith(self.prefix):
                dls.append(d)
        dl_keys = collections.Counter(d.get("key") for d in dls)
        dl_reasons = collections.Counter()
        for d in dls:
            if not (d.get("reason") or "").strip():
                problem("deadletters without reason", json.dumps(d)[:300])
            dl_reasons[f"{d.get('service')}: {re.sub(r'[0-9]+', 'N', d.get('reason', ''))[:90]}"] += 1
        c["deadletters"] = len(dls)

        # orders
        msgs = self.consume("shop.orders.v1", self.prefix + "-")
        by_event = collections.Counter()
        versions = collections.defaultdict(set)     # (store, order, version) -> event ids
        created = collections.defaultdict(set)
        last_msg = {}
        for _, _, key, value in msgs:
            m = json.loads(value)
            k = (m["store_id"], str(m["order_id"]))
            by_event[m["event_id"]] += 1
            versions[k + (m["version"],)].add(m["event_id"])
            want = hashlib.sha256(f"{m['store_id']}\n{m['order_id']}\n{m['version']}".encode()).hexdigest()
            if m["event_id"] != want:
                problem("orders wrong", f"{k}: event_id {m['event_id']} is not sha256(store,order,version)")
            if key != f"{k[0]}/{k[1]}":
                problem("orders wrong", f"{k}: key {key}")
            if m["type"] == "created":
                created[k].add(m["event_id"])
            if k not in last_msg or m["version"] >= last_msg[k]["version"]:
                last_msg[k] = m
        c["order messages"] = len(msgs)
        c["order events (distinct event_id)"] = len(by_event)
        c["order redeliveries (same event_id again, allowed)"] = sum(n - 1 for n in by_event.values())
        for v, ids in versions.items():
            if len(ids) > 1:
                problem("orders duplicated", f"{v}: {len(ids)} event ids for one version")
        for k, ids in created.items():
            if len(ids) > 1:
                problem("orders duplicated", f"{k}: created {len(ids)} times with different versions")
        placed = {(o["store"], o["id"]): o for o in self.orders}
        c["orders placed"] = len(placed)
        c["orders changed in the shop"] = sum(o["patched"] for o in self.orders)
        for k, o in placed.items():
            m = last_msg.get(k)
            if not m:
                if dl_keys.get(f"{k[0]}/{k[1]}"):
                    c["orders dead-lettered"] += 1
                else:
                    problem("orders lost", f"{k[0]}/{k[1]} ({'patched' if o['patched'] else 'not patched'})")
                continue
            got = collections.Counter()
            for line in m.get("lines", []):
                got[line["sku"]] += line["quantity"]
            if dict(got) != o["lines"]:
                problem("orders wrong", f"{k}: lines {dict(got)} placed {o['lines']}")
        for k in last_msg:
            if k not in placed:
                problem("orders wrong", f"{k}: on the topic but never placed")

        # in-flight quantities, per store and sku, as the stock path computes them
        ids = ",".join(f"'{s['id']}'" for s in self.stores)
        inflight = collections.Counter()
        for line in self.psql_retry(
                "SELECT o.store_id, q.key, sum(q.value::bigint) FROM ingested_orders o CROSS JOIN LATERAL "
                f"jsonb_each_text(o.open_quantities) q WHERE o.store_id IN ({ids}) AND o.state = 'sent' "
                "GROUP BY 1, 2").splitlines():
            st, sku, n = line.split("|")
            inflight[(st, sku)] = int(n)
        c["orders still in flight (state sent)"] = len({st for st, _ in inflight})
        states = self.psql_retry(f"SELECT state, count(*) FROM ingested_orders WHERE store_id IN ({ids}) "
                                 "GROUP BY 1 ORDER BY 1").strip().replace("\n", ", ")

        # stock: the last event per goods owner, warehouse and sku (highest version)
        levels = {}
        stock_events = 0
        for _, _, key, value in self.consume("wms.stock.v1", self.owner + "/"):
            m = json.loads(value)
            if m["goods_owner"] != self.owner:
                continue
            stock_events += 1
            lk = (m["warehouse"], m["sku"])
            if lk not in levels or m["version"] >= levels[lk]["version"]:
                levels[lk] = m
        c["stock events"] = stock_events
        warehouses = ["WH1"] + self.load_warehouses()
        checked = untouched = 0
        for s in self.stores:
            rows = self.sim("GET", f"/_sim/stores/{s['id']}/stock")
            shop = {}
            for r in rows:
                if s["platform"] == "woocommerce" or str(r.get("location_id")) in s["location"]:
                    shop[r["sku"]] = r["available"]
            for sku in self.ordered_skus + self.load_skus:
                ls = [levels[(w, sku)] for w in warehouses if (w, sku) in levels]
                if not ls:
                    untouched += 1
                    continue
                avail = sum(max(0, l["on_hand"]) - l.get("reserved", 0) for l in ls)
                want = max(0, avail - s["safety"] - inflight[(s["id"], sku)])
                checked += 1
                if shop.get(sku) != want:
                    twice, sent = self.counted_twice(s["id"], sku)
                    twice = next((t for t in twice if sent == max(0, want - t)), 0)
                    if twice:
                        problem("stock wrong: in-flight counted twice",
                                f"{s['id']} {sku}: shop {shop.get(sku)} expected {want}, last value sent {sent}: "
                                f"{twice} of orders the WMS had already answered still counted as in flight (state "
                                "sent) when it was sent, and nothing recomputed it after")
                        continue
                    if sent is not None and sent == want and shop.get(sku) != sent:
                        problem("stock wrong: shop moved after the last value sent",
                                f"{s['id']} {sku}: shop {shop.get(sku)} expected {want} = last value sent "
                                "(a refund or return restocking the shop, or an order, after it)")
                        continue
                    detail = "; ".join(f"{l['warehouse']} on_hand {l['on_hand']} reserved {l.get('reserved', 0)} "
                                       f"v{l['version']}" for l in ls)
                    problem("stock wrong", f"{s['id']} {sku}: shop {shop.get(sku)} expected {want} "
                                           f"(safety {s['safety']}, in flight {inflight[(s['id'], sku)]}; {detail})")
        c["stock values checked"] = checked
        c["stock values never touched by an event (not checked)"] = untouched

        # fulfilment: every shipment and return once in the shop
        shipments = collections.defaultdict(dict)  # (store, order) -> {shipment id: tracking number}
        returns = collections.defaultdict(dict)    # (store, order) -> {return id: restock kinds}
        fmsgs = self.consume("wms.fulfilment.v1", self.prefix + "-")
        c["fulfilment events"] = len(fmsgs)
        for _, _, key, value in fmsgs:
            m = json.loads(value)
            k = (m["store_id"], str(m["order_id"]))
            for sh in m.get("shipments", []) if m["type"] in ("dispatched", "tracking_updated") else []:
                shipments[k][sh["id"]] = sh.get("tracking_number")
            for r in m.get("returns", []) if m["type"] == "returned" else []:
                returns[k][r["id"]] = {bool(l.get("restock")) for l in r["lines"]}
        platform = {s["id"]: s for s in self.stores}
        for k in sorted(set(shipments) | set(returns)):
            st = platform.get(k[0])
            if not st:
                continue
            try:
                o = self.sim("GET", f"/_sim/stores/{k[0]}/orders/{k[1]}")
            except RuntimeError as e:
                problem("fulfilment wrong", f"{k}: {e}")
                continue
            has_dl = dl_keys.get(f"{k[0]}/{k[1]}", 0)
            text = json.dumps(o)
            for sid, tn in shipments[k].items():
                c["shipments"] += 1
                if st["platform"] == "shopify":
                    n = sum(1 for f in o.get("fulfillments", []) if tn and tn in json.dumps(f))
                    kind = "fulfillment"
                else:  # a Shipment Tracking entry, or a note with the shipment's marker
                    n = sum(1 for t in o.get("trackings", []) if tn and t.get("tracking_number") == tn)
                    n += sum(1 for t in o.get("notes", []) if f"[shipment {sid}]" in json.dumps(t))
                    kind = "tracking" if st["tracking"] else "note"
                if n > 1:
                    problem("shop posts duplicated", f"{k[0]}/{k[1]} shipment {sid}: {kind} posted {n} times")
                elif n == 0:
                    if has_dl:
                        c["shipments dead-lettered"] += 1
                    else:
                        problem("shop posts lost", f"{k[0]}/{k[1]} shipment {sid}: no {kind} and no dead letter")
            if st["platform"] == "shopify":
                extra = len(o.get("fulfillments", [])) - len(shipments[k])
                if extra > 0:
                    problem("shop posts duplicated", f"{k[0]}/{k[1]}: {extra} fulfillments more than shipments")
            refunds = self.woo_refunds(st, k[1]) if returns[k] and st["platform"] == "woocommerce" else []
            if st["platform"] == "shopify" and returns[k]:
                # no marker to read back: the order's returns and refunds are counted against the WMS's returns
                want = len(returns[k])
                c["returns"] += want
                got, refunded = len(o.get("returns", [])), len(o.get("refunds", []))
                if got > want or refunded > want:
                    problem("shop posts duplicated", f"{k[0]}/{k[1]}: {got} returns and {refunded} refunds for "
                                                     f"{want} WMS returns")
                elif got < want:
                    if has_dl:
                        c["returns dead-lettered"] += want - got
                    else:
                        problem("shop posts lost", f"{k[0]}/{k[1]}: {got} returns for {want} WMS returns and no "
                                                   "dead letter")
            for rid, kinds in (returns[k].items() if st["platform"] == "woocommerce" else []):
                c["returns"] += 1
                # the refund's reason carries the marker "[return R1]" (or R1/restock, R1/keep)
                n = sum(1 for r in refunds if re.search(rf"\[return {re.escape(rid)}(/restock|/keep)?\]",
                                                        r.get("reason") or ""))
                if n > len(kinds):
                    problem("shop posts duplicated", f"{k[0]}/{k[1]} return {rid}: {n} refunds for {len(kinds)}")
                elif n < len(kinds):
                    if has_dl:
                        c["returns dead-lettered"] += 1
                    else:
                        problem("shop posts lost", f"{k[0]}/{k[1]} return {rid}: {n} refunds of {len(kinds)} "
                                                    "and no dead letter")
            for mk, n in collections.Counter(re.findall(r"\[shipment [^\]]+\]", text)).items():
                if n > 1:
                    problem("shop posts duplicated", f"{k[0]}/{k[1]}: {mk} {n} times")
            for mk, n in collections.Counter(re.findall(r"\[return [^\]]+\]",
                                                        json.dumps([r.get("reason") for r in refunds]))).items():
                if n > 1:
                    problem("shop posts duplicated", f"{k[0]}/{k[1]}: refund {mk} {n} times")

        # secrets in logs
        for f in sorted((self.dir / "logs").glob("*.log")):
            data = f.read_text(errors="replace")
            for what, secret in self.secrets.items():
                if secret and secret in data:
                    problem("secrets in logs", f"{f.name}: {what}")
            for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
                if marker in data:
                    problem("sanitizer reports", f"{f.name}: {marker}")
        c["unexpected service exits"] = len(self.unexpected_exits)
        for name, code, _ in self.unexpected_exits:
            if len(notes["unexpected service exits"]) < self.a.show:
                notes["unexpected service exits"].append(f"{name} exit {code}")
        return c, notes, dl_reasons, states

    # ------------------------------------------------------------ main
    def stop_all(self):
        for name, p in self.procs.items():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for name, p in self.procs.items():
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        # The run's stores stay for inspection, disabled: their credentials are sealed with this run's
        # master key, which later runs on the same stack do not have.
        for s in self.stores:
            try:
                self.tool("bridgectl", "store", "disable", s["id"])
            except SystemExit as e:
                log(f"disabling {s['id']}: {e}")
        for p in (getattr(self, "gentle", None), getattr(self, "load", None), getattr(self, "procs_shopsim", None)):
            if p and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


FAILING = ["orders lost", "orders duplicated", "orders wrong", "stock wrong", "stock wrong: in-flight counted twice",
           "stock wrong: shop moved after the last value sent", "shop posts lost", "shop posts duplicated", "fulfilment wrong", "deadletters without reason", "deadletters unreadable",
           "secrets in logs", "sanitizer reports", "unexpected service exits"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stores", type=int, default=4)
    ap.add_argument("--orders", type=int, default=200)
    ap.add_argument("--events", type=int, default=5000, help="stock events from wmssim's load mode")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--duration", type=float, default=120, help="seconds of load and faults")
    ap.add_argument("--build", default=str(ROOT / "build"))
    ap.add_argument("--settle", type=float, default=600, help="at most this long to settle")
    ap.add_argument("--quiet", type=float, default=20, help="settled: nothing changed for this long")
    ap.add_argument("--kills", type=int, default=3, help="kill -9 of each service")
    ap.add_argument("--storms", type=int, default=None, help="shop fault storms (default: one per store, at least 3)")
    ap.add_argument("--drop-webhooks", choices=["both", "woocommerce", "shopify", "none"], default="both")
    ap.add_argument("--no-stack-faults", action="store_true", help="no Redis/PostgreSQL/broker restarts")
    ap.add_argument("--ordered-skus", type=int, default=8)
    ap.add_argument("--load-skus", type=int, default=200)
    ap.add_argument("--load-warehouses", type=int, default=2)
    ap.add_argument("--window", type=int, default=1, help="stores' window_seconds")
    ap.add_argument("--wms-speed", type=float, default=2)
    ap.add_argument("--clock-factor", type=float, default=10, help="shopsim clock (Shopify webhook retries)")
    ap.add_argument("--consume-idle", type=int, default=5)
    ap.add_argument("--log-level", default="info")
    ap.add_argument("--show", type=int, default=10, help="examples printed per problem")
    ap.add_argument("--out", help="folder for the run's logs")
    args = ap.parse_args()
    for var in ("WB_KAFKA_BROKERS", "WB_PG_DSN", "WB_REDIS_URL"):
        if var not in os.environ:
            raise SystemExit(f"chaos: {var} is not set (set -a; . .state/stack.env; set +a)")
    ch = Chaos(args)
    began = time.time()
    try:
        ch.setup()
        for name in SERVICES:
            ch.start(name)
        time.sleep(2)
        ch.start_wms()
        t0 = time.time()
        placer = threading.Thread(target=ch.place_orders, args=(t0 + args.duration * 0.9,), daemon=True)
        placer.start()
        ch.schedule(t0)
        while time.time() < t0 + args.duration:
            time.sleep(0.2)
            ch.check_alive()
        placer.join()
        try:
            ch.load.wait(max(60, args.duration))
        except subprocess.TimeoutExpired:
            log("wmssim load still producing after the run; stopping it")
            ch.load.send_signal(signal.SIGTERM)
            ch.load.wait(60)
        log(f"load done: {len(ch.orders)} orders placed, wmssim load exit {ch.load.returncode}; faults: "
            + ", ".join(f"{k} x{v}" for k, v in sorted(ch.faults_done.items())))
        settled = ch.settle()
        counts, notes, reasons, states = ch.check()
    finally:
        ch.stop_all()
    print()
    print(f"chaos run {ch.run}: {args.stores} stores, seed {args.seed}, {time.time() - began:.0f}s in all "
          f"(settled in {ch.settle_seconds:.0f}s{'' if settled else ', NOT settled'})")
    print(f"  faults: " + ", ".join(f"{k} x{v}" for k, v in sorted(ch.faults_done.items())))
    print(f"  bridge order states: {states}")
    for k in sorted(counts):
        if k not in FAILING:
            print(f"  {k}: {counts[k]}")
    for reason, n in reasons.most_common(20):
        print(f"    dead letter x{n}: {reason}")
    print()
    lost = counts["orders lost"] + counts["shop posts lost"]
    duplicated = counts["orders duplicated"] + counts["shop posts duplicated"]
    wrong = (counts["orders wrong"] + counts["stock wrong"] + counts["stock wrong: in-flight counted twice"]
             + counts["stock wrong: shop moved after the last value sent"] + counts["fulfilment wrong"])
    print(f"lost: {lost}  duplicated: {duplicated}  wrong: {wrong}")
    bad = 0
    for k in FAILING:
        print(f"  {k}: {counts[k]}")
        for n in notes.get(k, []):
            print(f"      {n}")
        bad += counts[k]
    if not settled:
        print("  not settled within the bound")
    print(f"logs: {ch.dir}")
    return 1 if bad or not settled else 0


if __name__ == "__main__":
    sys.exit(main())
