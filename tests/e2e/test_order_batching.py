#!/usr/bin/env python3
"""order-ingest's group commit (services/order-ingest/batch.c) with real
outcomes: many signed webhooks at once, for distinct orders and for the same
order several times, through one batcher (WB_ORDER_BATCHERS=1, so the
orders that arrive while it works share its next transaction).

- every distinct order: exactly one `created` on shop.orders.v1 and its row
  in ingested_orders;
- the same order version in four webhooks at once: one `created`, the rest
  answered `duplicate`, one message;
- the same webhook (X-Shopify-Webhook-Id) twice at once: one message;
- two versions of one order at once: each version out at most once, and the
  row ends at the newer version (created + updated, or created of the newer
  and the older one stale);
- no event id twice on the topic; and the service's wb_order_batch_size
  histogram shows transactions that carried more than one order, so the
  above held inside real batches;
- PostgreSQL down: the webhook is answered 503 and nothing goes out; back
  up, the same webhook is taken (the batcher reconnects): one message.
- the batch's connection terminated by the server after Kafka acknowledged
  the message, as a PostgreSQL restart does (chaos finding 7): the record is
  retried on a fresh connection, so the reply is 200, the row is there and
  the topic has the order once.
"""
import base64
import hashlib
import hmac
import json
import os
import pathlib
import subprocess
import sys
import threading
import time
import urllib.request
import uuid

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness as h  # noqa: E402

RUN = uuid.uuid4().hex[:8]
STORE = f"batch-{RUN}"
SECRET = "batch-webhook-secret"
DISTINCT = 40
R = h.Reporter()


class W:
    svc = None
    replies = {}  # name -> (status, body)


def order_body(order_id, updated_at="2026-11-20T14:03:12+01:00"):
    return json.dumps({
        "id": order_id, "admin_graphql_api_id": f"gid://shopify/Order/{order_id}", "name": f"#B{order_id}",
        "email": "anna@example.se", "created_at": "2026-11-20T14:03:11+01:00", "updated_at": updated_at,
        "cancelled_at": None, "currency": "SEK", "financial_status": "paid", "fulfillment_status": None,
        "taxes_included": True,
        "customer": {"email": "anna@example.se", "first_name": "Anna", "last_name": "Lind"},
        "shipping_address": {"first_name": "Anna", "last_name": "Lind", "address1": "Industrigatan 12",
                             "city": "Malmo", "zip": "211 19", "country_code": "SE"},
        "line_items": [{"id": order_id * 10 + 1, "name": "Road tyre", "sku": f"BT-{RUN}", "quantity": 2,
                        "current_quantity": 2, "price": "449.00", "discount_allocations": [], "tax_lines": []}],
    }).encode()


def post(name, body, webhook_id=None):
    sig = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    req = urllib.request.Request(f"http://127.0.0.1:{W.svc.port}/webhooks/shopify/{STORE}", data=body,
                                 method="POST", headers={
                                     "Content-Type": "application/json", "X-Shopify-Topic": "orders/create",
                                     "X-Shopify-Hmac-Sha256": sig,
                                     "X-Shopify-Webhook-Id": webhook_id or uuid.uuid4().hex})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            W.replies[name] = (r.status, json.loads(r.read()))
    except urllib.error.HTTPError as e:
        W.replies[name] = (e.code, e.read().decode())


def setup():
    h.bridgectl("db", "migrate")
    h.bridgectl("store", "add", STORE, "--platform", "shopify", "--url", f"https://{STORE}.myshopify.com",
                "--owner", f"batch-{RUN}", "--credentials", "-",
                stdin=json.dumps({"access_token": "shpat_batch", "api_secret": SECRET}))
    W.svc = h.service("order-ingest", {"WB_ORDER_RECONCILE_MS": "0", "WB_ORDER_BATCHERS": "1"})


BASE = 7_700_000_000 + int(RUN[:6], 16)  # distinct per run
SAME, TWICE, TWO_VERSIONS = BASE + 1000, BASE + 1001, BASE + 1002


def metric(name):
    status, text = h.http("GET", f"http://127.0.0.1:{W.svc.port}/metrics")
    assert status == 200, status
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{}"):
            return float(line.split()[-1])
    return 0.0


