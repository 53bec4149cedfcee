/* Shopify: a shipment becomes fulfillmentCreate on the order's open
 * fulfillment orders, for exactly its lines and quantities, with trackingInfo
 * and notifyCustomer; a tracking update on a shipment already reported becomes
 * fulfillmentTrackingInfoUpdate on its fulfillment. fulfillmentCreate carries
 * an idempotency key derived from store, order and shipment, and a pending
 * report is first looked for among the order's fulfillments (by tracking
 * number), so a shipment is fulfilled once. Returns and closing are in
 * shopify_return.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "gql.h"
#include "plan.h"
#include "reporter.h"
#include "shopify.h"
#include "wb/crypto.h"
#include "wb/log.h"

const cJSON *sh_path_get(const cJSON *o, const char *a, const char *b, const char *c) {
    o = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b) o = cJSON_GetObjectItemCaseSensitive(o, b);
    if (c) o = cJSON_GetObjectItemCaseSensitive(o, c);
    return o;
}

const char *sh_jstr(const cJSON *o, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *sh_gid_tail(const char *gid) {
    const char *s = gid ? strrchr(gid, '/') : NULL;
    return s ? s + 1 : "";
}

/* Runs a document; on success *doc holds data. Top-level errors: FAIL when
 * they say the request is wrong, else RETRY. */
int sh_run(sh_ctx *c, const char *document, const cJSON *vars, double cost, cJSON **doc,
               fr_outcome *bad) {
    char err[256];
    *doc = NULL;
    if (wb_shopify_graphql(c->shop, document, vars, cost, doc, err, sizeof err) != 0) {
        snprintf(c->why, c->whylen, "shopify: %s", err);
        *bad = FR_RETRY;
        return -1;
    }
    const cJSON *errors = cJSON_GetObjectItemCaseSensitive(*doc, "errors");
    if (cJSON_GetArraySize(errors) > 0) {
        char *txt = cJSON_PrintUnformatted(errors);
        snprintf(c->why, c->whylen, "shopify errors: %.300s", txt ? txt : "?");
        free(txt);
        *bad = FR_RETRY;
        cJSON_Delete(*doc);
        *doc = NULL;
        return -1;
    }
    return 0;
}

int sh_user_errors(sh_ctx *c, const cJSON *payload) {
    const cJSON *ue = cJSON_GetObjectItemCaseSensitive(payload, "userErrors");
    if (cJSON_GetArraySize(ue) == 0) return 0;
    char *txt = cJSON_PrintUnformatted(ue);
    snprintf(c->why, c->whylen, "shopify userErrors: %.300s", txt ? txt : "?");
    free(txt);
    return -1;
}

/* Reads the order through `document` (a query taking $id); NULL with the reason
 * when the call fails or the shop has no such order. */
cJSON *sh_read_order(sh_ctx *c, const char *document, fr_outcome *bad) {
    char gid[128];
    snprintf(gid, sizeof gid, "gid://shopify/Order/%s", c->m->order_id);
    cJSON *vars = cJSON_CreateObject();
    cJSON_AddStringToObject(vars, "id", gid);
    cJSON *doc;
    int rc = sh_run(c, document, vars, 0, &doc, bad);
    cJSON_Delete(vars);
    if (rc != 0) return NULL;
    if (!cJSON_IsObject(sh_path_get(doc, "data", "order", NULL))) {
        snprintf(c->why, c->whylen, "order %s not found in the shop", c->m->order_id);
        *bad = FR_FAIL;
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

/* The fulfillment whose tracking number is the shipment's, or NULL. */
static const char *find_fulfillment(const cJSON *doc, const char *number) {
    if (!number) return NULL;
    const cJSON *f, *t;
    cJSON_ArrayForEach(f, sh_path_get(doc, "data", "order", "fulfillments")) {
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(f, "trackingInfo")) {
            const char *n = sh_jstr(t, "number");
            if (n && strcmp(n, number) == 0) return sh_jstr(f, "id");
        }
    }
    return NULL;
}

static cJSON *tracking_info(const wb_shipment *s) {
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "company", s->carrier);
    if (s->tracking_number) cJSON_AddStringToObject(t, "number", s->tracking_number);
    if (s->tracking_url) cJSON_AddStringToObject(t, "url", s->tracking_url);
    return t;
}

