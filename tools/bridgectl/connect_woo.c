/* bridgectl store add --platform woocommerce ... --connect: a WooCommerce
 * store connected, not just recorded.
 *   1. The key is checked against the shop before anything is saved: it
 *      must read (GET system_status) and write (an empty products/batch,
 *      which WooCommerce refuses from a read-only key and which changes
 *      nothing otherwise).
 *   2. The webhook secret is generated (32 random bytes, hex) unless the
 *      credentials bring one, and the store is saved with it, sealed.
 *   3. The bridge's webhooks are registered with that secret: order.created,
 *      order.updated, order.deleted at WB_ORDER_PUBLIC_URL (order-ingest),
 *      product.created, product.updated at WB_CATALOG_PUBLIC_URL
 *      (catalog-ingest) when set. A webhook of the bridge already there for
 *      the topic gets the new secret and is set active, so a reconnect does
 *      not double it.
 * If registering fails, the webhooks made so far are removed and the store
 * row deleted again: the command either connects the store or leaves
 * nothing behind. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bridgectl.h"
#include "shop.h"
#include "wb/config.h"
#include "wb/crypto.h"
#include "wb/shopclient.h"

static const char *jtext(const cJSON *o, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Creates the webhook, or updates the bridge's existing one for the topic;
 * the id goes to created[] when it was made here. 0 or -1 with err. */
static int ensure_hook(bctl_shop *shop, const cJSON *existing, const char *topic, const char *address,
                       const char *secret, cJSON *created, char *err, size_t err_size) {
    const cJSON *w;
    const char *id = NULL;
    cJSON_ArrayForEach(w, existing)
        if (jtext(w, "topic") && strcmp(jtext(w, "topic"), topic) == 0 && jtext(w, "address") &&
            strcmp(jtext(w, "address"), address) == 0)
            id = jtext(w, "id");
    cJSON *body = cJSON_CreateObject();
    char name[96];
    snprintf(name, sizeof name, "wmsbridge %s", topic);
    cJSON_AddStringToObject(body, "name", name);
    cJSON_AddStringToObject(body, "topic", topic);
    cJSON_AddStringToObject(body, "delivery_url", address);
    cJSON_AddStringToObject(body, "secret", secret);
    cJSON_AddStringToObject(body, "status", "active");
    char path[64];
    snprintf(path, sizeof path, "webhooks/%s", id ? id : "");
    wb_shop_response r;
    int rc = wb_woo_request(shop->woo, id ? "PUT" : "POST", id ? path : "webhooks", NULL, body, &r);
    cJSON_Delete(body);
    if (rc != 0 || (r.status != 200 && r.status != 201)) {
        bctl_woo_error(&r, err, err_size);
        wb_shop_response_free(&r);
        return -1;
    }
    if (!id) {
        cJSON *doc = cJSON_ParseWithLength(r.body ? r.body : "", r.body_len);
        const cJSON *nid = cJSON_GetObjectItemCaseSensitive(doc, "id");
        char text[32];
        snprintf(text, sizeof text, "%.0f", cJSON_IsNumber(nid) ? nid->valuedouble : 0.0);
        cJSON_AddItemToArray(created, cJSON_CreateString(text));
        cJSON_Delete(doc);
    }
    printf("webhook %s -> %s %s\n", topic, address, id ? "updated" : "registered");
    wb_shop_response_free(&r);
    return 0;
}

static int register_hooks(bctl_shop *shop, const char *order_url, const char *catalog_url, const char *secret,
                          cJSON *created, char *err, size_t err_size) {
    static const char *const order_topics[] = {"order.created", "order.updated", "order.deleted"};
    static const char *const product_topics[] = {"product.created", "product.updated"};
    cJSON *existing = bctl_shop_webhooks(shop, err, err_size);
    if (!existing) return -1;
    char address[1024];
    int rc = 0;
    snprintf(address, sizeof address, "%s/webhooks/woocommerce/%s", order_url, shop->store.id);
    for (int i = 0; i < 3 && !rc; i++)
        rc = ensure_hook(shop, existing, order_topics[i], address, secret, created, err, err_size);
    if (*catalog_url) {
        snprintf(address, sizeof address, "%s/webhooks/woocommerce/%s", catalog_url, shop->store.id);
        for (int i = 0; i < 2 && !rc; i++)
            rc = ensure_hook(shop, existing, product_topics[i], address, secret, created, err, err_size);
    }
    cJSON_Delete(existing);
    return rc;
}

/* A public URL without its trailing slashes, into out. */
static void trimmed(const char *url, char *out, size_t size) {
    snprintf(out, size, "%s", url);
    size_t n = strlen(out);
    while (n && out[n - 1] == '/') out[--n] = 0;
}

