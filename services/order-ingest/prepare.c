/* What an order needs from the store's configuration before it is decided
 * (oi_prepare, called by oi_ingest before it takes the order's lock, so a
 * shop call never holds the lock):
 *
 * - The warehouse. The store's location mapping (store_locations) names the
 *   WMS warehouse per shop location. Shopify: the location the first
 *   fulfillment order is assigned to; the reconciler's query carries it, the
 *   webhook's REST body does not. When the store's mappings name one
 *   warehouse only, that one is the answer without asking the shop; with
 *   several, the webhook path asks Shopify for the order's fulfillment orders
 *   (one small query, ~10 points) since guessing would send the order to the
 *   wrong warehouse. If the shop cannot be asked the webhook is answered 503:
 *   Shopify retries, and the reconciler, whose query has the location, sends
 *   it meanwhile (a cancellation instead goes out with the default). An
 *   unmapped location, and WooCommerce (one stock location
 *   per shop), take the store's default mapping. No mapping at all: the
 *   message names no warehouse and the WMS decides.
 * - The "every SKU mapped" rule (stores.require_sku_mapping, migration
 *   0007): with it on, a line whose SKU has no product mapping makes the
 *   order unmappable (dead letter with the reason). A cancellation is never
 *   held back by it: the WMS must learn of it whatever its lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ingest.h"
#include "map_internal.h"
#include "wb/log.h"
#include "wb/proto.h"
#include "wb/shopclient.h"
#include "wb/shopify_documents.h"

/* "gid://shopify/Location/123" and "123" name the same location. */
static bool same_location(const char *a, const char *b) {
    if (!a || !b) return false;
    const char *ta = strrchr(a, '/'), *tb = strrchr(b, '/');
    return strcmp(ta ? ta + 1 : a, tb ? tb + 1 : b) == 0;
}

/* Asks Shopify where the order's first fulfillment order is assigned
 * (malloc'd gid), NULL with err when it cannot. */
static char *fetch_location(const wb_store *store, const char *order_id, char *err, size_t errlen) {
    cJSON *cred = cJSON_Parse(store->credentials ? store->credentials : "");
    const char *token = oi_jstr(cred, "access_token");
    if (!token) {
        cJSON_Delete(cred);
        snprintf(err, errlen, "the store has no access token");
        return NULL;
    }
    /* Shopify wants the webhook answered within 5 s. */
    wb_shop_opts opts = {.deadline_ms = 2500, .request_timeout_ms = 2000, .max_attempts = 2};
    wb_shopify *sh = wb_shopify_new(store->id, store->base_url, token, &opts);
    cJSON *vars = cJSON_CreateObject(), *resp = NULL;
    char gid[96];
    snprintf(gid, sizeof gid, "gid://shopify/Order/%s", order_id);
    cJSON_AddStringToObject(vars, "id", gid);
    char *loc = NULL;
    if (wb_shopify_graphql(sh, wb_gql_order_locations, vars, 0, &resp, err, errlen) == 0) {
        const cJSON *order = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(resp, "data"), "order");
        const char *id = cJSON_IsObject(order) ? oi_shopify_gql_location(order) : NULL;
        if (id) loc = strdup(id);
        else snprintf(err, errlen, "the order's fulfillment orders name no location");
    }
    cJSON_Delete(resp);
    cJSON_Delete(vars);
    wb_shopify_free(sh);
    cJSON_Delete(cred);
    return loc;
}

/* The schema's whole rule for the field (keypart: 1 to 64 characters of
 * valid UTF-8, no '/'), the one the checked encoding applies: the message
 * is encoded again without that check once the warehouse is set. */
static bool warehouse_ok(const char *w) {
    cJSON node = {0};
    node.type = cJSON_String;
    node.valuestring = (char *)w;
    char why[160];
    wb_pv v = {why, sizeof why, true};
    return wb_pv_string_node(&v, &node, "warehouse", &wb_pv_keypart, NULL) == 0;
}

/* Picks the warehouse from the mappings ([[location, warehouse, is_default]],
 * defaults first). Returns 0, or OI_SHOP_DOWN when the shop had to be asked
 * and could not answer. */
static oi_status pick_warehouse(const wb_store *store, oi_order *order, const cJSON *maps, char *err,
                                size_t errlen) {
    const char *deflt = NULL, *only = NULL;
    bool several = false;
    const cJSON *m;
    cJSON_ArrayForEach(m, maps) {
        const char *w = cJSON_GetStringValue(cJSON_GetArrayItem(m, 1));
        if (cJSON_IsTrue(cJSON_GetArrayItem(m, 2)) && !deflt) deflt = w;
        if (!only) only = w;
        else if (w && strcmp(only, w) != 0) several = true;
    }
    if (!only) return OI_OK;
    const char *chosen = several ? deflt : only;
    if (order->msg.platform == WB_PLATFORM_SHOPIFY && several) {
        if (!order->shop_location) {
            order->shop_location = fetch_location(store, order->msg.order_id, err, errlen);
            /* A cancellation goes out even when the shop cannot be asked. */
            if (!order->shop_location && !order->cancelled) return OI_SHOP_DOWN;
        }
        cJSON_ArrayForEach(m, maps) {
            if (same_location(cJSON_GetStringValue(cJSON_GetArrayItem(m, 0)), order->shop_location)) {
                chosen = cJSON_GetStringValue(cJSON_GetArrayItem(m, 1));
                break; /* defaults come first: a location mapped twice takes its default */
            }
        }
    }
    if (chosen && warehouse_ok(chosen)) {
        order->msg.warehouse = strdup(chosen);
        /* Encoded again here, on the webhook's own thread, rather than in
         * the batch, where every order's encoding would add to the wait of
         * all. The mapper's encoding passed the schema check and the
         * warehouse was just checked against the schema's own rule, so it
         * is not checked again (a second check cost as much as the mapping
         * itself), and the warehouse is put into that text rather than the
         * whole message encoded again. NULL: the batch encodes it, checked,
         * and tells why. */
        char *json = order->json && order->json_type == order->msg.type
                         ? wb_order_json_set_warehouse(order->json, chosen) : NULL;
        if (!json) json = order->json ? wb_order_msg_reencode(&order->msg) : wb_order_msg_encode(&order->msg);
        free(order->json);
        order->json = json;
        order->json_type = order->msg.type;
    }
    else if (chosen) wb_warn(store->id, "warehouse \"%s\" is not a valid key part: order %s names none", chosen,
                             order->msg.order_id);
    return OI_OK;
}

