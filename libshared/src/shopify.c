/* Shopify Admin GraphQL client (see wb/shopclient.h).
 *
 * Shopify limits by calculated query cost on a leaky bucket per app and
 * store, and reports the bucket in extensions.cost.throttleStatus on every
 * answer. We keep the last report and, before sending, wait until the bucket
 * has refilled enough to pay for the request (available + restore rate x
 * elapsed >= expected cost), so we are rarely throttled at all. When we are
 * (HTTP 429, or HTTP 200 with errors[].extensions.code THROTTLED), the wait is
 * again what the bucket needs, within the call's deadline. */
#include "wb/shopclient.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb/log.h"
#include "wb/metrics.h"

#define WB_SHOPIFY_COST_MEMORY 16
#include "wb/runloop.h"

struct wb_shopify {
    char *store_id, *url, *token_header;
    wb_shop_http *http;
    wb_shopify_cost cost;  /* last throttleStatus seen */
    int64_t cost_at_ms;    /* when it was seen (monotonic); 0 = never */
    double last_requested; /* last requestedQueryCost, of whatever document */
    /* The requestedQueryCost each document asked last time. One client runs
     * a few documents of very different cost (a 500-point order read, then a
     * 10-point mutation); pacing the read by the mutation's cost spent blind
     * and was throttled. A small table: a service uses a handful. */
    struct {
        uint64_t document;
        double requested;
    } costs[WB_SHOPIFY_COST_MEMORY];
    unsigned costs_next;
    wb_metric *available;
};

wb_shopify *wb_shopify_new(const char *store_id, const char *base_url, const char *access_token,
                           const wb_shop_opts *opts) {
    if (!store_id || !base_url || !access_token) return NULL;
    wb_shopify *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    size_t blen = strlen(base_url);
    while (blen && base_url[blen - 1] == '/') blen--;
    if (asprintf(&s->url, "%.*s/admin/api/%s/graphql.json", (int)blen, base_url,
                 WB_SHOPIFY_API_VERSION) < 0)
        s->url = NULL;
    if (asprintf(&s->token_header, "X-Shopify-Access-Token: %s", access_token) < 0)
        s->token_header = NULL;
    s->store_id = strdup(store_id);
    s->http = wb_shop_http_new(store_id, "shopify", opts);
    s->available = wb_gauge("wb_shopify_cost_available",
                            "Shopify query cost points available at the last answer", "store");
    /* Defence in depth: the token only goes into a header, but should it ever
     * reach a message, the log writer hides it. */
    wb_log_add_secret(access_token);
    if (!s->url || !s->token_header || !s->store_id || !s->http) {
        wb_shopify_free(s);
        return NULL;
    }
    return s;
}

void wb_shopify_free(wb_shopify *s) {
    if (!s) return;
    wb_shop_http_free(s->http);
    if (s->token_header) memset(s->token_header, 0, strlen(s->token_header));
    free(s->token_header);
    free(s->url);
    free(s->store_id);
    free(s);
}

wb_shopify_cost wb_shopify_last_cost(const wb_shopify *s) { return s->cost; }

/* ---------------------------------------------------------------- the bucket */

/* What the bucket holds now, by the last report and the restore rate. */
static double available_now(const wb_shopify *s) {
    double elapsed = (double)(wb_monotonic_ms() - s->cost_at_ms) / 1000.0;
    double a = s->cost.available + s->cost.restore_rate * elapsed;
    return a > s->cost.maximum ? s->cost.maximum : a;
}

/* Milliseconds until the bucket can pay cost; 0 when it can now or when we
 * know nothing about it yet. A cost above the bucket's size is capped: the
 * best we can do is wait for a full bucket (Shopify then answers
 * MAX_COST_EXCEEDED, which the caller sees). */
static int bucket_wait_ms(const wb_shopify *s, double cost) {
    if (!s->cost_at_ms || s->cost.restore_rate <= 0 || cost <= 0) return 0;
    if (cost > s->cost.maximum) cost = s->cost.maximum;
    double missing = cost - available_now(s);
    if (missing <= 0) return 0;
    /* A shop reporting a restore rate of 1e-300 (or an infinite bucket) must
     * not make the conversion undefined: an hour is past any deadline. */
    double ms = ceil(missing / s->cost.restore_rate * 1000.0);
    return ms <= 3600000.0 ? (int)ms : 3600000;
}

static double number_or(const cJSON *obj, const char *name, double fallback) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsNumber(v) ? v->valuedouble : fallback;
}

static void remember_cost(wb_shopify *s, uint64_t document, double requested);

/* Takes extensions.cost from an answer of document. */
static void read_cost(wb_shopify *s, uint64_t document, const cJSON *doc) {
    const cJSON *ext = cJSON_GetObjectItemCaseSensitive(doc, "extensions");
    const cJSON *cost = cJSON_GetObjectItemCaseSensitive(ext, "cost");
    if (!cJSON_IsObject(cost)) return;
    s->cost.requested = number_or(cost, "requestedQueryCost", 0);
    s->cost.actual = number_or(cost, "actualQueryCost", 0); /* null when throttled */
    if (s->cost.requested > 0) s->last_requested = s->cost.requested;
    remember_cost(s, document, s->cost.requested);
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(cost, "throttleStatus");
    if (!cJSON_IsObject(ts)) return;
    s->cost.maximum = number_or(ts, "maximumAvailable", s->cost.maximum);
    s->cost.available = number_or(ts, "currentlyAvailable", s->cost.available);
    s->cost.restore_rate = number_or(ts, "restoreRate", s->cost.restore_rate);
    s->cost_at_ms = wb_monotonic_ms();
    wb_gauge_set(s->available, s->cost.available, s->store_id);
}

