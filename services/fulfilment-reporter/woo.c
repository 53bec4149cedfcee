/* WooCommerce: a Shipment Tracking entry (when the store has the extension
 * and the shipment a tracking number) or an order note, then `completed`;
 * refunds of returned lines once the order is completed. Notes, tracking
 * entries and refunds are not idempotent in WooCommerce, so each is recorded
 * as pending first, and a pending one is looked for in the shop (tracking
 * number, or the "[shipment ID]" / "[return ID]" marker in the note or the
 * refund reason) before it is sent again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "plan.h"
#include "reporter.h"
#include "wb/log.h"

typedef struct woo_ctx {
    reporter *r;
    const wb_store *store;
    wb_woo *woo;
    const wb_fulfilment_msg *m;
    char *why;
    size_t whylen;
} woo_ctx;

/* 0 with *doc (may be NULL for a body that is not JSON) on 2xx; otherwise
 * FR_RETRY or FR_FAIL with why. */
static int call_q(woo_ctx *c, const char *method, const char *path, const char *query,
                  const cJSON *body, cJSON **doc, fr_outcome *bad) {
    wb_shop_response resp;
    if (doc) *doc = NULL;
    int rc = wb_woo_request(c->woo, method, path, query, body, &resp);
    int out = 0;
    if (rc != 0 || resp.status < 200 || resp.status >= 300) {
        snprintf(c->why, c->whylen, "%s %s: %ld %.200s", method, path, resp.status,
                 rc != 0 ? resp.error : resp.body ? resp.body : "");
        /* 4xx other than 408/409/429: the request itself is wrong. */
        bool permanent = rc == 0 && resp.status >= 400 && resp.status < 500 && resp.status != 408 &&
                         resp.status != 409 && resp.status != 429 && resp.status != 401 && resp.status != 403;
        *bad = permanent ? FR_FAIL : FR_RETRY;
        out = -1;
    } else if (doc) {
        *doc = resp.body ? cJSON_Parse(resp.body) : NULL;
    }
    wb_shop_response_free(&resp);
    return out;
}

static int call(woo_ctx *c, const char *method, const char *path, const cJSON *body, cJSON **doc,
                fr_outcome *bad) {
    return call_q(c, method, path, NULL, body, doc, bad);
}

static const char *jstr(const cJSON *o, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void jid(const cJSON *o, char *buf, size_t size) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "id");
    int64_t n;
    if (wb_json_int(v, 0, WB_JSON_INT_MAX, &n)) snprintf(buf, size, "%lld", (long long)n);
    else snprintf(buf, size, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

/* Whether an array the shop lists has an entry whose `field` contains (or,
 * exact, equals) text. 1 yes, 0 no, -1 with the outcome in *bad. */
static int shop_has(woo_ctx *c, const char *path, const char *field, const char *text, bool exact,
                    fr_outcome *bad) {
    cJSON *doc;
    /* Notes and trackings come unpaged; refunds by pages (10 by default). */
    if (call_q(c, "GET", path, "per_page=100", NULL, &doc, bad) != 0) return -1;
    int found = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, doc) {
        const char *v = jstr(e, field);
        if (v && (exact ? strcmp(v, text) == 0 : strstr(v, text) != NULL)) found = 1;
    }
    cJSON_Delete(doc);
    return found;
}

static void date_only(const char *rfc3339, char *buf, size_t size) {
    snprintf(buf, size, "%.10s", rfc3339);
}

