/* catalog-ingest's HTTP endpoints:
 *
 *   POST /webhooks/shopify/{store}      products/create, products/update
 *   POST /webhooks/woocommerce/{store}  product.created, product.updated
 *   POST /sync/{store}                  a full sync (what bridgectl's `products sync` also asks for)
 *
 * The webhook rules are order-ingest's (services/order-ingest/webhook.c):
 * unknown store 404 -> the HMAC of the raw body checked in constant time
 * before anything parses it, 401 when wrong or missing -> 200 for
 * WooCommerce's unsigned ping -> the body. A product webhook queues a sync
 * of that one product (a catalog_syncs row, de-duplicated while queued) and
 * is answered 200; the main loop runs it within a second, reading the
 * product from the shop's API, so a stale or reordered webhook body never
 * wins. 503 when PostgreSQL failed, so Shopify retries. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "catalog.h"
#include "wb/crypto.h"
#include "wb/log.h"
#include "wb/webhook.h"
#include "wb/metrics.h"

#define SHOPIFY_PREFIX "/webhooks/shopify/"
#define WOO_PREFIX "/webhooks/woocommerce/"
#define SYNC_PREFIX "/sync/"

static void reply(wb_http_response *res, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void reply(wb_http_response *res, int status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *body = NULL;
    if (vasprintf(&body, fmt, ap) < 0) body = NULL;
    va_end(ap);
    res->status = status;
    res->body = body;
    res->content_type = "application/json";
}




/* The product a webhook body is about (a variation's parent on WooCommerce). */
static bool product_of(const wb_http_request *req, char *out, size_t size) {
    cJSON *root = cJSON_ParseWithLength(req->body, req->body_len);
    bool ok = false;
    const cJSON *parent = cJSON_GetObjectItemCaseSensitive(root, "parent_id");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "id");
    if (cJSON_IsNumber(parent) && parent->valuedouble >= 1) id = parent;
    /* Only a whole number up to 2^53 or a gid ending in digits is an id: an
     * "inf" (1e999) or invalid UTF-8 would otherwise be queued, and fail
     * PostgreSQL (503, retried by the shop forever) or the sync. */
    if (cJSON_IsNumber(id) && id->valuedouble >= 1 && id->valuedouble <= 9007199254740991.0 &&
        id->valuedouble == (double)(long long)id->valuedouble) {
        snprintf(out, size, "%.0f", id->valuedouble);
        ok = true;
    } else if (cJSON_IsString(id) && *id->valuestring && strlen(id->valuestring) < size) {
        const char *slash = strrchr(id->valuestring, '/');
        const char *digits = slash ? slash + 1 : id->valuestring;
        ok = *digits && strspn(digits, "0123456789") == strlen(digits);
        if (ok) snprintf(out, size, "%s", digits);
    }
    cJSON_Delete(root);
    return ok;
}

static void count(const char *platform, int status) {
    char code[8];
    snprintf(code, sizeof code, "%d", status);
    wb_counter_inc(wb_counter("wb_catalog_webhooks_total", "Product webhooks answered, by platform and status.",
                              "platform,code"),
                   platform, code);
}