/* errors[].extensions.code THROTTLED; older answers say only "Throttled". */
static bool is_throttled(const cJSON *doc) {
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(doc, "errors")) {
        const cJSON *code =
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(e, "extensions"), "code");
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
        if (cJSON_IsString(code) && strcmp(code->valuestring, "THROTTLED") == 0) return true;
        if (cJSON_IsString(msg) && strcmp(msg->valuestring, "Throttled") == 0) return true;
    }
    return false;
}

/* ---------------------------------------------------------------- one call */

typedef struct {
    wb_shopify *s;
    double expected;
    uint64_t document; /* hash of the document's text */
    bool throttled;    /* the last answer was THROTTLED */
} call_ctx;

static uint64_t document_hash(const char *text) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *text; text++) h = (h ^ (unsigned char)*text) * 1099511628211ULL;
    return h;
}

static double remembered_cost(const wb_shopify *s, uint64_t document) {
    for (unsigned i = 0; i < WB_SHOPIFY_COST_MEMORY; i++)
        if (s->costs[i].document == document) return s->costs[i].requested;
    return 0;
}

static void remember_cost(wb_shopify *s, uint64_t document, double requested) {
    if (requested <= 0) return;
    for (unsigned i = 0; i < WB_SHOPIFY_COST_MEMORY; i++)
        if (s->costs[i].document == document) {
            s->costs[i].requested = requested;
            return;
        }
    s->costs[s->costs_next].document = document;
    s->costs[s->costs_next].requested = requested;
    s->costs_next = (s->costs_next + 1) % WB_SHOPIFY_COST_MEMORY;
}

/* The caller's figure, else what this document asked last time, else what
 * the last document asked (a first call knows no better). */
static double expected_cost(const call_ctx *c) {
    if (c->expected > 0) return c->expected;
    double known = remembered_cost(c->s, c->document);
    return known > 0 ? known : c->s->last_requested;
}

static int before_attempt(void *arg, int attempt, int *wait_ms, char **url, char *err,
                          size_t err_size) {
    (void)attempt, (void)url, (void)err, (void)err_size;
    call_ctx *c = arg;
    *wait_ms = bucket_wait_ms(c->s, expected_cost(c));
    return 0;
}

static int after_answer(void *arg, const wb_shop_response *r, int *retry_ms) {
    call_ctx *c = arg;
    c->throttled = r->status == 429;
    cJSON *doc = r->body ? cJSON_ParseWithLength(r->body, r->body_len) : NULL;
    if (doc) {
        read_cost(c->s, c->document, doc);
        if (is_throttled(doc)) c->throttled = true;
        cJSON_Delete(doc);
    }
    if (!c->throttled) return 0;
    /* Wait for what this request needs, never less than a few ms so a bucket
     * that reports itself able to pay yet throttles cannot spin us. */
    double need = c->s->cost.requested > 0 ? c->s->cost.requested : expected_cost(c);
    int ms = bucket_wait_ms(c->s, need);
    *retry_ms = c->s->cost_at_ms && need > 0 ? (ms < 50 ? 50 : ms) : -1;
    return 1;
}

static char *request_body(const char *document, const cJSON *variables) {
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "query", document);
    if (variables) cJSON_AddItemToObject(req, "variables", cJSON_Duplicate(variables, 1));
    char *text = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    return text;
}

/* Turns the final answer into the caller's result. */
static int judge_answer(const call_ctx *c, wb_shop_response *r, cJSON **response, char *err,
                        size_t err_size) {
    if (r->status == 401 || r->status == 403) {
        snprintf(err, err_size, "auth failure: HTTP %ld", r->status);
        return -1;
    }
    if (c->throttled) {
        snprintf(err, err_size, "throttled: %s", r->error[0] ? r->error : "gave up");
        return -1;
    }
    if (r->status < 200 || r->status >= 300) {
        snprintf(err, err_size, "HTTP %ld: %.160s", r->status, r->body ? r->body : "");
        return -1;
    }
    cJSON *doc = r->body ? cJSON_ParseWithLength(r->body, r->body_len) : NULL;
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        snprintf(err, err_size, "answer is not a JSON object");
        return -1;
    }
    *response = doc;
    return 0;
}

int wb_shopify_graphql(wb_shopify *s, const char *document, const cJSON *variables,
                       double expected_cost, cJSON **response, char *err, size_t err_size) {
    *response = NULL;
    if (err_size) err[0] = 0;
    char *body = request_body(document, variables);
    if (!body) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    const char *headers[] = {s->token_header, "Content-Type: application/json",
                             "Accept: application/json", NULL};
    call_ctx c = {s, expected_cost, document_hash(document), false};
    wb_shop_request req = {.method = "POST", .url = s->url, .headers = headers,
                           .body = body, .body_len = strlen(body), .ctx = &c,
                           .before_attempt = before_attempt, .after_answer = after_answer};
    wb_shop_response r;
    int rc = wb_shop_http_do(s->http, &req, &r);
    if (rc != 0)
        snprintf(err, err_size, "%s", r.error);
    else
        rc = judge_answer(&c, &r, response, err, err_size);
    cJSON_free(body);
    wb_shop_response_free(&r);
    return rc;
}
