#!/usr/bin/env python3
"""Behaviour tests for wmssim, the simulated WMS on Kafka.

Runs $WB_BUILD_DIR/sim/wmssim/wmssim against the broker in WB_KAFKA_BROKERS
(tests/run.py supplies the test stack's), puts orders on shop.orders.v1 and
reads wms.stock.v1 / wms.fulfilment.v1 back with $WB_BUILD_DIR/bin/testkafka.
Every message read back is validated against proto/<topic>.schema.json with
date-time checking. Goods owners, store ids and consumer groups carry a
per-run token, so data of earlier runs on the shared topics is ignored.
Prints `PASS name` / `FAIL name: why`; exits non-zero when a case fails.
"""
import hashlib
import json
import os
import pathlib
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "proto"))
from test_schemas import Draft202012Validator  # noqa: E402  (registers the date-time check)

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("WB_BUILD_DIR") or ROOT / "build")
WMSSIM = BUILD / "sim" / "wmssim" / "wmssim"
TESTKAFKA = BUILD / "bin" / "testkafka"
RUN = secrets.token_hex(4)
SANITIZER = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")
failures = 0


def report(name, why=None):
    global failures
    if why is None:
        print(f"PASS {name}", flush=True)
    else:
        failures += 1
        print(f"FAIL {name}: {why}", flush=True)


class Check(Exception):
    pass


def check(cond, why):
    if not cond:
        raise Check(why)


def validator(topic):
    schema = json.loads((ROOT / "proto" / f"{topic}.schema.json").read_text())
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


VALIDATORS = {t: validator(t) for t in ("wms.stock.v1", "wms.fulfilment.v1")}


def invalid(topic, msg):
    errors = list(VALIDATORS[topic].iter_errors(msg))
    return "; ".join(f"{'.'.join(map(str, e.path))}: {e.message}" for e in errors[:3]) or None


def sanitizer_report(text):
    for marker in SANITIZER:
        if marker in text:
            return text[text.index(marker):][:800]
    return None


def run_wmssim(*args, timeout=60, env=None):
    proc = subprocess.run([str(WMSSIM), *args], capture_output=True, text=True, timeout=timeout,
                          env=env or os.environ)
    return proc.returncode, proc.stdout, proc.stderr


def consume(topic, idle=3):
    """Every message of the topic as (partition, offset, key, parsed value)."""
    out = subprocess.run([str(TESTKAFKA), "consume", topic, str(idle)], capture_output=True, text=True,
                         timeout=300, check=True).stdout
    rows = []
    for line in out.splitlines():
        part, off, key, value = line.split("\t", 3)
        try:
            value = json.loads(value)
        except ValueError:
            continue
        rows.append((int(part), int(off), key, value))
    return rows


def produce(topic, pairs):
    text = "".join(f"{k}\t{json.dumps(v, separators=(',', ':'))}\n" for k, v in pairs)
    subprocess.run([str(TESTKAFKA), "produce", topic], input=text, text=True, check=True,
                   capture_output=True, timeout=60)


def order(store, order_id, lines, version=1, kind="created"):
    event_id = hashlib.sha256(f"{store}\n{order_id}\n{version}".encode()).hexdigest()
    return {
        "event_id": event_id, "type": kind, "store_id": store, "platform": "shopify",
        "order_id": order_id, "order_number": "#" + order_id, "version": version,
        "created_at": "2026-11-25T10:00:00Z", "currency": "EUR",
        "customer": {"name": "Sam Taylor", "address1": "Main Street 1", "city": "Malmo", "country_code": "SE"},
        "invoice": {"name": "Sam Taylor", "country_code": "SE"},
        "notification": {"by_email": False, "by_sms": False},
        "lines": [{"line_id": f"L{i + 1}", "sku": sku, "name": sku, "quantity": q, "unit_price": "1.00",
                   "line_total": f"{q}.00"} for i, (sku, q) in enumerate(lines)],
    }