static fr_outcome report_shipment(woo_ctx *c, const wb_shipment *s_in) {
    const wb_fulfilment_msg *m = c->m;
    bool update = m->type == WB_FULFILMENT_TRACKING_UPDATED;
    wb_shipment s = *s_in;
    char report_id[160];
    if (update) snprintf(report_id, sizeof report_id, "%s#%s", s.id, s.tracking_number ? s.tracking_number : "");
    else snprintf(report_id, sizeof report_id, "%s", s.id);
    if (update) s.id = report_id; /* its note carries its own marker */
    const char *kind = update ? "tracking" : "shipment";
    bool tracking = c->store->shipment_tracking && s.tracking_number;
    char path[256], ref[128];
    if (tracking)
        snprintf(path, sizeof path, "/wp-json/wc-shipment-tracking/v3/orders/%s/shipment-trackings", m->order_id);
    else
        snprintf(path, sizeof path, "orders/%s/notes", m->order_id);
    fr_outcome bad = FR_RETRY;
    switch (fr_report_begin(c->r->svc->pg, m->store_id, m->order_id, kind, report_id, ref, sizeof ref)) {
    case FR_REPORT_DONE: case FR_REPORT_FAILED: return FR_DONE;
    case FR_REPORT_ERROR:
        snprintf(c->why, c->whylen, "recording the report: %s", wb_pg_error(c->r->svc->pg));
        return FR_RETRY;
    case FR_REPORT_PENDING: {
        char marker[200];
        fr_note_marker(s.id, marker, sizeof marker);
        int found = tracking ? shop_has(c, path, "tracking_number", s.tracking_number, true, &bad)
                             : shop_has(c, path, "note", marker, false, &bad);
        if (found < 0) return bad;
        if (found) {
            wb_info(m->store_id, "order %s: %s %s was already in the shop", m->order_id, kind, report_id);
            fr_report_finish(c->r->svc->pg, m->store_id, m->order_id, kind, report_id, "done", NULL, NULL);
            return FR_DONE;
        }
        break;
    }
    case FR_REPORT_NEW: break;
    }
    cJSON *body = cJSON_CreateObject();
    if (tracking) {
        char date[16];
        date_only(m->occurred_at, date, sizeof date);
        cJSON_AddStringToObject(body, "custom_tracking_provider", s.carrier);
        cJSON_AddStringToObject(body, "tracking_number", s.tracking_number);
        if (s.tracking_url) cJSON_AddStringToObject(body, "custom_tracking_link", s.tracking_url);
        cJSON_AddStringToObject(body, "date_shipped", date);
    } else {
        char *text = fr_note_text(&s);
        cJSON_AddStringToObject(body, "note", text);
        free(text);
        cJSON_AddBoolToObject(body, "customer_note", strcmp(c->store->note_visibility, "customer") == 0);
    }
    cJSON *doc;
    int rc = call(c, "POST", path, body, &doc, &bad);
    cJSON_Delete(body);
    if (rc != 0) {
        if (bad == FR_FAIL)
            fr_report_finish(c->r->svc->pg, m->store_id, m->order_id, kind, report_id, "failed", NULL, NULL);
        return bad;
    }
    fr_after_send(c->r);
    char id[64] = "";
    jid(doc, id, sizeof id);
    cJSON_Delete(doc);
    if (fr_report_finish(c->r->svc->pg, m->store_id, m->order_id, kind, report_id, "done", id[0] ? id : NULL,
                         NULL) != 0) {
        snprintf(c->why, c->whylen, "recording the report: %s", wb_pg_error(c->r->svc->pg));
        return FR_RETRY; /* pending: the retry finds it in the shop */
    }
    wb_info(m->store_id, "order %s: %s %s reported as %s %s", m->order_id, kind, report_id,
            tracking ? "tracking entry" : "note", id);
    return FR_DONE;
}

static fr_outcome complete(woo_ctx *c) {
    char path[128];
    snprintf(path, sizeof path, "orders/%s", c->m->order_id);
    cJSON *doc;
    fr_outcome bad;
    if (call(c, "GET", path, NULL, &doc, &bad) != 0) return bad;
    const char *status = jstr(doc, "status");
    bool skip = status && (strcmp(status, "completed") == 0 || strcmp(status, "cancelled") == 0 ||
                           strcmp(status, "refunded") == 0);
    cJSON_Delete(doc);
    if (skip) return FR_DONE;
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "status", "completed");
    int rc = call(c, "PUT", path, body, NULL, &bad);
    cJSON_Delete(body);
    if (rc != 0) return bad;
    wb_info(c->m->store_id, "order %s completed", c->m->order_id);
    return FR_DONE;
}

/* ---------------------------------------------------------------- refunds */

static const cJSON *order_line(const cJSON *order, const char *line_id) {
    const cJSON *li;
    cJSON_ArrayForEach(li, cJSON_GetObjectItemCaseSensitive(order, "line_items")) {
        char id[64];
        jid(li, id, sizeof id);
        if (strcmp(id, line_id) == 0) return li;
    }
    return NULL;
}

static int64_t shipping_cents(const cJSON *order) {
    int64_t sum = 0;
    const cJSON *sl;
    cJSON_ArrayForEach(sl, cJSON_GetObjectItemCaseSensitive(order, "shipping_lines")) {
        int64_t v = fr_parse_cents(jstr(sl, "total"));
        int64_t t = fr_parse_cents(jstr(sl, "total_tax"));
        sum += (v > 0 ? v : 0) + (t > 0 ? t : 0);
    }
    return sum;
}

