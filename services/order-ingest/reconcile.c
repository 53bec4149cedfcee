/* The reconciler: webhooks get lost (WooCommerce never retries one), so per
 * store, every WB_ORDER_RECONCILE_MS and on demand, it pages through the
 * orders modified since the cursor minus an overlap and hands each to
 * oi_ingest(), which sends what is missing or newer and recognises the rest
 * as duplicates. The cursor (sync_cursors 'orders_modified', ms) moves only
 * when every order of the pass was decided and, where sent, acknowledged.
 * It also lists the store's webhooks and turns disabled ones back on
 * (WooCommerce disables a webhook after more than 5 failed deliveries), and
 * with WB_ORDER_PUBLIC_URL set creates the order webhooks that are missing.
 *
 * Runs on the main loop's thread with the main loop's PostgreSQL connection.
 * This file holds the WooCommerce side and the pass over all stores;
 * Shopify stores go to reconcile_shopify.c. */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ingest.h"
#include "reconcile.h"
#include "map_internal.h"
#include "wb/log.h"
#include "wb/metrics.h"
#include "wb/runloop.h"
#include "wb/shopclient.h"

#define ORDERS_PATH "/wp-json/wc/v3/orders"

void oi_count_repair(const char *store_id, const char *kind) {
    wb_counter_inc(wb_counter("wb_order_webhook_repairs_total",
                              "Shop webhooks the reconciler re-enabled or re-created.", "store,kind"),
                   store_id, kind);
}

int64_t oi_cursor_read(wb_pg *pg, const char *store_id, bool *found) {
    const char *p[] = {store_id, OI_CURSOR_NAME};
    PGresult *r = wb_pg_query(pg, "SELECT value FROM sync_cursors WHERE store_id = $1 AND name = $2", 2, p);
    int64_t v = 0;
    *found = r && PQntuples(r) == 1;
    if (*found) v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return r ? v : -1;
}

int oi_cursor_write(wb_pg *pg, const char *store_id, int64_t ms) {
    char v[32];
    snprintf(v, sizeof v, "%" PRId64, ms);
    const char *p[] = {store_id, OI_CURSOR_NAME, v};
    return wb_pg_exec(pg,
        "INSERT INTO sync_cursors (store_id, name, value) VALUES ($1, $2, $3) "
        "ON CONFLICT (store_id, name) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
        3, p);
}

int oi_poll_dead_letter(oi_ctx *ctx, wb_pg *pg, const wb_store *store, const cJSON *o,
                        const char *order_id, const char *version, const char *path,
                        const char *reason) {
    char dedup[200];
    snprintf(dedup, sizeof dedup, "poll-deadletter:%s:%s", order_id ? order_id : "?",
             version ? version : "?");
    const char *p[] = {store->id, dedup};
    PGresult *r = wb_pg_query(pg, "SELECT 1 FROM webhook_receipts WHERE store_id = $1 AND dedup_key = $2", 2, p);
    bool seen = r && PQntuples(r) > 0;
    PQclear(r);
    if (!r) return -1;
    if (seen) return 0;
    char *body = cJSON_PrintUnformatted(o);
    char key[160];
    snprintf(key, sizeof key, "%s/%s", store->id, order_id ? order_id : "");
    int rc = oi_dead_letter(ctx, store->id, "poll", path, order_id ? key : NULL, reason, body,
                            strlen(body));
    free(body);
    if (rc != 0) return -1;
    return wb_pg_exec(pg, "INSERT INTO webhook_receipts (store_id, dedup_key) VALUES ($1, $2) "
                          "ON CONFLICT DO NOTHING", 2, p);
}

/* One listing (all pages). Returns 0, or -1 when something was not taken
 * (the cursor must then stay). *max_ms grows to the newest modification seen. */
