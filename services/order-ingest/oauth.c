/* Shopify's authorization code grant, the bridge's half (see oauth.h).
 *
 * GET /shopify/oauth/callback?code&hmac&host&shop&state&timestamp, in this
 * order of checks, each refusing with 400 before anything is spent:
 *   1. hmac: hex HMAC-SHA256, under the app's client secret, of every other
 *      query parameter sorted by name and joined as name=value&... (decoded
 *      values), compared in constant time;
 *   2. shop: NAME.myshopify.com;
 *   3. state: a nonce `bridgectl store add --shop` stored in shopify_installs,
 *      taken (used_at) in the same statement that checks it is unused and
 *      unexpired, so a replayed callback finds it gone; and for that shop.
 * Then the code is exchanged once (a code is single use, so no retry) at
 * {store URL}/admin/oauth/access_token, the granted scopes are checked
 * against wb_shopify_scopes, the offline token is stored sealed with the
 * store (wb_store_add), and the webhooks are registered
 * (webhookSubscriptionCreate): the order topics at WB_ORDER_PUBLIC_URL, the
 * product topics at WB_CATALOG_PUBLIC_URL when that is set. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "oauth.h"
#include "wb/crypto.h"
#include "wb/log.h"
#include "wb/shopclient.h"
#include "wb/shopify_documents.h"

static struct {
    const char *client_id, *client_secret, *catalog_url;
} app;

void oi_oauth_config_read(wb_env *env) {
    static const char *const schemes[] = {"http", "https", NULL};
    app.client_id = wb_env_string(env, "WB_SHOPIFY_CLIENT_ID", "");
    app.client_secret = wb_env_string(env, "WB_SHOPIFY_CLIENT_SECRET", "");
    if (!*app.client_id != !*app.client_secret)
        wb_env_fail(env, *app.client_id ? "WB_SHOPIFY_CLIENT_SECRET" : "WB_SHOPIFY_CLIENT_ID",
                    "set both WB_SHOPIFY_CLIENT_ID and WB_SHOPIFY_CLIENT_SECRET, or neither");
    const char *catalog = wb_env_string(env, "WB_CATALOG_PUBLIC_URL", "");
    app.catalog_url = *catalog ? wb_env_url(env, "WB_CATALOG_PUBLIC_URL", "", schemes) : "";
    if (*app.client_secret) wb_log_add_secret(app.client_secret);
}

typedef struct {
    char *name[64], *value[64];
    int n;
} query_args;

static void collect(void *ctx, const char *name, const char *value) {
    query_args *q = ctx;
    if (q->n < 64) {
        q->name[q->n] = strdup(name);
        q->value[q->n] = strdup(value);
        q->n++;
    }
}

static bool hmac_ok(query_args *q) {
    const char *given = NULL;
    /* Insertion sort by name: a callback has six parameters. */
    for (int i = 1; i < q->n; i++)
        for (int j = i; j > 0 && strcmp(q->name[j - 1], q->name[j]) > 0; j--) {
            char *t = q->name[j];
            q->name[j] = q->name[j - 1], q->name[j - 1] = t;
            t = q->value[j];
            q->value[j] = q->value[j - 1], q->value[j - 1] = t;
        }
    size_t cap = 1;
    for (int i = 0; i < q->n; i++) cap += strlen(q->name[i]) + strlen(q->value[i]) + 2;
    char *message = calloc(1, cap);
    for (int i = 0; i < q->n; i++) {
        if (strcmp(q->name[i], "hmac") == 0) {
            given = q->value[i];
            continue;
        }
        if (*message) strcat(message, "&");
        strcat(message, q->name[i]);
        strcat(message, "=");
        strcat(message, q->value[i]);
    }
    unsigned char mac[WB_SHA256_LEN];
    wb_hmac_sha256(app.client_secret, strlen(app.client_secret), message, strlen(message), mac);
    free(message);
    char hex[2 * WB_SHA256_LEN + 1];
    for (int i = 0; i < WB_SHA256_LEN; i++) snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    return given && strlen(given) == 2 * WB_SHA256_LEN && wb_ct_equal(hex, given, 2 * WB_SHA256_LEN);
}