def test_concurrent_webhooks_one_message_per_order_version():
    sends = [(f"distinct-{i}", order_body(BASE + i), None) for i in range(DISTINCT)]
    sends += [(f"same-{k}", order_body(SAME), None) for k in range(4)]
    hook = uuid.uuid4().hex
    sends += [(f"twice-{k}", order_body(TWICE), hook) for k in range(2)]
    sends += [("v1", order_body(TWO_VERSIONS, "2026-11-20T14:03:12+01:00"), None),
              ("v2", order_body(TWO_VERSIONS, "2026-11-20T15:00:00+01:00"), None)]
    threads = [threading.Thread(target=post, args=s) for s in sends]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    bad = {n: r for n, r in W.replies.items() if r[0] != 200}
    assert not bad, bad
    for i in range(DISTINCT):
        assert W.replies[f"distinct-{i}"][1]["status"] == "created", W.replies[f"distinct-{i}"]
    same = sorted(W.replies[f"same-{k}"][1]["status"] for k in range(4))
    assert same == ["created", "duplicate", "duplicate", "duplicate"], same
    twice = sorted(W.replies[f"twice-{k}"][1]["status"] for k in range(2))
    assert twice == ["created", "duplicate"], twice

    msgs = h.consume("shop.orders.v1", f"{STORE}/", idle_seconds=5)
    by_key = {}
    events = []
    for _, _, key, value in msgs:
        m = json.loads(value)
        by_key.setdefault(key, []).append(m)
        events.append(m["event_id"])
    assert len(events) == len(set(events)), "an event id went out twice"
    for oid in [BASE + i for i in range(DISTINCT)] + [SAME, TWICE]:
        got = [m["type"] for m in by_key.get(f"{STORE}/{oid}", [])]
        assert got == ["created"], (oid, got)
    two = by_key.get(f"{STORE}/{TWO_VERSIONS}", [])
    kinds = [(m["type"], m["version"]) for m in two]
    assert len({v for _, v in kinds}) == len(kinds) and kinds[-1][1] == max(v for _, v in kinds), kinds
    assert kinds[0][0] == "created" and all(t == "updated" for t, _ in kinds[1:]), kinds

    rows = h.psql(f"SELECT shop_order_id, version, state FROM ingested_orders "
                  f"WHERE store_id = {h.sql_literal(STORE)} ORDER BY shop_order_id").split()
    got = dict((r.split("|")[0], r.split("|")[1:]) for r in rows)
    assert len(got) == DISTINCT + 3, len(got)
    assert all(s == "sent" for _, s in got.values()), got
    assert int(got[str(TWO_VERSIONS)][0]) == kinds[-1][1], (got[str(TWO_VERSIONS)], kinds)
    receipts = h.psql(f"SELECT count(*) FROM webhook_receipts WHERE store_id = {h.sql_literal(STORE)}").strip()
    assert int(receipts) == len(sends) - 1, receipts  # every webhook id once (the repeated one once)


def test_orders_shared_transactions():
    count, total = metric("wb_order_batch_size_count"), metric("wb_order_batch_size_sum")
    assert count > 0 and total == DISTINCT + 4 + 2 + 2, (count, total)
    assert count < total, f"{count} transactions for {total} orders: none was shared"


def pg_address(dsn):
    return dsn.rsplit("@", 1)[-1].split("/", 1)[0]


def stack(action):
    """scripts/stack ACTION postgres; starting again is retried, since the
    port may still be held for a moment after the stop. Only the stack the
    test talks to: without WB_STATE_DIR and WB_STACK_*_PORT the script
    would stop the default one, which may be someone else's."""
    env = subprocess.run([str(h.ROOT / "scripts" / "stack"), "env", "postgres"], capture_output=True, text=True,
                         timeout=60).stdout
    theirs = [line.split("=", 1)[1] for line in env.splitlines() if line.startswith("WB_PG_DSN=")]
    assert theirs and pg_address(theirs[0]) == pg_address(os.environ["WB_PG_DSN"]), (
        f"scripts/stack manages postgres at {pg_address(theirs[0]) if theirs else '?'}, the test uses "
        f"{pg_address(os.environ['WB_PG_DSN'])}: set WB_STATE_DIR and WB_STACK_*_PORT for the stack")
    deadline = time.time() + 90
    while True:
        p = subprocess.run([str(h.ROOT / "scripts" / "stack"), action, "postgres"], capture_output=True,
                           text=True, timeout=120)
        if p.returncode == 0 or action != "up" or time.time() > deadline:
            assert p.returncode == 0, p.stderr
            return
        time.sleep(2)


