/* Shopify REST order (webhook body of orders/create, orders/updated,
 * orders/cancelled) -> wb_order_msg. See map.h for the field rules. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "map_internal.h"

static oi_addr_in address_of(const cJSON *a) {
    oi_addr_in in = {0};
    if (!cJSON_IsObject(a)) return in;
    in.first = oi_jstr(a, "first_name");
    in.last = oi_jstr(a, "last_name");
    in.company = oi_jstr(a, "company");
    in.full_name = oi_jstr(a, "name");
    in.address1 = oi_jstr(a, "address1");
    in.address2 = oi_jstr(a, "address2");
    in.postcode = oi_jstr(a, "zip");
    in.city = oi_jstr(a, "city");
    in.state = oi_jstr(a, "province");
    in.country = oi_jstr(a, "country_code");
    in.phone = oi_jstr(a, "phone");
    return in;
}

/* The numeric id: an id past 2^53 is not exact as a JSON number, so the
 * GraphQL id's digits (gid://shopify/Order/N), sent beside it, win. */
static const char *shopify_id(const cJSON *o, char *buf, size_t size) {
    const char *gid = oi_jstr(o, "admin_graphql_api_id");
    const char *slash = gid ? strrchr(gid, '/') : NULL;
    size_t len = slash ? strlen(slash + 1) : 0;
    if (len && len < size && strspn(slash + 1, "0123456789") == len) {
        memcpy(buf, slash + 1, len + 1);
        return buf;
    }
    return oi_jid(o, "id", buf, size);
}

static char *lower(const char *s) {
    if (!s) return NULL;
    char *c = strdup(s);
    for (char *p = c; *p; p++) *p = (char)tolower((unsigned char)*p);
    return c;
}

/* Sum of the "amount" of each element of a list, or -1 when absent. */
static int64_t sum_amounts(const cJSON *list, const char *key) {
    if (!cJSON_IsArray(list)) return -1;
    int64_t sum = 0, v;
    const cJSON *x;
    cJSON_ArrayForEach(x, list) {
        if (oi_jamount(x, key, &v) == 0 && __builtin_add_overflow(sum, v, &sum)) return INT64_MAX;
    }
    return sum;
}

enum { NO_OPEN_LINE = -2 }; /* map_lines: every line is closed (current_quantity 0) */

/* use_current: a line's current_quantity (what is left after edits, refunds
 * and returns) caps its quantity and a closed line is left out; otherwise
 * the quantities as placed. */
static int map_lines(const cJSON *items, bool taxes_included, bool use_current, wb_order_msg *m,
                     char *err, size_t errlen) {
    int n = cJSON_GetArraySize(items), closed = 0;
    m->lines = calloc((size_t)(n ? n : 1), sizeof *m->lines);
    const cJSON *li = items ? items->child : NULL; /* walked, not indexed: O(n), not O(n^2) */
    for (int i = 0; i < n; i++, li = li->next) {
        char idbuf[64];
        const char *id = shopify_id(li, idbuf, sizeof idbuf);
        const char *name = oi_jstr(li, "name");
        if (!name) name = oi_jstr(li, "title");
        const cJSON *q = oi_jget(li, "quantity");
        const cJSON *cq = oi_jget(li, "current_quantity");
        int64_t qty = oi_jint(q);
        /* An order edit, a refund or a return leaves a line with current_quantity 0. */
        if (use_current && cJSON_IsNumber(cq) && oi_jint(cq) < qty) qty = oi_jint(cq);
        if (use_current && cJSON_IsNumber(cq) && qty <= 0) {
            closed++;
            continue;
        }
        if (!id) {
            snprintf(err, errlen, "lines[%d]: no line id", i);
            return -1;
        }
        char *sku = oi_text(oi_jstr(li, "sku"), 255);
        if (!sku) {
            snprintf(err, errlen, "lines[%d]: no sku (line %s \"%s\")", i, id, name ? name : "");
            return -1;
        }
        int64_t price;
        if (oi_jamount(li, "price", &price) != 0) {
            free(sku);
            snprintf(err, errlen, "lines[%d]: no valid price (line %s)", i, id);
            return -1;
        }
        int64_t discount = sum_amounts(oi_jget(li, "discount_allocations"),
                                       "amount");
        if (discount < 0 && oi_jamount(li, "total_discount", &discount) != 0) discount = 0;
        /* Hostile amounts must not overflow: refused by name instead. */
        int64_t total, tax = 0;
        if (!taxes_included) tax = sum_amounts(oi_jget(li, "tax_lines"), "price");
        if (qty > OI_MAX_QUANTITY || __builtin_mul_overflow(price, qty, &total) ||
            __builtin_sub_overflow(total, discount, &total) ||
            (tax > 0 && __builtin_add_overflow(total, tax, &total))) {
            free(sku);
            snprintf(err, errlen, "lines[%d]: quantity %lld or amounts out of range (line %s)", i,
                     (long long)qty, id);
            return -1;
        }
        wb_order_line *l = &m->lines[m->n_lines++];
        l->line_id = oi_text(id, 64);
        l->sku = sku;
        l->name = oi_text(name ? name : sku, 255);
        l->quantity = qty;
        char buf[32];
        oi_decimal_format(price, buf);
        l->unit_price = strdup(buf);
        oi_decimal_format(total, buf);
        l->line_total = strdup(buf);
    }
    if (!m->n_lines) {
        snprintf(err, errlen, "lines: the order has no line to fulfil");
        return closed ? NO_OPEN_LINE : -1;
    }
    return 0;
}

