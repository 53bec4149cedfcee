/* WooCommerce REST v3 order (webhook body of order.created / order.updated,
 * an element of GET /orders) -> wb_order_msg. See map.h for the field rules. */
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
    in.address1 = oi_jstr(a, "address_1");
    in.address2 = oi_jstr(a, "address_2");
    in.postcode = oi_jstr(a, "postcode");
    in.city = oi_jstr(a, "city");
    in.state = oi_jstr(a, "state");
    in.country = oi_jstr(a, "country");
    in.email = oi_jstr(a, "email");
    in.phone = oi_jstr(a, "phone");
    return in;
}

static int map_lines(const cJSON *items, wb_order_msg *m, char *err, size_t errlen) {
    int n = cJSON_GetArraySize(items);
    m->lines = calloc((size_t)(n ? n : 1), sizeof *m->lines);
    const cJSON *li = items ? items->child : NULL; /* walked, not indexed: O(n), not O(n^2) */
    for (int i = 0; i < n; i++, li = li->next) {
        char idbuf[64];
        const char *id = oi_jid(li, "id", idbuf, sizeof idbuf);
        const char *name = oi_jstr(li, "name");
        const cJSON *q = oi_jget(li, "quantity");
        int64_t qty = oi_jint(q);
        if (!id) {
            snprintf(err, errlen, "lines[%d]: no line id", i);
            return -1;
        }
        if (qty > OI_MAX_QUANTITY) {
            snprintf(err, errlen, "lines[%d]: quantity %lld is over %d (line %s)", i,
                     (long long)qty, OI_MAX_QUANTITY, id);
            return -1;
        }
        if (qty <= 0) {
            snprintf(err, errlen, "lines[%d]: quantity %lld is not positive (line %s)", i,
                     (long long)qty, id);
            return -1;
        }
        char *sku = oi_text(oi_jstr(li, "sku"), 255);
        if (!sku) {
            snprintf(err, errlen, "lines[%d]: no sku (line %s \"%s\")", i, id, name ? name : "");
            return -1;
        }
        int64_t subtotal, total, tax = 0;
        if (oi_jamount(li, "subtotal", &subtotal) != 0) {
            int64_t price;
            if (oi_jamount(li, "price", &price) != 0) {
                free(sku);
                snprintf(err, errlen, "lines[%d]: no valid subtotal (line %s)", i, id);
                return -1;
            }
            if (__builtin_mul_overflow(price, qty, &subtotal)) {
                free(sku);
                snprintf(err, errlen, "lines[%d]: quantity %lld or price out of range (line %s)", i,
                         (long long)qty, id);
                return -1;
            }
        }
        if (oi_jamount(li, "total", &total) != 0) total = subtotal;
        if (oi_jamount(li, "total_tax", &tax) != 0) tax = 0;
        wb_order_line *l = &m->lines[m->n_lines++];
        l->line_id = oi_text(id, 64);
        l->sku = sku;
        l->name = oi_text(name ? name : sku, 255);
        l->quantity = qty;
        char buf[32];
        /* Round half up to the millionth. */
        oi_decimal_format((subtotal + qty / 2) / qty, buf);
        l->unit_price = strdup(buf);
        oi_decimal_format(total + tax, buf);
        l->line_total = strdup(buf);
    }
    if (!m->n_lines) {
        snprintf(err, errlen, "lines: the order has no line to fulfil");
        return -1;
    }
    return 0;
}

static bool is_cancelled_status(const char *s) {
    return s && (!strcmp(s, "cancelled") || !strcmp(s, "refunded") || !strcmp(s, "failed") ||
                 !strcmp(s, "trash"));
}