static void handle(ci_ctx *ctx, const wb_http_request *req, wb_http_response *res, bool shopify,
                   wb_pg **pgp, wb_store *store, bool *loaded) {
    const char *platform = shopify ? "shopify" : "woocommerce";
    const char *store_id = req->path + strlen(shopify ? SHOPIFY_PREFIX : WOO_PREFIX);
    if (!wb_webhook_store_id_ok(store_id)) return reply(res, 404, "{\"error\":\"unknown store\"}");
    if (!ctx->svc->has_master_key) return reply(res, 503, "{\"error\":\"credentials unavailable\"}");
    char err[512];
    wb_pg *pg = *pgp = wb_pg_connect(ctx->svc->cfg.pg_dsn, err, sizeof err);
    if (!pg) {
        wb_error(NULL, "product webhook: postgresql unreachable: %s", err);
        return reply(res, 503, "{\"error\":\"postgresql unavailable\"}");
    }
    int rc = wb_store_load(pg, ctx->svc->master_key, store_id, store, err, sizeof err);
    if (rc < 0) {
        wb_error(store_id, "product webhook: store not loaded: %s", err);
        return reply(res, 503, "{\"error\":\"store unavailable\"}");
    }
    if (rc == 1) return reply(res, 404, "{\"error\":\"unknown store\"}");
    *loaded = true;
    if (strcmp(store->platform, platform) != 0) return reply(res, 404, "{\"error\":\"unknown store\"}");
    const char *sig = wb_webhook_signature(store, req);
    bool signed_ok = wb_webhook_signed_ok(store, req);
    if (!shopify && wb_webhook_is_ping(req->body, req->body_len) && (!sig || signed_ok))
        return reply(res, 200, "{\"status\":\"pong\"}");
    if (!signed_ok) {
        wb_warn(store_id, "%s product webhook refused: %s signature", platform, sig ? "wrong" : "no");
        return reply(res, 401, "{\"error\":\"invalid signature\"}");
    }
    const char *topic = wb_http_header(req, shopify ? "X-Shopify-Topic" : "X-WC-Webhook-Topic");
    if (!topic) topic = "";
    /* A deletion queues a product sync like a change: the sync asks the shop
     * (404, no variants) and reports the articles gone, so a forged or stale
     * delete cannot remove what the shop still sells. */
    bool product_topic = shopify ? strcmp(topic, "products/update") == 0 || strcmp(topic, "products/create") == 0 ||
                                       strcmp(topic, "products/delete") == 0
                                 : strcmp(topic, "product.updated") == 0 || strcmp(topic, "product.created") == 0 ||
                                       strcmp(topic, "product.deleted") == 0;
    if (!product_topic) return reply(res, 200, "{\"status\":\"ignored\"}");
    if (!store->enabled) return reply(res, 200, "{\"status\":\"ignored\",\"reason\":\"store disabled\"}");
    char product[64];
    if (!product_of(req, product, sizeof product)) {
        wb_warn(store_id, "%s webhook %s without a product id ignored", platform, topic);
        return reply(res, 200, "{\"status\":\"ignored\",\"reason\":\"no product id\"}");
    }
    const char *p[] = {store_id, product};
    if (wb_pg_exec(pg, "INSERT INTO catalog_syncs (store_id, product_id, source) VALUES ($1, $2, 'webhook') "
                       "ON CONFLICT DO NOTHING", 2, p)) {
        wb_error(store_id, "product webhook: sync not queued: %s", wb_pg_error(pg));
        return reply(res, 503, "{\"error\":\"postgresql unavailable\"}");
    }
    wb_info(store_id, "%s webhook %s: product %s queued", platform, topic, product);
    reply(res, 200, "{\"status\":\"queued\",\"product_id\":\"%s\"}", product);
}

static void serve(const wb_http_request *req, wb_http_response *res, void *arg, bool shopify) {
    wb_pg *pg = NULL;
    wb_store store;
    bool loaded = false;
    handle(arg, req, res, shopify, &pg, &store, &loaded);
    if (loaded) wb_store_free(&store);
    if (pg) wb_pg_close(pg);
    count(shopify ? "shopify" : "woocommerce", res->status);
}

static void shopify_handler(const wb_http_request *req, wb_http_response *res, void *ctx) {
    serve(req, res, ctx, true);
}

static void woo_handler(const wb_http_request *req, wb_http_response *res, void *ctx) {
    serve(req, res, ctx, false);
}

static void sync_handler(const wb_http_request *req, wb_http_response *res, void *arg) {
    ci_ctx *ctx = arg;
    const char *store_id = req->path + strlen(SYNC_PREFIX);
    if (!wb_webhook_store_id_ok(store_id)) return reply(res, 404, "{\"error\":\"unknown store\"}");
    char err[512];
    wb_pg *pg = wb_pg_connect(ctx->svc->cfg.pg_dsn, err, sizeof err);
    if (!pg) return reply(res, 503, "{\"error\":\"postgresql unavailable\"}");
    const char *p[] = {store_id};
    PGresult *r = wb_pg_query(pg,
        "WITH s AS (SELECT id FROM stores WHERE id = $1), "
        "ins AS (INSERT INTO catalog_syncs (store_id, source) SELECT id, 'http' FROM s ON CONFLICT DO NOTHING "
        "RETURNING id) SELECT (SELECT count(*) FROM s), (SELECT id FROM ins)", 1, p);
    if (!r) {
        reply(res, 503, "{\"error\":\"postgresql unavailable\"}");
    } else if (strcmp(PQgetvalue(r, 0, 0), "0") == 0) {
        reply(res, 404, "{\"error\":\"unknown store\"}");
    } else {
        PQclear(r);
        r = wb_pg_query(pg, "SELECT id FROM catalog_syncs WHERE store_id = $1 AND product_id IS NULL "
                            "AND kind = 'full' AND state IN ('requested', 'running')", 1, p);
        if (r && PQntuples(r) == 1) reply(res, 202, "{\"status\":\"sync requested\",\"sync_id\":%s}", PQgetvalue(r, 0, 0));
        else reply(res, 202, "{\"status\":\"sync requested\"}");
    }
    if (r) PQclear(r);
    wb_pg_close(pg);
}

void ci_add_routes(wb_service *svc, wb_http_server *http, void *arg) {
    ci_ctx *ctx = arg;
    ctx->svc = svc;
    /* One page of a sync may wait out a shop call's 60 s deadline. */
    wb_http_set_liveness_timeout(http, 180);
    wb_http_route(http, "POST", SHOPIFY_PREFIX, shopify_handler, ctx);
    wb_http_route(http, "POST", WOO_PREFIX, woo_handler, ctx);
    wb_http_route(http, "POST", SYNC_PREFIX, sync_handler, ctx);
}
