/* The webhook endpoints:
 *
 *   POST /webhooks/shopify/{store}      (or /webhooks/shopify with X-Shopify-Shop-Domain)
 *   POST /webhooks/woocommerce/{store}
 *
 * Checks in this order: unknown store 404 (and a Shopify shop domain that is
 * not the store's) -> the HMAC of the raw body, before anything parses it,
 * 401 when wrong or missing -> 200 for WooCommerce's ping -> parse; malformed
 * JSON goes to the dead-letter topic, 200 -> map; an unmappable order (a line
 * without SKU) goes to the dead-letter topic, 200 -> rules, produce, record
 * (ingest.c) -> 200 after the Kafka ack; 503 when Kafka or PostgreSQL failed,
 * so Shopify retries. Bodies over WB_HTTP_MAX_BODY were refused with 413 by
 * the server before they were read.
 *
 * The routes are asynchronous (wb_http_route_async): the handler runs on one
 * of the HTTP server's worker threads up to queueing the order for its
 * group-commit batch, and returns; the batcher answers the webhook when the
 * batch is done (order_batched), so no thread sleeps per webhook. What is
 * decided before the batch (404, 401, ping, dead letters, ignored topics,
 * app/uninstalled) is answered at once. A request lives on the heap from
 * serve() to finish_request().
 *
 * WooCommerce's ping (body `webhook_id=N`, sent when a webhook is created or
 * re-activated) is not signed by WooCommerce, and anything but 200 makes the
 * shop refuse the webhook: it is answered 200 without a signature, but never
 * with a wrong one, and it does nothing. */
#include <ctype.h>
#include <stdarg.h>
#include <strings.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ingest.h"
#include "map_internal.h"
#include "wb/crypto.h"
#include "wb/webhook.h"
#include "wb/log.h"
#include "wb/metrics.h"
#include "wb/runloop.h"

#define SHOPIFY_PREFIX "/webhooks/shopify"
#define WOO_PREFIX "/webhooks/woocommerce"

#define RETURN_REPLY(...) do { reply(__VA_ARGS__); return false; } while (0)

typedef struct request {
    oi_ctx *ctx;
    wb_platform platform;
    const char *platform_name;
    const wb_http_request *req; /* headers only until the handler returns */
    wb_http_pending *pending;
    int64_t t0;
    int status;   /* the answer */
    char *answer;
    char topic[64]; /* a copy: the batcher's answer outlives the headers */
    wb_pg *pg;
    wb_store store; /* a shallow copy of *cached: its strings belong to the cache entry */
    const wb_store *cached;
    bool store_loaded;
    /* an order handed to its batch, alive until the batch is done */
    oi_order order;
    bool has_order;
    char *order_id;
    char *receipt_key;
} request;