/* The store's rules from PostgreSQL, then cached. 0, or -1 with err. */
static int load_rules(wb_pg *pg, const wb_store *store, bool *require, char **locations, char *err,
                      size_t errlen) {
    const char *p[] = {store->id};
    PGresult *r = wb_pg_query(pg,
        "SELECT s.require_sku_mapping, "
        "  (SELECT coalesce(json_agg(json_build_array(l.shop_location_id, l.warehouse, l.is_default) "
        "                            ORDER BY l.is_default DESC, l.shop_location_id, l.warehouse), '[]') "
        "     FROM store_locations l WHERE l.store_id = s.id) "
        "FROM stores s WHERE s.id = $1", 1, p);
    if (!r || PQntuples(r) != 1) {
        snprintf(err, errlen, "read store configuration: %s", r ? "store gone" : wb_pg_error(pg));
        PQclear(r);
        return -1;
    }
    *require = PQgetvalue(r, 0, 0)[0] == 't';
    *locations = strdup(PQgetvalue(r, 0, 1));
    PQclear(r);
    oi_store_rules_put(store->id, *require, *locations);
    return 0;
}

/* The order's SKUs without a product mapping (a JSON array, cJSON_Delete
 * it), NULL with err when PostgreSQL failed. Product mappings change with
 * the catalog, so this is read per order (only for a store with the rule). */
static cJSON *unmapped_skus(wb_pg *pg, const wb_store *store, const wb_order_msg *msg, char *err,
                            size_t errlen) {
    cJSON *skus = cJSON_CreateArray();
    for (size_t i = 0; i < msg->n_lines; i++) cJSON_AddItemToArray(skus, cJSON_CreateString(msg->lines[i].sku));
    char *skus_json = cJSON_PrintUnformatted(skus);
    cJSON_Delete(skus);
    const char *p[] = {store->id, skus_json};
    PGresult *r = wb_pg_query(pg,
        "SELECT coalesce(json_agg(DISTINCT u.sku), '[]') FROM json_array_elements_text($2::json) AS u(sku) "
        "WHERE NOT EXISTS (SELECT 1 FROM product_mappings m WHERE m.store_id = $1 AND m.sku = u.sku)", 2, p);
    free(skus_json);
    if (!r || PQntuples(r) != 1) {
        snprintf(err, errlen, "read product mappings: %s", r ? "no answer" : wb_pg_error(pg));
        PQclear(r);
        return NULL;
    }
    cJSON *unmapped = cJSON_Parse(PQgetvalue(r, 0, 0));
    PQclear(r);
    return unmapped;
}

/* The rules applied to the order; pg serves the SKU rule. */
static oi_status apply_rules(wb_pg *pg, const wb_store *store, oi_order *order, bool require,
                             const char *locations, char *err, size_t errlen) {
    wb_order_msg *msg = &order->msg;
    cJSON *unmapped = NULL;
    if (require && !order->cancelled && !(unmapped = unmapped_skus(pg, store, msg, err, errlen)))
        return OI_DB_DOWN;
    oi_status st = OI_OK;
    if (cJSON_GetArraySize(unmapped) > 0) {
        char *list = cJSON_PrintUnformatted(unmapped);
        snprintf(err, errlen, "order %s: sku %s has no product mapping, and the store requires one",
                 msg->order_id, list);
        free(list);
        st = OI_UNMAPPED;
    } else if (!msg->warehouse) {
        cJSON *maps = cJSON_Parse(locations);
        st = pick_warehouse(store, order, maps, err, errlen);
        cJSON_Delete(maps);
    }
    cJSON_Delete(unmapped);
    return st;
}

oi_status oi_prepare(oi_ctx *ctx, wb_pg *pg, const wb_store *store, oi_order *order, char *err,
                     size_t errlen) {
    bool require = false;
    char *locations = NULL;
    bool cached = oi_store_rules_get(store->id, &require, &locations);
    /* A cached store without the SKU rule needs no connection at all. */
    wb_pg *borrowed = NULL;
    if (!pg && (!cached || (require && !order->cancelled))) {
        pg = borrowed = oi_pool_get(&ctx->pool, err, errlen);
        if (!pg) {
            free(locations);
            return OI_DB_DOWN;
        }
    }
    oi_status st = !cached && load_rules(pg, store, &require, &locations, err, errlen) != 0
                       ? OI_DB_DOWN
                       : apply_rules(pg, store, order, require, locations, err, errlen);
    free(locations);
    if (borrowed) oi_pool_put(&ctx->pool, borrowed, PQstatus(wb_pg_conn(borrowed)) != CONNECTION_OK);
    return st;
}
