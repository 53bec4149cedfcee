/* One shop client per store, kept from one event to the next.
 *
 * A Shopify client paces itself by the cost bucket the shop reported on its
 * last answer; a client made for each event knows nothing on its first call
 * and spends blind, so a backlog of events got the odd THROTTLED answer (2 in
 * 600 in bench/fulfilment_reporter.py). Both clients also keep their
 * connection open, where a client per event paid a TCP (and, on a real shop,
 * TLS) handshake per event.
 *
 * A client is made again when the store's platform, URL or credentials
 * change (a reinstall, a new WooCommerce key): the cache is keyed by a
 * SHA-256 of them, so no second copy of a secret is kept here.
 *
 * WooCommerce requests draw from the store's rate budget shared in Redis
 * with the other services (wb/ratebudget.h), at its rate_limit_rps read
 * with each event, without a floor: a tracking number is as urgent as a
 * stock value. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#include "reporter.h"
#include "wb/crypto.h"

typedef struct fr_client {
    char key[2 * WB_SHA256_LEN + 1];
    wb_shopify *shopify;
    wb_woo *woo;
} fr_client;

static void client_free(void *ptr) {
    fr_client *c = ptr;
    if (!c) return;
    wb_shopify_free(c->shopify);
    wb_woo_free(c->woo);
    free(c);
}

static const char *json_str(const cJSON *o, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static void client_key(const wb_store *store, char out[2 * WB_SHA256_LEN + 1]) {
    size_t n = strlen(store->platform) + strlen(store->base_url) +
               strlen(store->credentials ? store->credentials : "") + 3;
    char *text = malloc(n);
    snprintf(text, n, "%s\n%s\n%s", store->platform, store->base_url,
             store->credentials ? store->credentials : "");
    wb_sha256_hex(text, strlen(text), out);
    OPENSSL_cleanse(text, n);
    free(text);
}

static fr_client *client_new(const wb_store *store, const cJSON *creds) {
    fr_client *c = calloc(1, sizeof *c);
    wb_shop_opts opts = {0};
    wb_shop_opts_defaults(&opts);
    if (strcmp(store->platform, "shopify") == 0) {
        c->shopify = wb_shopify_new(store->id, store->base_url, json_str(creds, "access_token"), &opts);
    } else {
        /* Notes and tracking entries are not idempotent: one attempt per
         * call, and a retry of the event reads the shop first. */
        opts.max_attempts = 1;
        c->woo = wb_woo_new(store->id, store->base_url, json_str(creds, "consumer_key"),
                            json_str(creds, "consumer_secret"), &opts);
    }
    return c;
}

void fr_clients_for(reporter *r, const wb_store *store, const cJSON *creds, wb_shopify **shopify,
                    wb_woo **woo) {
    char key[2 * WB_SHA256_LEN + 1];
    client_key(store, key);
    wb_strmap_entry *e = wb_strmap_get(&r->clients, store->id);
    fr_client *c = e ? e->ptr : NULL;
    if (!c || strcmp(c->key, key) != 0) {
        fr_client *old = c;
        c = client_new(store, creds);
        memcpy(c->key, key, sizeof key);
        wb_strmap_put(&r->clients, store->id, NULL)->ptr = c;
        client_free(old); /* after: the new one never takes the old one's address */
    }
    if (c->woo) {
        if (!r->budget) r->budget = wb_rate_budget_open(r->svc->cfg.redis_url);
        wb_woo_set_budget(c->woo, r->budget, (double)store->rate_limit_rps, 0);
    }
    *shopify = c->shopify;
    *woo = c->woo;
}

void fr_clients_close(reporter *r) {
    wb_strmap_clear(&r->clients, client_free);
    wb_rate_budget_close(r->budget);
    r->budget = NULL;
}