static void reply(request *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void reply(request *r, int status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *body = NULL;
    if (vasprintf(&body, fmt, ap) < 0) body = NULL;
    va_end(ap);
    r->status = status;
    free(r->answer);
    r->answer = body;
}

/* A JSON string literal's inside for a value we put in a reply. */
static void json_safe(const char *in, char *out, size_t size) {
    size_t j = 0;
    for (; in && *in && j + 1 < size; in++)
        if ((unsigned char)*in >= 0x20 && *in != '"' && *in != '\\') out[j++] = *in;
    out[j] = 0;
}


/* host[:port] of a base URL, lowercased. */
static void url_host(const char *url, char *out, size_t size) {
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t j = 0;
    for (; *p && *p != '/' && *p != '?' && j + 1 < size; p++) out[j++] = (char)tolower((unsigned char)*p);
    out[j] = 0;
}

/* The shop's domain is its credentials' shop_domain when set (a store
 * reached through a proxy or a simulator), otherwise the host of its URL. */
static bool domain_matches(const wb_store *s, const char *domain) {
    char host[256];
    cJSON *c = s->credentials ? cJSON_Parse(s->credentials) : NULL;
    const char *configured = oi_jstr(c, "shop_domain");
    if (configured && *configured) snprintf(host, sizeof host, "%s", configured);
    else url_host(s->base_url, host, sizeof host);
    cJSON_Delete(c);
    return strcasecmp(host, domain) == 0;
}

static int store_by_domain(wb_pg *pg, const char *domain, char *id, size_t size) {
    const char *p[] = {domain};
    PGresult *r = wb_pg_query(pg,
        "SELECT id FROM stores WHERE platform = 'shopify' AND "
        "lower(substring(base_url from '^https?://([^/?]+)')) = lower($1) ORDER BY id LIMIT 1", 1, p);
    if (!r) return -1;
    int found = PQntuples(r) == 1;
    if (found) snprintf(id, size, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return found;
}


/* The request's PostgreSQL connection, borrowed from the pool when first
 * needed; NULL (logged) when PostgreSQL cannot be reached. */
static wb_pg *request_pg(request *r) {
    if (r->pg) return r->pg;
    char err[512];
    r->pg = oi_pool_get(&r->ctx->pool, err, sizeof err);
    if (!r->pg) wb_error(r->store.id, "webhook: postgresql unreachable: %s", err);
    return r->pg;
}

/* Gives the connection back: an order waits for its batch without one. */
static void release_pg(request *r) {
    if (!r->pg) return;
    bool broken = PQstatus(wb_pg_conn(r->pg)) != CONNECTION_OK;
    oi_pool_put(&r->ctx->pool, r->pg, broken);
    r->pg = NULL;
}

static void dead_letter(request *r, const char *key, const char *reason) {
    if (oi_dead_letter(r->ctx, r->store.id, "webhook", r->req->path, key, reason, r->req->body,
                       r->req->body_len) != 0) {
        reply(r, 503, "{\"error\":\"kafka unavailable\"}");
        return;
    }
    char safe[300];
    json_safe(reason, safe, sizeof safe);
    reply(r, 200, "{\"status\":\"dead_letter\",\"reason\":\"%s\"}", safe);
}

/* A webhook body that is not an order: counted as outcome, dead-lettered
 * with "<platform> webhook <topic>: <what>". */
static void refuse_body(request *r, const char *outcome, const char *what) {
    char reason[600];
    snprintf(reason, sizeof reason, "%s webhook %s: %s", r->platform_name, r->topic, what);
    oi_count(r->store.id, r->platform_name, "webhook", outcome);
    dead_letter(r, NULL, reason);
}

static void finish_ingest(request *r, oi_status st, oi_action action, const char *order_id,
                          const char *err) {
    char id[128];
    json_safe(order_id, id, sizeof id);
    if (st != OI_OK) {
        wb_error(r->store.id, "order %s from %s webhook not taken: %s", order_id, r->topic, err);
        oi_count(r->store.id, r->platform_name, "webhook", oi_status_outcome(st));
        reply(r, 503, "{\"error\":\"%s unavailable\"}",
              st == OI_KAFKA_DOWN ? "kafka" : st == OI_SHOP_DOWN ? "shop" : "postgresql");
        return;
    }
    oi_count(r->store.id, r->platform_name, "webhook", oi_action_name(action));
    reply(r, 200, "{\"status\":\"%s\",\"order_id\":\"%s\"}", oi_action_name(action), id);
}

/* The outcome of an order's ingest (prepare or batch) into the answer. */
static void ingested(request *r, oi_status st, oi_action action, const char *err) {
    if (st == OI_UNMAPPED) { /* a store rule (every SKU mapped): like an unmappable line */
        char *key = NULL;
        if (asprintf(&key, "%s/%s", r->store.id, r->order.msg.order_id) < 0) key = NULL;
        oi_count(r->store.id, r->platform_name, "webhook", "unmappable");
        dead_letter(r, key, err);
        free(key);
    } else {
        finish_ingest(r, st, action, r->order.msg.order_id, err);
    }
}

static void finish_request(request *r);

/* oi_batch_done, on the batcher's thread. */
static void order_batched(void *arg, oi_status st, oi_action action, const char *err) {
    request *r = arg;
    ingested(r, st, action, err);
    finish_request(r);
}

static void deletion_batched(void *arg, oi_status st, oi_action action, const char *err) {
    request *r = arg;
    finish_ingest(r, st, action, r->order_id, err);
    finish_request(r);
}

/* An order body: map, then ingest. force_cancel: the topic says the order
 * is gone. True when the order went to its batch: r then belongs to the
 * batcher, which answers (and frees r) when the batch is done. */
static bool handle_order(request *r, bool force_cancel) {
    char err[512];
    int rc = r->platform == WB_PLATFORM_SHOPIFY
                 ? oi_map_shopify(r->store.id, r->req->body, r->req->body_len, &r->order, &r->order_id, err, sizeof err)
                 : oi_map_woocommerce(r->store.id, r->req->body, r->req->body_len, &r->order, &r->order_id, err, sizeof err);
    if (rc == OI_MAP_MALFORMED) {
        refuse_body(r, "malformed", err);
        return false;
    }
    if (rc == OI_MAP_UNMAPPABLE) {
        char *key = NULL;
        if (r->order_id && asprintf(&key, "%s/%s", r->store.id, r->order_id) < 0) key = NULL;
        char reason[700];
        snprintf(reason, sizeof reason, "order %s: %s", r->order_id ? r->order_id : "?", err);
        oi_count(r->store.id, r->platform_name, "webhook", "unmappable");
        dead_letter(r, key, reason);
        free(key);
        return false;
    }
    r->has_order = true;
    if (force_cancel) r->order.cancelled = true;
    oi_status st = oi_prepare(r->ctx, NULL, &r->store, &r->order, err, sizeof err);
    if (st != OI_OK) {
        ingested(r, st, OI_ACT_DUPLICATE, err);
        return false;
    }
    release_pg(r);
    /* oi_ingest() without the wait. r may be answered and freed on the
     * batcher's thread from here on. */
    oi_batch_submit(r->ctx, &r->store, &r->order, r->receipt_key, oi_filter_pass(&r->store, &r->order),
                    order_batched, r);
    return true;
}

/* A deletion that carries only the order's id: through the batch like an
 * order (true: r belongs to the batcher now). */
static bool handle_deleted(request *r) {
    cJSON *root = cJSON_ParseWithLength(r->req->body, r->req->body_len);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        refuse_body(r, "malformed", "malformed JSON");
        return false;
    }
    if (cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, "line_items"))) {
        cJSON_Delete(root); /* a whole order: map it, as cancelled */
        return handle_order(r, true);
    }
    char idbuf[64];
    const char *id = oi_jid(root, "id", idbuf, sizeof idbuf);
    if (!id) {
        cJSON_Delete(root);
        refuse_body(r, "unmappable", "id: missing");
        return false;
    }
    r->order_id = strdup(id);
    cJSON_Delete(root);
    r->has_order = true;
    r->order.msg.store_id = strdup(r->store.id);
    r->order.msg.order_id = strdup(r->order_id);
    release_pg(r);
    oi_batch_submit_deleted(r->ctx, &r->store, &r->order, wb_wall_ms(), deletion_batched, r);
    return true;
}