int bctl_woo_connect(const char *id, const char *url, const char *owner, const char *credentials) {
    static const char *const schemes[] = {"http", "https", NULL};
    wb_env env = {{0}};
    char order_url[512], catalog_url[512] = "";
    trimmed(wb_env_url(&env, "WB_ORDER_PUBLIC_URL", NULL, schemes), order_url, sizeof order_url);
    const char *c = getenv("WB_CATALOG_PUBLIC_URL");
    if (c && *c) trimmed(wb_env_url(&env, "WB_CATALOG_PUBLIC_URL", NULL, schemes), catalog_url, sizeof catalog_url);
    wb_env_exit_if_bad(&env, "bridgectl");
    unsigned char key[32];
    bctl_master_key(key);
    char err[512];
    bctl_shop shop = {0};
    shop.store.id = (char *)id, shop.store.platform = (char *)"woocommerce", shop.store.base_url = (char *)url;
    shop.creds = cJSON_Parse(credentials);
    if (!cJSON_IsObject(shop.creds)) {
        fprintf(stderr, "bridgectl: credentials: expected a JSON object\n");
        bctl_shop_close(&shop);
        return 1;
    }
    char secret[65];
    int rc;
    if (!jtext(shop.creds, "webhook_secret") || !*jtext(shop.creds, "webhook_secret")) {
        if (bctl_random_hex(secret, 32) != 0) {
            fprintf(stderr, "bridgectl: no random bytes for the webhook secret\n");
            bctl_shop_close(&shop);
            return 1;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(shop.creds, "webhook_secret");
        cJSON_AddStringToObject(shop.creds, "webhook_secret", secret);
    } else {
        snprintf(secret, sizeof secret, "%s", jtext(shop.creds, "webhook_secret"));
    }
    char *full = cJSON_PrintUnformatted(shop.creds);
    rc = wb_store_validate(id, owner, "woocommerce", url, full, err, sizeof err);
    memset(full, 0, strlen(full));
    free(full);
    if (rc) {
        fprintf(stderr, "bridgectl: %s\n", err);
        bctl_shop_close(&shop);
        return 1;
    }
    bctl_shop_client(&shop);
    cJSON *report = cJSON_CreateObject();
    cJSON_AddArrayToObject(report, "problems");
    bctl_woo_check(&shop, report);
    const cJSON *problems = cJSON_GetObjectItemCaseSensitive(report, "problems");
    if (cJSON_GetArraySize(problems) > 0) {
        const cJSON *x;
        cJSON_ArrayForEach(x, problems) fprintf(stderr, "bridgectl: %s\n", x->valuestring);
        fprintf(stderr, "bridgectl: store %s not added: the key must read and write (WooCommerce: Read/Write)\n", id);
        cJSON_Delete(report);
        bctl_shop_close(&shop);
        return 1;
    }
    printf("credentials ok: read and write, %s\n", jtext(report, "api") ? jtext(report, "api") : "");
    cJSON_Delete(report);
    char *sealed = cJSON_PrintUnformatted(shop.creds);
    wb_pg *pg = bctl_pg();
    rc = wb_store_add(pg, key, id, owner, "woocommerce", url, sealed, err, sizeof err);
    memset(sealed, 0, strlen(sealed));
    free(sealed);
    if (rc) {
        fprintf(stderr, "bridgectl: %s\n", err);
        wb_pg_close(pg);
        bctl_shop_close(&shop);
        return 1;
    }
    cJSON *created = cJSON_CreateArray(), *h;
    if (register_hooks(&shop, order_url, catalog_url, secret, created, err, sizeof err) != 0) {
        fprintf(stderr, "bridgectl: store %s not connected: registering its webhooks failed: %s\n", id, err);
        char derr[512];
        cJSON_ArrayForEach(h, created) bctl_shop_delete_webhook(&shop, h->valuestring, derr, sizeof derr);
        const char *p[] = {id};
        wb_pg_exec(pg, "DELETE FROM stores WHERE id = $1", 1, p);
        rc = 1;
    } else {
        printf("store %s added and connected (woocommerce, %s)%s\n", id, url,
               *catalog_url ? "" : "; no product webhooks: WB_CATALOG_PUBLIC_URL is not set");
    }
    memset(secret, 0, sizeof secret);
    cJSON_Delete(created);
    wb_pg_close(pg);
    bctl_shop_close(&shop);
    return rc;
}

/* store add --platform woocommerce --url URL --owner OWNER --authorize:
 * WooCommerce's own key-granting flow. Prints
 *   {URL}/wc-auth/v1/authorize?app_name=wmsbridge&scope=read_write&user_id=NONCE
 *     &return_url=..&callback_url=WB_ORDER_PUBLIC_URL/woocommerce/auth/callback
 * for the shop's owner, waits (up to wait_s) for order-ingest to receive the
 * keys the shop posts there, then connects with them as --connect does. */
int bctl_woo_authorize(const char *id, const char *url, const char *owner, int wait_s) {
    static const char *const schemes[] = {"http", "https", NULL};
    wb_env env = {{0}};
    char order_url[512];
    trimmed(wb_env_url(&env, "WB_ORDER_PUBLIC_URL", NULL, schemes), order_url, sizeof order_url);
    wb_env_exit_if_bad(&env, "bridgectl");
    unsigned char key[32];
    bctl_master_key(key);
    char err[512];
    if (wb_store_validate(id, owner, "woocommerce", url,
                          "{\"consumer_key\":\"-\",\"consumer_secret\":\"-\",\"webhook_secret\":\"-\"}", err,
                          sizeof err) != 0) {
        fprintf(stderr, "bridgectl: %s\n", err);
        return 1;
    }
    char nonce[65], base[512];
    trimmed(url, base, sizeof base);
    if (bctl_random_hex(nonce, 32) != 0) {
        fprintf(stderr, "bridgectl: no random bytes for the nonce\n");
        return 1;
    }
    wb_pg *pg = bctl_pg();
    const char *pid[] = {id};
    PGresult *r = wb_pg_query(pg, "SELECT 1 FROM stores WHERE id = $1", 1, pid);
    bool exists = r && PQntuples(r);
    if (r) PQclear(r);
    if (!r || exists) {
        fprintf(stderr, "bridgectl: %s\n", r ? "" : wb_pg_error(pg));
        if (exists) fprintf(stderr, "bridgectl: store '%s' already exists\n", id);
        wb_pg_close(pg);
        return 1;
    }
    const char *who = getenv("USER") && *getenv("USER") ? getenv("USER") : "bridgectl";
    char wait_text[16];
    snprintf(wait_text, sizeof wait_text, "%d", wait_s + 60);
    const char *p[] = {nonce, id, base, owner, who, wait_text};
    if (wb_pg_exec(pg, "INSERT INTO woo_installs (nonce, store_id, base_url, goods_owner, requested_by, expires_at)"
                       " VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6::int))", 6, p) != 0) {
        fprintf(stderr, "bridgectl: postgresql: %s\n", wb_pg_error(pg));
        wb_pg_close(pg);
        return 1;
    }
    char callback[600], ret[600];
    snprintf(callback, sizeof callback, "%s/woocommerce/auth/callback", order_url);
    snprintf(ret, sizeof ret, "%s/wp-admin/", base);
    char *e_cb = wb_oauth1_encode(callback), *e_ret = wb_oauth1_encode(ret);
    printf("To connect %s as store %s, the shop's owner opens this URL and approves\n"
           "(waiting up to %d s for the keys at %s):\n\n"
           "%s/wc-auth/v1/authorize?app_name=wmsbridge&scope=read_write&user_id=%s&return_url=%s&callback_url=%s\n\n",
           base, id, wait_s, callback, base, nonce, e_ret, e_cb);
    fflush(stdout);
    free(e_cb);
    free(e_ret);
    int64_t deadline = (int64_t)wait_s * 10;
    char *sealed = NULL, outcome[256] = "";
    for (int64_t tick = 0; tick <= deadline && !sealed; tick++) {
        const char *q[] = {nonce};
        r = wb_pg_query(pg, "UPDATE woo_installs SET used_at = now() WHERE nonce = $1 AND received_at IS NOT NULL"
                            " AND used_at IS NULL RETURNING keys_sealed, outcome", 1, q);
        if (r && PQntuples(r) == 1) {
            if (!PQgetisnull(r, 0, 0)) sealed = strdup(PQgetvalue(r, 0, 0));
            snprintf(outcome, sizeof outcome, "%s", PQgetvalue(r, 0, 1));
            PQclear(r);
            if (!sealed) break;
        } else if (r) {
            PQclear(r);
        }
        if (!sealed && tick < deadline) {
            struct timespec ts = {0, 100 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    wb_pg_close(pg);
    if (!sealed) {
        fprintf(stderr, "bridgectl: store %s not added: %s\n", id,
                *outcome ? outcome : "no keys arrived in time (the owner did not approve?)");
        return 1;
    }
    char *plain = NULL;
    size_t len = 0;
    int rc = wb_unseal(key, sealed, id, &plain, &len);
    free(sealed);
    if (rc != 0) {
        fprintf(stderr, "bridgectl: the keys received for %s do not unseal (wrong WB_MASTER_KEY?)\n", id);
        return 1;
    }
    printf("keys received from the shop\n");
    rc = bctl_woo_connect(id, base, owner, plain);
    memset(plain, 0, len);
    free(plain);
    return rc;
}