static const char *query_arg(const query_args *q, const char *name) {
    for (int i = 0; i < q->n; i++)
        if (strcmp(q->name[i], name) == 0) return q->value[i];
    return NULL;
}

static bool shop_domain_ok(const char *shop) {
    const char *suffix = ".myshopify.com";
    size_t n = shop ? strlen(shop) : 0, m = strlen(suffix);
    if (n <= m || n > 255 || strcmp(shop + n - m, suffix) != 0) return false;
    for (size_t i = 0; i < n - m; i++) {
        char c = shop[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (c == '-' && i > 0);
        if (!ok) return false;
    }
    return true;
}

static void reply(wb_http_response *res, int status, const char *fmt, const char *a, const char *b) {
    char text[1024];
    snprintf(text, sizeof text, fmt, a, b);
    res->status = status;
    res->content_type = "text/plain; charset=utf-8";
    size_t n = strlen(text);
    res->body = malloc(n + 2);
    memcpy(res->body, text, n);
    res->body[n] = '\n';
    res->body[n + 1] = 0;
}

/* A write scope grants its read scope. */
static bool granted(const char *scopes, const char *need) {
    char *list = strdup(scopes), *save = NULL;
    bool ok = false;
    for (char *s = strtok_r(list, ",", &save); s && !ok; s = strtok_r(NULL, ",", &save)) {
        while (*s == ' ') s++;
        ok = strcmp(s, need) == 0 ||
             (strncmp(need, "read_", 5) == 0 && strncmp(s, "write_", 6) == 0 && strcmp(s + 6, need + 5) == 0);
    }
    free(list);
    return ok;
}

/* The token for the code, or NULL with why. */
static char *exchange(const char *store_id, const char *base_url, const char *code, char **scope, char *err,
                      size_t err_size) {
    wb_shop_opts opts = {.max_attempts = 1, .deadline_ms = 20000};
    wb_shop_opts_defaults(&opts);
    wb_shop_http *http = wb_shop_http_new(store_id, "shopify", &opts);
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "client_id", app.client_id);
    cJSON_AddStringToObject(body, "client_secret", app.client_secret);
    cJSON_AddStringToObject(body, "code", code);
    char *text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    char url[1024];
    snprintf(url, sizeof url, "%s/admin/oauth/access_token", base_url);
    static const char *const headers[] = {"Content-Type: application/json", "Accept: application/json", NULL};
    wb_shop_request req = {.method = "POST", .url = url, .headers = headers, .body = text, .body_len = strlen(text)};
    wb_shop_response res;
    wb_shop_http_do(http, &req, &res);
    memset(text, 0, strlen(text));
    free(text);
    wb_shop_http_free(http);
    char *token = NULL;
    cJSON *doc = cJSON_ParseWithLength(res.body ? res.body : "", res.body_len);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(doc, "access_token");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(doc, "scope");
    if (res.status == 200 && cJSON_IsString(t) && cJSON_IsString(s)) {
        token = strdup(t->valuestring);
        *scope = strdup(s->valuestring);
        wb_log_add_secret(token);
    } else {
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(doc, "error_description");
        snprintf(err, err_size, "HTTP %ld: %s", res.status,
                 cJSON_IsString(d) ? d->valuestring : res.status ? "unexpected answer" : res.error);
    }
    cJSON_Delete(doc);
    wb_shop_response_free(&res);
    return token;
}