class Background:
    """A wmssim process whose stdout (JSON log lines) is collected."""

    def __init__(self, *args):
        self.err = tempfile.TemporaryFile("w+")
        self.proc = subprocess.Popen([str(WMSSIM), *args], stdout=subprocess.PIPE, stderr=self.err, text=True)
        self.lines = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    def wait_for(self, pred, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if pred(list(self.lines)):
                return True
            if self.proc.poll() is not None:
                return pred(list(self.lines))
            time.sleep(0.2)
        return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        time.sleep(0.2)
        self.err.seek(0)
        return self.proc.returncode, self.err.read()


def versions_grow(rows):
    """None when every goods_owner/warehouse/sku's versions strictly grow in
    partition order and each key stays on one partition, else why not."""
    last, part_of = {}, {}
    for part, off, key, v in sorted(rows, key=lambda r: (r[0], r[1])):
        if part_of.setdefault(key, part) != part:
            return f"key {key} on partitions {part_of[key]} and {part}"
        k = (v["goods_owner"], v["warehouse"], v["sku"])
        if k in last and v["version"] <= last[k]:
            return f"{k}: version {v['version']} after {last[k]}"
        last[k] = v["version"]
    return None


# ------------------------------------------------------------------- cases

def case_script():
    owner, store = f"wt-{RUN}", f"wt-{RUN}"
    script = [
        {"stock": {"goods_owner": owner, "warehouse": "WH1", "sku": "A-1", "on_hand": 12, "movement": "receiving"}},
        {"stock": {"goods_owner": owner, "warehouse": "WH1", "sku": "A-1", "on_hand": 10, "reserved": 2,
                   "movement": "reservation"}},
        {"stock": {"goods_owner": owner, "warehouse": "WH2", "sku": "A-1", "on_hand": 3, "movement": "transfer"}},
        {"after_ms": 50, "stock": {"goods_owner": owner, "warehouse": "WH1", "sku": "B/2", "on_hand": -1,
                                   "movement": "count", "version": 5}},
        {"fulfilment": {"type": "accepted", "store_id": store, "order_id": "9001"}},
        {"fulfilment": {"type": "dispatched", "store_id": store, "order_id": "9001", "shipments": [
            {"id": "S1", "carrier": "dhl", "tracking_number": "JJD1", "tracking_url": "https://dhl.example/JJD1",
             "lines": [{"line_id": "L1", "sku": "A-1", "quantity": 1}]}]}},
        {"fulfilment": {"type": "dispatched", "store_id": store, "order_id": "9001", "shipments": [
            {"id": "S2", "carrier": "dhl", "lines": [{"line_id": "L1", "sku": "A-1", "quantity": 1}]}]}},
        {"fulfilment": {"type": "returned", "store_id": store, "order_id": "9001", "returns": [
            {"id": "R1", "reason_code": "DAMAGED", "lines": [
                {"line_id": "L1", "sku": "A-1", "quantity": 1, "restock": False}]}]}},
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(script, f)
    code, out, err = run_wmssim("--script", f.name)
    os.unlink(f.name)
    check(code == 0, f"exit {code}: {err[-300:]}")
    check(not sanitizer_report(err), sanitizer_report(err) or "")
    return owner, store, script


def case_bad_script():
    owner = f"wb-{RUN}"
    script = [{"stock": {"goods_owner": owner, "warehouse": "WH1", "sku": "A", "on_hand": 1, "movement": "count"}},
              {"stock": {"goods_owner": owner, "warehouse": "WH1", "sku": "A", "on_hand": "7",
                         "movement": "count"}}]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(script, f)
    code, out, err = run_wmssim("--script", f.name)
    os.unlink(f.name)
    check(code == 2, f"exit {code}, expected 2")
    check("script[1].stock.on_hand" in err, f"error does not name script[1].stock.on_hand: {err[-300:]}")
    return owner


def case_load():
    owner = f"wl-{RUN}"
    code, out, err = run_wmssim("--load", "--rate", "1000", "--count", "600", "--duration", "0", "--skus", "3",
                                "--owners", "2", "--warehouses", "2", "--owner", owner, "--warehouse", "LW")
    check(code == 0, f"exit {code}: {err[-300:]}")
    check(not sanitizer_report(err), sanitizer_report(err) or "")
    m = re.search(r"produced (\d+) stock events in ([0-9.]+) s: ([0-9.]+) events/s", err)
    check(m, f"no summary line: {err[-300:]}")
    check(int(m.group(1)) == 600, f"summary says {m.group(1)} events")
    check(float(m.group(2)) >= 0.5, f"600 events at 1000/s took only {m.group(2)} s")
    return owner


def case_load_sigterm():
    bg = Background("--load", "--rate", "200", "--duration", "0", "--skus", "2", "--owner", f"wx-{RUN}")
    time.sleep(2.0)
    code, err = bg.stop()
    check(code == 0, f"exit {code} after SIGTERM: {err[-300:]}")
    check(not sanitizer_report(err), sanitizer_report(err) or "")
    m = re.search(r"produced (\d+) stock events", err)
    check(m and int(m.group(1)) > 0, f"no summary with events: {err[-300:]}")


def case_config():
    env = {k: v for k, v in os.environ.items() if k != "WB_KAFKA_BROKERS"}
    code, out, err = run_wmssim(env=env)
    check(code == 2 and "WB_KAFKA_BROKERS" in err, f"no broker: exit {code}, {err[-200:]}")
    code, out, err = run_wmssim("--rate", "fast", "--load")
    check(code == 2 and "--rate" in err, f"bad rate: exit {code}, {err[-200:]}")
    code, out, err = run_wmssim("--help")
    check(code == 0 and "--scenario" in out, f"--help: exit {code}")


def start_gentle():
    """wmssim with the gentle scenario for two stores of this run, sped up
    4x; every order with two items or more ships in two parcels and every
    dispatched order is returned."""
    owner, store = f"wg-{RUN}", f"wg-{RUN}"
    bg = Background("--scenario", "gentle", "--speed", "4", "--group", f"wmssim-test-{RUN}",
                    "--stores", f"{store}={owner},wo-{RUN}", "--owner", f"wd-{RUN}", "--sku-list", "G-1,G-2,G-3",
                    "--stock-every-ms", "1000", "--active", "2", "--partial-every", "1", "--return-every", "1",
                    "--initial", "40", "--seed", "7")
    a = order(store, "1001", [("G-1", 1), ("G-2", 2)])
    b = order(store, "1002", [("G-3", 1)])
    c = order(store, "1003", [("G-1", 5)])
    c_cancel = order(store, "1003", [("G-1", 5)], version=2, kind="cancelled")
    other = order(f"wn-{RUN}", "1", [("G-1", 1)])  # not one of its stores
    produce("shop.orders.v1", [(f"{store}/1001", a), (f"{store}/1001", a), (f"{store}/1002", b),
                               (f"{store}/1003", c), (f"{store}/1003", c_cancel), (f"wn-{RUN}/1", other)])
    done = bg.wait_for(lambda lines: sum('"msg":"order 100' in l and ": returned" in l for l in lines) >= 2
                       and any("order 1003: cancelled" in l for l in lines), 60)
    time.sleep(1.5)  # one or two more stock movements
    code, err = bg.stop()
    return owner, store, done, code, err, bg.lines


def main():
    if not os.environ.get("WB_KAFKA_BROKERS"):
        report("wmssim_setup", "WB_KAFKA_BROKERS is not set (run through tests/run.py)")
        return 1
    if not WMSSIM.exists() or not TESTKAFKA.exists():
        report("wmssim_setup", f"build {WMSSIM} and {TESTKAFKA} first")
        return 1

    results = {}
    for name, fn in [("wmssim_script_run", case_script), ("wmssim_bad_script_refused", case_bad_script),
                     ("wmssim_load_run", case_load), ("wmssim_load_sigterm", case_load_sigterm),
                     ("wmssim_config_errors", case_config), ("wmssim_gentle_run", start_gentle)]:
        try:
            results[name] = fn()
            if name in ("wmssim_load_sigterm", "wmssim_config_errors"):
                report(name)
        except (Check, subprocess.SubprocessError, OSError) as e:
            report(name, str(e))
    stock = consume("wms.stock.v1")
    fulfil = consume("wms.fulfilment.v1")

    def mine(rows, prefix):
        return [r for r in rows if r[2].startswith(prefix + "/")]

    # script: exactly the scripted messages, valid, versions filled and growing
    if "wmssim_script_run" in results:
        owner, store, script = results["wmssim_script_run"]
        try:
            s, f = mine(stock, owner), mine(fulfil, store)
            check(len(s) == 4 and len(f) == 4, f"{len(s)} stock and {len(f)} fulfilment messages, expected 4 and 4")
            for topic, rows in (("wms.stock.v1", s), ("wms.fulfilment.v1", f)):
                for _, _, key, v in rows:
                    bad = invalid(topic, v)
                    check(not bad, f"{topic} {key}: {bad}")
            for _, _, key, v in s:
                check(key == f"{v['goods_owner']}/{v['sku']}", f"stock key {key}")
            for _, _, key, v in f:
                check(key == f"{v['store_id']}/{v['order_id']}", f"fulfilment key {key}")
            by_sku = {(v["warehouse"], v["sku"], v["on_hand"]): v for _, _, _, v in s}
            check(by_sku[("WH1", "A-1", 10)]["reserved"] == 2, "reserved not kept")
            check(by_sku[("WH1", "B/2", -1)]["version"] == 5, "explicit version not kept")
            check(by_sku[("WH1", "A-1", 12)]["version"] < by_sku[("WH1", "A-1", 10)]["version"],
                  "versions of WH1/A-1 do not grow")
            why = versions_grow(s)
            check(not why, why or "")
            types = [v["type"] for _, _, _, v in sorted(f, key=lambda r: r[1])]
            check(types == ["accepted", "dispatched", "dispatched", "returned"], f"types {types}")
            report("wmssim_script_run")
        except (Check, KeyError) as e:
            report("wmssim_script_run", str(e))

    if "wmssim_bad_script_refused" in results:
        got = mine(stock, results["wmssim_bad_script_refused"])
        if got:
            report("wmssim_bad_script_refused", f"{len(got)} messages produced from a bad script")
        else:
            report("wmssim_bad_script_refused")

    if "wmssim_load_run" in results:
        owner = results["wmssim_load_run"]
        try:
            s = [r for r in stock if r[2].startswith(owner + "-")]
            check(len(s) == 600, f"{len(s)} messages on the topic, expected 600")
            bad = next((invalid("wms.stock.v1", v) for _, _, _, v in s if invalid("wms.stock.v1", v)), None)
            check(not bad, f"invalid: {bad}")
            owners = {v["goods_owner"] for _, _, _, v in s}
            whs = {v["warehouse"] for _, _, _, v in s}
            skus = {v["sku"] for _, _, _, v in s}
            check(owners == {owner + "-01", owner + "-02"}, f"owners {sorted(owners)}")
            check(whs == {"LW-01", "LW-02"}, f"warehouses {sorted(whs)}")
            check(len(skus) == 3, f"skus {sorted(skus)}")
            why = versions_grow(s)
            check(not why, why or "")
            report("wmssim_load_run")
        except Check as e:
            report("wmssim_load_run", str(e))

    if "wmssim_gentle_run" in results:
        owner, store, done, code, err, lines = results["wmssim_gentle_run"]
        try:
            check(not sanitizer_report(err), sanitizer_report(err) or "")
            check(code == 0, f"exit {code} after SIGTERM: {err[-300:]}")
            check(done, "orders not through in 60 s; log tail: " + "".join(lines[-5:])[-600:])
            f = mine(fulfil, store)
            for _, _, key, v in f:
                bad = invalid("wms.fulfilment.v1", v)
                check(not bad, f"{key}: {bad}")
            seq = {}
            for _, _, _, v in sorted(f, key=lambda r: (r[0], r[1])):
                seq.setdefault(v["order_id"], []).append(v)
            types = {o: [v["type"] for v in evs] for o, evs in seq.items()}
            check(types.get("1001") == ["accepted", "picking_started", "packed", "dispatched", "dispatched",
                                        "returned"], f"order 1001 (partial, then returned): {types.get('1001')}")
            check(types.get("1002") == ["accepted", "picking_started", "packed", "dispatched", "returned"],
                  f"order 1002: {types.get('1002')}")
            check(types.get("1003") == ["cancelled"], f"order 1003 (cancelled at once): {types.get('1003')}")
            check(not mine(fulfil, f"wn-{RUN}"), "answered an order of a store it does not serve")
            parcels = [v["shipments"][0] for v in seq["1001"] if v["type"] == "dispatched"]
            check(len({p["id"] for p in parcels}) == 2, "parcel ids not distinct")
            shipped = sorted((l["sku"], l["quantity"]) for p in parcels for l in p["lines"])
            check(shipped == [("G-1", 1), ("G-2", 2)], f"parcels carry {shipped}")
            for p in parcels:
                check(p.get("tracking_number") and p.get("tracking_url", "").startswith("https://"),
                      f"parcel without tracking: {p}")
            ret = seq["1001"][-1]["returns"][0]
            check(ret["reason_code"] and ret["lines"][0]["quantity"] >= 1, f"return {ret}")
            # stock: the picks show in the levels of the order's goods owner
            s = mine(stock, owner)
            for _, _, key, v in s:
                bad = invalid("wms.stock.v1", v)
                check(not bad, f"{key}: {bad}")
            why = versions_grow(s)
            check(not why, why or "")
            g2 = [v for _, _, _, v in sorted(s, key=lambda r: (r[0], r[1])) if v["sku"] == "G-2"]
            moves = [(v["movement"], v["on_hand"], v["reserved"]) for v in g2]
            check(moves[:2] == [("reservation", 40, 2), ("picking", 38, 0)], f"G-2 levels {moves}")
            snap = mine(stock, f"wd-{RUN}")
            check(len([1 for r in snap if r[3]["movement"] == "snapshot"]) == 3,
                  f"snapshot of the 3 skus: {len(snap)} messages")
            check(any(r[3]["movement"] != "snapshot" for r in snap), "no stock movement besides the snapshot")
            report("wmssim_gentle_run")
        except (Check, KeyError, IndexError) as e:
            report("wmssim_gentle_run", str(e))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