static bool handle_uninstalled(request *r) {
    if (!request_pg(r)) RETURN_REPLY(r, 503, "{\"error\":\"postgresql unavailable\"}");
    const char *p[] = {r->store.id};
    if (wb_pg_exec(r->pg, "UPDATE stores SET enabled = false, updated_at = now() WHERE id = $1", 1, p) != 0) {
        wb_error(r->store.id, "app/uninstalled: store not disabled: %s", wb_pg_error(r->pg));
        reply(r, 503, "{\"error\":\"postgresql unavailable\"}");
        return false;
    }
    oi_store_forget(r->store.id); /* this replica's next webhook sees it disabled */
    wb_warn(r->store.id, "the app was uninstalled from the shop: store disabled");
    oi_count(r->store.id, r->platform_name, "webhook", "app_uninstalled");
    reply(r, 200, "{\"status\":\"store_disabled\"}");
    return false;
}

/* True when the order went to its batch (r belongs to the batcher). */
static bool dispatch(request *r) {
    const char *t = r->topic;
    if (r->platform == WB_PLATFORM_SHOPIFY) {
        if (strcmp(t, "app/uninstalled") == 0) { handle_uninstalled(r); return false; }
        if (strcmp(t, "orders/delete") == 0) return handle_deleted(r);
        if (strcmp(t, "orders/create") == 0 || strcmp(t, "orders/updated") == 0 ||
            strcmp(t, "orders/cancelled") == 0 || strcmp(t, "orders/paid") == 0 ||
            strcmp(t, "orders/fulfilled") == 0 || strcmp(t, "orders/partially_fulfilled") == 0) {
            const char *wid = wb_http_header(r->req, "X-Shopify-Webhook-Id");
            if (wid && *wid && asprintf(&r->receipt_key, "shopify-webhook:%s", wid) < 0)
                r->receipt_key = NULL;
            return handle_order(r, strcmp(t, "orders/cancelled") == 0);
        }
    } else {
        if (strcmp(t, "order.deleted") == 0) return handle_deleted(r);
        if (strcmp(t, "order.created") == 0 || strcmp(t, "order.updated") == 0 ||
            strcmp(t, "order.restored") == 0)
            return handle_order(r, false);
    }
    wb_info(r->store.id, "%s webhook topic %s ignored", r->platform_name, t);
    oi_count(r->store.id, r->platform_name, "webhook", "ignored_topic");
    reply(r, 200, "{\"status\":\"ignored\"}");
    return false;
}

