/* A store's shop as bridgectl talks to it: its API client from the sealed
 * credentials, the webhooks it holds (which of them are the bridge's), and
 * unregistering one. Used by `store test`, `store remove` and `store add`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridgectl.h"
#include "shop.h"
#include "wb/log.h"
#include "wb/shopify_documents.h"

static const char *jtext(const cJSON *o, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int bctl_shop_open(wb_pg *pg, const unsigned char key[32], const char *id, bctl_shop *shop) {
    memset(shop, 0, sizeof *shop);
    /* What goes wrong is reported by the command; the client's own retry
     * warnings would say it twice. */
    wb_log_init("bridgectl", WB_LOG_ERROR);
    char err[512];
    int rc = wb_store_load(pg, key, id, &shop->store, err, sizeof err);
    if (rc) {
        fprintf(stderr, "bridgectl: %s\n", err);
        return 1;
    }
    shop->loaded = true;
    shop->creds = cJSON_Parse(shop->store.credentials ? shop->store.credentials : "");
    if (!shop->creds) {
        fprintf(stderr, "bridgectl: store %s: its credentials are not JSON\n", id);
        return 1;
    }
    bctl_shop_client(shop);
    return 0;
}

void bctl_shop_client(bctl_shop *shop) {
    const char *id = shop->store.id;
    wb_shop_opts opts = {.deadline_ms = 20000, .max_attempts = 3};
    wb_shop_opts_defaults(&opts);
    shop->shopify = strcmp(shop->store.platform, "shopify") == 0;
    if (shop->shopify)
        shop->gql = wb_shopify_new(id, shop->store.base_url, jtext(shop->creds, "access_token"), &opts);
    else
        shop->woo = wb_woo_new(id, shop->store.base_url, jtext(shop->creds, "consumer_key"),
                               jtext(shop->creds, "consumer_secret"), &opts);
}

void bctl_shop_close(bctl_shop *shop) {
    if (shop->gql) wb_shopify_free(shop->gql);
    if (shop->woo) wb_woo_free(shop->woo);
    cJSON_Delete(shop->creds);
    if (shop->loaded) wb_store_free(&shop->store);
    memset(shop, 0, sizeof *shop);
}

/* GraphQL errors[] as one line into err; 0 when there were none. */
static int gql_errors(const cJSON *doc, char *err, size_t err_size) {
    const cJSON *errors = cJSON_GetObjectItemCaseSensitive(doc, "errors");
    if (!cJSON_IsArray(errors) || cJSON_GetArraySize(errors) == 0) return 0;
    const char *msg = jtext(cJSON_GetArrayItem(errors, 0), "message");
    snprintf(err, err_size, "shopify: %s", msg ? msg : "GraphQL error");
    return -1;
}

int bctl_shop_graphql(bctl_shop *shop, const char *document, const cJSON *vars, cJSON **data, char *err,
                      size_t err_size) {
    cJSON *doc = NULL;
    *data = NULL;
    if (wb_shopify_graphql(shop->gql, document, vars, 0, &doc, err, err_size) != 0) return -1;
    if (gql_errors(doc, err, err_size) != 0) {
        cJSON_Delete(doc);
        return -1;
    }
    *data = cJSON_DetachItemFromObjectCaseSensitive(doc, "data");
    cJSON_Delete(doc);
    if (!*data) {
        snprintf(err, err_size, "shopify: an answer without data");
        return -1;
    }
    return 0;
}

/* "HTTP 401: message" from a WooCommerce error answer. */
void bctl_woo_error(const wb_shop_response *r, char *err, size_t err_size) {
    if (r->status == 0) {
        snprintf(err, err_size, "woocommerce: no answer: %s", r->error);
        return;
    }
    cJSON *doc = cJSON_ParseWithLength(r->body ? r->body : "", r->body_len);
    const char *msg = jtext(doc, "message");
    snprintf(err, err_size, "woocommerce: HTTP %ld: %s", r->status, msg ? msg : "unexpected answer");
    cJSON_Delete(doc);
}

static bool is_bridge_address(const bctl_shop *shop, const char *address) {
    if (!address) return false;
    char suffix[160];
    snprintf(suffix, sizeof suffix, "/webhooks/%s/%s", shop->store.platform, shop->store.id);
    size_t n = strlen(address), m = strlen(suffix);
    return n >= m && strcmp(address + n - m, suffix) == 0;
}

