/* Stock values to the shops. One client per store, made on first use from
 * the store's sealed credentials. Shopify: inventorySetQuantities with
 * changeFromQuantity and an idempotency key derived from the call's windows,
 * so a retry never applies twice; a stale compare reads the shop's value and
 * sends again. WooCommerce: products/batch and variations/batch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "budget.h"
#include "plan.h"
#include "publisher.h"
#include "sender.h"
#include "wb/crypto.h"
#include "wb/log.h"
#include "wb/metrics.h"
#include "wb/proto.h"
#include "wb/runloop.h"
#include "wb/shopclient.h"
#include "wb/shopify_documents.h"
#include "wb/store.h"

void sp_client_free(sp_client *c) {
    if (!c) return;
    wb_shopify_free(c->shopify);
    wb_woo_free(c->woo);
    wb_rate_budget_close(c->budget);
    free(c->key);
    free(c);
}

/* Frees the clients not in use; a busy one is freed when its job is back. */
void sp_clients_clear(publisher *p) {
    for (size_t i = 0; i < p->clients.cap; i++) {
        wb_strmap_entry *e = &p->clients.slots[i];
        if (!wb_strmap_live(e)) continue;
        sp_client *c = e->ptr;
        if (c->busy) {
            c->stale = true;
            continue;
        }
        sp_client_free(c);
        wb_strmap_del(&p->clients, e->key);
    }
}

/* Only what changed is rebuilt: a client keeps its open connection (and a
 * Shopify client its view of the bucket) across routes refreshes. */
void sp_clients_refresh(publisher *p) {
    for (size_t i = 0; i < p->clients.cap; i++) {
        wb_strmap_entry *e = &p->clients.slots[i];
        if (!wb_strmap_live(e)) continue;
        sp_client *c = e->ptr;
        const sp_store *s = sp_routes_store(p->routes, e->key);
        if (s && s->client_key && c->key && strcmp(s->client_key, c->key) == 0) continue;
        if (c->busy) {
            c->stale = true;
            continue;
        }
        sp_client_free(c);
        wb_strmap_del(&p->clients, e->key);
    }
}

static const char *json_str(const cJSON *o, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : "";
}

sp_client *sp_client_for(publisher *p, const sp_store *store) {
    wb_strmap_entry *e = wb_strmap_get(&p->clients, store->id);
    if (e) return e->ptr;
    if (!p->svc->has_master_key) {
        wb_error(store->id, "WB_MASTER_KEY is not set: cannot unseal the store's credentials");
        return NULL;
    }
    wb_store s;
    char err[512];
    if (wb_store_load(p->svc->pg, p->svc->master_key, store->id, &s, err, sizeof err) != 0) {
        wb_error(store->id, "cannot load the store: %s", err);
        return NULL;
    }
    cJSON *creds = cJSON_Parse(s.credentials);
    sp_client *c = calloc(1, sizeof *c);
    /* One attempt's worth of patience: a window that cannot go out now is
     * retried by the publisher with a growing delay, never held here. */
    wb_shop_opts opts = {.deadline_ms = 20000, .max_attempts = 3};
    if (strcmp(s.platform, "shopify") == 0)
        c->shopify = wb_shopify_new(s.id, s.base_url, json_str(creds, "access_token"), &opts);
    else
        c->woo = wb_woo_new(s.id, s.base_url, json_str(creds, "consumer_key"),
                            json_str(creds, "consumer_secret"), &opts);
    cJSON_Delete(creds);
    wb_store_free(&s);
    c->key = strdup(store->client_key ? store->client_key : "");
    c->budget = wb_rate_budget_open(p->svc->cfg.redis_url);
    wb_strmap_put(&p->clients, store->id, NULL)->ptr = c;
    return c;
}

/* ---------------------------------------------------------------- the budget */

static void mark(sp_value *v, int count, int outcome);

/* Waits until the store's shared budget pays cost. Returns false when that
 * would take longer than the job may wait (job->throttled_ms: when to try
 * again), or the process is stopping. A Redis that does not answer does not
 * stop sending: the shop client still paces itself by the shop's answers. */
