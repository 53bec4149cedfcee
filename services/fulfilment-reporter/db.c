/* What the fulfilment path keeps in PostgreSQL: how far the WMS has got with
 * an order (ingested_orders.state, which order-ingest and the stock path
 * read), and each report made to a shop (fulfilment_reports), recorded as
 * pending before the call and done after it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reporter.h"
#include "wb/log.h"

/* The rank of a state; a report only ever moves it forward. */
static const char *const state_rank_sql =
    "CASE state WHEN 'sent' THEN 0 WHEN 'accepted' THEN 1 WHEN 'picking' THEN 2 "
    "WHEN 'dispatched' THEN 3 ELSE 4 END";

int fr_record_state(wb_pg *pg, const wb_fulfilment_msg *m) {
    const char *state = NULL;
    int rank = 0;
    switch (m->type) {
    case WB_FULFILMENT_ACCEPTED: state = "accepted", rank = 1; break;
    case WB_FULFILMENT_PICKING_STARTED:
    case WB_FULFILMENT_PACKED: state = "picking", rank = 2; break;
    case WB_FULFILMENT_DISPATCHED:
    case WB_FULFILMENT_TRACKING_UPDATED:
    case WB_FULFILMENT_RETURNED: state = "dispatched", rank = 3; break;
    case WB_FULFILMENT_CANCELLED: state = "cancelled", rank = 4; break;
    }
    char rank_text[8], sql[768];
    snprintf(rank_text, sizeof rank_text, "%d", rank);
    /* Accepted by the WMS: its quantities are in the WMS's reserved stock
     * now, so the in-flight term of the stock path lets go of them. */
    snprintf(sql, sizeof sql,
             "UPDATE ingested_orders SET state = $3, open_quantities = '{}'::jsonb, updated_at = now() "
             "WHERE store_id = $1 AND shop_order_id = $2 AND state <> 'cancelled' "
             "AND (%s) < $4::int",
             state_rank_sql);
    const char *p[] = {m->store_id, m->order_id, state, rank_text};
    if (wb_pg_exec(pg, sql, 4, p) != 0) {
        wb_warn(m->store_id, "order %s: recording state %s failed: %s", m->order_id, state, wb_pg_error(pg));
        return -1;
    }
    return 0;
}

fr_report_state fr_report_begin(wb_pg *pg, const char *store, const char *order, const char *kind,
                                const char *report_id, char *shop_ref, size_t ref_size) {
    if (ref_size) shop_ref[0] = 0;
    const char *p[] = {store, order, kind, report_id};
    PGresult *res = wb_pg_query(pg,
        "INSERT INTO fulfilment_reports (store_id, shop_order_id, kind, report_id, state) "
        "VALUES ($1, $2, $3, $4, 'pending') ON CONFLICT DO NOTHING RETURNING state", 4, p);
    if (!res) goto fail;
    int inserted = PQntuples(res);
    PQclear(res);
    if (inserted) return FR_REPORT_NEW;
    res = wb_pg_query(pg,
        "SELECT state, coalesce(shop_reference, '') FROM fulfilment_reports "
        "WHERE store_id = $1 AND kind = $3 AND report_id = $4 AND shop_order_id = $2", 4, p);
    if (!res) goto fail;
    if (PQntuples(res) != 1) {
        PQclear(res);
        wb_warn(store, "report %s %s exists for another order than %s", kind, report_id, order);
        return FR_REPORT_FAILED;
    }
    const char *st = PQgetvalue(res, 0, 0);
    if (ref_size) snprintf(shop_ref, ref_size, "%s", PQgetvalue(res, 0, 1));
    fr_report_state out = strcmp(st, "done") == 0      ? FR_REPORT_DONE
                          : strcmp(st, "failed") == 0  ? FR_REPORT_FAILED
                                                       : FR_REPORT_PENDING;
    PQclear(res);
    return out;
fail:
    wb_warn(store, "report %s %s: %s", kind, report_id, wb_pg_error(pg));
    return FR_REPORT_ERROR;
}

int fr_report_finish(wb_pg *pg, const char *store, const char *order, const char *kind,
                     const char *report_id, const char *state, const char *shop_ref,
                     const char *detail) {
    const char *p[] = {store, order, kind, report_id, state, shop_ref, detail};
    if (wb_pg_exec(pg,
            "UPDATE fulfilment_reports SET state = $5, shop_reference = coalesce($6, shop_reference), "
            "detail = coalesce($7::jsonb, detail), updated_at = now() "
            "WHERE store_id = $1 AND shop_order_id = $2 AND kind = $3 AND report_id = $4", 7, p) != 0) {
        wb_warn(store, "report %s %s: recording %s failed: %s", kind, report_id, state, wb_pg_error(pg));
        return -1;
    }
    return 0;
}

