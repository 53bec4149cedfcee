/* Decide, produce, record under an advisory lock on store/order, so two
 * deliveries of the same order (a webhook retry racing the reconciler, two
 * replicas) are serialised: the second sees the first's row and is a
 * duplicate. The row is written only after Kafka acknowledged the message;
 * if the commit then fails, the shop's retry produces the same event_id
 * again, which consumers recognise. An order body goes through a
 * group-commit batch (batch.c); a deletion known by its id only
 * (oi_ingest_deleted, rare) has a transaction of its own here, under the
 * same lock. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ingest.h"
#include "wb/deadletter.h"
#include "wb/kafka.h"
#include "wb/log.h"
#include "wb/metrics.h"

void oi_count(const char *store_id, const char *platform, const char *source, const char *outcome) {
    wb_counter_inc(wb_counter("wb_orders_total",
                              "Orders seen by order-ingest, by store, platform, source and outcome.",
                              "store,platform,source,outcome"),
                   store_id, platform, source, outcome);
}

char *oi_open_quantities(const wb_order_msg *m) {
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; i < m->n_lines; i++) {
        cJSON *q = cJSON_GetObjectItemCaseSensitive(o, m->lines[i].sku);
        if (q) cJSON_SetNumberValue(q, q->valuedouble + (double)m->lines[i].quantity);
        else cJSON_AddNumberToObject(o, m->lines[i].sku, (double)m->lines[i].quantity);
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

int oi_dead_letter(oi_ctx *ctx, const char *store_id, const char *source_kind, const char *path,
                   const char *key, const char *reason, const void *body, size_t len) {
    wb_deadletter dl = {.reason = reason, .store_id = store_id, .source_kind = source_kind,
                        .source_path = path, .key = key, .key_len = key ? strlen(key) : 0,
                        .value = body, .value_len = len};
    return wb_deadletter_publish(ctx->svc->producer, OI_SERVICE, &dl, ctx->cfg.kafka_timeout_ms) ? -1
                                                                                                  : 0;
}

static void rollback(wb_pg *pg) {
    wb_pg_exec(pg, "ROLLBACK", 0, NULL);
}

static oi_status db_fail(wb_pg *pg, const char *what, char *err, size_t errlen) {
    snprintf(err, errlen, "%s: %s", what, wb_pg_error(pg));
    rollback(pg);
    return OI_DB_DOWN;
}

/* BEGIN and take the order's lock. */
static int begin_locked(wb_pg *pg, const char *store_id, const char *order_id) {
    if (wb_pg_exec(pg, "BEGIN", 0, NULL) != 0) return -1;
    const char *p[] = {store_id, order_id};
    PGresult *r = wb_pg_query(pg, "SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))", 2, p);
    if (!r) return -1;
    PQclear(r);
    return 0;
}

/* Reads the order's row; *last_message (may be NULL) gets a malloc'd copy. */
static int read_prior(wb_pg *pg, const char *store_id, const char *order_id, oi_prior *prior,
                      char *state, size_t state_size, char **last_message) {
    const char *p[] = {store_id, order_id};
    PGresult *r = wb_pg_query(pg,
        "SELECT version::bigint, state, last_message FROM ingested_orders "
        "WHERE store_id = $1 AND shop_order_id = $2", 2, p);
    if (!r) return -1;
    memset(prior, 0, sizeof *prior);
    if (last_message) *last_message = NULL;
    if (PQntuples(r) == 1) {
        prior->exists = true;
        prior->version = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        snprintf(state, state_size, "%s", PQgetvalue(r, 0, 1));
        prior->state = state;
        if (last_message && !PQgetisnull(r, 0, 2)) *last_message = strdup(PQgetvalue(r, 0, 2));
    }
    PQclear(r);
    return 0;
}