static bool spend(sp_job *job, double cost) {
    sp_client *c = job->client;
    double cap = SP_SHOPIFY_BUCKET, rate = SP_SHOPIFY_RESTORE;
    if (!c->shopify) cap = job->rate_rps < 1 ? 1 : job->rate_rps, rate = job->rate_rps;
    if (rate <= 0) return true;
    int64_t waited = 0;
    for (;;) {
        int64_t wait = wb_rate_budget_take(c->budget, job->store_id, cap, rate, cost, 0);
        if (wait == 0) return true;
        if (wait < 0) {
            wb_counter_inc(wb_counter("wb_stock_budget_errors_total",
                                      "Rate budget checks Redis did not answer (the call went out anyway).",
                                      "store"), job->store_id);
            return true;
        }
        wb_counter_inc(wb_counter("wb_stock_throttled_waits_total",
                                  "Times a store's shared rate budget made a call wait.", "store"),
                       job->store_id);
        if (waited + wait > job->budget_wait_ms) {
            job->throttled_ms = wait;
            return false;
        }
        wb_counter_add(wb_counter("wb_stock_throttled_wait_seconds_total",
                                  "Time calls waited for a store's shared rate budget.", "store"),
                       (double)wait / 1000.0, job->store_id);
        if (!wb_sleep_ms((int)wait)) {
            job->throttled_ms = wait;
            return false;
        }
        waited += wait;
        job->budget_waited_ms += wait;
    }
}

/* What the shop said its bucket holds goes back into the shared one. */
static void observe(sp_job *job) {
    wb_shopify_cost cost = wb_shopify_last_cost(job->client->shopify);
    if (cost.maximum > 0 && cost.restore_rate > 0)
        wb_rate_budget_observe(job->client->budget, job->store_id, cost.maximum, cost.available, cost.restore_rate);
}

/* ---------------------------------------------------------------- Shopify */

/* The key names exactly what the call sets, so a retry of the same call
 * reuses it and a different call (other values, other compare) never does. */
static void idempotency_key(const char *store_id, const sp_value *v, int count, char out[65]) {
    size_t size = 64;
    for (int i = 0; i < count; i++) size += strlen(v[i].window) + 64;
    char *text = malloc(size), *o = text;
    o += sprintf(o, "%s", store_id);
    for (int i = 0; i < count; i++)
        o += sprintf(o, "\n%s %lld %lld %lld", v[i].window, (long long)v[i].opened_ms,
                     (long long)v[i].quantity, (long long)v[i].change_from);
    wb_sha256_hex(text, (size_t)(o - text), out);
    free(text);
}

/* The userErrors of the mutation, or NULL when the answer has no payload. */
static const cJSON *user_errors(const cJSON *response, const char *mutation, const char **top_error) {
    const cJSON *errors = cJSON_GetObjectItemCaseSensitive(response, "errors");
    if (cJSON_IsArray(errors) && cJSON_GetArraySize(errors) > 0) {
        *top_error = json_str(cJSON_GetArrayItem(errors, 0), "message");
        return NULL;
    }
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(response, "data");
    const cJSON *payload = cJSON_GetObjectItemCaseSensitive(data, mutation);
    *top_error = payload ? NULL : "no mutation payload in the answer";
    return payload ? cJSON_GetObjectItemCaseSensitive(payload, "userErrors") : NULL;
}

static bool has_code(const cJSON *errors, const char *code) {
    const cJSON *e;
    cJSON_ArrayForEach(e, errors) if (strcmp(json_str(e, "code"), code) == 0) return true;
    return false;
}

/* Reads the shop's available quantity of the given values, all at one
 * location: the compare value after someone else changed the shop. */