/* Whether WooCommerce should restock the refund of the return's lines whose
 * WMS flag is `restock`: only when none of them is an sku whose stock the
 * bridge publishes. Where it does, the WMS raises its level for the returned
 * item and stock-publisher sets the shop's value from it, so a restock by
 * the refund would count it twice (oversell). A refund restocks all its
 * lines or none, and its report id follows the WMS's flags (a redelivery
 * must find the refund made before), so a mixed group is not restocked in
 * the shop: too little shown is safer than too much. 1, 0 or -1 (error). */
static int shop_restocks(woo_ctx *c, const wb_return *ret, bool restock) {
    if (!restock) return 0;
    int published_any = 0, unpublished_any = 0;
    for (size_t i = 0; i < ret->n_lines; i++) {
        if (!ret->lines[i].restock) continue;
        int p = fr_stock_published(c->r->svc->pg, c->store, ret->lines[i].sku);
        if (p < 0) return -1;
        if (p) published_any = 1;
        else unpublished_any = 1;
    }
    if (published_any)
        wb_info(c->m->store_id, "order %s: return %s: back on stock through the WMS's level, not restocked in the "
                "shop%s", c->m->order_id, ret->id, unpublished_any ? " (with skus the bridge does not publish)" : "");
    return !published_any;
}

/* One refund: the return's lines with the given restock flag. */
static fr_outcome refund_group(woo_ctx *c, const cJSON *order, const wb_return *ret, bool restock,
                               const char *report_id, bool with_shipping) {
    const wb_fulfilment_msg *m = c->m;
    char path[128], ref[128], marker[200];
    snprintf(path, sizeof path, "orders/%s/refunds", m->order_id);
    snprintf(marker, sizeof marker, "[return %s]", report_id);
    fr_outcome bad = FR_RETRY;
    switch (fr_report_begin(c->r->svc->pg, m->store_id, m->order_id, "refund", report_id, ref, sizeof ref)) {
    case FR_REPORT_DONE: case FR_REPORT_FAILED: return FR_DONE;
    case FR_REPORT_ERROR:
        snprintf(c->why, c->whylen, "recording the report: %s", wb_pg_error(c->r->svc->pg));
        return FR_RETRY;
    case FR_REPORT_PENDING: {
        int found = shop_has(c, path, "reason", marker, false, &bad);
        if (found < 0) return bad;
        if (found) {
            fr_report_finish(c->r->svc->pg, m->store_id, m->order_id, "refund", report_id, "done", NULL, NULL);
            return FR_DONE;
        }
        break;
    }
    case FR_REPORT_NEW: break;
    }
    int shop_restock = shop_restocks(c, ret, restock);
    if (shop_restock < 0) {
        snprintf(c->why, c->whylen, "reading the product mappings: %s", wb_pg_error(c->r->svc->pg));
        return FR_RETRY;
    }
    if (with_shipping) {
        /* Shipping is refunded once per order, whichever return comes first. */
        int claim = fr_claim_shipping(c->r->svc->pg, m->store_id, m->order_id, "refund", report_id);
        if (claim < 0) {
            snprintf(c->why, c->whylen, "recording the shipping refund: %s", wb_pg_error(c->r->svc->pg));
            return FR_RETRY;
        }
        if (!claim) wb_info(m->store_id, "order %s: return %s: shipping was refunded before, not again",
                            m->order_id, report_id);
        with_shipping = claim == 1;
    }
    cJSON *body = cJSON_CreateObject();
    cJSON *items = cJSON_AddArrayToObject(body, "line_items");
    int64_t amount = 0;
    for (size_t i = 0; i < ret->n_lines; i++) {
        const wb_return_line *rl = &ret->lines[i];
        if (rl->restock != restock) continue;
        const cJSON *li = order_line(order, rl->line_id);
        const cJSON *q = li ? cJSON_GetObjectItemCaseSensitive(li, "quantity") : NULL;
        int64_t total = li ? fr_parse_cents(jstr(li, "total")) : -1;
        int64_t qty; /* the line's quantity as ordered: a whole number >= 1, or the line is not usable */
        if (!li || !wb_json_int(q, 1, INT32_MAX, &qty) || total < 0 || rl->quantity > qty) {
            snprintf(c->why, c->whylen, "return %s: line %s (sku %s, %lld) is not on the order as returned",
                     ret->id, rl->line_id, rl->sku, (long long)rl->quantity);
            cJSON_Delete(body);
            fr_report_finish(c->r->svc->pg, m->store_id, m->order_id, "refund", report_id, "failed", NULL, NULL);
            return FR_FAIL;
        }
        int64_t line = fr_line_refund_cents(total, qty, rl->quantity);
        char money[32];
        fr_format_cents(line, money, sizeof money);
        cJSON *it = cJSON_CreateObject();
        char id[64];
        jid(li, id, sizeof id);
        cJSON_AddNumberToObject(it, "id", strtod(id, NULL));
        cJSON_AddNumberToObject(it, "quantity", (double)rl->quantity);
        cJSON_AddStringToObject(it, "refund_total", money);
        amount += line;
        /* Tax per rate, in the same share. */
        const cJSON *taxes = cJSON_GetObjectItemCaseSensitive(li, "taxes"), *t;
        cJSON *rt = NULL;
        cJSON_ArrayForEach(t, taxes) {
            int64_t tc = fr_parse_cents(jstr(t, "total"));
            if (tc <= 0) continue;
            int64_t share = fr_line_refund_cents(tc, qty, rl->quantity);
            if (!rt) rt = cJSON_AddArrayToObject(it, "refund_tax");
            cJSON *tj = cJSON_CreateObject();
            char tid[64];
            jid(t, tid, sizeof tid);
            cJSON_AddNumberToObject(tj, "id", strtod(tid, NULL));
            fr_format_cents(share, money, sizeof money);
            cJSON_AddStringToObject(tj, "refund_total", money);
            cJSON_AddItemToArray(rt, tj);
            amount += share;
        }
        cJSON_AddItemToArray(items, it);
    }
    if (with_shipping) amount += shipping_cents(order);
    char money[32], reason[400];
    fr_format_cents(amount, money, sizeof money);
    cJSON_AddStringToObject(body, "amount", money);
    snprintf(reason, sizeof reason, "Return %s (%s) %s", ret->id, ret->reason_code, marker);
    cJSON_AddStringToObject(body, "reason", reason);
    cJSON_AddBoolToObject(body, "api_refund", true);
    cJSON_AddBoolToObject(body, "api_restock", shop_restock == 1);
    cJSON *doc;
    int rc = call(c, "POST", path, body, &doc, &bad);
    cJSON_Delete(body);
    if (rc != 0) return bad; /* WooCommerce answers a refused refund with 500: retried */
    fr_after_send(c->r);
    char id[64] = "";
    jid(doc, id, sizeof id);
    cJSON_Delete(doc);
    if (fr_report_finish(c->r->svc->pg, m->store_id, m->order_id, "refund", report_id, "done", id, NULL) != 0) {
        snprintf(c->why, c->whylen, "recording the report: %s", wb_pg_error(c->r->svc->pg));
        return FR_RETRY;
    }
    wb_info(m->store_id, "order %s: return %s refunded %s (refund %s)", m->order_id, report_id, money, id);
    return FR_DONE;
}

