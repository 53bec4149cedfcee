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

/* A SKU as cJSON prints a string (the text is what it wrote before). */
static char *put_json_string(char *o, const char *s) {
    *o++ = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        static const char hex[] = "0123456789abcdef";
        const char *esc = *p == '"' ? "\\\"" : *p == '\\' ? "\\\\" : *p == '\b' ? "\\b" : *p == '\f' ? "\\f"
                        : *p == '\n' ? "\\n" : *p == '\r' ? "\\r" : *p == '\t' ? "\\t" : NULL;
        if (esc) {
            *o++ = esc[0], *o++ = esc[1];
        } else if (*p < 0x20) {
            memcpy(o, "\\u00", 4);
            o[4] = hex[*p >> 4], o[5] = hex[*p & 15];
            o += 6;
        } else {
            *o++ = (char)*p;
        }
    }
    *o++ = '"';
    return o;
}

/* Written directly rather than through a cJSON object (a lookup per line,
 * a node, two copies and a growing print buffer per order): the same text,
 * {"SKU":qty,...} in the order of each SKU's first line, a SKU's lines
 * summed; cJSON printed those whole sums (at most 1000 x 1000000) as
 * digits. */
char *oi_open_quantities(const wb_order_msg *m) {
    size_t size = 3;
    for (size_t i = 0; i < m->n_lines; i++) size += 6 * strlen(m->lines[i].sku) + 2 + 1 + 21 + 1;
    char *out = malloc(size), *o = out;
    if (!out) return NULL;
    *o++ = '{';
    for (size_t i = 0; i < m->n_lines; i++) {
        const char *sku = m->lines[i].sku;
        size_t first = 0;
        while (strcmp(m->lines[first].sku, sku) != 0) first++;
        if (first < i) continue; /* summed at its first line */
        int64_t sum = 0;
        for (size_t j = i; j < m->n_lines; j++)
            if (strcmp(m->lines[j].sku, sku) == 0) sum += m->lines[j].quantity;
        if (o > out + 1) *o++ = ',';
        o = put_json_string(o, sku);
        *o++ = ':';
        char digits[24], *d = digits + sizeof digits;
        uint64_t u = sum < 0 ? -(uint64_t)sum : (uint64_t)sum;
        do *--d = (char)('0' + u % 10); while ((u /= 10) != 0);
        if (sum < 0) *--d = '-';
        memcpy(o, d, (size_t)(digits + sizeof digits - d));
        o += digits + sizeof digits - d;
    }
    *o++ = '}';
    *o = 0;
    return out;
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
