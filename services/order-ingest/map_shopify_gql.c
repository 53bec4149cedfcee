/* A Shopify GraphQL order (a node of wb_gql_reconcile_orders) -> wb_order_msg.
 *
 * The GraphQL order has another shape than the webhook's REST order
 * (camelCase, money in *Set { shopMoney { amount } }, lines in a connection,
 * enum statuses). Rather than a second set of field rules, it is rewritten
 * into the REST shape and handed to oi_map_shopify_json(): one mapping, so a
 * reconciled order and the webhook of the same version give the same message
 * (and the same event id), which is what lets oi_ingest() tell them apart as
 * duplicates. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "map_internal.h"

static void copy_str(cJSON *to, const char *to_key, const cJSON *from, const char *from_key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(from, from_key);
    if (cJSON_IsString(v) && v->valuestring) cJSON_AddStringToObject(to, to_key, v->valuestring);
}

/* x { shopMoney { amount } } -> the amount string, or NULL. */
static const char *money(const cJSON *o, const char *key) {
    const cJSON *set = cJSON_GetObjectItemCaseSensitive(o, key);
    return oi_jstr(cJSON_GetObjectItemCaseSensitive(set, "shopMoney"), "amount");
}

static cJSON *address(const cJSON *a) {
    if (!cJSON_IsObject(a)) return cJSON_CreateNull();
    cJSON *r = cJSON_CreateObject();
    static const char *const map[][2] = {
        {"first_name", "firstName"}, {"last_name", "lastName"}, {"company", "company"},
        {"address1", "address1"},    {"address2", "address2"},  {"city", "city"},
        {"zip", "zip"},              {"province", "province"},  {"country_code", "countryCodeV2"},
        {"phone", "phone"}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) copy_str(r, map[i][0], a, map[i][1]);
    return r;
}

/* Amounts of a list: [{<set> {shopMoney {amount}}}] -> [{<key>: amount}]. */
static cJSON *amounts(const cJSON *list, const char *set, const char *key) {
    cJSON *r = cJSON_CreateArray();
    const cJSON *x;
    cJSON_ArrayForEach(x, list) {
        const char *a = money(x, set);
        if (!a) continue;
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, key, a);
        cJSON_AddItemToArray(r, e);
    }
    return r;
}

static cJSON *line(const cJSON *n) {
    cJSON *l = cJSON_CreateObject();
    copy_str(l, "admin_graphql_api_id", n, "id");
    copy_str(l, "name", n, "name");
    copy_str(l, "sku", n, "sku");
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(n, "quantity");
    const cJSON *cq = cJSON_GetObjectItemCaseSensitive(n, "currentQuantity");
    if (cJSON_IsNumber(q)) cJSON_AddNumberToObject(l, "quantity", q->valuedouble);
    if (cJSON_IsNumber(cq)) cJSON_AddNumberToObject(l, "current_quantity", cq->valuedouble);
    const char *price = money(n, "originalUnitPriceSet");
    if (price) cJSON_AddStringToObject(l, "price", price);
    cJSON_AddItemToObject(l, "discount_allocations",
                          amounts(cJSON_GetObjectItemCaseSensitive(n, "discountAllocations"),
                                  "allocatedAmountSet", "amount"));
    cJSON_AddItemToObject(l, "tax_lines",
                          amounts(cJSON_GetObjectItemCaseSensitive(n, "taxLines"), "priceSet", "price"));
    return l;
}

/* REST spells the fulfillment status null (unfulfilled), partial or
 * fulfilled; GraphQL has an enum with more values, kept lowercased. */
static void fulfillment_status(cJSON *r, const char *gql) {
    if (!gql || !strcmp(gql, "UNFULFILLED")) {
        cJSON_AddNullToObject(r, "fulfillment_status");
        return;
    }
    char buf[64];
    snprintf(buf, sizeof buf, "%s", !strcmp(gql, "PARTIALLY_FULFILLED") ? "partial" : gql);
    for (char *p = buf; *p; p++) *p = (char)tolower((unsigned char)*p);
    cJSON_AddStringToObject(r, "fulfillment_status", buf);
}

cJSON *oi_shopify_gql_to_rest(const cJSON *o, const cJSON *extra_lines) {
    cJSON *r = cJSON_CreateObject();
    copy_str(r, "admin_graphql_api_id", o, "id");
    copy_str(r, "name", o, "name");
    copy_str(r, "email", o, "email");
    copy_str(r, "phone", o, "phone");
    copy_str(r, "note", o, "note");
    copy_str(r, "currency", o, "currencyCode");
    copy_str(r, "created_at", o, "createdAt");
    copy_str(r, "updated_at", o, "updatedAt");
    copy_str(r, "cancelled_at", o, "cancelledAt");
    cJSON_AddBoolToObject(r, "taxes_included",
                          cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "taxesIncluded")));
    const char *fin = oi_jstr(o, "displayFinancialStatus");
    if (fin) {
        char buf[64];
        snprintf(buf, sizeof buf, "%s", fin);
        for (char *p = buf; *p; p++) *p = (char)tolower((unsigned char)*p);
        cJSON_AddStringToObject(r, "financial_status", buf);
    }
    fulfillment_status(r, oi_jstr(o, "displayFulfillmentStatus"));
    cJSON_AddItemToObject(r, "shipping_address", address(cJSON_GetObjectItemCaseSensitive(o, "shippingAddress")));
    cJSON_AddItemToObject(r, "billing_address", address(cJSON_GetObjectItemCaseSensitive(o, "billingAddress")));
    cJSON *ship = cJSON_AddArrayToObject(r, "shipping_lines");
    const cJSON *sl = cJSON_GetObjectItemCaseSensitive(o, "shippingLine");
    if (cJSON_IsObject(sl)) {
        cJSON *s = cJSON_CreateObject();
        copy_str(s, "code", sl, "code");
        copy_str(s, "title", sl, "title");
        cJSON_AddItemToArray(ship, s);
    }
    cJSON *items = cJSON_AddArrayToObject(r, "line_items");
    const cJSON *n;
    cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "lineItems"), "nodes"))
        cJSON_AddItemToArray(items, line(n));
    cJSON_ArrayForEach(n, extra_lines) cJSON_AddItemToArray(items, line(n));
    return r;
}

const char *oi_shopify_gql_location(const cJSON *o) {
    const cJSON *fos = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "fulfillmentOrders"), "nodes");
    const cJSON *fo;
    cJSON_ArrayForEach(fo, fos) {
        const cJSON *loc = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(fo, "assignedLocation"), "location");
        const char *id = oi_jstr(loc, "id");
        if (id) return id;
    }
    return NULL;
}

int oi_map_shopify_gql(const char *store_id, const cJSON *o, const cJSON *extra_lines, oi_order *out,
                       char **order_id, char *err, size_t errlen) {
    if (!cJSON_IsObject(o)) {
        memset(out, 0, sizeof *out);
        if (order_id) *order_id = NULL;
        snprintf(err, errlen, "not a JSON object");
        return OI_MAP_MALFORMED;
    }
    cJSON *rest = oi_shopify_gql_to_rest(o, extra_lines);
    int rc = oi_map_shopify_json(store_id, rest, out, order_id, err, errlen);
    cJSON_Delete(rest);
    if (rc == OI_MAP_OK) {
        const char *loc = oi_shopify_gql_location(o);
        if (loc) out->shop_location = strdup(loc);
    }
    return rc;
}
