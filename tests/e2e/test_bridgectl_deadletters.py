#!/usr/bin/env python3
"""bridgectl deadletters list|show|replay end to end: fulfilment-reporter
dead-letters a dispatch for a store the bridge does not know yet; the
operator finds it (filters), reads it in full, adds the store, replays it,
and the order is completed in the simulated WooCommerce shop. Replaying
twice needs --force; every replay is a row in PostgreSQL; usage errors exit
2 and failures 1 with their message."""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402

RUN = f"{os.getpid() % 100000}{int(time.time()) % 100000}"
STORE = f"dlwoo{RUN}"
GROUP = f"dl-e2e-{RUN}"
TOPIC = "wms.fulfilment.v1"
R = h.Reporter()


class World:
    sim = None
    reporter = None
    order = None
    event = None
    dl_id = None


W = World()


def ctl(*args, env_extra=None, drop=()):
    env = dict(os.environ, WB_MASTER_KEY=h.MASTER_KEY)
    env.update(env_extra or {})
    for name in drop:
        env.pop(name, None)
    return subprocess.run([str(h.BUILD / "bin" / "bridgectl"), *args], env=env, capture_output=True, text=True,
                          timeout=120)


def expect_error(p, code, message):
    assert p.returncode == code, f"exit {p.returncode} (wanted {code}): {p.stdout} {p.stderr}"
    assert message in p.stderr, f"stderr lacks {message!r}: {p.stderr!r}"


def mine():
    return json.loads(h.bridgectl("deadletters", "list", "--store", STORE, "--json"))