/* Registers one webhook; 0, or -1 with why. */
static int subscribe(wb_shopify *s, const char *topic, const char *uri, char *err, size_t err_size) {
    cJSON *vars = cJSON_CreateObject();
    cJSON_AddStringToObject(vars, "topic", topic);
    cJSON *sub = cJSON_AddObjectToObject(vars, "webhookSubscription");
    cJSON_AddStringToObject(sub, "uri", uri);
    cJSON_AddStringToObject(sub, "format", "JSON");
    cJSON *doc = NULL;
    int rc = wb_shopify_graphql(s, wb_gql_webhook_subscription_create, vars, 10, &doc, err, err_size);
    cJSON_Delete(vars);
    if (rc) return -1;
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(doc, "data");
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(data, "webhookSubscriptionCreate");
    const cJSON *ue = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(res, "userErrors"), 0);
    const cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "errors"), 0);
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(ue ? ue : e, "message");
    if (ue || e || !cJSON_GetObjectItemCaseSensitive(res, "webhookSubscription"))
        rc = -1, snprintf(err, err_size, "%s", cJSON_IsString(msg) ? msg->valuestring : "no subscription");
    cJSON_Delete(doc);
    return rc;
}

static int register_webhooks(oi_ctx *ctx, const char *store_id, const char *base_url, const char *token,
                             char *err, size_t err_size) {
    static const char *const order_topics[] = {"ORDERS_CREATE", "ORDERS_UPDATED", "ORDERS_CANCELLED",
                                               "APP_UNINSTALLED"};
    static const char *const product_topics[] = {"PRODUCTS_CREATE", "PRODUCTS_UPDATE"};
    wb_shop_opts opts = {0};
    wb_shop_opts_defaults(&opts);
    wb_shopify *s = wb_shopify_new(store_id, base_url, token, &opts);
    int n = 0;
    char uri[1024];
    snprintf(uri, sizeof uri, "%s/webhooks/shopify/%s", ctx->cfg.public_url, store_id);
    for (int i = 0; i < 4 && n >= 0; i++) n = subscribe(s, order_topics[i], uri, err, err_size) ? -1 : n + 1;
    if (*app.catalog_url && n >= 0) {
        snprintf(uri, sizeof uri, "%s/webhooks/shopify/%s", app.catalog_url, store_id);
        for (int i = 0; i < 2 && n >= 0; i++) n = subscribe(s, product_topics[i], uri, err, err_size) ? -1 : n + 1;
    }
    wb_shopify_free(s);
    return n;
}

static void record(wb_pg *pg, const char *state, const char *outcome) {
    const char *p[] = {state, outcome};
    wb_pg_exec(pg, "UPDATE shopify_installs SET outcome = $2 WHERE state = $1", 2, p);
}