/* True when the order went to its batch (r belongs to the batcher). */
static bool handle(request *r, const char *prefix) {
    const wb_http_request *req = r->req;
    char store_id[64] = "", err[512];
    const char *rest = req->path + strlen(prefix);
    if (*rest && *rest != '/') RETURN_REPLY(r, 404, "{\"error\":\"not found\"}");
    if (*rest == '/') rest++;
    if (*rest) {
        if (!wb_webhook_store_id_ok(rest)) RETURN_REPLY(r, 404, "{\"error\":\"unknown store\"}");
        snprintf(store_id, sizeof store_id, "%s", rest);
    }
    const char *domain =
        r->platform == WB_PLATFORM_SHOPIFY ? wb_http_header(req, "X-Shopify-Shop-Domain") : NULL;
    if (domain && !*domain) domain = NULL;
    if (!*store_id && !domain) RETURN_REPLY(r, 404, "{\"error\":\"unknown store\"}");

    r->pg = oi_pool_get(&r->ctx->pool, err, sizeof err);
    if (!r->pg) {
        wb_error(NULL, "webhook: postgresql unreachable: %s", err);
        RETURN_REPLY(r, 503, "{\"error\":\"postgresql unavailable\"}");
    }
    if (!*store_id) {
        int found = store_by_domain(r->pg, domain, store_id, sizeof store_id);
        if (found < 0) {
            wb_error(NULL, "webhook: store lookup failed: %s", wb_pg_error(r->pg));
            RETURN_REPLY(r, 503, "{\"error\":\"postgresql unavailable\"}");
        }
        if (!found) RETURN_REPLY(r, 404, "{\"error\":\"unknown store\"}");
    }
    if (!r->ctx->svc->has_master_key) {
        wb_error(store_id, "webhook: WB_MASTER_KEY is not set, the store's secret cannot be read");
        RETURN_REPLY(r, 503, "{\"error\":\"credentials unavailable\"}");
    }
    int rc = oi_store_acquire(r->pg, r->ctx->svc->master_key, store_id, &r->cached, err, sizeof err);
    if (rc == 0) r->store = *r->cached;
    if (rc < 0) {
        wb_error(store_id, "webhook: store not loaded: %s", err);
        RETURN_REPLY(r, 503, "{\"error\":\"store unavailable\"}");
    }
    if (rc == 1) RETURN_REPLY(r, 404, "{\"error\":\"unknown store\"}");
    r->store_loaded = true;
    if (strcmp(r->store.platform, r->platform_name) != 0) RETURN_REPLY(r, 404, "{\"error\":\"unknown store\"}");
    if (domain && !domain_matches(&r->store, domain)) {
        wb_warn(store_id, "shopify webhook for shop domain %s, which is not this store's", domain);
        RETURN_REPLY(r, 404, "{\"error\":\"unknown store\"}");
    }

    const char *sig = wb_webhook_signature(&r->store, req);
    bool signed_ok = wb_webhook_signed_ok(&r->store, req);
    if (r->platform == WB_PLATFORM_WOOCOMMERCE && wb_webhook_is_ping(req->body, req->body_len) &&
        (!sig || signed_ok)) {
        wb_info(store_id, "woocommerce webhook ping answered");
        RETURN_REPLY(r, 200, "{\"status\":\"pong\"}");
    }
    if (!signed_ok) {
        wb_warn(store_id, "%s webhook refused: %s signature", r->platform_name, sig ? "wrong" : "no");
        oi_count(store_id, r->platform_name, "webhook", "bad_signature");
        RETURN_REPLY(r, 401, "{\"error\":\"invalid signature\"}");
    }
    const char *topic = wb_http_header(req, r->platform == WB_PLATFORM_SHOPIFY ? "X-Shopify-Topic"
                                                                               : "X-WC-Webhook-Topic");
    snprintf(r->topic, sizeof r->topic, "%s", topic ? topic : "");
    if (!r->store.enabled) {
        wb_info(store_id, "%s webhook %s for a disabled store ignored", r->platform_name, r->topic);
        oi_count(store_id, r->platform_name, "webhook", "store_disabled");
        RETURN_REPLY(r, 200, "{\"status\":\"ignored\",\"reason\":\"store disabled\"}");
    }
    release_pg(r);
    return dispatch(r);
}