def test_postgresql_down_503_then_taken():
    oid = BASE + 2000
    post("pg-warm", order_body(oid + 1))  # the store and its rules cached: the batch itself meets the outage
    assert W.replies["pg-warm"][0] == 200, W.replies["pg-warm"]
    stack("down")
    try:
        post("pg-down", order_body(oid))
    finally:
        stack("up")
    assert W.replies["pg-down"][0] == 503, W.replies["pg-down"]
    # counted as an order not taken for want of PostgreSQL: it reached the batch
    status, text = h.http("GET", f"http://127.0.0.1:{W.svc.port}/metrics")
    assert any(line.startswith("wb_orders_total{") and f'"{STORE}"' in line and 'outcome="db_unavailable"' in line
               for line in text.splitlines()), "no db_unavailable order counted"
    h.wait_for("the webhook taken once postgresql is back",
               lambda: post("pg-back", order_body(oid)) or W.replies["pg-back"][0] == 200, timeout=60,
               interval=1)
    assert W.replies["pg-back"][1]["status"] == "created", W.replies["pg-back"]
    msgs = h.consume("shop.orders.v1", f"{STORE}/{oid}", idle_seconds=5)
    assert [json.loads(v)["type"] for _, _, _, v in msgs] == ["created"], msgs


def test_connection_terminated_after_acks_row_recorded():
    """A trigger on ingested_orders makes the batch's own backend terminate
    itself (pg_terminate_backend, the FATAL a restart gives) the first time
    this order's row is written, i.e. after its message was acknowledged; a
    sequence counts across the rollback, so the retry's write goes through."""
    oid = BASE + 3000
    fault = f"oi_fault_{RUN}"
    h.psql(f"""CREATE SEQUENCE {fault};
CREATE FUNCTION {fault}() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  IF NEW.store_id = {h.sql_literal(STORE)} AND NEW.shop_order_id = '{oid}' AND nextval('{fault}') = 1 THEN
    PERFORM pg_terminate_backend(pg_backend_pid());
  END IF;
  RETURN NEW;
END $f$;
CREATE TRIGGER {fault} BEFORE INSERT ON ingested_orders FOR EACH ROW EXECUTE FUNCTION {fault}();""")
    before = metric("wb_order_commit_retries_total")
    try:
        post("terminated", order_body(oid))
        fired = int(h.psql(f"SELECT last_value FROM {fault}").strip())
    finally:
        h.psql(f"DROP TRIGGER {fault} ON ingested_orders; DROP FUNCTION {fault}(); DROP SEQUENCE {fault};")
    assert fired >= 2, f"the fault fired {fired} time(s): the write was not retried"
    assert W.replies["terminated"][0] == 200, W.replies["terminated"]
    assert W.replies["terminated"][1]["status"] == "created", W.replies["terminated"]
    assert metric("wb_order_commit_retries_total") > before, "no retry counted"
    row = h.psql(f"SELECT version, state FROM ingested_orders WHERE store_id = {h.sql_literal(STORE)} "
                 f"AND shop_order_id = '{oid}'").strip()
    assert row.endswith("|sent"), row
    msgs = h.consume("shop.orders.v1", f"{STORE}/{oid}", idle_seconds=5)
    assert [json.loads(v)["type"] for _, _, _, v in msgs] == ["created"], msgs
    assert str(json.loads(msgs[0][3])["version"]) == row.split("|")[0], (msgs, row)
    assert "terminating connection" in W.svc.output(), "the backend was not terminated"


def cleanup():
    if W.svc:
        h.assert_clean_stop(W.svc)
    h.psql(f"DELETE FROM stores WHERE id = {h.sql_literal(STORE)}")


def main():
    return R.run_module(setup, globals(), cleanup)


if __name__ == "__main__":
    sys.exit(main())