static void callback(const wb_http_request *req, wb_http_response *res, void *arg) {
    oi_ctx *ctx = arg;
    if (!*app.client_secret) {
        reply(res, 503, "%s%s", "Shopify installs are not configured here (WB_SHOPIFY_CLIENT_ID, "
                               "WB_SHOPIFY_CLIENT_SECRET)", "");
        return;
    }
    query_args q = {.n = 0};
    wb_http_query_each(req, collect, &q);
    const char *shop = query_arg(&q, "shop"), *state = query_arg(&q, "state"), *code = query_arg(&q, "code");
    wb_pg *pg = NULL;
    char err[512], *token = NULL, *scope = NULL;
    PGresult *row = NULL;
    if (!hmac_ok(&q)) {
        wb_warn(NULL, "shopify oauth callback: bad hmac (shop %s)", shop ? shop : "?");
        reply(res, 400, "%s%s", "the request's hmac does not verify", "");
        goto out;
    }
    if (!shop_domain_ok(shop) || !state || !code) {
        reply(res, 400, "%s%s", "shop, state and code are required; shop must be NAME.myshopify.com", "");
        goto out;
    }
    pg = oi_pool_get(&ctx->pool, err, sizeof err);
    if (!pg) {
        reply(res, 503, "database unavailable: %s%s", err, "");
        goto out;
    }
    const char *p[] = {state, shop};
    row = wb_pg_query(pg,
                      "UPDATE shopify_installs SET used_at = now() WHERE state = $1 AND shop_domain = $2"
                      " AND used_at IS NULL AND expires_at > now()"
                      " RETURNING store_id, base_url, goods_owner",
                      2, p);
    if (!row) {
        reply(res, 503, "database: %s%s", wb_pg_error(pg), "");
        goto out;
    }
    if (PQntuples(row) != 1) {
        wb_warn(NULL, "shopify oauth callback: unknown, used or expired state (shop %s)", shop);
        reply(res, 400, "%s%s", "unknown, already used or expired state: start again with bridgectl store add", "");
        goto out;
    }
    const char *store_id = PQgetvalue(row, 0, 0), *base_url = PQgetvalue(row, 0, 1);
    token = exchange(store_id, base_url, code, &scope, err, sizeof err);
    if (!token) {
        wb_warn(store_id, "shopify oauth: the code exchange failed: %s", err);
        record(pg, state, "code exchange failed");
        reply(res, 502, "the code exchange with %s failed: %s", shop, err);
        goto out;
    }
    char *need = strdup(wb_shopify_scopes), *save = NULL, missing[512] = "";
    for (char *h = strtok_r(need, ",", &save); h; h = strtok_r(NULL, ",", &save))
        if (!granted(scope, h) && strlen(missing) + strlen(h) + 2 < sizeof missing)
            strcat(strcat(missing, *missing ? "," : ""), h);
    free(need);
    if (*missing) {
        record(pg, state, "scopes missing");
        reply(res, 400, "the shop granted fewer scopes than the bridge needs; missing: %s%s", missing, "");
        goto out;
    }
    if (!ctx->svc->has_master_key) {
        record(pg, state, "no master key");
        reply(res, 503, "%s%s", "WB_MASTER_KEY is not set: the token cannot be stored sealed", "");
        goto out;
    }
    cJSON *creds = cJSON_CreateObject();
    cJSON_AddStringToObject(creds, "access_token", token);
    cJSON_AddStringToObject(creds, "api_secret", app.client_secret);
    cJSON_AddStringToObject(creds, "shop_domain", shop);
    char *creds_text = cJSON_PrintUnformatted(creds);
    cJSON_Delete(creds);
    int rc = wb_store_add(pg, ctx->svc->master_key, store_id, PQgetvalue(row, 0, 2), "shopify", base_url,
                          creds_text, err, sizeof err);
    memset(creds_text, 0, strlen(creds_text));
    free(creds_text);
    if (rc) {
        record(pg, state, "store not added");
        reply(res, 409, "store %s not added: %s", store_id, err);
        goto out;
    }
    int hooks = *ctx->cfg.public_url ? register_webhooks(ctx, store_id, base_url, token, err, sizeof err) : 0;
    char outcome[600];
    if (hooks < 0)
        snprintf(outcome, sizeof outcome, "connected; registering the webhooks failed: %s", err);
    else if (!*ctx->cfg.public_url)
        snprintf(outcome, sizeof outcome, "connected; no webhooks registered: WB_ORDER_PUBLIC_URL is not set");
    else
        snprintf(outcome, sizeof outcome, "connected; %d webhooks registered", hooks);
    record(pg, state, outcome);
    wb_info(store_id, "shopify install of %s: %s", shop, outcome);
    reply(res, 200, "wmsbridge: store %s %s. You can close this page.", store_id, outcome);
out:
    if (row) PQclear(row);
    if (pg) oi_pool_put(&ctx->pool, pg, false);
    if (token) memset(token, 0, strlen(token));
    free(token);
    free(scope);
    for (int i = 0; i < q.n; i++) free(q.name[i]), free(q.value[i]);
}

void oi_oauth_add_routes(wb_http_server *http, oi_ctx *ctx) {
    wb_http_route(http, "GET", "/shopify/oauth/callback", callback, ctx);
}
