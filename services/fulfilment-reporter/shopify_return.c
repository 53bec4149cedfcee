/* Shopify returns: a `returned` event is a return the warehouse has already
 * received, so per return it becomes returnCreate (an OPEN return of the
 * returned lines, spread over the fulfilled line items) and at once
 * returnProcess (the lines' dispositions: RESTOCKED at the order's location
 * or NOT_RESTOCKED per the line's restock flag, the shipping per the store's
 * reason-code rule, and the refund of lines and shipping from the order's
 * payment). Neither mutation takes an idempotency key, so the order is read
 * before each send: the return is found by the "[return R1]" marker in its
 * lines' returnReasonNote, and a return whose lines are all processed is not
 * processed (nor refunded) again. Then orderClose when the store asks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gql.h"
#include "plan.h"
#include "shopify.h"
#include "wb/log.h"

static const cJSON *nodes(const cJSON *o, const char *conn) {
    return sh_path_get(o, conn, "nodes", NULL);
}

static int64_t num(const cJSON *o, const char *name) {
    /* A quantity: absent, or not a whole number from 0 to INT32_MAX, reads as 0,
     * so sums over a hostile answer's lines cannot overflow either. */
    int64_t n = 0;
    wb_json_int(cJSON_GetObjectItemCaseSensitive(o, name), 0, INT32_MAX, &n);
    return n;
}

/* The order's return that carries the marker, or NULL. */
static const cJSON *find_return(const cJSON *order, const char *marker) {
    const cJSON *rt, *li;
    cJSON_ArrayForEach(rt, nodes(order, "returns")) {
        cJSON_ArrayForEach(li, nodes(rt, "returnLineItems")) {
            const char *note = sh_jstr(li, "returnReasonNote");
            if (note && strstr(note, marker)) return rt;
        }
    }
    return NULL;
}

/* returnCreate for the return's lines. *created gets the new return (owned
 * by *doc). */
static fr_outcome create_return(sh_ctx *c, const cJSON *order, const wb_return *ret, const char *marker,
                                cJSON **doc, const cJSON **created) {
    /* What each fulfilled line item still has to return: fulfilled minus
     * what the order's returns already hold. */
    size_t n = 0, cap = 16;
    fr_fo_line *fl = malloc(sizeof *fl * cap);
    const cJSON *f, *li, *rt;
    cJSON_ArrayForEach(f, sh_path_get(order, "fulfillments", NULL, NULL)) {
        cJSON_ArrayForEach(li, nodes(f, "fulfillmentLineItems")) {
            if (n == cap) fl = realloc(fl, sizeof *fl * (cap *= 2));
            fl[n] = (fr_fo_line){NULL, sh_jstr(li, "id"),
                                 sh_gid_tail(sh_jstr(cJSON_GetObjectItemCaseSensitive(li, "lineItem"), "id")),
                                 num(li, "quantity")};
            if (fl[n].fo_line_id) n++;
        }
    }
    cJSON_ArrayForEach(rt, nodes(order, "returns")) {
        cJSON_ArrayForEach(li, nodes(rt, "returnLineItems")) {
            const char *fli = sh_jstr(cJSON_GetObjectItemCaseSensitive(li, "fulfillmentLineItem"), "id");
            for (size_t k = 0; fli && k < n; k++)
                if (strcmp(fl[k].fo_line_id, fli) == 0) fl[k].remaining -= num(li, "quantity");
        }
    }
    fr_ret_alloc *a;
    size_t na;
    if (fr_match_return(fl, n, ret, &a, &na, c->why, c->whylen) != 0) {
        free(fl);
        return FR_FAIL;
    }
    char note[256];
    snprintf(note, sizeof note, "%.80s %s", ret->reason_code, marker); /* Shopify keeps 255 */
    cJSON *vars = cJSON_CreateObject();
    cJSON *input = cJSON_AddObjectToObject(vars, "input");
    cJSON_AddStringToObject(input, "orderId", sh_jstr(order, "id"));
    cJSON *lines = cJSON_AddArrayToObject(input, "returnLineItems");
    for (size_t i = 0; i < na; i++) {
        cJSON *l = cJSON_CreateObject();
        cJSON_AddStringToObject(l, "fulfillmentLineItemId", a[i].fli_id);
        cJSON_AddNumberToObject(l, "quantity", (double)a[i].quantity);
        cJSON_AddStringToObject(l, "returnReasonNote", note);
        cJSON_AddItemToArray(lines, l);
    }
    free(a);
    free(fl);
    fr_outcome bad = FR_RETRY;
    int rc = sh_run(c, wb_gql_return_create, vars, 10, doc, &bad);
    cJSON_Delete(vars);
    if (rc != 0) return bad;
    fr_after_send(c->r);
    const cJSON *payload = sh_path_get(*doc, "data", "returnCreate", NULL);
    if (sh_user_errors(c, payload) != 0) return FR_FAIL;
    *created = cJSON_GetObjectItemCaseSensitive(payload, "return");
    if (!cJSON_IsObject(*created)) {
        snprintf(c->why, c->whylen, "returnCreate answered no return");
        return FR_RETRY;
    }
    wb_info(c->m->store_id, "order %s: return %s created as %s", c->m->order_id, ret->id,
            sh_jstr(*created, "id"));
    return FR_DONE;
}

