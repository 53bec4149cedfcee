/* Shopify: a shipment becomes fulfillmentCreate on the order's open
 * fulfillment orders, for exactly its lines and quantities, with trackingInfo
 * and notifyCustomer; a tracking update on a shipment already reported becomes
 * fulfillmentTrackingInfoUpdate on its fulfillment. fulfillmentCreate takes no
 * idempotency key, so a pending report (an attempt that may have reached the
 * shop) is first looked for among the order's fulfillments (by tracking
 * number, else by its exact lines), and a shipment is fulfilled once. Returns and closing are in
 * shopify_return.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "gql.h"
#include "plan.h"
#include "reporter.h"
#include "shopify.h"
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

static int64_t fulfilled_of_line(const cJSON *fulfillment, const char *line_id) {
    int64_t sum = 0;
    const cJSON *n;
    cJSON_ArrayForEach(n, sh_path_get(fulfillment, "fulfillmentLineItems", "nodes", NULL)) {
        if (line_id && strcmp(sh_gid_tail(sh_jstr(sh_path_get(n, "lineItem", NULL, NULL), "id")), line_id) != 0)
            continue;
        int64_t q = 0;
        if (!wb_json_int(cJSON_GetObjectItemCaseSensitive(n, "quantity"), 0, WB_JSON_INT_MAX, &q)) return -1;
        sum += q;
    }
    return sum;
}

static int64_t shipped_of_line(const wb_shipment *s, const char *line_id) {
    int64_t sum = 0;
    for (size_t i = 0; i < s->n_lines; i++)
        if (!line_id || strcmp(s->lines[i].line_id, line_id) == 0) sum += s->lines[i].quantity;
    return sum;
}

static bool has_tracking_number(const cJSON *fulfillment) {
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(fulfillment, "trackingInfo")) {
        const char *n = sh_jstr(t, "number");
        if (n && n[0]) return true;
    }
    return false;
}

/* Whether a fulfillment without a tracking number (it may name the carrier)
 * holds exactly the shipment's lines and quantities. */
static bool same_lines(const cJSON *fulfillment, const wb_shipment *s) {
    if (has_tracking_number(fulfillment)) return false;
    if (fulfilled_of_line(fulfillment, NULL) != shipped_of_line(s, NULL)) return false;
    for (size_t i = 0; i < s->n_lines; i++)
        if (fulfilled_of_line(fulfillment, s->lines[i].line_id) != shipped_of_line(s, s->lines[i].line_id))
            return false;
    return true;
}

/* A pending shipment's fulfillment if an earlier attempt created it: the one
 * with its tracking number, or, for a shipment without one, one with exactly
 * its lines that no other shipment of the order has claimed. fulfillmentCreate
 * takes no idempotency key, so this read is what keeps a shipment single.
 * -1 when the claims cannot be read. */
static int find_fulfillment(sh_ctx *c, const cJSON *doc, const wb_shipment *s, const char **found) {
    const cJSON *f, *t;
    *found = NULL;
    cJSON_ArrayForEach(f, sh_path_get(doc, "data", "order", "fulfillments")) {
        const char *id = sh_jstr(f, "id");
        if (!id) continue;
        if (s->tracking_number) {
            cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(f, "trackingInfo")) {
                const char *n = sh_jstr(t, "number");
                if (n && strcmp(n, s->tracking_number) == 0) *found = id;
            }
        } else if (same_lines(f, s)) {
            int taken = fr_report_ref_claimed(c->r->svc->pg, c->m->store_id, c->m->order_id, "shipment", s->id, id);
            if (taken < 0) return -1;
            if (!taken) *found = id;
        }
        if (*found) return 0;
    }
    return 0;
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
            int64_t remaining = 0; /* not a whole number from 0 to INT32_MAX: nothing to fulfil there */
            wb_json_int(cJSON_GetObjectItemCaseSensitive(li, "remainingQuantity"), 0, INT32_MAX, &remaining);
            if (n == cap) fol = realloc(fol, sizeof *fol * (cap = cap ? cap * 2 : 16));
            fol[n++] = (fr_fo_line){sh_jstr(fo, "id"), sh_jstr(li, "id"),
                                    sh_gid_tail(sh_jstr(cJSON_GetObjectItemCaseSensitive(li, "lineItem"), "id")),
                                    remaining};
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

/* A pending shipment: 1 when an earlier attempt created its fulfillment (now
 * recorded), 0 when none did (send it), -1 with *bad and c->why set. An
 * untracked shipment needs the fulfillments' lines: one more read, on this
 * rare path only. */
static int find_earlier_attempt(sh_ctx *c, const cJSON *state, const wb_shipment *s, fr_outcome *bad) {
    const wb_fulfilment_msg *m = c->m;
    wb_pg *pg = c->r->svc->pg;
    cJSON *lines = NULL;
    if (!s->tracking_number && !(lines = sh_read_order(c, wb_gql_fulfilment_lines, bad))) return -1;
    const char *found;
    int rc = find_fulfillment(c, lines ? lines : state, s, &found);
    if (rc != 0) {
        snprintf(c->why, c->whylen, "reading the order's reports: %s", wb_pg_error(pg));
        *bad = FR_RETRY;
    } else if (found) {
        wb_info(m->store_id, "order %s: shipment %s was already fulfilled (%s)", m->order_id, s->id, found);
        fr_report_finish(pg, m->store_id, m->order_id, "shipment", s->id, "done", found, NULL);
        rc = 1;
    }
    cJSON_Delete(lines);
    return rc < 0 ? -1 : rc;
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
        int earlier = find_earlier_attempt(c, doc, s, &bad);
        if (earlier != 0) {
            cJSON_Delete(doc);
            if (earlier == 1) return FR_DONE;
            goto failed;
        }
    }
    cJSON *input = fulfillment_input(c, doc, s);
    cJSON_Delete(doc);
    if (!input) {
        bad = FR_FAIL;
        goto failed;
    }
    cJSON *vars = cJSON_CreateObject();
    cJSON_AddItemToObject(vars, "fulfillment", input);
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
