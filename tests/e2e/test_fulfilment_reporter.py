#!/usr/bin/env python3
"""The fulfilment path end to end: wms.fulfilment.v1 on the real broker ->
fulfilment-reporter (real PostgreSQL) -> simulated WooCommerce and Shopify
stores. Each case reads the order back from shopsim's control API
(fulfillments, notes, trackings, refunds) and the bridge's records."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402

RUN = f"{os.getpid() % 100000}{int(time.time()) % 100000}"
OWNER = f"frown{RUN}"
WT, WN, WC, SP = f"frwt{RUN}", f"frwn{RUN}", f"frwc{RUN}", f"frsp{RUN}"
SR = f"frsr{RUN}"  # Shopify with return rules and automatic closing
GROUP = f"fulfil-e2e-{RUN}"
TOPIC = "wms.fulfilment.v1"
R = h.Reporter()


class World:
    sim = None
    reporter = None
    skus = {}  # store -> [sku, ...]


W = World()


def start_reporter(extra=None):
    env = {"WB_FULFIL_GROUP": GROUP, "WB_FULFIL_RETRY_MS": "300", "WB_FULFIL_RETRY_MAX_MS": "1000",
           "WB_LOG_LEVEL": "info"}
    env.update(extra or {})
    return h.service("fulfilment-reporter", env)


def place(store, lines, shipping="4.90"):
    """lines: (sku index, quantity, price) -> the order detail."""
    body = {"lines": [{"sku": W.skus[store][i], "quantity": q, "price": p} for i, q, p in lines],
            "email": "kund@example.com",
            "shipping_method": {"code": "flat_rate", "title": "Flat rate", "total": shipping}}
    return W.sim.call("POST", f"/_sim/stores/{store}/orders", body)


def order(store, oid):
    return W.sim.call("GET", f"/_sim/stores/{store}/orders/{oid}")


def event(store, oid, kind, shipments=None, returns=None):
    ev = {"type": kind, "store_id": store, "order_id": str(oid), "occurred_at": "2026-11-25T10:00:00Z"}
    if shipments:
        ev["shipments"] = shipments
    if returns:
        ev["returns"] = returns
    return (f"{store}/{oid}", ev)


def shipment(sid, lines, number=None, carrier="dhl"):
    s = {"id": sid, "carrier": carrier, "lines": [{"line_id": str(l["id"]), "sku": l["sku"], "quantity": q}
                                                   for l, q in lines]}
    if number:
        s["tracking_number"] = number
        s["tracking_url"] = f"https://track.example/{number}"
    return s


def marked_notes(o, marker):
    return [n for n in o["notes"] if marker in n["note"]]


def report_state(store, oid, kind, rid):
    return h.psql(f"SELECT state FROM fulfilment_reports WHERE store_id = {h.sql_literal(store)} "
                  f"AND shop_order_id = '{oid}' AND kind = '{kind}' AND report_id = {h.sql_literal(rid)}").strip()


def setup():
    W.sim = h.Shopsim()
    base = W.sim.base
    # Stores of earlier runs of this test would point at a shopsim that is gone.
    h.bridgectl("db", "migrate")
    h.psql("DELETE FROM stores WHERE id ~ '^fr(wt|wn|wc|sp|sr)[0-9]+$'")
    for store, platform, tracking in ((WT, "woocommerce", True), (WN, "woocommerce", False),
                                      (WC, "woocommerce", False), (SP, "shopify", False),
                                      (SR, "shopify", False)):
        W.sim.call("POST", "/_sim/stores", {"id": store, "platform": platform, "shipment_tracking": tracking})
        products = W.sim.call("POST", f"/_sim/stores/{store}/seed",
                              {"products": 3, "variants": 1, "stock": 50, "sku_prefix": f"F{store}"})
        W.skus[store] = [p["variants"][0]["sku"] for p in products]
        if platform == "shopify":
            creds = f'{{"access_token":"shpat_{store}","api_secret":"shopsim-secret"}}'
        else:
            creds = f'{{"consumer_key":"ck_{store}","consumer_secret":"cs_{store}","webhook_secret":"shopsim-secret"}}'
        h.bridgectl("store", "add", store, "--platform", platform, "--url", f"{base}/{store}", "--owner", OWNER,
                    "--credentials", "-", stdin=creds)
    h.bridgectl("store", "set", WT, "shipment_tracking", "true")
    h.bridgectl("store", "set", WC, "note_visibility", "customer")
    h.psql(f"INSERT INTO return_reason_rules (store_id, reason_code, refund_shipping) "
           f"VALUES ({h.sql_literal(WT)}, 'damaged', true), ({h.sql_literal(WT)}, 'unwanted', false)")
    # SR through bridgectl: the rules and options the reporter reads.
    h.bridgectl("fulfilment", "reason", SR, "damaged", "refund_shipping")
    h.bridgectl("fulfilment", "reason", SR, "unwanted", "keep_shipping")
    h.bridgectl("fulfilment", "set", SR, "auto_close", "true")
    # Start where the topic ends now: events of other runs are not ours.
    p = h.subprocess.run([str(h.BUILD / "bin" / "testkafka"), "seek-end", TOPIC, GROUP],
                         capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    W.reporter = start_reporter()


def test_state_recorded_for_order_ingest_and_stock_path():
    o = place(WN, [(0, 2, "10.00")])
    oid = o["id"]
    h.psql(f"INSERT INTO ingested_orders (store_id, shop_order_id, version, last_event_id, state, open_quantities) "
           f"VALUES ({h.sql_literal(WN)}, '{oid}', '1', 'e1', 'sent', '{{\"{W.skus[WN][0]}\": 2}}')")
    row = f"SELECT state || ' ' || open_quantities::text FROM ingested_orders WHERE store_id = {h.sql_literal(WN)} " \
          f"AND shop_order_id = '{oid}'"
    h.produce(TOPIC, [event(WN, oid, "accepted")])
    h.wait_for("accepted", lambda: h.psql(row).strip() == "accepted {}", 30, 0.2)
    h.produce(TOPIC, [event(WN, oid, "picking_started")])
    h.wait_for("picking", lambda: h.psql(row).strip() == "picking {}", 30, 0.2)
    # A late `accepted` (redelivery) never moves the state back.
    h.produce(TOPIC, [event(WN, oid, "accepted"), event(WN, oid, "packed")])
    h.produce(TOPIC, [event(WN, oid, "cancelled")])
    h.wait_for("cancelled", lambda: h.psql(row).strip() == "cancelled {}", 30, 0.2)


def test_woocommerce_with_extension_gets_tracking_and_completed():
    o = place(WT, [(0, 1, "20.00"), (1, 2, "5.00")])
    oid, lines = o["id"], o["lines"]
    s = shipment("S1", [(lines[0], 1), (lines[1], 2)], number=f"JJD{RUN}1")
    h.produce(TOPIC, [event(WT, oid, "accepted"), event(WT, oid, "dispatched", [s])])
    got = h.wait_for("completed", lambda: (lambda d: d if d["status"] == "completed" else None)(order(WT, oid)),
                     30, 0.2)
    assert len(got["trackings"]) == 1, got["trackings"]
    t = got["trackings"][0]
    assert t["tracking_number"] == f"JJD{RUN}1" and t["tracking_provider"] == "dhl", t
    assert t["tracking_link"] == f"https://track.example/JJD{RUN}1" and t["date_shipped"] == "2026-11-25", t
    assert not marked_notes(got, "[shipment"), got["notes"]
    assert report_state(WT, oid, "shipment", "S1") == "done"


def test_woocommerce_without_extension_gets_private_note_once():
    o = place(WN, [(1, 1, "12.00")])
    oid, lines = o["id"], o["lines"]
    s = shipment("S1", [(lines[0], 1)], number=f"PN{RUN}")
    h.produce(TOPIC, [event(WN, oid, "dispatched", [s])])
    h.wait_for("completed", lambda: order(WN, oid)["status"] == "completed", 30, 0.2)
    # Redelivered, then a tracking update behind it on the same key: once the
    # update's note is there, the redelivery has been handled.
    s2 = shipment("S1", [(lines[0], 1)], number=f"PN{RUN}X")
    h.produce(TOPIC, [event(WN, oid, "dispatched", [s]), event(WN, oid, "tracking_updated", [s2])])
    h.wait_for("update note", lambda: marked_notes(order(WN, oid), f"[shipment S1#PN{RUN}X]"), 30, 0.2)
    got = order(WN, oid)
    notes = marked_notes(got, "[shipment S1]")
    assert len(notes) == 1, got["notes"]
    assert f"PN{RUN}" in notes[0]["note"] and f"https://track.example/PN{RUN}" in notes[0]["note"], notes
    assert notes[0]["customer_note"] is False, notes
    assert not got["trackings"], got["trackings"]


def test_woocommerce_calls_draw_from_the_store_rate_budget():
    """The reporter's WooCommerce requests draw from the store's budget shared
    in Redis with the other services: at rate_limit_rps 1 the order's calls
    go out about a second apart."""
    import datetime
    h.bridgectl("store", "set", WN, "rate_limit_rps", "1")
    try:
        o = place(WN, [(2, 1, "9.00")])
        oid, lines = o["id"], o["lines"]
        calls = W.sim.call("GET", f"/_sim/stores/{WN}/calls")
        since = calls[-1]["seq"] if calls else 0
        s = shipment("S1", [(lines[0], 1)], number=f"RB{RUN}")
        h.produce(TOPIC, [event(WN, oid, "accepted"), event(WN, oid, "dispatched", [s])])
        h.wait_for("completed", lambda: order(WN, oid)["status"] == "completed", 30, 0.2)
        mine = [c for c in W.sim.call("GET", f"/_sim/stores/{WN}/calls?since={since}")
                if f"/orders/{oid}" in c["path"]]
        assert len(mine) >= 2, mine
        at = [datetime.datetime.fromisoformat(c["at"].replace("Z", "+00:00")) for c in mine]
        gaps = [(b - a).total_seconds() for a, b in zip(at, at[1:])]
        assert min(gaps) >= 0.8, (gaps, mine)
    finally:
        h.bridgectl("store", "set", WN, "rate_limit_rps", "10")


def test_woocommerce_customer_note_when_configured():
    o = place(WC, [(0, 1, "9.00")])
    oid, lines = o["id"], o["lines"]
    h.produce(TOPIC, [event(WC, oid, "dispatched", [shipment("P1", [(lines[0], 1)], carrier="postnord")])])
    got = h.wait_for("note", lambda: (lambda d: d if marked_notes(d, "[shipment P1]") else None)(order(WC, oid)),
                     30, 0.2)
    note = marked_notes(got, "[shipment P1]")[0]
    assert note["customer_note"] is True, note
    assert note["note"].startswith("Shipped with postnord"), note


def test_shopify_partial_shipment_then_the_rest():
    o = place(SP, [(0, 3, "10.00"), (1, 1, "25.00")])
    oid, lines = o["id"], o["lines"]
    a, b = lines
    first = shipment("S1", [(a, 1)], number=f"UPS{RUN}1", carrier="UPS")
    h.produce(TOPIC, [event(SP, oid, "accepted"), event(SP, oid, "dispatched", [first])])
    got = h.wait_for("first fulfillment", lambda: (lambda d: d if d["fulfillments"] else None)(order(SP, oid)), 30, 0.2)
    assert len(got["fulfillments"]) == 1, got["fulfillments"]
    f = got["fulfillments"][0]
    assert f["number"] == f"UPS{RUN}1" and f["company"] == "UPS" and f["url"].endswith(f"UPS{RUN}1"), f
    by_line = {l["id"]: l for l in got["lines"]}
    assert by_line[a["id"]]["fulfilled"] == 1 and by_line[b["id"]]["fulfilled"] == 0, got["lines"]
    assert got["fulfillment_status"] != "FULFILLED", got["fulfillment_status"]
    second = shipment("S2", [(a, 2), (b, 1)], number=f"UPS{RUN}2", carrier="UPS")
    h.produce(TOPIC, [event(SP, oid, "dispatched", [second]), event(SP, oid, "dispatched", [first])])
    got = h.wait_for("second fulfillment", lambda: (lambda d: d if len(d["fulfillments"]) >= 2 else None)(order(SP, oid)),
                     30, 0.2)
    # A tracking update of S2 behind them: it must change S2's fulfilment, not add one.
    upd = shipment("S2", [(a, 2), (b, 1)], number=f"UPS{RUN}2B", carrier="UPS")
    h.produce(TOPIC, [event(SP, oid, "tracking_updated", [upd])])
    got = h.wait_for("tracking updated",
                     lambda: (lambda d: d if any(f["number"] == f"UPS{RUN}2B" for f in d["fulfillments"]) else None)(
                         order(SP, oid)), 30, 0.2)
    assert len(got["fulfillments"]) == 2, got["fulfillments"]
    assert all(l["fulfilled"] == l["quantity"] for l in got["lines"]), got["lines"]
    assert got["fulfillment_status"] == "FULFILLED", got["fulfillment_status"]
    assert report_state(SP, oid, "shipment", "S1") == "done" and report_state(SP, oid, "shipment", "S2") == "done"


def test_kill9_between_shop_call_and_record_sends_no_second_note():
    o = place(WN, [(2, 1, "7.50")])
    oid, lines = o["id"], o["lines"]
    W.reporter.stop()
    W.reporter.cleanup()
    W.reporter = start_reporter({"WB_FULFIL_TEST_DIE_AFTER_SEND": "1"})
    h.produce(TOPIC, [event(WN, oid, "dispatched", [shipment("K1", [(lines[0], 1)], number=f"K{RUN}")])])
    h.wait_for("the reporter killed itself", lambda: W.reporter.proc.poll() is not None, 60, 0.2)
    assert W.reporter.proc.returncode == -9, W.reporter.proc.returncode
    assert len(marked_notes(order(WN, oid), "[shipment K1]")) == 1
    assert report_state(WN, oid, "shipment", "K1") == "pending"
    W.reporter.cleanup()
    W.reporter = start_reporter()
    h.wait_for("report done", lambda: report_state(WN, oid, "shipment", "K1") == "done", 60, 0.2)
    got = h.wait_for("completed", lambda: (lambda d: d if d["status"] == "completed" else None)(order(WN, oid)), 30, 0.2)
    assert len(marked_notes(got, "[shipment K1]")) == 1, got["notes"]


def test_shopify_kill9_between_call_and_record_fulfils_once():
    o = place(SP, [(2, 2, "8.00")])
    oid, lines = o["id"], o["lines"]
    W.reporter.stop()
    W.reporter.cleanup()
    W.reporter = start_reporter({"WB_FULFIL_TEST_DIE_AFTER_SEND": "1"})
    h.produce(TOPIC, [event(SP, oid, "dispatched", [shipment("K1", [(lines[0], 1)], number=f"SK{RUN}")])])
    h.wait_for("the reporter killed itself", lambda: W.reporter.proc.poll() is not None, 60, 0.2)
    assert W.reporter.proc.returncode == -9, W.reporter.proc.returncode
    assert report_state(SP, oid, "shipment", "K1") == "pending"
    W.reporter.cleanup()
    W.reporter = start_reporter()
    h.wait_for("report done", lambda: report_state(SP, oid, "shipment", "K1") == "done", 60, 0.2)
    got = order(SP, oid)
    assert len(got["fulfillments"]) == 1 and got["fulfillments"][0]["number"] == f"SK{RUN}", got["fulfillments"]
    assert got["lines"][0]["fulfilled"] == 1, got["lines"]


def report_ref(store, oid, kind, rid):
    return h.psql(f"SELECT shop_reference FROM fulfilment_reports WHERE store_id = {h.sql_literal(store)} "
                  f"AND shop_order_id = '{oid}' AND kind = '{kind}' AND report_id = {h.sql_literal(rid)}").strip()


def kill9_untracked_shipment(oid, sid, line):
    """Dispatches one unit of line without a tracking number; the reporter
    dies after fulfillmentCreate and before its record, then comes back."""
    W.reporter.stop()
    W.reporter.cleanup()
    W.reporter = start_reporter({"WB_FULFIL_TEST_DIE_AFTER_SEND": "1"})
    h.produce(TOPIC, [event(SP, oid, "dispatched", [shipment(sid, [(line, 1)])])])
    h.wait_for("the reporter killed itself", lambda: W.reporter.proc.poll() is not None, 60, 0.2)
    assert W.reporter.proc.returncode == -9, W.reporter.proc.returncode
    assert report_state(SP, oid, "shipment", sid) == "pending"
    W.reporter.cleanup()
    W.reporter = start_reporter()
    h.wait_for("report done", lambda: report_state(SP, oid, "shipment", sid) == "done", 60, 0.2)


def test_shopify_untracked_shipments_killed_after_the_call_fulfil_once_each():
    # fulfillmentCreate takes no idempotency key (shopsim, like Shopify,
    # ignores one there): the read-back by exact lines keeps each single, and
    # a fulfillment claimed by one shipment is not taken for another alike.
    o = place(SP, [(2, 3, "8.00")])
    oid, lines = o["id"], o["lines"]
    kill9_untracked_shipment(oid, "U1", lines[0])
    got = order(SP, oid)
    assert len(got["fulfillments"]) == 1 and got["lines"][0]["fulfilled"] == 1, got
    kill9_untracked_shipment(oid, "U2", lines[0])
    got = order(SP, oid)
    assert len(got["fulfillments"]) == 2 and got["lines"][0]["fulfilled"] == 2, got
    refs = {report_ref(SP, oid, "shipment", "U1"), report_ref(SP, oid, "shipment", "U2")}
    assert len(refs) == 2 and all(refs), refs


def test_return_waits_for_completed_then_refunds_the_right_lines():
    o = place(WT, [(0, 2, "10.00"), (1, 1, "30.00"), (2, 1, "5.00")], shipping="4.90")
    oid, lines = o["id"], o["lines"]
    a, b, c = lines
    ret = {"id": "R1", "reason_code": "damaged",
           "lines": [{"line_id": str(a["id"]), "sku": a["sku"], "quantity": 1, "restock": True},
                     {"line_id": str(b["id"]), "sku": b["sku"], "quantity": 1, "restock": False}]}
    h.produce(TOPIC, [event(WT, oid, "returned", returns=[ret])])
    h.wait_for("held while processing", lambda: report_state(WT, oid, "refund", "R1/restock") == "" and
               "waiting for the order to be completed" in W.reporter.output(), 30, 0.2)
    assert not order(WT, oid)["refunds"]
    W.sim.call("PATCH", f"/_sim/stores/{WT}/orders/{oid}", {"status": "completed"})
    got = h.wait_for("refunds", lambda: (lambda d: d if len(d["refunds"]) == 2 else None)(order(WT, oid)), 30, 0.2)
    by_restock = {r["restock"]: r for r in got["refunds"]}
    assert [(l["line_id"], l["quantity"]) for l in by_restock[True]["lines"]] == [(a["id"], 1)], by_restock
    assert [(l["line_id"], l["quantity"]) for l in by_restock[False]["lines"]] == [(b["id"], 1)], by_restock
    # 'damaged' refunds shipping: with the first refund of the return.
    assert by_restock[True]["amount"] == "14.90" and by_restock[False]["amount"] == "30.00", by_restock
    by_line = {l["id"]: l for l in got["lines"]}
    assert by_line[a["id"]]["refunded"] == 1 and by_line[b["id"]]["refunded"] == 1 and by_line[c["id"]]["refunded"] == 0
    # 'unwanted' does not refund shipping; redelivering R1 refunds nothing again.
    ret2 = {"id": "R2", "reason_code": "unwanted",
            "lines": [{"line_id": str(c["id"]), "sku": c["sku"], "quantity": 1, "restock": True}]}
    h.produce(TOPIC, [event(WT, oid, "returned", returns=[ret]), event(WT, oid, "returned", returns=[ret2])])
    got = h.wait_for("third refund", lambda: (lambda d: d if len(d["refunds"]) >= 3 else None)(order(WT, oid)), 30, 0.2)
    assert len(got["refunds"]) == 3, got["refunds"]
    r2 = [r for r in got["refunds"] if r["lines"] and r["lines"][0]["line_id"] == c["id"]]
    assert len(r2) == 1 and r2[0]["amount"] == "5.00", got["refunds"]
    # Another 'damaged' return: its line, but the shipping was refunded by R1.
    ret3 = {"id": "R3", "reason_code": "damaged",
            "lines": [{"line_id": str(a["id"]), "sku": a["sku"], "quantity": 1, "restock": False}]}
    h.produce(TOPIC, [event(WT, oid, "returned", returns=[ret3])])
    got = h.wait_for("fourth refund", lambda: (lambda d: d if len(d["refunds"]) >= 4 else None)(order(WT, oid)),
                     30, 0.2)
    assert len(got["refunds"]) == 4 and got["refunds"][-1]["amount"] == "10.00", got["refunds"]


def available(store, sku):
    return sum(r["available"] for r in W.sim.call("GET", f"/_sim/stores/{store}/stock?sku={sku}"))


def ret_line(line, quantity, restock):
    return {"line_id": str(line["id"]), "sku": line["sku"], "quantity": quantity, "restock": restock}


def shipped_shopify_order(lines, sid):
    """A Shopify order on SR, fully dispatched through the reporter."""
    o = place(SR, lines)
    oid = o["id"]
    h.produce(TOPIC, [event(SR, oid, "dispatched", [shipment(sid, [(l, l["quantity"]) for l in o["lines"]],
                                                             number=f"{sid}{RUN}")])])
    h.wait_for("fulfilled", lambda: order(SR, oid)["fulfillment_status"] == "FULFILLED", 60, 0.2)
    return o


def test_shopify_fully_fulfilled_order_is_closed_when_the_store_asks():
    o = shipped_shopify_order([(0, 1, "10.00")], f"C{RUN}")
    h.wait_for("closed", lambda: order(SR, o["id"])["closed"], 60, 0.2)
    # A store without automatic closing keeps its orders open.
    p = place(SP, [(0, 1, "10.00")])
    h.produce(TOPIC, [event(SP, p["id"], "dispatched", [shipment(f"NC{RUN}", [(p["lines"][0], 1)])])])
    h.wait_for("fulfilled", lambda: order(SP, p["id"])["fulfillment_status"] == "FULFILLED", 60, 0.2)
    assert report_state(SP, p["id"], "shipment", f"NC{RUN}") == "done"
    assert not order(SP, p["id"])["closed"]


def test_shopify_return_refunds_lines_restocks_per_flag_and_shipping_once():
    # SR's skus have no product mapping: the bridge does not publish their
    # stock, so the WMS's restock flag goes to the shop as it is.
    o = shipped_shopify_order([(0, 2, "10.00"), (1, 1, "30.00"), (2, 1, "5.00")], f"RS{RUN}")
    oid = o["id"]
    a, b, c = o["lines"]
    stock = {l["sku"]: available(SR, l["sku"]) for l in (a, b, c)}
    r1 = {"id": f"R1-{RUN}", "reason_code": "damaged", "lines": [ret_line(a, 1, True), ret_line(b, 1, False)]}
    h.produce(TOPIC, [event(SR, oid, "returned", returns=[r1])])
    got = h.wait_for("first refund", lambda: (lambda d: d if d["refunds"] else None)(order(SR, oid)), 60, 0.2)
    assert len(got["returns"]) == 1 and got["returns"][0]["status"] == "CLOSED", got["returns"]
    # 10.00 + 30.00 and, for 'damaged', the 4.90 shipping.
    assert [r["amount"] for r in got["refunds"]] == ["44.90"], got["refunds"]
    by_line = {l["id"]: l for l in got["lines"]}
    assert (by_line[a["id"]]["refunded"], by_line[b["id"]]["refunded"], by_line[c["id"]]["refunded"]) == (1, 1, 0)
    assert (by_line[a["id"]]["returned"], by_line[b["id"]]["returned"]) == (1, 1), got["lines"]
    assert available(SR, a["sku"]) == stock[a["sku"]] + 1, "restock flag true: back on stock"
    assert available(SR, b["sku"]) == stock[b["sku"]], "restock flag false: not on stock"
    h.wait_for("report done", lambda: report_state(SR, oid, "return", r1["id"]) == "done", 60, 0.2)
    # A second shipping-refunding return and a redelivery of the first: the
    # lines only, once each.
    r2 = {"id": f"R2-{RUN}", "reason_code": "damaged", "lines": [ret_line(c, 1, True)]}
    h.produce(TOPIC, [event(SR, oid, "returned", returns=[r1]), event(SR, oid, "returned", returns=[r2])])
    h.wait_for("second return done", lambda: report_state(SR, oid, "return", r2["id"]) == "done", 60, 0.2)
    got = order(SR, oid)
    assert [r["amount"] for r in got["refunds"]] == ["44.90", "5.00"], got["refunds"]
    assert len(got["returns"]) == 2, got["returns"]
    assert available(SR, c["sku"]) == stock[c["sku"]] + 1
    # Returned and processed: the order is closed again (a return reopens it).
    assert got["closed"], got


def map_sku(store, sku):
    """A product mapping: with the store's stock_sync on, stock-publisher
    publishes this sku's stock to the shop from the WMS's level."""
    h.psql(f"INSERT INTO product_mappings (store_id, shop_product_id, sku) "
           f"VALUES ({h.sql_literal(store)}, {h.sql_literal('m-' + sku)}, {h.sql_literal(sku)})")


def unmap_sku(store, sku):
    h.psql(f"DELETE FROM product_mappings WHERE store_id = {h.sql_literal(store)} AND sku = {h.sql_literal(sku)}")


def send_stock_value(store, sku, value):
    """What stock-publisher does once the WMS has the returned item back on
    stock: set the shop's value (shopsim's first location) from the level."""
    W.sim.call("POST", f"/_sim/stores/{store}/stock", {"sku": sku, "quantity": value})


def test_woocommerce_return_of_published_stock_is_raised_once_by_the_stock_value():
    o = place(WT, [(2, 2, "7.00"), (1, 1, "3.00")])
    oid, (line, other) = o["id"], o["lines"]
    sku = line["sku"]
    W.sim.call("PATCH", f"/_sim/stores/{WT}/orders/{oid}", {"status": "completed"})
    map_sku(WT, sku)
    try:
        before, before_other = available(WT, sku), available(WT, other["sku"])
        # The WMS takes the item back on stock: the stock path sends the
        # raised value first (the reporter is behind, as in the chaos run).
        send_stock_value(WT, sku, before + 1)
        # Both lines restocked by the WMS; `other` is not published by the
        # bridge, but one refund restocks all its lines or none: none.
        r = {"id": f"RP-{RUN}", "reason_code": "unwanted", "lines": [ret_line(line, 1, True), ret_line(other, 1, True)]}
        h.produce(TOPIC, [event(WT, oid, "returned", returns=[r])])
        h.wait_for("refund done", lambda: report_state(WT, oid, "refund", r["id"]) == "done", 60, 0.2)
        got = order(WT, oid)
        assert [(x["restock"], x["amount"]) for x in got["refunds"]] == [(False, "10.00")], got["refunds"]
        assert available(WT, sku) == before + 1, "raised once, by the stock value"
        assert available(WT, other["sku"]) == before_other, "a mixed refund restocks nothing in the shop"
        assert "not restocked in the shop" in W.reporter.output()
    finally:
        unmap_sku(WT, sku)


def test_shopify_return_of_published_stock_is_raised_once_by_the_stock_value():
    o = shipped_shopify_order([(2, 2, "5.00"), (1, 1, "3.00")], f"RP{RUN}")
    oid, (line, other) = o["id"], o["lines"]
    sku = line["sku"]
    map_sku(SR, sku)
    try:
        before, before_other = available(SR, sku), available(SR, other["sku"])
        first = W.sim.call("GET", f"/_sim/stores/{SR}/stock?sku={sku}")[0]["available"]
        send_stock_value(SR, sku, first + 1)
        r = {"id": f"RP-{RUN}", "reason_code": "unwanted", "lines": [ret_line(line, 1, True), ret_line(other, 1, True)]}
        h.produce(TOPIC, [event(SR, oid, "returned", returns=[r])])
        h.wait_for("return done", lambda: report_state(SR, oid, "return", r["id"]) == "done", 60, 0.2)
        got = order(SR, oid)
        assert [x["amount"] for x in got["refunds"]] == ["8.00"], got["refunds"]
        assert [l["returned"] for l in got["lines"]] == [1, 1], got["lines"]
        assert available(SR, sku) == before + 1, "raised once, by the stock value (NOT_RESTOCKED)"
        # Per line on Shopify: the sku the bridge does not publish is RESTOCKED.
        assert available(SR, other["sku"]) == before_other + 1
    finally:
        unmap_sku(SR, sku)


def test_store_without_stock_sync_restocks_in_the_shop():
    o = place(WC, [(0, 1, "9.00")])
    oid, line = o["id"], o["lines"][0]
    W.sim.call("PATCH", f"/_sim/stores/{WC}/orders/{oid}", {"status": "completed"})
    map_sku(WC, line["sku"])
    h.bridgectl("store", "set", WC, "stock_sync", "false")
    try:
        before = available(WC, line["sku"])
        r = {"id": f"RS-{RUN}", "reason_code": "unwanted", "lines": [ret_line(line, 1, True)]}
        h.produce(TOPIC, [event(WC, oid, "returned", returns=[r])])
        h.wait_for("refund done", lambda: report_state(WC, oid, "refund", r["id"]) == "done", 60, 0.2)
        assert [x["restock"] for x in order(WC, oid)["refunds"]] == [True]
        assert available(WC, line["sku"]) == before + 1, "the bridge does not publish: the shop restocks"
    finally:
        h.bridgectl("store", "set", WC, "stock_sync", "true")
        unmap_sku(WC, line["sku"])


def test_shopify_return_line_not_fulfilled_goes_to_dead_letters():
    o = place(SR, [(0, 2, "10.00")])
    oid, line = o["id"], o["lines"][0]
    r = {"id": f"RX-{RUN}", "reason_code": "unwanted", "lines": [ret_line(line, 1, True)]}
    key = f"{SR}/{oid}"
    h.produce(TOPIC, [(key, event(SR, oid, "returned", returns=[r])[1])])
    letters = h.wait_for("dead letter", lambda: [v for (_, _, k, v) in h.consume("bridge.deadletter.v1", key,
                                                                                  idle_seconds=2) if k == key], 60, 0.5)
    assert any("more than the shop has fulfilled" in v for v in letters), letters
    assert report_state(SR, oid, "return", r["id"]) == "failed"
    assert not order(SR, oid)["returns"]


def kill9_return(die_after, rid):
    o = shipped_shopify_order([(1, 2, "12.00")], f"K{rid}")
    oid, line = o["id"], o["lines"][0]
    W.reporter.stop()
    W.reporter.cleanup()
    W.reporter = start_reporter({"WB_FULFIL_TEST_DIE_AFTER_SEND": str(die_after)})
    r = {"id": rid, "reason_code": "unwanted", "lines": [ret_line(line, 1, False)]}
    h.produce(TOPIC, [event(SR, oid, "returned", returns=[r])])
    h.wait_for("the reporter killed itself", lambda: W.reporter.proc.poll() is not None, 60, 0.2)
    assert W.reporter.proc.returncode == -9, W.reporter.proc.returncode
    assert report_state(SR, oid, "return", rid) == "pending"
    # Killed right after returnCreate (1) or returnProcess (2), before the record.
    before = order(SR, oid)
    assert len(before["returns"]) == 1 and len(before["refunds"]) == die_after - 1, before
    W.reporter.cleanup()
    W.reporter = start_reporter()
    h.wait_for("report done", lambda: report_state(SR, oid, "return", rid) == "done", 60, 0.2)
    got = order(SR, oid)
    assert len(got["returns"]) == 1 and got["returns"][0]["status"] == "CLOSED", got["returns"]
    assert [r["amount"] for r in got["refunds"]] == ["12.00"], got["refunds"]
    assert got["lines"][0]["refunded"] == 1 and got["lines"][0]["returned"] == 1, got["lines"]


def test_shopify_return_kill9_after_return_create_creates_one_return():
    kill9_return(1, f"KC-{RUN}")


def test_shopify_return_kill9_after_return_process_refunds_once():
    kill9_return(2, f"KP-{RUN}")


def test_packed_reports_tracking_when_the_store_asks_and_dispatch_only_completes():
    h.bridgectl("fulfilment", "set", WN, "tracking_on_packed", "true")
    try:
        o = place(WN, [(0, 1, "6.00")])
        oid, lines = o["id"], o["lines"]
        s = shipment(f"P{RUN}", [(lines[0], 1)], number=f"PK{RUN}")
        h.produce(TOPIC, [event(WN, oid, "packed", [s])])
        got = h.wait_for("note at packing", lambda: (lambda d: d if marked_notes(d, f"[shipment P{RUN}]") else None)(
            order(WN, oid)), 60, 0.2)
        assert got["status"] != "completed", got["status"]
        h.produce(TOPIC, [event(WN, oid, "dispatched", [s])])
        got = h.wait_for("completed", lambda: (lambda d: d if d["status"] == "completed" else None)(order(WN, oid)),
                         60, 0.2)
        assert len(marked_notes(got, f"[shipment P{RUN}]")) == 1, got["notes"]
    finally:
        h.bridgectl("fulfilment", "set", WN, "tracking_on_packed", "false")
    # Without the setting, `packed` is recorded only.
    o = place(WN, [(0, 1, "6.00")])
    h.produce(TOPIC, [event(WN, o["id"], "packed", [shipment(f"Q{RUN}", [(o["lines"][0], 1)], number=f"Q{RUN}")]),
                      event(WN, o["id"], "dispatched", [shipment(f"Q2{RUN}", [(o["lines"][0], 1)])])])
    got = h.wait_for("dispatch note", lambda: (lambda d: d if marked_notes(d, f"[shipment Q2{RUN}]") else None)(
        order(WN, o["id"])), 60, 0.2)
    assert not marked_notes(got, f"[shipment Q{RUN}]"), got["notes"]


def test_wms_cancel_reported_per_store_setting():
    # WooCommerce: note (once, on redelivery too), then cancel.
    h.bridgectl("fulfilment", "set", WC, "cancelled_report", "note")
    o = place(WC, [(1, 1, "8.00")])
    h.produce(TOPIC, [event(WC, o["id"], "cancelled"), event(WC, o["id"], "cancelled")])
    h.wait_for("redelivery seen", lambda: f"order {o['id']}: cancellation noted before" in W.reporter.output(),
               60, 0.2)
    assert report_state(WC, o["id"], "cancel", str(o["id"])) == "done"
    got = order(WC, o["id"])
    assert len(marked_notes(got, "[cancelled]")) == 1 and got["status"] == "processing", got
    h.bridgectl("fulfilment", "set", WC, "cancelled_report", "cancel")
    o = place(WC, [(1, 2, "8.00")])
    h.produce(TOPIC, [event(WC, o["id"], "cancelled")])
    h.wait_for("woo cancelled", lambda: order(WC, o["id"])["status"] == "cancelled", 60, 0.2)
    # Shopify: orderCancel with a refund, and the tag when only noted.
    h.bridgectl("fulfilment", "set", SP, "cancelled_report", "cancel")
    o = place(SP, [(0, 1, "15.00")], shipping="5.00")
    h.produce(TOPIC, [event(SP, o["id"], "cancelled"), event(SP, o["id"], "cancelled")])
    got = h.wait_for("shopify cancelled", lambda: (lambda d: d if d["cancelled"] else None)(order(SP, o["id"])),
                     60, 0.2)
    h.wait_for("redelivery seen", lambda: f"order {o['id']}: cancelled in the shop already" in W.reporter.output(),
               60, 0.2)
    assert [r["amount"] for r in order(SP, o["id"])["refunds"]] == ["20.00"], order(SP, o["id"])["refunds"]
    h.bridgectl("fulfilment", "set", SP, "cancelled_report", "note")
    o = place(SP, [(0, 1, "15.00")])
    h.produce(TOPIC, [event(SP, o["id"], "cancelled")])
    got = h.wait_for("tagged", lambda: (lambda d: d if d["tags"] else None)(order(SP, o["id"])), 60, 0.2)
    assert got["tags"] == ["wms-cancelled"] and not got["cancelled"], got
    h.bridgectl("fulfilment", "set", SP, "cancelled_report", "record")


def test_bridgectl_fulfilment_options_and_errors():
    out = h.bridgectl("fulfilment", "show", SR, "--json")
    doc = h.json.loads(out)
    assert doc["auto_close"] is True and doc["notify_customer"] is True and doc["cancelled_report"] == "record", doc
    assert doc["return_reasons"] == {"damaged": True, "unwanted": False}, doc
    h.bridgectl("fulfilment", "reason", SR, "lost", "refund_shipping")
    h.bridgectl("fulfilment", "reason", SR, "lost", "remove")
    assert "lost" not in h.json.loads(h.bridgectl("fulfilment", "show", SR, "--json"))["return_reasons"]
    env = dict(os.environ, WB_MASTER_KEY=h.MASTER_KEY)

    def fails(code, *args):
        p = h.subprocess.run([str(h.BUILD / "bin" / "bridgectl"), *args], env=env, capture_output=True, text=True,
                             timeout=60)
        assert p.returncode == code, f"{args}: {p.returncode} {p.stderr}"
        return p.stderr

    assert "unknown store" in fails(1, "fulfilment", "set", f"nostore{RUN}", "auto_close", "true")
    assert "unknown fulfilment setting" in fails(2, "fulfilment", "set", SR, "colour", "blue")
    assert "takes bool" in fails(2, "fulfilment", "set", SR, "auto_close", "maybe")
    assert "record|note|cancel" in fails(2, "fulfilment", "set", SR, "cancelled_report", "shout")
    assert "expected refund_shipping" in fails(2, "fulfilment", "reason", SR, "lost", "perhaps")
    assert "unknown store" in fails(1, "fulfilment", "show", f"nostore{RUN}")
    fails(2, "fulfilment", "set", SR, "auto_close")  # a missing value is bad usage
    # Nothing of the refused commands reached the table.
    assert h.json.loads(h.bridgectl("fulfilment", "show", SR, "--json"))["auto_close"] is True


def test_undecodable_and_unknown_store_go_to_dead_letters():
    key = f"{WN}/dl{RUN}"
    h.produce(TOPIC, [(key, '{"type":"dispatched"'),
                      (f"nostore{RUN}/1", event(f"nostore{RUN}", 1, "accepted")[1])])
    def found():
        mine = [v for (_, _, k, v) in h.consume("bridge.deadletter.v1", key, idle_seconds=2) if k == key]
        mine += [v for (_, _, k, v) in h.consume("bridge.deadletter.v1", f"nostore{RUN}/", idle_seconds=2)
                 if k == f"nostore{RUN}/1"]
        return mine if len(mine) >= 2 else None
    letters = h.wait_for("two dead letters", found, 60, 0.5)
    assert any("fulfilment-reporter" in v and "unknown store" in v for v in letters), letters


def murmur2_partition(key, partitions):
    """The producers' partitioner (murmur2_random, as the Java client)."""
    data = key.encode()
    m, seed = 0x5bd1e995, 0x9747b28c
    hv = (seed ^ len(data)) & 0xffffffff
    n4 = len(data) // 4 * 4
    for i in range(0, n4, 4):
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * m) & 0xffffffff
        k ^= k >> 24
        k = (k * m) & 0xffffffff
        hv = ((hv * m) & 0xffffffff) ^ k
    rest = data[n4:]
    if len(rest) >= 3:
        hv ^= rest[2] << 16
    if len(rest) >= 2:
        hv ^= rest[1] << 8
    if rest:
        hv ^= rest[0]
        hv = (hv * m) & 0xffffffff
    hv ^= hv >> 13
    hv = (hv * m) & 0xffffffff
    hv ^= hv >> 15
    return (hv & 0x7fffffff) % partitions