/* The lines left to fulfil; when none is left but the order had lines, the
 * lines as placed, and out->nothing_open says so (ingest.c decides whether
 * that version can go out: a cancellation can, a new order or a change
 * cannot, and the change of an order the WMS is past is ignored anyway). */
static int map_open_lines(const cJSON *items, bool taxes_included, oi_order *out, char *err,
                          size_t errlen) {
    wb_order_msg *m = &out->msg;
    int rc = map_lines(items, taxes_included, true, m, err, errlen);
    if (rc != NO_OPEN_LINE) return rc;
    free(m->lines);
    m->lines = NULL;
    out->nothing_open = true;
    return map_lines(items, taxes_included, false, m, err, errlen) == 0 ? 0 : -1;
}

int oi_map_shopify_json(const char *store_id, const cJSON *o, oi_order *out, char **order_id,
                        char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    if (order_id) *order_id = NULL;
    if (!cJSON_IsObject(o)) {
        snprintf(err, errlen, "not a JSON object");
        return OI_MAP_MALFORMED;
    }
    char idbuf[64];
    const char *id = shopify_id(o, idbuf, sizeof idbuf);
    if (!id) {
        snprintf(err, errlen, "id: missing");
        return OI_MAP_UNMAPPABLE;
    }
    if (order_id) *order_id = strdup(id);
    wb_order_msg *m = &out->msg;
    m->store_id = strdup(store_id);
    m->platform = WB_PLATFORM_SHOPIFY;
    m->order_id = strdup(id);
    char numbuf[64];
    const char *number = oi_jstr(o, "name");
    if (!number) number = oi_jid(o, "order_number", numbuf, sizeof numbuf);
    m->order_number = oi_text(number ? number : id, 64);

    const char *updated = oi_jstr(o, "updated_at");
    if (oi_parse_time_ms(updated, false, &m->version) != 0) {
        snprintf(err, errlen, "order %s: updated_at: not a date-time with a zone", id);
        goto unmappable;
    }
    m->created_at = oi_text(oi_jstr(o, "created_at"), 64);
    m->currency = oi_text(oi_jstr(o, "currency"), 8);
    const cJSON *ship = cJSON_GetArrayItem(oi_jget(o, "shipping_lines"), 0);
    if (cJSON_IsObject(ship)) {
        m->delivery_method.code = oi_text(oi_jstr(ship, "code"), 64);
        m->delivery_method.name = oi_text(oi_jstr(ship, "title"), 255);
    }
    m->remark = oi_text(oi_jstr(o, "note"), 2000);

    const cJSON *customer = oi_jget(o, "customer");
    const char *email = oi_jstr(o, "email");
    if (!email) email = oi_jstr(o, "contact_email");
    if (!email && cJSON_IsObject(customer)) email = oi_jstr(customer, "email");
    oi_addr_in shipping = address_of(oi_jget(o, "shipping_address"));
    oi_addr_in billing = address_of(oi_jget(o, "billing_address"));
    bool has_shipping = oi_addr_present(&shipping), has_billing = oi_addr_present(&billing);
    oi_addr_in delivery = has_shipping ? shipping : billing;
    oi_addr_in invoice = has_billing ? billing : delivery;
    delivery.email = invoice.email = email;
    const char *phone = delivery.phone ? delivery.phone : oi_jstr(o, "phone");
    if (!phone && cJSON_IsObject(customer)) phone = oi_jstr(customer, "phone");
    delivery.phone = phone;
    oi_addr_build(&delivery, &m->customer);
    oi_addr_build(&invoice, &m->invoice);
    m->notification.email = m->customer.email ? strdup(m->customer.email) : NULL;
    m->notification.mobile = phone ? oi_text(phone, 64) : NULL;

    const cJSON *ti = oi_jget(o, "taxes_included");
    if (map_open_lines(oi_jget(o, "line_items"), cJSON_IsTrue(ti), out, err,
                       errlen) != 0)
        goto unmappable;

    const cJSON *cancelled = oi_jget(o, "cancelled_at");
    out->cancelled = cJSON_IsString(cancelled) && cancelled->valuestring && *cancelled->valuestring;
    out->financial_status = lower(oi_jstr(o, "financial_status"));
    const char *fs = oi_jstr(o, "fulfillment_status");
    out->fulfillment_status = lower(fs ? fs : "unfulfilled");
    if (oi_map_finish(out, err, errlen) != OI_MAP_OK) goto unmappable;
    return OI_MAP_OK;

unmappable:
    oi_order_free(out);
    return OI_MAP_UNMAPPABLE;
}

int oi_map_shopify(const char *store_id, const char *json, size_t len, oi_order *out,
                   char **order_id, char *err, size_t errlen) {
    return oi_map_raw(oi_map_shopify_json, store_id, json, len, out, order_id, err, errlen);
}