static const cJSON *order_line(const cJSON *order, const char *gid) {
    const cJSON *li;
    cJSON_ArrayForEach(li, nodes(order, "lineItems")) {
        const char *id = sh_jstr(li, "id");
        if (id && gid && strcmp(id, gid) == 0) return li;
    }
    return NULL;
}

static int64_t money(const cJSON *bag) {
    return fr_parse_cents(sh_jstr(sh_path_get(bag, "presentmentMoney", NULL, NULL), "amount"));
}

/* What `returned` units of an order line are worth, with their tax. */
static int64_t line_refund(const cJSON *line, int64_t returned) {
    int64_t qty = num(line, "quantity");
    int64_t total = money(cJSON_GetObjectItemCaseSensitive(line, "discountedTotalSet"));
    int64_t sum = fr_line_refund_cents(total > 0 ? total : 0, qty, returned);
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(line, "taxLines")) {
        int64_t tax = money(cJSON_GetObjectItemCaseSensitive(t, "priceSet"));
        if (tax > 0) sum += fr_line_refund_cents(tax, qty, returned);
    }
    return sum;
}

/* The payment a refund goes back through: a successful SALE or CAPTURE. */
static const char *payment(const cJSON *order) {
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(order, "transactions")) {
        const char *kind = sh_jstr(t, "kind"), *status = sh_jstr(t, "status");
        if (kind && status && strcmp(status, "SUCCESS") == 0 &&
            (strcmp(kind, "SALE") == 0 || strcmp(kind, "CAPTURE") == 0))
            return sh_jstr(t, "id");
    }
    return NULL;
}

/* returnProcess of what is unprocessed on the return. 1 when all of it was
 * processed before (nothing sent), 0 sent, -1 with *bad. */