static bool read_location_values(sp_job *job, sp_value **v, int count) {
    wb_shopify *c = job->client->shopify;
    /* nodes(ids) costs one per node and its level, quantities and more. */
    if (!spend(job, 4.0 * count + 1)) return false;
    cJSON *vars = cJSON_CreateObject(), *ids = cJSON_AddArrayToObject(vars, "ids");
    for (int i = 0; i < count; i++) cJSON_AddItemToArray(ids, cJSON_CreateString(v[i]->item));
    cJSON_AddStringToObject(vars, "locationId", v[0]->location);
    cJSON *resp = NULL;
    char err[256];
    int rc = wb_shopify_graphql(c, wb_gql_inventory_levels, vars, 0, &resp, err, sizeof err);
    observe(job);
    cJSON_Delete(vars);
    if (rc != 0) return false;
    const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(resp, "data"), "nodes"), *node;
    cJSON_ArrayForEach(node, nodes) {
        const cJSON *level = cJSON_GetObjectItemCaseSensitive(node, "inventoryLevel");
        const cJSON *qty = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(level, "quantities"), 0);
        const cJSON *q = cJSON_GetObjectItemCaseSensitive(qty, "quantity");
        for (int i = 0; i < count && cJSON_IsNumber(q); i++)
            if (strcmp(v[i]->item, json_str(node, "id")) == 0)
                wb_json_int(q, -WB_JSON_INT_MAX, WB_JSON_INT_MAX, &v[i]->change_from);
    }
    cJSON_Delete(resp);
    return true;
}

/* The shop's values of the call's items, one query per location and at most
 * WB_GQL_LEVELS_MAX_IDS items each. */
static bool read_shop_values(sp_job *job, sp_value *v, int count) {
    sp_value **group = malloc(sizeof *group * (size_t)count);
    bool *done = calloc((size_t)count, sizeof *done), ok = true;
    for (int i = 0; i < count && ok; i++) {
        while (!done[i] && ok) { /* one location may take several groups */
            int n = 0;
            for (int j = i; j < count && n < WB_GQL_LEVELS_MAX_IDS; j++)
                if (!done[j] && strcmp(v[j].location, v[i].location) == 0) group[n++] = &v[j], done[j] = true;
            ok = read_location_values(job, group, n);
        }
    }
    free(group);
    free(done);
    return ok;
}

static void mark(sp_value *v, int count, int outcome) {
    int64_t now = outcome == SP_SENT ? wb_wall_ms() : 0;
    for (int i = 0; i < count; i++) v[i].outcome = outcome, v[i].accepted_ms = now;
}

/* What both inventory mutations take: name, reason, a reference, and per
 * value either the quantity with its compare (set) or the difference to the
 * last accepted value with no compare (adjust: delta mode keeps changes made
 * in the shop meanwhile). The key names exactly what the call carries. */
static cJSON *inventory_variables(const char *store_id, const sp_value *v, int count, bool delta) {
    char key[65];
    idempotency_key(store_id, v, count, key);
    cJSON *vars = cJSON_CreateObject(), *input = cJSON_AddObjectToObject(vars, "input");
    cJSON_AddStringToObject(input, "name", "available");
    cJSON_AddStringToObject(input, "reason", "correction");
    char uri[128];
    snprintf(uri, sizeof uri, "wmsbridge://stock/%.16s", key);
    cJSON_AddStringToObject(input, "referenceDocumentUri", uri);
    cJSON *list = cJSON_AddArrayToObject(input, delta ? "changes" : "quantities");
    for (int i = 0; i < count; i++) {
        cJSON *q = cJSON_CreateObject();
        cJSON_AddStringToObject(q, "inventoryItemId", v[i].item);
        cJSON_AddStringToObject(q, "locationId", v[i].location);
        if (delta) cJSON_AddNumberToObject(q, "delta", (double)(v[i].quantity - v[i].change_from));
        else cJSON_AddNumberToObject(q, "quantity", (double)v[i].quantity);
        if (!delta && v[i].change_from >= 0) cJSON_AddNumberToObject(q, "changeFromQuantity", (double)v[i].change_from);
        else cJSON_AddNullToObject(q, "changeFromQuantity");
        cJSON_AddItemToArray(list, q);
    }
    cJSON_AddStringToObject(vars, "key", key);
    return vars;
}

