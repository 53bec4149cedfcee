/* One event: load the store, record the order's state, report to the shop.
 * The store and a fresh client are loaded per event, so settings and
 * credentials changed with bridgectl apply at once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "reporter.h"
#include "wb/log.h"

/* Whether the event is reported to the shop: dispatches, tracking updates
 * and returns always; `packed` with shipments when the store wants tracking
 * at packing; `cancelled` unless the store only records it. */
static bool needs_shop(const wb_fulfilment_msg *m, const fr_settings *set) {
    switch (m->type) {
    case WB_FULFILMENT_DISPATCHED:
    case WB_FULFILMENT_TRACKING_UPDATED:
    case WB_FULFILMENT_RETURNED: return true;
    case WB_FULFILMENT_PACKED: return set->tracking_on_packed && m->n_shipments > 0;
    case WB_FULFILMENT_CANCELLED: return strcmp(set->cancelled_report, "record") != 0;
    default: return false;
    }
}

/* The returns of m with each line's restock flag as Shopify should apply
 * it: the WMS's flag only where the bridge does not publish the shop's stock
 * of the sku. Where it does, the WMS raises its level for the returned item
 * and stock-publisher sets the shop's value from it; a restock by the shop
 * as well would count the item twice (oversell). *out (malloc'd, lines too;
 * the strings stay m's) is freed with free_returns. 0, or -1 on error. */
static int shop_returns(wb_pg *pg, const wb_store *store, const wb_fulfilment_msg *m, wb_return **out) {
    *out = calloc(m->n_returns ? m->n_returns : 1, sizeof **out);
    for (size_t i = 0; i < m->n_returns; i++) {
        wb_return *ret = &(*out)[i];
        *ret = m->returns[i];
        ret->lines = calloc(ret->n_lines ? ret->n_lines : 1, sizeof *ret->lines);
        for (size_t k = 0; k < ret->n_lines; k++) {
            wb_return_line *l = &ret->lines[k];
            *l = m->returns[i].lines[k];
            if (!l->restock) continue;
            int published = fr_stock_published(pg, store, l->sku);
            if (published < 0) return -1;
            if (published) {
                l->restock = false;
                wb_info(m->store_id, "order %s: return %s: sku %s back on stock through the WMS's level, "
                        "not restocked in the shop", m->order_id, ret->id, l->sku);
            }
        }
    }
    return 0;
}

static void free_returns(wb_return *rets, size_t n) {
    for (size_t i = 0; rets && i < n; i++) free(rets[i].lines);
    free(rets);
}

fr_outcome fr_handle(reporter *r, const wb_fulfilment_msg *m, char *why, size_t whylen) {
    wb_pg *pg = r->svc->pg;
    wb_store store;
    char err[512];
    fr_settings set;
    fr_settings_load(pg, m->store_id, &set);
    bool shop = needs_shop(m, &set);
    if (shop && !r->svc->has_master_key) {
        snprintf(why, whylen, "WB_MASTER_KEY is not set: cannot unseal the store's credentials");
        return FR_RETRY;
    }
    int rc = wb_store_load(pg, shop ? r->svc->master_key : NULL, m->store_id, &store, err, sizeof err);
    if (rc == 1) {
        snprintf(why, whylen, "unknown store %s", m->store_id);
        return FR_FAIL;
    }
    if (rc != 0) {
        snprintf(why, whylen, "loading the store: %s", err);
        return FR_RETRY;
    }
    fr_outcome out = FR_DONE;
    if (fr_record_state(pg, m) != 0) {
        snprintf(why, whylen, "recording the order's state: %s", wb_pg_error(pg));
        out = FR_RETRY;
        goto done;
    }
    if (!shop) {
        /* accepted, picking_started, and packed and cancelled unless the
         * store asks otherwise: recorded only. */
        wb_info(m->store_id, "order %s: %s recorded", m->order_id, wb_fulfilment_type_name(m->type));
        goto done;
    }
    if (!store.enabled) {
        wb_info(m->store_id, "order %s: store disabled, %s not reported", m->order_id,
                wb_fulfilment_type_name(m->type));
        goto done;
    }
    cJSON *creds = cJSON_Parse(store.credentials ? store.credentials : "");
    if (!creds) {
        snprintf(why, whylen, "the store's credentials are not JSON");
        out = FR_FAIL;
        goto done;
    }
    /* Returns go to the shop with the restock flags it should apply. */
    wb_fulfilment_msg shop_msg = *m;
    wb_return *rets = NULL;
    /* Shopify takes a disposition per line; WooCommerce restocks per
     * refund, and its refunds are grouped (and named, R1/restock, R1/keep)
     * by the WMS's flags, so woo.c decides per refund. */
    if (m->type == WB_FULFILMENT_RETURNED && strcmp(store.platform, "shopify") == 0) {
        if (shop_returns(pg, &store, m, &rets) != 0) {
            snprintf(why, whylen, "reading the product mappings: %s", wb_pg_error(pg));
            free_returns(rets, m->n_returns);
            cJSON_Delete(creds);
            out = FR_RETRY;
            goto done;
        }
        shop_msg.returns = rets;
    }
    m = &shop_msg;
    wb_shopify *shopify;
    wb_woo *woo;
    fr_clients_for(r, &store, creds, &shopify, &woo);
    if (shopify)
        out = fr_shopify_event(r, &store, shopify, m, &set, why, whylen);
    else
        out = fr_woo_event(r, &store, woo, m, &set, why, whylen);
    free_returns(rets, shop_msg.n_returns);
    cJSON_Delete(creds);
done:
    wb_store_free(&store);
    return out;
}