static int reconcile_listing(oi_ctx *ctx, wb_pg *pg, wb_woo *woo, const wb_store *store,
                             const char *since, const char *status, int64_t *max_ms, int *sent) {
    for (long page = 1;; page++) {
        if (wb_stopping()) return -1;
        char query[256];
        snprintf(query, sizeof query,
                 "modified_after=%s&dates_are_gmt=true&orderby=modified&order=asc&per_page=100&page=%ld%s%s",
                 since, page, status ? "&status=" : "", status ? status : "");
        wb_shop_response res;
        int rc = wb_woo_request(woo, "GET", "orders", query, NULL, &res);
        if (rc != 0 || res.status != 200) {
            wb_warn(store->id, "reconcile: listing orders failed: %s (HTTP %ld) %.200s", res.error,
                    res.status, res.body ? res.body : "");
            wb_shop_response_free(&res);
            return -1;
        }
        cJSON *list = cJSON_ParseWithLength(res.body ? res.body : "", res.body_len);
        long pages = res.total_pages;
        wb_shop_response_free(&res);
        if (!cJSON_IsArray(list)) {
            cJSON_Delete(list);
            wb_warn(store->id, "reconcile: the order listing is not a JSON array");
            return -1;
        }
        int failed = 0;
        const cJSON *o;
        cJSON_ArrayForEach(o, list) {
            oi_order order;
            char *order_id = NULL, err[512];
            int mrc = oi_map_woocommerce_json(store->id, o, &order, &order_id, err, sizeof err);
            if (mrc != OI_MAP_OK) {
                char reason[700];
                snprintf(reason, sizeof reason, "order %s: %s", order_id ? order_id : "?", err);
                oi_count(store->id, store->platform, "poll", "unmappable");
                if (oi_poll_dead_letter(ctx, pg, store, o, order_id, oi_jstr(o, "date_modified_gmt"),
                                        ORDERS_PATH, reason) != 0)
                    failed++;
                free(order_id);
                continue;
            }
            free(order_id);
            oi_action action;
            oi_status st = oi_ingest(ctx, pg, store, &order, NULL, &action, err, sizeof err);
            if (st == OI_UNMAPPED) {
                oi_count(store->id, store->platform, "poll", "unmappable");
                if (oi_poll_dead_letter(ctx, pg, store, o, order.msg.order_id, oi_jstr(o, "date_modified_gmt"),
                                        ORDERS_PATH, err) != 0)
                    failed++;
            } else if (st != OI_OK) {
                wb_warn(store->id, "reconcile: order %s not taken: %s", order.msg.order_id, err);
                oi_count(store->id, store->platform, "poll", oi_status_outcome(st));
                failed++;
            } else {
                oi_count(store->id, store->platform, "poll", oi_action_name(action));
                if (oi_action_sends(action)) {
                    (*sent)++;
                    wb_warn(store->id, "reconcile: order %s version %" PRId64 " was missing, sent as %s",
                            order.msg.order_id, order.msg.version, oi_action_name(action));
                }
                if (order.msg.version > *max_ms) *max_ms = order.msg.version;
            }
            oi_order_free(&order);
        }
        int n = cJSON_GetArraySize(list);
        cJSON_Delete(list);
        if (failed) return -1;
        if (n == 0 || (pages >= 0 && page >= pages) || (pages < 0 && n < 100)) return 0;
    }
}

static void repair_webhooks(oi_ctx *ctx, wb_woo *woo, const wb_store *store, const char *secret) {
    wb_shop_response res;
    if (wb_woo_request(woo, "GET", "webhooks", "per_page=100", NULL, &res) != 0 || res.status != 200) {
        wb_warn(store->id, "reconcile: listing webhooks failed: %s (HTTP %ld)", res.error, res.status);
        wb_shop_response_free(&res);
        return;
    }
    cJSON *list = cJSON_ParseWithLength(res.body ? res.body : "", res.body_len);
    wb_shop_response_free(&res);
    static const char *const topics[] = {"order.created", "order.updated", "order.deleted"};
    bool have[3] = {false, false, false};
    char address[512] = "";
    if (ctx->cfg.public_url && *ctx->cfg.public_url)
        snprintf(address, sizeof address, "%s/webhooks/woocommerce/%s", ctx->cfg.public_url, store->id);
    const cJSON *w;
    cJSON_ArrayForEach(w, list) {
        const char *topic = oi_jstr(w, "topic"), *status = oi_jstr(w, "status");
        const char *url = oi_jstr(w, "delivery_url");
        char idbuf[32];
        const char *id = oi_jid(w, "id", idbuf, sizeof idbuf);
        if (!topic || !id || strncmp(topic, "order.", 6) != 0) continue;
        /* With a public URL known, only the webhooks that point at us count. */
        if (*address && (!url || strcmp(url, address) != 0)) continue;
        for (int i = 0; i < 3; i++)
            if (!strcmp(topic, topics[i])) have[i] = true;
        if (status && strcmp(status, "disabled") == 0) {
            cJSON *body = cJSON_CreateObject();
            cJSON_AddStringToObject(body, "status", "active");
            char path[64];
            snprintf(path, sizeof path, "webhooks/%s", id);
            wb_shop_response put;
            int rc = wb_woo_request(woo, "PUT", path, NULL, body, &put);
            cJSON_Delete(body);
            if (rc == 0 && put.status == 200) {
                oi_count_repair(store->id, "reenabled");
                wb_warn(store->id, "reconcile: webhook %s (%s) was disabled by the shop: re-enabled", id, topic);
            } else {
                wb_warn(store->id, "reconcile: webhook %s could not be re-enabled: %s (HTTP %ld)", id,
                        put.error, put.status);
            }
            wb_shop_response_free(&put);
        }
    }
    cJSON_Delete(list);
    if (!*address || !secret) return;
    for (int i = 0; i < 3; i++) {
        if (have[i]) continue;
        cJSON *body = cJSON_CreateObject();
        char name[96];
        snprintf(name, sizeof name, "wmsbridge %s", topics[i]);
        cJSON_AddStringToObject(body, "name", name);
        cJSON_AddStringToObject(body, "topic", topics[i]);
        cJSON_AddStringToObject(body, "delivery_url", address);
        cJSON_AddStringToObject(body, "secret", secret);
        cJSON_AddStringToObject(body, "status", "active");
        wb_shop_response post;
        int rc = wb_woo_request(woo, "POST", "webhooks", NULL, body, &post);
        cJSON_Delete(body);
        if (rc == 0 && (post.status == 200 || post.status == 201)) {
            oi_count_repair(store->id, "created");
            wb_warn(store->id, "reconcile: webhook %s was missing: created", topics[i]);
        } else {
            wb_warn(store->id, "reconcile: webhook %s could not be created: %s (HTTP %ld)", topics[i],
                    post.error, post.status);
        }
        wb_shop_response_free(&post);
    }
}