static int record_receipt(wb_pg *pg, const char *store_id, const char *key) {
    const char *p[] = {store_id, key};
    return wb_pg_exec(pg,
        "INSERT INTO webhook_receipts (store_id, dedup_key) VALUES ($1, $2) "
        "ON CONFLICT DO NOTHING", 2, p);
}

/* Produces m (its type already set) and waits for the ack. */
static oi_status produce(oi_ctx *ctx, const wb_order_msg *m, char **json_out, char *err,
                         size_t errlen) {
    char why[256];
    char *json = wb_order_msg_encode_err(m, why, sizeof why);
    if (!json) {
        snprintf(err, errlen, "encode: %s", why);
        return OI_KAFKA_DOWN; /* cannot happen for a mapped order */
    }
    char *key;
    if (asprintf(&key, "%s/%s", m->store_id, m->order_id) < 0) {
        free(json);
        snprintf(err, errlen, "out of memory");
        return OI_KAFKA_DOWN;
    }
    wb_kafka_header headers[] = {{"wb-event-id", m->event_id, strlen(m->event_id)}};
    rd_kafka_resp_err_t e = wb_produce_sync(ctx->svc->producer, WB_TOPIC_ORDERS, key, strlen(key),
                                            json, strlen(json), headers, 1,
                                            ctx->cfg.kafka_timeout_ms, NULL, NULL);
    free(key);
    if (e) {
        free(json);
        snprintf(err, errlen, "kafka: %s", rd_kafka_err2str(e));
        return OI_KAFKA_DOWN;
    }
    *json_out = json;
    return OI_OK;
}

/* Writes the row for what went out, and the webhook's receipt (may be NULL)
 * in the same statement. */
static int record_order(wb_pg *pg, const wb_order_msg *m, oi_action action, const char *json,
                        const char *receipt_key) {
    char version[32];
    snprintf(version, sizeof version, "%" PRId64, m->version);
    char *open = action == OI_ACT_CANCEL ? strdup("{}") : oi_open_quantities(m);
    const char *p[] = {m->store_id, m->order_id, m->order_number, version, m->event_id,
                       action == OI_ACT_CANCEL ? "cancelled" : "sent", open, json, receipt_key};
    /* An update keeps the state the WMS has reported (sent or accepted). */
    int rc = wb_pg_exec(pg,
        "WITH receipt AS (INSERT INTO webhook_receipts (store_id, dedup_key) "
        "  SELECT $1, $9 WHERE $9::text IS NOT NULL ON CONFLICT DO NOTHING) "
        "INSERT INTO ingested_orders (store_id, shop_order_id, order_number, version, "
        "last_event_id, state, open_quantities, last_message) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8) "
        "ON CONFLICT (store_id, shop_order_id) DO UPDATE SET order_number = EXCLUDED.order_number, "
        "version = EXCLUDED.version, last_event_id = EXCLUDED.last_event_id, "
        "state = CASE WHEN EXCLUDED.state = 'cancelled' THEN 'cancelled' ELSE ingested_orders.state END, "
        "open_quantities = EXCLUDED.open_quantities, last_message = EXCLUDED.last_message, "
        "updated_at = now()", 9, p);
    free(open);
    return rc;
}

static void log_action(const wb_store *store, const wb_order_msg *m, oi_action action,
                       const oi_prior *prior) {
    switch (action) {
    case OI_ACT_CREATE: case OI_ACT_UPDATE: case OI_ACT_CANCEL:
        wb_info(store->id, "order %s version %" PRId64 " sent as %s", m->order_id, m->version,
                oi_action_name(action));
        break;
    case OI_ACT_PICKING:
        wb_counter_inc(wb_counter("wb_order_updates_suppressed_total",
                                  "Order changes not sent because the WMS is already picking.",
                                  "store"),
                       store->id);
        wb_warn(store->id, "order %s changed in the shop (version %" PRId64
                ") after the WMS started picking (state %s): not sent", m->order_id, m->version,
                prior->state);
        break;
    default:
        wb_info(store->id, "order %s version %" PRId64 ": %s, not sent", m->order_id, m->version,
                oi_action_name(action));
    }
}