int oi_map_woocommerce_json(const char *store_id, const cJSON *o, oi_order *out,
                            char **order_id, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    if (order_id) *order_id = NULL;
    if (!cJSON_IsObject(o)) {
        snprintf(err, errlen, "not a JSON object");
        return OI_MAP_MALFORMED;
    }
    char idbuf[64];
    const char *id = oi_jid(o, "id", idbuf, sizeof idbuf);
    if (!id) {
        snprintf(err, errlen, "id: missing");
        return OI_MAP_UNMAPPABLE;
    }
    if (order_id) *order_id = strdup(id);
    wb_order_msg *m = &out->msg;
    m->store_id = strdup(store_id);
    m->platform = WB_PLATFORM_WOOCOMMERCE;
    m->order_id = strdup(id);
    char numbuf[64];
    const char *number = oi_jid(o, "number", numbuf, sizeof numbuf);
    m->order_number = oi_text(number ? number : id, 64);

    /* The *_gmt fields carry no zone but are UTC; the others are the shop's
     * local time without a zone, so they are used only when they have one. */
    const char *modified = oi_jstr(o, "date_modified_gmt");
    int rc = modified ? oi_parse_time_ms(modified, true, &m->version)
                      : oi_parse_time_ms(oi_jstr(o, "date_modified"), false, &m->version);
    if (rc != 0) {
        snprintf(err, errlen, "order %s: date_modified_gmt: not a date-time", id);
        goto unmappable;
    }
    const char *created = oi_jstr(o, "date_created_gmt");
    int64_t created_ms;
    if (created && oi_parse_time_ms(created, true, &created_ms) == 0) {
        if (oi_parse_time_ms(created, false, &created_ms) == 0) {
            m->created_at = oi_text(created, 64); /* already carries a zone */
        } else if (asprintf(&m->created_at, "%sZ", created) < 0) {
            m->created_at = NULL;
        }
    } else {
        created = oi_jstr(o, "date_created");
        if (oi_parse_time_ms(created, false, &created_ms) == 0) m->created_at = oi_text(created, 64);
    }
    m->currency = oi_text(oi_jstr(o, "currency"), 8);
    const cJSON *ship = cJSON_GetArrayItem(oi_jget(o, "shipping_lines"), 0);
    if (cJSON_IsObject(ship)) {
        m->delivery_method.code = oi_text(oi_jstr(ship, "method_id"), 64);
        m->delivery_method.name = oi_text(oi_jstr(ship, "method_title"), 255);
    }
    m->remark = oi_text(oi_jstr(o, "customer_note"), 2000);

    oi_addr_in billing = address_of(oi_jget(o, "billing"));
    oi_addr_in shipping = address_of(oi_jget(o, "shipping"));
    bool has_shipping = oi_addr_present(&shipping), has_billing = oi_addr_present(&billing);
    oi_addr_in delivery = has_shipping ? shipping : billing;
    oi_addr_in invoice = has_billing ? billing : delivery;
    /* WooCommerce keeps the customer's email on the billing address only. */
    if (!delivery.email) delivery.email = billing.email;
    if (!delivery.phone) delivery.phone = billing.phone;
    oi_addr_build(&delivery, &m->customer);
    oi_addr_build(&invoice, &m->invoice);
    m->notification.email = m->customer.email ? strdup(m->customer.email) : NULL;
    m->notification.mobile = oi_text(billing.phone ? billing.phone : delivery.phone, 64);

    if (map_lines(oi_jget(o, "line_items"), m, err, errlen) != 0)
        goto unmappable;

    const char *status = oi_jstr(o, "status");
    out->status = status ? strdup(status) : NULL;
    out->cancelled = is_cancelled_status(status);
    if (oi_map_finish(out, err, errlen) != OI_MAP_OK) goto unmappable;
    return OI_MAP_OK;

unmappable:
    oi_order_free(out);
    return OI_MAP_UNMAPPABLE;
}

int oi_map_woocommerce(const char *store_id, const char *json, size_t len, oi_order *out,
                       char **order_id, char *err, size_t errlen) {
    return oi_map_raw(oi_map_woocommerce_json, store_id, json, len, out, order_id, err, errlen);
}
