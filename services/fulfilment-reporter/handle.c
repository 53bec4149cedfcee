/* One event: load the store, record the order's state, report to the shop.
 * The store and a fresh client are loaded per event, so settings and
 * credentials changed with bridgectl apply at once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "reporter.h"
#include "wb/log.h"

static const char *json_str(const cJSON *o, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static bool needs_shop(wb_fulfilment_type t) {
    return t == WB_FULFILMENT_DISPATCHED || t == WB_FULFILMENT_TRACKING_UPDATED ||
           t == WB_FULFILMENT_RETURNED;
}

fr_outcome fr_handle(reporter *r, const wb_fulfilment_msg *m, char *why, size_t whylen) {
    wb_pg *pg = r->svc->pg;
    wb_store store;
    char err[512];
    bool shop = needs_shop(m->type);
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
    if (!needs_shop(m->type)) {
        /* accepted, picking_started, packed, cancelled: recorded only. */
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
    wb_shop_opts opts = {0};
    wb_shop_opts_defaults(&opts);
    if (strcmp(store.platform, "shopify") == 0) {
        wb_shopify *s = wb_shopify_new(store.id, store.base_url, json_str(creds, "access_token"), &opts);
        out = fr_shopify_event(r, &store, s, m, why, whylen);
        wb_shopify_free(s);
    } else {
        /* Notes and tracking entries are not idempotent: one attempt per
         * call, and a retry of the event reads the shop first. */
        opts.max_attempts = 1;
        wb_woo *w = wb_woo_new(store.id, store.base_url, json_str(creds, "consumer_key"),
                               json_str(creds, "consumer_secret"), &opts);
        out = fr_woo_event(r, &store, w, m, why, whylen);
        wb_woo_free(w);
    }
    cJSON_Delete(creds);
done:
    wb_store_free(&store);
    return out;
}