/* The common tail: decide, produce, record, commit. The transaction is open
 * and locked. */
static oi_status decide_and_send(oi_ctx *ctx, wb_pg *pg, const wb_store *store, oi_order *order,
                                 const oi_prior *prior, bool passes, const char *receipt_key,
                                 oi_action *action, char *err, size_t errlen) {
    wb_order_msg *m = &order->msg;
    *action = oi_decide(prior, order->cancelled, m->version, passes);
    if (oi_refuse_nothing_open(order, *action, err, errlen)) {
        rollback(pg);
        return OI_UNMAPPED;
    }
    char *json = NULL;
    if (oi_action_sends(*action)) {
        m->type = *action == OI_ACT_CREATE ? WB_ORDER_CREATED
                  : *action == OI_ACT_UPDATE ? WB_ORDER_UPDATED : WB_ORDER_CANCELLED;
        oi_status st = produce(ctx, m, &json, err, errlen);
        if (st != OI_OK) {
            rollback(pg);
            return st;
        }
        if (record_order(pg, m, *action, json, receipt_key) != 0) {
            free(json);
            return db_fail(pg, "record order", err, errlen);
        }
        free(json);
    } else if (receipt_key && record_receipt(pg, store->id, receipt_key) != 0) {
        return db_fail(pg, "record receipt", err, errlen);
    }
    if (wb_pg_exec(pg, "COMMIT", 0, NULL) != 0) return db_fail(pg, "commit", err, errlen);
    log_action(store, m, *action, prior);
    return OI_OK;
}

const char *oi_status_outcome(oi_status st) {
    switch (st) {
    case OI_KAFKA_DOWN: return "kafka_unavailable";
    case OI_DB_DOWN: return "db_unavailable";
    case OI_SHOP_DOWN: return "shop_unavailable";
    case OI_UNMAPPED: return "unmappable";
    default: return "ok";
    }
}

oi_status oi_ingest(oi_ctx *ctx, wb_pg *pg, const wb_store *store, oi_order *order,
                    const char *receipt_key, oi_action *action, char *err, size_t errlen) {
    oi_status prep = oi_prepare(ctx, pg, store, order, err, errlen);
    if (prep != OI_OK) return prep;
    return oi_batch_ingest(ctx, store, order, receipt_key, oi_filter_pass(store, order), action, err,
                           errlen);
}

oi_status oi_ingest_deleted(oi_ctx *ctx, wb_pg *pg, const wb_store *store, const char *order_id,
                            int64_t now_ms, oi_action *action, char *err, size_t errlen) {
    if (begin_locked(pg, store->id, order_id) != 0) return db_fail(pg, "lock", err, errlen);
    oi_prior prior;
    char state[32], *last = NULL;
    if (read_prior(pg, store->id, order_id, &prior, state, sizeof state, &last) != 0)
        return db_fail(pg, "read order", err, errlen);
    oi_order order = {0};
    char why[256];
    if (!prior.exists || !last ||
        wb_order_msg_decode(last, strlen(last), &order.msg, why, sizeof why) != 0) {
        free(last);
        rollback(pg);
        *action = OI_ACT_UNKNOWN_CANCEL;
        wb_info(store->id, "order %s deleted in the shop, but it never went out: nothing to cancel",
                order_id);
        return OI_OK;
    }
    free(last);
    /* A new version: the deletion is a change the WMS has not seen. */
    order.msg.version = now_ms > prior.version ? now_ms : prior.version + 1;
    char id[65];
    wb_order_event_id(order.msg.store_id, order.msg.order_id, order.msg.version, id);
    free(order.msg.event_id);
    order.msg.event_id = strdup(id);
    order.cancelled = true;
    oi_status st = decide_and_send(ctx, pg, store, &order, &prior, true, NULL, action, err, errlen);
    wb_order_msg_free(&order.msg);
    return st;
}