/* FulfillmentInput for the shipment's lines over the open fulfillment orders. */
static cJSON *fulfillment_input(sh_ctx *c, const cJSON *doc, const wb_shipment *s) {
    size_t cap = 0, n = 0;
    fr_fo_line *fol = NULL;
    const cJSON *fo, *li;
    const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(sh_path_get(doc, "data", "order", "fulfillmentOrders"), "nodes");
    cJSON_ArrayForEach(fo, nodes) {
        const char *status = sh_jstr(fo, "status");
        if (!status || (strcmp(status, "OPEN") != 0 && strcmp(status, "IN_PROGRESS") != 0)) continue;
        cJSON_ArrayForEach(li, sh_path_get(fo, "lineItems", "nodes", NULL)) {
            const cJSON *rem = cJSON_GetObjectItemCaseSensitive(li, "remainingQuantity");
            if (n == cap) fol = realloc(fol, sizeof *fol * (cap = cap ? cap * 2 : 16));
            fol[n++] = (fr_fo_line){sh_jstr(fo, "id"), sh_jstr(li, "id"),
                                    sh_gid_tail(sh_jstr(cJSON_GetObjectItemCaseSensitive(li, "lineItem"), "id")),
                                    cJSON_IsNumber(rem) ? (int64_t)rem->valuedouble : 0};
            if (!fol[n - 1].fo_id || !fol[n - 1].fo_line_id) n--;
        }
    }
    fr_alloc *a;
    size_t na;
    if (fr_match_lines(fol, n, s->lines, s->n_lines, &a, &na, c->why, c->whylen) != 0) {
        free(fol);
        return NULL;
    }
    cJSON *input = cJSON_CreateObject();
    cJSON *by = cJSON_AddArrayToObject(input, "lineItemsByFulfillmentOrder");
    cJSON *cur = NULL;
    const char *cur_fo = NULL;
    for (size_t i = 0; i < na; i++) {
        if (!cur_fo || strcmp(cur_fo, a[i].fo_id) != 0) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "fulfillmentOrderId", a[i].fo_id);
            cur = cJSON_AddArrayToObject(e, "fulfillmentOrderLineItems");
            cJSON_AddItemToArray(by, e);
            cur_fo = a[i].fo_id;
        }
        cJSON *l = cJSON_CreateObject();
        cJSON_AddStringToObject(l, "id", a[i].fo_line_id);
        cJSON_AddNumberToObject(l, "quantity", (double)a[i].quantity);
        cJSON_AddItemToArray(cur, l);
    }
    free(a);
    free(fol);
    cJSON_AddItemToObject(input, "trackingInfo", tracking_info(s));
    cJSON_AddBoolToObject(input, "notifyCustomer", c->notify);
    return input;
}