int fr_report_ref(wb_pg *pg, const char *store, const char *order, const char *kind,
                  const char *report_id, char *shop_ref, size_t ref_size) {
    const char *p[] = {store, order, kind, report_id};
    PGresult *res = wb_pg_query(pg,
        "SELECT shop_reference FROM fulfilment_reports WHERE store_id = $1 AND shop_order_id = $2 "
        "AND kind = $3 AND report_id = $4 AND state = 'done' AND shop_reference IS NOT NULL", 4, p);
    if (!res) return -1;
    int found = PQntuples(res) == 1;
    if (found) snprintf(shop_ref, ref_size, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return found ? 0 : 1;
}

int fr_report_ref_claimed(wb_pg *pg, const char *store, const char *order, const char *kind,
                          const char *report_id, const char *shop_ref) {
    const char *p[] = {store, order, kind, report_id, shop_ref};
    PGresult *res = wb_pg_query(pg,
        "SELECT 1 FROM fulfilment_reports WHERE store_id = $1 AND shop_order_id = $2 "
        "AND kind = $3 AND report_id <> $4 AND shop_reference = $5", 5, p);
    if (!res) return -1;
    int claimed = PQntuples(res) > 0;
    PQclear(res);
    return claimed;
}

void fr_settings_load(wb_pg *pg, const char *store, fr_settings *out) {
    *out = (fr_settings){.notify_customer = true, .cancelled_report = "record"};
    const char *p[] = {store};
    PGresult *res = wb_pg_query(pg,
        "SELECT notify_customer, auto_close, tracking_on_packed, cancelled_report "
        "FROM fulfilment_settings WHERE store_id = $1", 1, p);
    if (res && PQntuples(res) == 1) {
        out->notify_customer = PQgetvalue(res, 0, 0)[0] == 't';
        out->auto_close = PQgetvalue(res, 0, 1)[0] == 't';
        out->tracking_on_packed = PQgetvalue(res, 0, 2)[0] == 't';
        snprintf(out->cancelled_report, sizeof out->cancelled_report, "%s", PQgetvalue(res, 0, 3));
    }
    if (res) PQclear(res);
}

int fr_claim_shipping(wb_pg *pg, const char *store, const char *order, const char *kind,
                      const char *report_id) {
    /* One statement: the claim and the check of the others cannot interleave
     * with another claim of the same order (events of an order are handled
     * one at a time anyway; this keeps it true under a rebalance too). */
    const char *p[] = {store, order, kind, report_id};
    PGresult *res = wb_pg_query(pg,
        "UPDATE fulfilment_reports SET refunds_shipping = true, updated_at = now() "
        "WHERE store_id = $1 AND shop_order_id = $2 AND kind = $3 AND report_id = $4 "
        "AND NOT EXISTS (SELECT 1 FROM fulfilment_reports o WHERE o.store_id = $1 AND o.shop_order_id = $2 "
        "  AND o.refunds_shipping AND o.state <> 'failed' AND NOT (o.kind = $3 AND o.report_id = $4)) "
        "RETURNING 1", 4, p);
    if (!res) return -1;
    int yes = PQntuples(res) == 1;
    PQclear(res);
    return yes;
}

int fr_refund_shipping(wb_pg *pg, const char *store, const char *reason_code) {
    const char *p[] = {store, reason_code};
    PGresult *res = wb_pg_query(pg,
        "SELECT refund_shipping FROM return_reason_rules WHERE store_id = $1 AND reason_code = $2", 2, p);
    if (!res) return -1;
    int yes = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    return yes;
}

int fr_stock_published(wb_pg *pg, const wb_store *store, const char *sku) {
    /* The same rule as stock-publisher's routes (stores WHERE enabled AND
     * stock_sync, joined with product_mappings by sku): then the WMS's
     * level is what the shop holds, and the bridge sends it. */
    if (!store->enabled || !store->stock_sync) return 0;
    const char *p[] = {store->id, sku};
    PGresult *res = wb_pg_query(pg, "SELECT 1 FROM product_mappings WHERE store_id = $1 AND sku = $2", 2, p);
    if (!res) return -1;
    int yes = PQntuples(res) > 0;
    PQclear(res);
    return yes;
}