def test_event_waiting_past_the_bound_goes_to_dead_letters_and_its_partition_goes_on():
    W.reporter.stop()
    W.reporter.cleanup()
    W.reporter = start_reporter({"WB_FULFIL_HOLD_MAX_MS": "3000"})
    try:
        # Never dispatched, so never `completed`: its refund can never be made.
        o = place(WN, [(0, 1, "10.00")])
        oid, line = o["id"], o["lines"][0]
        key = f"{WN}/{oid}"
        part = murmur2_partition(key, 6)
        other = next(p for p in (place(WN, [(1, 1, "5.00")]) for _ in range(60))
                     if murmur2_partition(f"{WN}/{p['id']}", 6) == part)
        r = {"id": f"RW-{RUN}", "reason_code": "unwanted", "lines": [ret_line(line, 1, True)]}
        sid = f"W{RUN}"
        h.produce(TOPIC, [event(WN, oid, "returned", returns=[r]),
                          event(WN, other["id"], "dispatched", [shipment(sid, [(other["lines"][0], 1)])])])
        letters = h.wait_for("dead letter", lambda: [v for (_, _, k, v) in h.consume("bridge.deadletter.v1", key,
                                                                                      idle_seconds=2) if k == key],
                             60, 0.5)
        assert any(f"order {oid} returned: gave up after waiting" in v and
                   "waiting for the order to be completed (status processing)" in v for v in letters), letters
        h.wait_for("the next event on the partition reported",
                   lambda: report_state(WN, other["id"], "shipment", sid) == "done", 60, 0.2)
        mine = [p for (p, _, k, _) in h.consume(TOPIC, f"{WN}/", idle_seconds=2) if k in (key, f"{WN}/{other['id']}")]
        assert len(set(mine)) == 1, f"both orders on one partition: {mine}"
        assert not order(WN, oid)["refunds"]
        assert marked_notes(order(WN, other["id"]), f"[shipment {sid}]")
    finally:
        W.reporter.stop()
        W.reporter.cleanup()
        W.reporter = start_reporter()


def test_bad_hold_bound_is_refused_at_start():
    env = dict(h.os.environ, WB_HTTP_PORT="0", WB_MASTER_KEY=h.MASTER_KEY, WB_FULFIL_HOLD_MAX_MS="10")
    p = h.subprocess.run([str(h.BUILD / "bin" / "fulfilment-reporter")], env=env, capture_output=True, text=True,
                         timeout=60)
    assert p.returncode == 2 and "WB_FULFIL_HOLD_MAX_MS" in p.stdout + p.stderr, (p.returncode, p.stderr)


def test_graceful_stop_exits_0():
    process, W.reporter = W.reporter, None
    h.assert_clean_stop(process)


def cleanup():
    if W.reporter:
        W.reporter.stop()
        W.reporter.cleanup()
    if W.sim:
        W.sim.close()
    # The stores point at this shopsim, which is gone now.
    h.psql(f"DELETE FROM stores WHERE id IN ({h.sql_literal(WT)}, {h.sql_literal(WN)}, "
           f"{h.sql_literal(WC)}, {h.sql_literal(SP)}, {h.sql_literal(SR)})")


def main():
    return R.run_module(setup, globals(), cleanup)


if __name__ == "__main__":
    sys.exit(main())