static void add_hook(cJSON *arr, const bctl_shop *shop, const char *id, const char *topic, const char *address,
                     const char *status) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "topic", topic ? topic : "");
    cJSON_AddStringToObject(o, "address", address ? address : "");
    cJSON_AddStringToObject(o, "status", status ? status : "active");
    cJSON_AddBoolToObject(o, "bridge", is_bridge_address(shop, address));
    cJSON_AddItemToArray(arr, o);
}

static int shopify_webhooks(bctl_shop *shop, cJSON *out, char *err, size_t err_size) {
    char after[512] = "";
    for (int page = 0; page < 50; page++) {
        cJSON *vars = cJSON_CreateObject(), *data;
        cJSON_AddNumberToObject(vars, "first", 100);
        if (*after) cJSON_AddStringToObject(vars, "after", after);
        else cJSON_AddNullToObject(vars, "after");
        int rc = bctl_shop_graphql(shop, wb_gql_webhook_subscriptions, vars, &data, err, err_size);
        cJSON_Delete(vars);
        if (rc) return -1;
        const cJSON *conn = cJSON_GetObjectItemCaseSensitive(data, "webhookSubscriptions"), *n;
        cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(conn, "nodes"))
            add_hook(out, shop, jtext(n, "id"), jtext(n, "topic"), jtext(n, "uri"), "active");
        const cJSON *info = cJSON_GetObjectItemCaseSensitive(conn, "pageInfo");
        bool more = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(info, "hasNextPage")) && jtext(info, "endCursor");
        if (more) snprintf(after, sizeof after, "%s", jtext(info, "endCursor"));
        cJSON_Delete(data);
        if (!more) return 0;
    }
    return 0;
}

static int woo_webhooks(bctl_shop *shop, cJSON *out, char *err, size_t err_size) {
    for (int page = 1; page <= 50; page++) {
        char query[64];
        snprintf(query, sizeof query, "per_page=100&page=%d", page);
        wb_shop_response r;
        if (wb_woo_request(shop->woo, "GET", "webhooks", query, NULL, &r) != 0 || r.status != 200) {
            bctl_woo_error(&r, err, err_size);
            wb_shop_response_free(&r);
            return -1;
        }
        cJSON *list = cJSON_ParseWithLength(r.body ? r.body : "", r.body_len), *w;
        long pages = r.total_pages;
        wb_shop_response_free(&r);
        cJSON_ArrayForEach(w, list) {
            char id[32];
            const cJSON *idv = cJSON_GetObjectItemCaseSensitive(w, "id");
            snprintf(id, sizeof id, "%.0f", cJSON_IsNumber(idv) ? idv->valuedouble : 0.0);
            add_hook(out, shop, id, jtext(w, "topic"), jtext(w, "delivery_url"), jtext(w, "status"));
        }
        cJSON_Delete(list);
        if (pages <= page) return 0;
    }
    return 0;
}

cJSON *bctl_shop_webhooks(bctl_shop *shop, char *err, size_t err_size) {
    cJSON *out = cJSON_CreateArray();
    int rc = shop->shopify ? shopify_webhooks(shop, out, err, err_size) : woo_webhooks(shop, out, err, err_size);
    if (rc) {
        cJSON_Delete(out);
        return NULL;
    }
    return out;
}

int bctl_shop_delete_webhook(bctl_shop *shop, const char *id, char *err, size_t err_size) {
    if (shop->shopify) {
        cJSON *vars = cJSON_CreateObject(), *data;
        cJSON_AddStringToObject(vars, "id", id);
        int rc = bctl_shop_graphql(shop, wb_gql_webhook_subscription_delete, vars, &data, err, err_size);
        cJSON_Delete(vars);
        if (rc) return -1;
        const cJSON *res = cJSON_GetObjectItemCaseSensitive(data, "webhookSubscriptionDelete");
        const cJSON *ue = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(res, "userErrors"), 0);
        if (ue) snprintf(err, err_size, "shopify: %s", jtext(ue, "message") ? jtext(ue, "message") : "userError");
        cJSON_Delete(data);
        return ue ? -1 : 0;
    }
    char path[64];
    snprintf(path, sizeof path, "webhooks/%s", id);
    wb_shop_response r;
    int rc = wb_woo_request(shop->woo, "DELETE", path, "force=true", NULL, &r);
    /* Already gone is what we wanted. */
    if (rc != 0 || (r.status != 200 && r.status != 404)) {
        bctl_woo_error(&r, err, err_size);
        rc = -1;
    } else {
        rc = 0;
    }
    wb_shop_response_free(&r);
    return rc;
}