static fr_outcome refund_returns(woo_ctx *c) {
    char path[128];
    snprintf(path, sizeof path, "orders/%s", c->m->order_id);
    cJSON *order;
    fr_outcome bad;
    if (call(c, "GET", path, NULL, &order, &bad) != 0) return bad;
    const char *status = jstr(order, "status");
    fr_outcome out = FR_DONE;
    if (!status || (strcmp(status, "completed") != 0 && strcmp(status, "refunded") != 0)) {
        /* WooCommerce refunds only a completed order: wait for it. */
        snprintf(c->why, c->whylen, "waiting for the order to be completed (status %s)", status ? status : "?");
        cJSON_Delete(order);
        return FR_RETRY;
    }
    for (size_t i = 0; i < c->m->n_returns && out == FR_DONE; i++) {
        const wb_return *ret = &c->m->returns[i];
        int ship = fr_refund_shipping(c->r->svc->pg, c->m->store_id, ret->reason_code);
        if (ship < 0) {
            snprintf(c->why, c->whylen, "reading the reason rules: %s", wb_pg_error(c->r->svc->pg));
            out = FR_RETRY;
            break;
        }
        bool has[2] = {false, false};
        for (size_t k = 0; k < ret->n_lines; k++) has[ret->lines[k].restock ? 1 : 0] = true;
        bool shipping_left = ship == 1;
        for (int g = 1; g >= 0 && out == FR_DONE; g--) {
            if (!has[g]) continue;
            char report_id[160];
            if (has[0] && has[1]) snprintf(report_id, sizeof report_id, "%s/%s", ret->id, g ? "restock" : "keep");
            else snprintf(report_id, sizeof report_id, "%s", ret->id);
            out = refund_group(c, order, ret, g == 1, report_id, shipping_left);
            shipping_left = false;
        }
    }
    cJSON_Delete(order);
    return out;
}

/* ------------------------------------------------------------- cancelled */