/* The answer, its metrics, and r's end. */
static void finish_request(request *r) {
    release_pg(r);
    if (r->store_loaded) oi_store_release(r->cached);
    if (r->has_order) oi_order_free(&r->order);
    free(r->order_id);
    free(r->receipt_key);
    if (!r->status) reply(r, 500, "{\"error\":\"no answer\"}");
    char code[8];
    snprintf(code, sizeof code, "%d", r->status);
    wb_counter_inc(wb_counter("wb_webhooks_total", "Order webhooks answered, by platform and status.",
                              "platform,code"),
                   r->platform_name, code);
    wb_histogram_observe(wb_histogram("wb_webhook_seconds", "Time to answer an order webhook.",
                                      "platform", wb_latency_buckets, wb_latency_bucket_count),
                         (double)(wb_monotonic_ms() - r->t0) / 1000.0, r->platform_name);
    wb_http_complete(r->pending, r->status, r->answer);
    free(r);
}

static void serve(const wb_http_request *req, wb_http_pending *pending, oi_ctx *ctx,
                  wb_platform platform, const char *prefix) {
    request *r = calloc(1, sizeof *r);
    *r = (request){.ctx = ctx, .platform = platform, .platform_name = wb_platform_name(platform),
                   .req = req, .pending = pending, .t0 = wb_monotonic_ms()};
    if (!handle(r, prefix)) finish_request(r);
}

static void shopify_handler(const wb_http_request *req, wb_http_pending *pending, void *ctx) {
    serve(req, pending, ctx, WB_PLATFORM_SHOPIFY, SHOPIFY_PREFIX);
}

static void woo_handler(const wb_http_request *req, wb_http_pending *pending, void *ctx) {
    serve(req, pending, ctx, WB_PLATFORM_WOOCOMMERCE, WOO_PREFIX);
}

static void reconcile_handler(const wb_http_request *req, wb_http_response *res, void *ctx) {
    (void)req, (void)ctx;
    oi_reconcile_request();
    wb_http_reply(res, 202, "{\"status\":\"reconcile requested\"}");
}

void oi_add_routes(wb_service *svc, wb_http_server *http, void *arg) {
    oi_ctx *ctx = arg;
    ctx->svc = svc;
    oi_pool_init(&ctx->pool, svc->cfg.pg_dsn, ctx->cfg.pg_pool);
    oi_store_cache_set_ttl(ctx->cfg.store_cache_ms);
    oi_batcher_start(ctx);
    wb_http_route_async(http, "POST", SHOPIFY_PREFIX, shopify_handler, ctx);
    wb_http_route_async(http, "POST", WOO_PREFIX, woo_handler, ctx);
    wb_http_route(http, "POST", "/reconcile", reconcile_handler, ctx);
}