def setup():
    W.sim = h.Shopsim()
    h.bridgectl("db", "migrate")
    W.sim.call("POST", "/_sim/stores", {"id": STORE, "platform": "woocommerce"})
    products = W.sim.call("POST", f"/_sim/stores/{STORE}/seed",
                          {"products": 1, "variants": 1, "stock": 20, "sku_prefix": f"D{RUN}"})
    sku = products[0]["variants"][0]["sku"]
    W.order = W.sim.call("POST", f"/_sim/stores/{STORE}/orders",
                         {"lines": [{"sku": sku, "quantity": 1, "price": "10.00"}], "email": "k@example.com",
                          "shipping_method": {"code": "flat_rate", "title": "Flat rate", "total": "4.90"}})
    p = subprocess.run([str(h.BUILD / "bin" / "testkafka"), "seek-end", TOPIC, GROUP],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    W.reporter = h.service("fulfilment-reporter", {"WB_FULFIL_GROUP": GROUP, "WB_FULFIL_RETRY_MS": "300",
                                                   "WB_FULFIL_RETRY_MAX_MS": "1000"})


def test_dead_letter_of_a_real_service_is_listed():
    line = W.order["lines"][0]
    W.event = {"type": "dispatched", "store_id": STORE, "order_id": str(W.order["id"]),
               "occurred_at": "2026-11-25T10:00:00Z",
               "shipments": [{"id": "S1", "carrier": "dhl", "tracking_number": f"DL{RUN}",
                              "lines": [{"line_id": str(line["id"]), "sku": line["sku"], "quantity": 1}]}]}
    # The store is not in the bridge yet: fulfilment-reporter gives up on it.
    h.produce(TOPIC, [(f"{STORE}/{W.order['id']}", W.event)])
    letters = h.wait_for("the dead letter", lambda: mine(), 60, 1)
    assert len(letters) == 1, letters
    dl = letters[0]
    assert dl["service"] == "fulfilment-reporter" and dl["reason"] == f"unknown store {STORE}", dl
    assert dl["source"]["kind"] == "kafka" and dl["source"]["topic"] == TOPIC, dl
    assert dl["key"] == f"{STORE}/{W.order['id']}" and dl["replays"] == 0, dl
    W.dl_id = dl["id"]
    human = h.bridgectl("deadletters", "list", "--store", STORE)
    assert f"unknown store {STORE}" in human and f"{TOPIC}[{dl['source']['partition']}]" in human, human


def test_list_filters():
    ids = lambda *a: [d["id"] for d in json.loads(h.bridgectl("deadletters", "list", "--json", *a))]  # noqa: E731
    assert W.dl_id in ids("--source", TOPIC), "--source wms.fulfilment.v1"
    assert W.dl_id not in ids("--source", "wms.stock.v1"), "--source wms.stock.v1"
    assert W.dl_id in ids("--since", "1h"), "--since 1h"
    assert W.dl_id not in ids("--since", "2099-01-01T00:00:00Z"), "--since 2099"
    assert ids("--store", f"nothere{RUN}") == [], "--store nothere"


def test_show_gives_the_whole_letter():
    shown = json.loads(h.bridgectl("deadletters", "show", str(W.dl_id), "--json"))
    assert json.loads(shown["payload"]) == W.event, shown
    assert shown["reason"] == f"unknown store {STORE}" and shown["store_id"] == STORE, shown
    src = shown["source"]
    assert src["topic"] == TOPIC and src["partition"] >= 0 and src["offset"] >= 0, src
    assert shown["original_size"] == len(shown["payload"].encode()), shown
    # The source position is where the event really is on the topic.
    at = [v for (p, o, k, v) in h.consume(TOPIC, f"{STORE}/", idle_seconds=2)
          if p == src["partition"] and o == src["offset"]]
    assert at and json.loads(at[0]) == W.event, at
    human = h.bridgectl("deadletters", "show", str(W.dl_id))
    assert f"reason      unknown store {STORE}" in human and f"DL{RUN}" in human, human


def test_replay_after_the_cause_is_fixed():
    creds = json.dumps({"consumer_key": f"ck_{STORE}", "consumer_secret": f"cs_{STORE}",
                        "webhook_secret": "shopsim-secret"})
    h.bridgectl("store", "add", STORE, "--platform", "woocommerce", "--url", f"{W.sim.base}/{STORE}",
                "--owner", f"dlown{RUN}", "--credentials", "-", stdin=creds)
    out = h.bridgectl("deadletters", "replay", str(W.dl_id), "--by", f"op{RUN}")
    assert f"dead letter {W.dl_id} replayed to {TOPIC}" in out and f"by op{RUN}" in out, out
    oid = W.order["id"]
    h.wait_for("completed in the shop",
               lambda: W.sim.call("GET", f"/_sim/stores/{STORE}/orders/{oid}")["status"] == "completed", 60, 0.5)
    row = h.psql(f"SELECT replayed_by, target_topic, replayed_at > now() - interval '5 minutes' "
                 f"FROM deadletter_replays WHERE deadletter_id = {int(W.dl_id)}").strip()
    assert row == f"op{RUN}|{TOPIC}|t", row
    shown = json.loads(h.bridgectl("deadletters", "show", str(W.dl_id), "--json"))
    assert shown["replays"] == 1 and shown["replay_history"][0]["by"] == f"op{RUN}", shown
    # No new dead letter: the replay was processed.
    assert len(mine()) == 1, mine()


def test_second_replay_needs_force():
    expect_error(ctl("deadletters", "replay", str(W.dl_id)), 1, "already replayed")
    p = ctl("deadletters", "replay", str(W.dl_id), "--force", "--by", f"op{RUN}")
    assert p.returncode == 0, p.stderr
    n = h.psql(f"SELECT count(*) FROM deadletter_replays WHERE deadletter_id = {int(W.dl_id)}").strip()
    assert n == "2", n


def test_webhook_letters_and_foreign_messages():
    letter = {"reason": "bad signature", "service": "order-ingest", "store_id": f"hook{RUN}",
              "source": {"kind": "webhook", "path": "/webhooks/woocommerce/x"}, "key": None,
              "original_base64": "e30=", "original_size": 2, "dead_at": "2026-11-25T10:00:00.000Z"}
    h.produce("bridge.deadletter.v1", [(f"hook{RUN}", letter), (f"junk{RUN}", f"not json {RUN}")])
    listed = h.wait_for("the webhook letter",
                        lambda: json.loads(h.bridgectl("deadletters", "list", "--store", f"hook{RUN}", "--json")),
                        60, 1)
    expect_error(ctl("deadletters", "replay", str(listed[0]["id"])), 1,
                 "came from webhook /webhooks/woocommerce/x, not from a topic")
    # A message that is no dead letter is listed too, never skipped.
    junk = [d for d in json.loads(h.bridgectl("deadletters", "list", "--json")) if d["source"]["kind"] == "unreadable"]
    shown = [json.loads(h.bridgectl("deadletters", "show", str(d["id"]), "--json")) for d in junk[-3:]]
    assert any(s.get("payload") == f"not json {RUN}" for s in shown), shown


def test_errors():
    cases = [
        (ctl("deadletters", "show", "999999999"), 1, "no dead letter 999999999"),
        (ctl("deadletters", "replay", "999999999"), 1, "no dead letter 999999999"),
        (ctl("deadletters", "show", "abc"), 2, "expected a number"),
        (ctl("deadletters", "show"), 2, "usage: bridgectl deadletters show ID"),
        (ctl("deadletters", "replay"), 2, "usage: bridgectl deadletters replay ID [--force] [--by NAME]"),
        (ctl("deadletters", "list", "--since", "yesterday-ish"), 2, "--since 'yesterday-ish': expected a duration"),
        (ctl("deadletters", "list", "--bogus"), 2, "unknown option --bogus"),
        (ctl("deadletters", "list", drop=("WB_KAFKA_BROKERS",)), 2, "WB_KAFKA_BROKERS"),
        (ctl("deadletters", "list", env_extra={"WB_KAFKA_BROKERS": "127.0.0.1:1"}), 1, "bridgectl: kafka:"),
    ]
    for i, (proc, code, message) in enumerate(cases):
        try:
            expect_error(proc, code, message)
        except AssertionError as exc:
            raise AssertionError(f"case {i}: {exc}") from None


def test_graceful_stop_exits_0():
    process, W.reporter = W.reporter, None
    h.assert_clean_stop(process)


def cleanup():
    if W.reporter:
        W.reporter.stop()
        W.reporter.cleanup()
    if W.sim:
        W.sim.close()
    h.psql(f"DELETE FROM stores WHERE id = {h.sql_literal(STORE)}")


def main():
    return R.run_module(setup, globals(), cleanup)


if __name__ == "__main__":
    sys.exit(main())