static int process_return(sh_ctx *c, const cJSON *order, const cJSON *rt, const wb_return *ret,
                          bool shipping, cJSON **doc, fr_outcome *bad) {
    const cJSON *li, *rl;
    char location[160] = "";
    const cJSON *fo = cJSON_GetArrayItem(nodes(order, "fulfillmentOrders"), 0);
    snprintf(location, sizeof location, "%s",
             sh_jstr(sh_path_get(fo, "assignedLocation", "location", NULL), "id") ?
             sh_jstr(sh_path_get(fo, "assignedLocation", "location", NULL), "id") : "");
    /* Restock is per order line in the event: hand it to the return's line
     * items of that line in their order. */
    int64_t *restock_left = calloc(ret->n_lines ? ret->n_lines : 1, sizeof *restock_left);
    for (size_t i = 0; i < ret->n_lines; i++) restock_left[i] = ret->lines[i].restock ? ret->lines[i].quantity : 0;
    cJSON *vars = cJSON_CreateObject();
    cJSON *input = cJSON_AddObjectToObject(vars, "input");
    cJSON_AddStringToObject(input, "returnId", sh_jstr(rt, "id"));
    cJSON *lines = cJSON_AddArrayToObject(input, "returnLineItems");
    int64_t cents = 0;
    int out = 1;
    cJSON_ArrayForEach(li, nodes(rt, "returnLineItems")) {
        int64_t todo = num(li, "quantity") - num(li, "processedQuantity");
        if (todo <= 0) continue;
        const cJSON *fli = cJSON_GetObjectItemCaseSensitive(li, "fulfillmentLineItem");
        const char *fli_id = sh_jstr(fli, "id");
        const char *line_gid = sh_jstr(cJSON_GetObjectItemCaseSensitive(fli, "lineItem"), "id");
        const char *rfo_line = NULL;
        const cJSON *rfo;
        cJSON_ArrayForEach(rfo, nodes(rt, "reverseFulfillmentOrders")) {
            cJSON_ArrayForEach(rl, nodes(rfo, "lineItems")) {
                const char *id = sh_jstr(cJSON_GetObjectItemCaseSensitive(rl, "fulfillmentLineItem"), "id");
                if (id && fli_id && strcmp(id, fli_id) == 0) rfo_line = sh_jstr(rl, "id");
            }
        }
        const cJSON *line = order_line(order, line_gid);
        if (!rfo_line || !line) {
            snprintf(c->why, c->whylen, "return %s: no reverse fulfillment order line or order line for %s",
                     ret->id, fli_id ? fli_id : "?");
            *bad = FR_FAIL;
            out = -1;
            goto done;
        }
        int64_t restock = 0;
        for (size_t i = 0; i < ret->n_lines && restock < todo; i++) {
            if (strcmp(ret->lines[i].line_id, sh_gid_tail(line_gid)) != 0 || restock_left[i] <= 0) continue;
            int64_t take = todo - restock < restock_left[i] ? todo - restock : restock_left[i];
            restock_left[i] -= take;
            restock += take;
        }
        if (restock > 0 && !location[0]) {
            snprintf(c->why, c->whylen, "return %s: the order has no location to restock at", ret->id);
            *bad = FR_FAIL;
            out = -1;
            goto done;
        }
        cJSON *l = cJSON_CreateObject();
        cJSON_AddStringToObject(l, "id", sh_jstr(li, "id"));
        cJSON_AddNumberToObject(l, "quantity", (double)todo);
        cJSON *disp = cJSON_AddArrayToObject(l, "dispositions");
        for (int restocked = 1; restocked >= 0; restocked--) {
            int64_t q = restocked ? restock : todo - restock;
            if (q <= 0) continue;
            cJSON *d = cJSON_CreateObject();
            cJSON_AddStringToObject(d, "reverseFulfillmentOrderLineItemId", rfo_line);
            cJSON_AddNumberToObject(d, "quantity", (double)q);
            cJSON_AddStringToObject(d, "dispositionType", restocked ? "RESTOCKED" : "NOT_RESTOCKED");
            if (restocked) cJSON_AddStringToObject(d, "locationId", location);
            cJSON_AddItemToArray(disp, d);
        }
        cJSON_AddItemToArray(lines, l);
        cents += line_refund(line, todo);
        out = 0;
    }
    if (out == 1) goto done; /* processed before: a crash between the call and its record */
    const cJSON *ship = cJSON_GetObjectItemCaseSensitive(order, "totalShippingPriceSet");
    if (shipping && money(ship) > 0) {
        cJSON_AddBoolToObject(cJSON_AddObjectToObject(input, "refundShipping"), "fullRefund", true);
        cents += money(ship);
    }
    const char *parent = payment(order);
    if (cents > 0 && parent) {
        char amount[32];
        fr_format_cents(cents, amount, sizeof amount);
        const char *currency = sh_jstr(sh_path_get(ship, "presentmentMoney", NULL, NULL), "currencyCode");
        cJSON *t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "parentId", parent);
        cJSON *ta = cJSON_AddObjectToObject(t, "transactionAmount");
        cJSON_AddStringToObject(ta, "amount", amount);
        cJSON_AddStringToObject(ta, "currencyCode", currency ? currency : "EUR");
        cJSON *issue = cJSON_AddObjectToObject(cJSON_AddObjectToObject(input, "financialTransfer"), "issueRefund");
        cJSON_AddItemToArray(cJSON_AddArrayToObject(issue, "orderTransactions"), t);
    } else if (cents > 0) {
        wb_warn(c->m->store_id, "order %s: return %s: no SALE or CAPTURE to refund from; processed without refund",
                c->m->order_id, ret->id);
    }
    char note[300];
    snprintf(note, sizeof note, "Return %s (%.200s) [return %s]", ret->id, ret->reason_code, ret->id);
    cJSON_AddStringToObject(input, "note", note);
    cJSON_AddBoolToObject(input, "notifyCustomer", c->notify);
    if (sh_run(c, wb_gql_return_process, vars, 10, doc, bad) != 0) {
        out = -1;
        goto done;
    }
    fr_after_send(c->r);
    if (sh_user_errors(c, sh_path_get(*doc, "data", "returnProcess", NULL)) != 0) {
        *bad = FR_FAIL;
        out = -1;
        goto done;
    }
    char money_text[32];
    fr_format_cents(cents, money_text, sizeof money_text);
    wb_info(c->m->store_id, "order %s: return %s processed, %s refunded%s", c->m->order_id, ret->id, money_text,
            shipping ? " with shipping" : "");
done:
    free(restock_left);
    cJSON_Delete(vars);
    return out;
}