/* Sends one inventory mutation and marks the values by its answer. Returns
 * true (values left pending) when the answer was CHANGE_FROM_QUANTITY_STALE
 * and the caller may retry over the shop's current values. */
static bool inventory_mutation(sp_job *job, sp_value *v, int count, bool delta, bool may_retry_stale) {
    const char *store_id = job->store_id;
    wb_shopify *c = job->client->shopify;
    if (!spend(job, 10)) { /* every mutation costs 10 points */
        mark(v, count, SP_RETRY);
        return false;
    }
    const char *name = delta ? "inventoryAdjustQuantities" : "inventorySetQuantities";
    cJSON *vars = inventory_variables(store_id, v, count, delta), *resp = NULL;
    char err[256];
    int rc = wb_shopify_graphql(c, delta ? wb_gql_inventory_adjust : wb_gql_inventory_set, vars, 10, &resp,
                                err, sizeof err);
    observe(job);
    cJSON_Delete(vars);
    if (rc != 0) {
        wb_warn(store_id, "%s failed, will retry: %s", name, err);
        mark(v, count, SP_RETRY);
        return false;
    }
    const char *top = NULL;
    const cJSON *errors = user_errors(resp, name, &top);
    bool stale = false;
    if (top) {
        wb_error(store_id, "%s refused: %s", name, top);
        mark(v, count, SP_RETRY);
    } else if (cJSON_GetArraySize(errors) == 0) {
        mark(v, count, SP_SENT);
    } else if (has_code(errors, "CHANGE_FROM_QUANTITY_STALE")) {
        wb_counter_inc(wb_counter("wb_stock_compare_mismatches_total",
                                  "inventorySetQuantities answered CHANGE_FROM_QUANTITY_STALE.", "store"), store_id);
        stale = may_retry_stale;
        if (!stale) mark(v, count, SP_RETRY);
    } else {
        wb_error(store_id, "%s userErrors: %s", name, json_str(cJSON_GetArrayItem(errors, 0), "message"));
        mark(v, count, SP_REJECTED);
    }
    cJSON_Delete(resp);
    return stale;
}

/* Absolute mode. A stale compare means someone else changed the shop since
 * our last value and nothing was applied: read what it holds now and set ours
 * over it, once. */
static void shopify_call(sp_job *job, sp_value *v, int count) {
    if (!inventory_mutation(job, v, count, false, true)) return;
    if (!read_shop_values(job, v, count)) {
        mark(v, count, SP_RETRY);
        return;
    }
    inventory_mutation(job, v, count, false, false);
}

static void shopify_adjust_call(sp_job *job, sp_value *v, int count) {
    inventory_mutation(job, v, count, true, false);
}

/* ---------------------------------------------------------------- WooCommerce */

/* WooCommerce has no adjust operation: delta mode reads the shop's current
 * stock of the call's items and sets current + difference. Returns false
 * when the read failed (the call is then retried). */
static bool woo_apply_deltas(const char *store_id, wb_woo *c, const char *endpoint, sp_value *v, int count) {
    char path[128], query[2048];
    const char *slash = strchr(v[0].item, '/');
    if (slash) snprintf(path, sizeof path, "products/%.*s/variations", (int)(slash - v[0].item), v[0].item);
    else snprintf(path, sizeof path, "products");
    int n = snprintf(query, sizeof query, "per_page=100&include=");
    for (int i = 0; i < count && n < (int)sizeof query - 32; i++) {
        const char *id = strchr(v[i].item, '/');
        n += snprintf(query + n, sizeof query - (size_t)n, "%s%s", i ? "," : "", id ? id + 1 : v[i].item);
    }
    wb_shop_response r = {0};
    wb_woo_request(c, "GET", path, query, NULL, &r);
    bool ok = r.status == 200;
    cJSON *doc = ok ? cJSON_Parse(r.body) : NULL, *item;
    int found = 0;
    cJSON_ArrayForEach(item, doc) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "id");
        const cJSON *qty = cJSON_GetObjectItemCaseSensitive(item, "stock_quantity");
        for (int i = 0; i < count && cJSON_IsNumber(id) && cJSON_IsNumber(qty); i++) {
            const char *vid = strchr(v[i].item, '/');
            int64_t shop_id, shop_qty; /* a hostile number reads as not found */
            if (!wb_json_int(id, 0, WB_JSON_INT_MAX, &shop_id) ||
                !wb_json_int(qty, -WB_JSON_INT_MAX, WB_JSON_INT_MAX, &shop_qty) ||
                atoll(vid ? vid + 1 : v[i].item) != shop_id)
                continue;
            v[i].quantity = shop_qty + (v[i].quantity - v[i].change_from);
            v[i].change_from = shop_qty;
            found++;
        }
    }
    if (!ok || found != count)
        wb_warn(store_id, "delta mode: reading %s for %s answered %ld (%d of %d items found)", path, endpoint,
                r.status, found, count);
    cJSON_Delete(doc);
    wb_shop_response_free(&r);
    return ok && found == count;
}