static fr_outcome fulfil(sh_ctx *c, const wb_shipment *s) {
    const wb_fulfilment_msg *m = c->m;
    wb_pg *pg = c->r->svc->pg;
    char ref[160];
    fr_outcome bad = FR_RETRY;
    fr_report_state st = fr_report_begin(pg, m->store_id, m->order_id, "shipment", s->id, ref, sizeof ref);
    if (st == FR_REPORT_DONE || st == FR_REPORT_FAILED) return FR_DONE;
    if (st == FR_REPORT_ERROR) {
        snprintf(c->why, c->whylen, "recording the report: %s", wb_pg_error(pg));
        return FR_RETRY;
    }
    cJSON *doc = sh_read_order(c, wb_gql_fulfilment_state, &bad);
    if (!doc) goto failed;
    if (st == FR_REPORT_PENDING) {
        const char *found = find_fulfillment(doc, s->tracking_number);
        if (found) {
            wb_info(m->store_id, "order %s: shipment %s was already fulfilled (%s)", m->order_id, s->id, found);
            fr_report_finish(pg, m->store_id, m->order_id, "shipment", s->id, "done", found, NULL);
            cJSON_Delete(doc);
            return FR_DONE;
        }
    }
    cJSON *input = fulfillment_input(c, doc, s);
    cJSON_Delete(doc);
    if (!input) {
        bad = FR_FAIL;
        goto failed;
    }
    char seed[512], key[65];
    int len = snprintf(seed, sizeof seed, "fulfilment\n%s\n%s\n%s", m->store_id, m->order_id, s->id);
    wb_sha256_hex(seed, (size_t)len, key);
    cJSON *vars = cJSON_CreateObject();
    cJSON_AddItemToObject(vars, "fulfillment", input);
    cJSON_AddStringToObject(vars, "key", key);
    int rc = sh_run(c, wb_gql_fulfillment_create, vars, 10, &doc, &bad);
    cJSON_Delete(vars);
    if (rc != 0) goto failed;
    fr_after_send(c->r);
    const cJSON *payload = sh_path_get(doc, "data", "fulfillmentCreate", NULL);
    if (sh_user_errors(c, payload) != 0) {
        cJSON_Delete(doc);
        bad = FR_FAIL;
        goto failed;
    }
    const cJSON *ful = cJSON_GetObjectItemCaseSensitive(payload, "fulfillment");
    const char *id = sh_jstr(ful, "id");
    int frc = fr_report_finish(pg, m->store_id, m->order_id, "shipment", s->id, "done", id, NULL);
    wb_info(m->store_id, "order %s: shipment %s fulfilled as %s", m->order_id, s->id, id ? id : "?");
    if (frc != 0) {
        cJSON_Delete(doc);
        snprintf(c->why, c->whylen, "recording the report: %s", wb_pg_error(pg));
        return FR_RETRY;
    }
    /* The last shipment of the order: close it when the store asks. */
    fr_outcome out = fr_shopify_maybe_close(c, cJSON_GetObjectItemCaseSensitive(ful, "order"));
    cJSON_Delete(doc);
    return out;
failed:
    if (bad == FR_FAIL) fr_report_finish(pg, m->store_id, m->order_id, "shipment", s->id, "failed", NULL, NULL);
    return bad;
}

static fr_outcome update_tracking(sh_ctx *c, const wb_shipment *s) {
    const wb_fulfilment_msg *m = c->m;
    char ref[160];
    int rc = fr_report_ref(c->r->svc->pg, m->store_id, m->order_id, "shipment", s->id, ref, sizeof ref);
    if (rc < 0) {
        snprintf(c->why, c->whylen, "reading the report: %s", wb_pg_error(c->r->svc->pg));
        return FR_RETRY;
    }
    if (rc == 1) return fulfil(c, s); /* never reported: this is its dispatch */
    /* Setting the tracking is idempotent: no bookkeeping beyond the shipment's. */
    cJSON *vars = cJSON_CreateObject();
    cJSON_AddStringToObject(vars, "fulfillmentId", ref);
    cJSON_AddItemToObject(vars, "trackingInfoInput", tracking_info(s));
    cJSON_AddBoolToObject(vars, "notifyCustomer", c->notify);
    cJSON *doc;
    fr_outcome bad = FR_RETRY;
    rc = sh_run(c, wb_gql_fulfillment_tracking_update, vars, 10, &doc, &bad);
    cJSON_Delete(vars);
    if (rc != 0) return bad;
    fr_outcome out = FR_DONE;
    if (sh_user_errors(c, sh_path_get(doc, "data", "fulfillmentTrackingInfoUpdate", NULL)) != 0) out = FR_FAIL;
    else wb_info(m->store_id, "order %s: tracking of shipment %s updated", m->order_id, s->id);
    cJSON_Delete(doc);
    return out;
}

fr_outcome fr_shopify_event(reporter *r, const wb_store *store, wb_shopify *shop, const wb_fulfilment_msg *m,
                            const fr_settings *set, char *why, size_t whylen) {
    sh_ctx c = {r, store, shop, m, why, whylen, set->notify_customer, set->auto_close};
    if (m->type == WB_FULFILMENT_RETURNED) return fr_shopify_returns(&c);
    if (m->type == WB_FULFILMENT_CANCELLED) return fr_shopify_cancel(&c, set->cancelled_report);
    for (size_t i = 0; i < m->n_shipments; i++) {
        fr_outcome o = m->type == WB_FULFILMENT_TRACKING_UPDATED ? update_tracking(&c, &m->shipments[i])
                                                                 : fulfil(&c, &m->shipments[i]);
        if (o != FR_DONE) return o;
    }
    return FR_DONE;
}
