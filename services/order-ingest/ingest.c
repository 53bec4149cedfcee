/* What an order needs before its batch, and the ways in: a mapped order
 * (oi_ingest: the warehouse and the store's rules, then the group-commit
 * batch) and a deletion known by its id only (oi_ingest_deleted: the batch
 * reads the last message sent). Deciding, producing and recording happen in
 * batch.c, under a per-order advisory lock on store/order, so two deliveries
 * of the same order (a webhook retry racing the reconciler, two replicas)
 * are serialised: the second sees the first's row and is a duplicate. The
 * row is written only after Kafka acknowledged the message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ingest.h"
#include "wb/deadletter.h"
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

oi_status oi_ingest_deleted(oi_ctx *ctx, const wb_store *store, const char *order_id, int64_t now_ms,
                            oi_action *action, char *err, size_t errlen) {
    oi_order order = {0};
    order.msg.store_id = strdup(store->id);
    order.msg.order_id = strdup(order_id);
    oi_status st = oi_batch_ingest_deleted(ctx, store, &order, now_ms, action, err, errlen);
    oi_order_free(&order);
    return st;
}