static void reconcile_woo(oi_ctx *ctx, wb_pg *pg, const wb_store *store) {
    cJSON *cred = cJSON_Parse(store->credentials ? store->credentials : "");
    const char *ck = oi_jstr(cred, "consumer_key"), *cs = oi_jstr(cred, "consumer_secret");
    const char *secret = oi_jstr(cred, "webhook_secret");
    if (!ck || !cs) {
        wb_warn(store->id, "reconcile: the store has no consumer key and secret");
        cJSON_Delete(cred);
        return;
    }
    wb_shop_opts opts = {.deadline_ms = 15000, .request_timeout_ms = 10000};
    wb_woo *woo = wb_woo_new(store->id, store->base_url, ck, cs, &opts);
    /* The store's rate budget, shared with the other services: the listing
     * can wait, so it keeps half the bucket for stock values and tracking. */
    wb_rate_budget *budget = wb_rate_budget_open(ctx->svc->cfg.redis_url);
    wb_woo_set_budget(woo, budget, (double)store->rate_limit_rps, (double)store->rate_limit_rps / 2);
    bool found;
    int64_t cursor = oi_cursor_read(pg, store->id, &found);
    int64_t now = wb_wall_ms();
    if (cursor < 0) {
        wb_warn(store->id, "reconcile: cursor not read: %s", wb_pg_error(pg));
        goto done;
    }
    if (!found) cursor = now;
    int64_t from = cursor - ctx->cfg.reconcile_overlap_ms;
    char since[40];
    wb_format_time(from, since, sizeof since); /* 2026-11-25T10:00:00.123Z */
    since[19] = 0;                             /* whole seconds, GMT */
    char since_q[64];
    snprintf(since_q, sizeof since_q, "%s", since);
    int64_t max_ms = cursor;
    int sent = 0;
    int rc = reconcile_listing(ctx, pg, woo, store, since_q, NULL, &max_ms, &sent);
    if (rc == 0) rc = reconcile_listing(ctx, pg, woo, store, since_q, "trash", &max_ms, &sent);
    if (rc == 0 && oi_cursor_write(pg, store->id, max_ms) != 0)
        wb_warn(store->id, "reconcile: cursor not saved: %s", wb_pg_error(pg));
    if (sent) wb_info(store->id, "reconcile: %d order version(s) the webhooks missed were sent", sent);
    repair_webhooks(ctx, woo, store, secret);
done:
    wb_woo_free(woo);
    wb_rate_budget_close(budget);
    cJSON_Delete(cred);
}

static atomic_bool requested;

void oi_reconcile_request(void) {
    atomic_store(&requested, true);
}

bool oi_reconcile_requested(void) {
    return atomic_exchange(&requested, false);
}

void oi_reconcile_all(oi_ctx *ctx, wb_pg *pg) {
    if (!ctx->svc->has_master_key) return;
    wb_store *stores;
    char err[512];
    int n = wb_store_list(pg, &stores, err, sizeof err);
    if (n < 0) {
        wb_warn(NULL, "reconcile: stores not listed: %s", err);
        return;
    }
    for (int i = 0; i < n && !wb_stopping(); i++) {
        if (!stores[i].enabled) continue;
        wb_store store;
        if (wb_store_load(pg, ctx->svc->master_key, stores[i].id, &store, err, sizeof err) != 0) {
            wb_warn(stores[i].id, "reconcile: store not loaded: %s", err);
            continue;
        }
        if (strcmp(store.platform, "shopify") == 0) oi_reconcile_shopify(ctx, pg, &store);
        else reconcile_woo(ctx, pg, &store);
        wb_store_free(&store);
        wb_heartbeat();
    }
    wb_store_list_free(stores, n);
}