/* A WMS cancellation: status `cancelled` (WooCommerce restocks and the
 * merchant refunds from there, as for a cancel in the admin) or a private
 * note "[cancelled]", once. */
static fr_outcome cancel(woo_ctx *c, const char *mode) {
    const wb_fulfilment_msg *m = c->m;
    char path[128];
    fr_outcome bad = FR_RETRY;
    if (strcmp(mode, "cancel") == 0) {
        snprintf(path, sizeof path, "orders/%s", m->order_id);
        cJSON *doc;
        if (call(c, "GET", path, NULL, &doc, &bad) != 0) return bad;
        const char *status = jstr(doc, "status");
        /* Only an order still waiting to ship: completed, refunded or
         * cancelled orders are past what a warehouse cancellation means. */
        bool open = status && (strcmp(status, "pending") == 0 || strcmp(status, "processing") == 0 ||
                               strcmp(status, "on-hold") == 0);
        cJSON_Delete(doc);
        if (!open) {
            wb_info(m->store_id, "order %s: cancelled by the WMS, status %s left as it is", m->order_id,
                    status ? status : "?");
            return FR_DONE;
        }
        cJSON *body = cJSON_CreateObject();
        cJSON_AddStringToObject(body, "status", "cancelled");
        int rc = call(c, "PUT", path, body, NULL, &bad);
        cJSON_Delete(body);
        if (rc != 0) return bad;
        fr_after_send(c->r);
        wb_info(m->store_id, "order %s cancelled", m->order_id);
        return FR_DONE;
    }
    snprintf(path, sizeof path, "orders/%s/notes", m->order_id);
    char ref[64];
    switch (fr_report_begin(c->r->svc->pg, m->store_id, m->order_id, "cancel", m->order_id, ref, sizeof ref)) {
    case FR_REPORT_DONE: case FR_REPORT_FAILED:
        wb_info(m->store_id, "order %s: cancellation noted before", m->order_id);
        return FR_DONE;
    case FR_REPORT_ERROR:
        snprintf(c->why, c->whylen, "recording the report: %s", wb_pg_error(c->r->svc->pg));
        return FR_RETRY;
    case FR_REPORT_PENDING: {
        int found = shop_has(c, path, "note", "[cancelled]", false, &bad);
        if (found < 0) return bad;
        if (found) {
            fr_report_finish(c->r->svc->pg, m->store_id, m->order_id, "cancel", m->order_id, "done", NULL, NULL);
            return FR_DONE;
        }
        break;
    }
    case FR_REPORT_NEW: break;
    }
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "note", "Cancelled by the warehouse: this order will not be shipped. [cancelled]");
    cJSON_AddBoolToObject(body, "customer_note", false);
    cJSON *doc;
    int rc = call(c, "POST", path, body, &doc, &bad);
    cJSON_Delete(body);
    if (rc != 0) {
        if (bad == FR_FAIL)
            fr_report_finish(c->r->svc->pg, m->store_id, m->order_id, "cancel", m->order_id, "failed", NULL, NULL);
        return bad;
    }
    fr_after_send(c->r);
    char id[64] = "";
    jid(doc, id, sizeof id);
    cJSON_Delete(doc);
    if (fr_report_finish(c->r->svc->pg, m->store_id, m->order_id, "cancel", m->order_id, "done", id, NULL) != 0) {
        snprintf(c->why, c->whylen, "recording the report: %s", wb_pg_error(c->r->svc->pg));
        return FR_RETRY;
    }
    wb_info(m->store_id, "order %s: cancellation noted", m->order_id);
    return FR_DONE;
}

fr_outcome fr_woo_event(reporter *r, const wb_store *store, wb_woo *woo, const wb_fulfilment_msg *m,
                        const fr_settings *set, char *why, size_t whylen) {
    woo_ctx c = {r, store, woo, m, why, whylen};
    if (strspn(m->order_id, "0123456789") != strlen(m->order_id)) {
        snprintf(why, whylen, "order id %s is not a WooCommerce order id", m->order_id);
        return FR_FAIL;
    }
    if (m->type == WB_FULFILMENT_RETURNED) return refund_returns(&c);
    if (m->type == WB_FULFILMENT_CANCELLED) return cancel(&c, set->cancelled_report);
    for (size_t i = 0; i < m->n_shipments; i++) {
        fr_outcome o = report_shipment(&c, &m->shipments[i]);
        if (o != FR_DONE) return o;
    }
    if (m->type == WB_FULFILMENT_DISPATCHED && store->complete_on_dispatch) return complete(&c);
    return FR_DONE;
}
