/* bridgectl store add --platform shopify --shop NAME.myshopify.com: the
 * start of Shopify's authorization code grant. It stores a state nonce
 * (shopify_installs: single use, valid for an hour) and prints the URL the
 * shop's owner opens:
 *   {store URL}/admin/oauth/authorize?client_id=..&scope=..&redirect_uri=..&state=..
 * where the store URL is https://NAME.myshopify.com unless --url says
 * otherwise (a proxy, or shopsim in the tests), scope is exactly
 * wb_shopify_scopes, and redirect_uri is order-ingest's callback at
 * WB_ORDER_PUBLIC_URL. The owner approves; Shopify sends the browser to the
 * callback, which finishes the install (services/order-ingest/oauth.c). No
 * grant_options[]=per-user: the bridge needs an offline token. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "bridgectl.h"
#include "wb/config.h"
#include "wb/shopclient.h"
#include "wb/shopify_documents.h"
#include "wb/store.h"

#define INSTALL_VALID_MINUTES "60"

static bool shop_domain_ok(const char *shop) {
    const char *suffix = ".myshopify.com";
    size_t n = strlen(shop), m = strlen(suffix);
    if (n <= m || n > 255 || strcmp(shop + n - m, suffix) != 0) return false;
    for (size_t i = 0; i < n - m; i++) {
        char c = shop[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (c == '-' && i > 0)))
            return false;
    }
    return true;
}

int bctl_shopify_install(const char *id, const char *shop, const char *owner, const char *url, bool json) {
    static const char *const schemes[] = {"http", "https", NULL};
    wb_env env = {{0}};
    const char *client_id = wb_env_string(&env, "WB_SHOPIFY_CLIENT_ID", NULL);
    const char *public_url = wb_env_url(&env, "WB_ORDER_PUBLIC_URL", NULL, schemes);
    wb_env_exit_if_bad(&env, "bridgectl");
    if (!shop_domain_ok(shop)) {
        fprintf(stderr, "bridgectl: --shop '%s': expected NAME.myshopify.com\n", shop);
        return 2;
    }
    char base[512];
    snprintf(base, sizeof base, "%s", url ? url : "");
    if (!url) snprintf(base, sizeof base, "https://%s", shop);
    size_t n = strlen(base);
    while (n && base[n - 1] == '/') base[--n] = 0;
    char err[512];
    if (wb_store_validate(id, owner, "shopify", base, "{\"access_token\":\"-\",\"api_secret\":\"-\"}", err,
                          sizeof err) != 0) {
        fprintf(stderr, "bridgectl: %s\n", err);
        return 1;
    }
    wb_pg *pg = bctl_pg();
    const char *pid[] = {id};
    PGresult *r = wb_pg_query(pg, "SELECT 1 FROM stores WHERE id = $1", 1, pid);
    if (!r || PQntuples(r)) {
        fprintf(stderr, "bridgectl: %s\n", r ? "" : wb_pg_error(pg));
        if (r) fprintf(stderr, "bridgectl: store '%s' already exists\n", id);
        if (r) PQclear(r);
        wb_pg_close(pg);
        return 1;
    }
    PQclear(r);
    char state[65];
    if (bctl_random_hex(state, 32) != 0) {
        fprintf(stderr, "bridgectl: no random bytes for the state nonce\n");
        wb_pg_close(pg);
        return 1;
    }
    const char *who = getenv("USER") && *getenv("USER") ? getenv("USER") : "bridgectl";
    const char *p[] = {state, id, shop, base, owner, wb_shopify_scopes, who};
    r = wb_pg_query(pg,
                    "INSERT INTO shopify_installs (state, store_id, shop_domain, base_url, goods_owner, scopes,"
                    " requested_by, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7,"
                    " now() + interval '" INSTALL_VALID_MINUTES " minutes')"
                    " RETURNING to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
                    7, p);
    if (!r) {
        fprintf(stderr, "bridgectl: postgresql: %s\n", wb_pg_error(pg));
        wb_pg_close(pg);
        return 1;
    }
    char redirect[600];
    size_t plen = strlen(public_url);
    while (plen && public_url[plen - 1] == '/') plen--;
    snprintf(redirect, sizeof redirect, "%.*s/shopify/oauth/callback", (int)plen, public_url);
    char *e_client = wb_oauth1_encode(client_id), *e_scope = wb_oauth1_encode(wb_shopify_scopes);
    char *e_redirect = wb_oauth1_encode(redirect);
    size_t cap = strlen(base) + strlen(e_client) + strlen(e_scope) + strlen(e_redirect) + 200;
    char *install = malloc(cap);
    snprintf(install, cap, "%s/admin/oauth/authorize?client_id=%s&scope=%s&redirect_uri=%s&state=%s", base,
             e_client, e_scope, e_redirect, state);
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "store", id);
        cJSON_AddStringToObject(o, "shop", shop);
        cJSON_AddStringToObject(o, "install_url", install);
        cJSON_AddStringToObject(o, "redirect_uri", redirect);
        cJSON_AddStringToObject(o, "scopes", wb_shopify_scopes);
        cJSON_AddStringToObject(o, "expires_at", PQgetvalue(r, 0, 0));
        bctl_print_json(o);
    } else {
        printf("To connect %s as store %s, the shop's owner opens this URL and approves\n"
               "(valid until %s; order-ingest at %s finishes the install):\n\n%s\n",
               shop, id, PQgetvalue(r, 0, 0), public_url, install);
    }
    free(install);
    free(e_client);
    free(e_scope);
    free(e_redirect);
    PQclear(r);
    wb_pg_close(pg);
    return 0;
}