static void woo_call(const char *store_id, wb_woo *c, const char *endpoint, sp_value *v, int count) {
    cJSON *body = cJSON_CreateObject(), *update = cJSON_AddArrayToObject(body, "update");
    for (int i = 0; i < count; i++) {
        const char *slash = strchr(v[i].item, '/');
        cJSON *u = cJSON_CreateObject();
        cJSON_AddNumberToObject(u, "id", atof(slash ? slash + 1 : v[i].item));
        cJSON_AddBoolToObject(u, "manage_stock", 1);
        cJSON_AddNumberToObject(u, "stock_quantity", (double)v[i].quantity);
        cJSON_AddItemToArray(update, u);
    }
    wb_shop_response r = {0};
    wb_woo_request(c, "POST", endpoint, NULL, body, &r);
    cJSON_Delete(body);
    if (r.status < 200 || r.status >= 300) {
        wb_warn(store_id, "%s answered %ld%s%s", endpoint, r.status, r.error[0] ? ": " : "", r.error);
        /* A 4xx other than 429 will not get better by retrying the same call. */
        mark(v, count, r.status >= 400 && r.status < 500 && r.status != 429 ? SP_REJECTED : SP_RETRY);
        wb_shop_response_free(&r);
        return;
    }
    cJSON *doc = cJSON_Parse(r.body), *item;
    mark(v, count, SP_SENT);
    int i = 0;
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(doc, "update")) {
        if (i < count && cJSON_GetObjectItemCaseSensitive(item, "error")) {
            wb_error(store_id, "%s refused item %s: %s", endpoint, v[i].item,
                     json_str(cJSON_GetObjectItemCaseSensitive(item, "error"), "message"));
            v[i].outcome = SP_REJECTED;
        }
        i++;
    }
    cJSON_Delete(doc);
    wb_shop_response_free(&r);
}

/* In delta mode a value with a known baseline goes out as a difference; one
 * without (first contact) is set absolutely. Sorting puts the two groups in
 * runs so each is planned into the fewest calls. */
static int by_baseline(const void *a, const void *b) {
    const sp_value *x = a, *y = b;
    return (x->change_from >= 0) - (y->change_from >= 0);
}

static void send_group(sp_job *job, sp_value *values, int count, bool delta) {
    sp_call *calls = NULL;
    int ncalls = sp_plan_calls(job->platform, values, count, &calls);
    sp_client *c = job->client;
    for (int k = 0; k < ncalls; k++) {
        sp_value *v = values + calls[k].first;
        int n = calls[k].count;
        if (job->throttled_ms) mark(v, n, SP_RETRY); /* the budget ran dry: the rest waits for it */
        else if (c->shopify && delta) shopify_adjust_call(job, v, n);
        else if (c->shopify) shopify_call(job, v, n);
        else if (!spend(job, delta ? 2 : 1)) mark(v, n, SP_RETRY); /* delta: a read, then the write */
        else if (delta && !woo_apply_deltas(job->store_id, c->woo, calls[k].endpoint, v, n)) mark(v, n, SP_RETRY);
        else woo_call(job->store_id, c->woo, calls[k].endpoint, v, n);
    }
    free(calls);
}