static fr_outcome one_return(sh_ctx *c, const wb_return *ret) {
    const wb_fulfilment_msg *m = c->m;
    wb_pg *pg = c->r->svc->pg;
    char ref[160], marker[160];
    snprintf(marker, sizeof marker, "[return %s]", ret->id);
    fr_report_state st = fr_report_begin(pg, m->store_id, m->order_id, "return", ret->id, ref, sizeof ref);
    if (st == FR_REPORT_DONE || st == FR_REPORT_FAILED) return FR_DONE;
    if (st == FR_REPORT_ERROR) {
        snprintf(c->why, c->whylen, "recording the report: %s", wb_pg_error(pg));
        return FR_RETRY;
    }
    int ship = fr_refund_shipping(pg, m->store_id, ret->reason_code);
    if (ship == 1) ship = fr_claim_shipping(pg, m->store_id, m->order_id, "return", ret->id);
    if (ship < 0) {
        snprintf(c->why, c->whylen, "reading the reason rules: %s", wb_pg_error(pg));
        return FR_RETRY;
    }
    fr_outcome bad = FR_RETRY;
    cJSON *state = sh_read_order(c, wb_gql_return_state, &bad), *created = NULL, *processed = NULL;
    if (!state) goto failed;
    const cJSON *order = sh_path_get(state, "data", "order", NULL);
    const cJSON *rt = find_return(order, marker);
    if (!rt) {
        bad = create_return(c, order, ret, marker, &created, &rt);
        if (bad != FR_DONE) goto failed;
    } else if (st == FR_REPORT_NEW) {
        wb_info(m->store_id, "order %s: return %s already in the shop as %s", m->order_id, ret->id, sh_jstr(rt, "id"));
    }
    char return_id[160];
    snprintf(return_id, sizeof return_id, "%s", sh_jstr(rt, "id") ? sh_jstr(rt, "id") : "");
    int prc = process_return(c, order, rt, ret, ship == 1, &processed, &bad);
    if (prc < 0) goto failed;
    if (fr_report_finish(pg, m->store_id, m->order_id, "return", ret->id, "done", return_id, NULL) != 0) {
        snprintf(c->why, c->whylen, "recording the report: %s", wb_pg_error(pg));
        bad = FR_RETRY;
        goto failed;
    }
    fr_outcome out = FR_DONE;
    if (prc == 0) {
        out = fr_shopify_maybe_close(c, sh_path_get(processed, "data", "returnProcess", "return") ?
                                    sh_path_get(sh_path_get(processed, "data", "returnProcess", "return"), "order", NULL, NULL) : NULL);
    } else {
        wb_info(m->store_id, "order %s: return %s was processed before", m->order_id, ret->id);
        out = fr_shopify_maybe_close(c, order);
    }
    cJSON_Delete(state);
    cJSON_Delete(created);
    cJSON_Delete(processed);
    return out;
failed:
    if (bad == FR_FAIL) fr_report_finish(pg, m->store_id, m->order_id, "return", ret->id, "failed", NULL, NULL);
    cJSON_Delete(state);
    cJSON_Delete(created);
    cJSON_Delete(processed);
    return bad;
}

fr_outcome fr_shopify_returns(sh_ctx *c) {
    for (size_t i = 0; i < c->m->n_returns; i++) {
        fr_outcome o = one_return(c, &c->m->returns[i]);
        if (o != FR_DONE) return o;
    }
    return FR_DONE;
}

fr_outcome fr_shopify_maybe_close(sh_ctx *c, const cJSON *order) {
    if (!c->auto_close || !cJSON_IsObject(order) || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(order, "closed")))
        return FR_DONE;
    const char *ful = sh_jstr(order, "displayFulfillmentStatus");
    const char *fin = sh_jstr(order, "displayFinancialStatus");
    /* Done: every line shipped (returns processed count as done), or all of
     * it refunded. Anything else still has work for the merchant. */
    if (!(ful && strcmp(ful, "FULFILLED") == 0) && !(fin && strcmp(fin, "REFUNDED") == 0)) return FR_DONE;
    cJSON *vars = cJSON_CreateObject();
    cJSON_AddStringToObject(cJSON_AddObjectToObject(vars, "input"), "id", sh_jstr(order, "id"));
    cJSON *doc;
    fr_outcome bad = FR_RETRY;
    int rc = sh_run(c, wb_gql_order_close, vars, 10, &doc, &bad);
    cJSON_Delete(vars);
    if (rc != 0) return bad;
    fr_outcome out = FR_DONE;
    /* Closing is idempotent: an error is logged, not dead-lettered, since
     * the report itself went through. */
    if (sh_user_errors(c, sh_path_get(doc, "data", "orderClose", NULL)) != 0)
        wb_warn(c->m->store_id, "order %s: orderClose: %s", c->m->order_id, c->why);
    else
        wb_info(c->m->store_id, "order %s closed", c->m->order_id);
    cJSON_Delete(doc);
    return out;
}