/* Reconciliation reads: WooCommerce lists the items of one endpoint (simple
 * products, or one product's variations) by id, 100 to a page. */
static bool woo_read_group(sp_job *job, sp_value **v, int count) {
    if (!spend(job, 1)) return false;
    char path[128], query[2048];
    const char *slash = strchr(v[0]->item, '/');
    if (slash) snprintf(path, sizeof path, "products/%.*s/variations", (int)(slash - v[0]->item), v[0]->item);
    else snprintf(path, sizeof path, "products");
    int n = snprintf(query, sizeof query, "per_page=100&include=");
    for (int i = 0; i < count && n < (int)sizeof query - 32; i++) {
        const char *id = strchr(v[i]->item, '/');
        n += snprintf(query + n, sizeof query - (size_t)n, "%s%s", i ? "," : "", id ? id + 1 : v[i]->item);
    }
    wb_shop_response r = {0};
    wb_woo_request(job->client->woo, "GET", path, query, NULL, &r);
    bool ok = r.status == 200;
    if (!ok) wb_warn(job->store_id, "reconcile: reading %s answered %ld", path, r.status);
    cJSON *doc = ok ? cJSON_Parse(r.body) : NULL, *item;
    cJSON_ArrayForEach(item, doc) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "id");
        const cJSON *qty = cJSON_GetObjectItemCaseSensitive(item, "stock_quantity");
        for (int i = 0; i < count && cJSON_IsNumber(id); i++) {
            const char *vid = strchr(v[i]->item, '/');
            int64_t shop_id;
            if (!wb_json_int(id, 0, WB_JSON_INT_MAX, &shop_id) || atoll(vid ? vid + 1 : v[i]->item) != shop_id)
                continue;
            /* Stock not managed reads as null: the shop holds no number, 0 is what we compare. */
            int64_t shop_qty;
            v[i]->change_from = wb_json_int(qty, -WB_JSON_INT_MAX, WB_JSON_INT_MAX, &shop_qty) ? shop_qty : 0;
        }
    }
    cJSON_Delete(doc);
    wb_shop_response_free(&r);
    return ok;
}

static bool woo_read_values(sp_job *job) {
    sp_value **group = malloc(sizeof *group * (size_t)(job->count + 1));
    bool *done = calloc((size_t)job->count + 1, sizeof *done), ok = true;
    sp_value *v = job->values;
    for (int i = 0; i < job->count && ok; i++) {
        const char *slash = strchr(v[i].item, '/');
        size_t plen = slash ? (size_t)(slash - v[i].item) : 0;
        while (!done[i] && ok) {
            int n = 0;
            for (int j = i; j < job->count && n < SP_WOO_BATCH; j++) {
                const char *s2 = strchr(v[j].item, '/');
                bool same = slash ? s2 && (size_t)(s2 - v[j].item) == plen && strncmp(v[j].item, v[i].item, plen) == 0
                                  : !s2;
                if (!done[j] && same) group[n++] = &v[j], done[j] = true;
            }
            ok = woo_read_group(job, group, n);
        }
    }
    free(group);
    free(done);
    return ok;
}

static void read_job(sp_job *job) {
    for (int i = 0; i < job->count; i++) job->values[i].change_from = -2;
    if (job->count == 0) return;
    job->read_failed = !(job->client->shopify ? read_shop_values(job, job->values, job->count)
                                              : woo_read_values(job));
}

void sp_send_job(sp_job *job) {
    if (job->kind == SP_JOB_READ) {
        read_job(job);
        return;
    }
    if (!job->delta) {
        send_group(job, job->values, job->count, false);
        return;
    }
    qsort(job->values, (size_t)job->count, sizeof *job->values, by_baseline);
    int first_known = 0;
    while (first_known < job->count && job->values[first_known].change_from < 0) first_known++;
    send_group(job, job->values, first_known, false);
    send_group(job, job->values + first_known, job->count - first_known, true);
}
