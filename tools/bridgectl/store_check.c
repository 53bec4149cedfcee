/* bridgectl store test|remove.
 *
 * `store test ID` calls the shop with the store's credentials and says what
 * they can do: the API version, Shopify's granted access scopes against
 * the ones the bridge needs (wb_shopify_scopes), or WooCommerce's read and
 * write permission (GET system_status reads; an empty products/batch is the
 * harmless write: WooCommerce refuses any POST from a read-only key before
 * it looks at the body), and the webhooks the shop holds. Exit 1 when the
 * credentials fail or lack something the bridge needs.
 *
 * `store remove ID` unregisters the bridge's webhooks for this store in the
 * shop, then deletes the store row: the sealed credentials with it, and by
 * ON DELETE CASCADE everything that hangs on the store (locations,
 * mappings, order and sync state), so nothing is left pointing at a store
 * that is gone. Dead letters keep their store id as text. If the shop
 * cannot be reached the store stays, unless --force. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridgectl.h"
#include "shop.h"
#include "wb/shopify_documents.h"

static const char *jtext(const cJSON *o, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void add_problem(cJSON *report, const char *fmt, const char *arg) {
    char text[1100];
    snprintf(text, sizeof text, fmt, arg);
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(report, "problems"), cJSON_CreateString(text));
}

/* A write scope grants its read scope too. */
static bool scope_granted(const cJSON *granted, const char *need) {
    const cJSON *s;
    cJSON_ArrayForEach(s, granted) {
        if (!cJSON_IsString(s)) continue;
        if (strcmp(s->valuestring, need) == 0) return true;
        if (strncmp(need, "read_", 5) == 0 && strncmp(s->valuestring, "write_", 6) == 0 &&
            strcmp(s->valuestring + 6, need + 5) == 0)
            return true;
    }
    return false;
}

static void test_shopify(bctl_shop *shop, cJSON *report) {
    char err[512];
    cJSON *data;
    if (bctl_shop_graphql(shop, wb_gql_store_check, NULL, &data, err, sizeof err) != 0) {
        add_problem(report, "%s", err);
        return;
    }
    cJSON_AddStringToObject(report, "api", "Shopify Admin GraphQL " WB_SHOPIFY_API_VERSION);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(data, "shop");
    cJSON_AddStringToObject(report, "shop", jtext(s, "myshopifyDomain") ? jtext(s, "myshopifyDomain") : "");
    cJSON *granted = cJSON_AddArrayToObject(report, "scopes");
    const cJSON *inst = cJSON_GetObjectItemCaseSensitive(data, "currentAppInstallation"), *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(inst, "accessScopes"))
        if (jtext(a, "handle")) cJSON_AddItemToArray(granted, cJSON_CreateString(jtext(a, "handle")));
    cJSON *missing = cJSON_AddArrayToObject(report, "missing_scopes");
    char *need = strdup(wb_shopify_scopes), *save = NULL;
    for (char *h = strtok_r(need, ",", &save); h; h = strtok_r(NULL, ",", &save))
        if (!scope_granted(granted, h)) cJSON_AddItemToArray(missing, cJSON_CreateString(h));
    free(need);
    if (cJSON_GetArraySize(missing) > 0) add_problem(report, "%s", "access scopes the bridge needs are missing");
    cJSON_Delete(data);
}

void bctl_woo_check(bctl_shop *shop, cJSON *report) {
    char err[512];
    wb_shop_response r;
    cJSON *perm = cJSON_AddObjectToObject(report, "permissions");
    int rc = wb_woo_request(shop->woo, "GET", "system_status", NULL, NULL, &r);
    bool read = rc == 0 && r.status == 200;
    cJSON_AddBoolToObject(perm, "read", read);
    if (!read) {
        bctl_woo_error(&r, err, sizeof err);
        add_problem(report, "read: %s", err);
    } else {
        cJSON *doc = cJSON_ParseWithLength(r.body, r.body_len);
        const cJSON *env = cJSON_GetObjectItemCaseSensitive(doc, "environment");
        char api[128];
        snprintf(api, sizeof api, "WooCommerce REST wc/v3 (WooCommerce %s, WordPress %s)",
                 jtext(env, "version") ? jtext(env, "version") : "?",
                 jtext(env, "wp_version") ? jtext(env, "wp_version") : "?");
        cJSON_AddStringToObject(report, "api", api);
        cJSON_Delete(doc);
    }
    wb_shop_response_free(&r);
    cJSON *empty = cJSON_CreateObject();
    rc = wb_woo_request(shop->woo, "POST", "products/batch", NULL, empty, &r);
    cJSON_Delete(empty);
    bool write = rc == 0 && r.status >= 200 && r.status < 300;
    cJSON_AddBoolToObject(perm, "write", write);
    if (!write) {
        bctl_woo_error(&r, err, sizeof err);
        add_problem(report, "write: %s", err);
    }
    wb_shop_response_free(&r);
}

static void print_report(const cJSON *report) {
    printf("store      %s (%s, %s)\n", jtext(report, "store"), jtext(report, "platform"), jtext(report, "url"));
    if (jtext(report, "api")) printf("api        %s\n", jtext(report, "api"));
    if (jtext(report, "shop")) printf("shop       %s\n", jtext(report, "shop"));
    const cJSON *x;
    const cJSON *scopes = cJSON_GetObjectItemCaseSensitive(report, "scopes");
    if (scopes) {
        printf("scopes    ");
        cJSON_ArrayForEach(x, scopes) printf(" %s", x->valuestring);
        printf("\n");
        const cJSON *missing = cJSON_GetObjectItemCaseSensitive(report, "missing_scopes");
        if (cJSON_GetArraySize(missing)) {
            printf("missing   ");
            cJSON_ArrayForEach(x, missing) printf(" %s", x->valuestring);
            printf("\n");
        } else {
            printf("           (every scope the bridge needs)\n");
        }
    }
    const cJSON *perm = cJSON_GetObjectItemCaseSensitive(report, "permissions");
    if (perm)
        printf("permissions read %s, write %s\n",
               cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(perm, "read")) ? "ok" : "NO",
               cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(perm, "write")) ? "ok" : "NO");
    const cJSON *hooks = cJSON_GetObjectItemCaseSensitive(report, "webhooks");
    if (hooks) {
        printf("webhooks   %d\n", cJSON_GetArraySize(hooks));
        cJSON_ArrayForEach(x, hooks)
            printf("  %-24s %-9s %s%s\n", jtext(x, "topic"), jtext(x, "status"), jtext(x, "address"),
                   cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(x, "bridge")) ? "  (bridge)" : "");
    }
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(report, "problems")) printf("PROBLEM    %s\n",
                                                                                      x->valuestring);
    printf("result     %s\n", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(report, "ok")) ? "ok" : "FAILED");
}

int bctl_store_test(int argc, char **argv) {
    bctl_option opts[] = {{"json", .is_flag = true}, {0}};
    const char *id;
    if (bctl_parse(argc, argv, opts, &id, 1, "store test ID [--json]")) return 2;
    unsigned char key[32];
    bctl_master_key(key);
    wb_pg *pg = bctl_pg();
    bctl_shop shop;
    int rc = bctl_shop_open(pg, key, id, &shop);
    wb_pg_close(pg);
    if (rc) {
        bctl_shop_close(&shop);
        return rc;
    }
    cJSON *report = cJSON_CreateObject();
    cJSON_AddStringToObject(report, "store", id);
    cJSON_AddStringToObject(report, "platform", shop.store.platform);
    cJSON_AddStringToObject(report, "url", shop.store.base_url);
    cJSON_AddArrayToObject(report, "problems");
    if (shop.shopify) test_shopify(&shop, report);
    else bctl_woo_check(&shop, report);
    /* The webhooks only when the credentials work at all. */
    if (cJSON_GetObjectItemCaseSensitive(report, "api")) {
        char err[512];
        cJSON *hooks = bctl_shop_webhooks(&shop, err, sizeof err);
        if (hooks) cJSON_AddItemToObject(report, "webhooks", hooks);
        else add_problem(report, "listing webhooks: %s", err);
    }
    bool ok = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(report, "problems")) == 0;
    cJSON_AddBoolToObject(report, "ok", ok);
    if (opts[0].flag) {
        char *text = cJSON_Print(report);
        printf("%s\n", text);
        cJSON_free(text);
    } else {
        print_report(report);
    }
    if (!ok) fprintf(stderr, "bridgectl: store %s: the shop check failed (see PROBLEM)\n", id);
    cJSON_Delete(report);
    bctl_shop_close(&shop);
    return ok ? 0 : 1;
}

int bctl_store_remove(int argc, char **argv) {
    bctl_option opts[] = {{"force", .is_flag = true}, {0}};
    const char *id;
    if (bctl_parse(argc, argv, opts, &id, 1, "store remove ID [--force]")) return 2;
    unsigned char key[32];
    bctl_master_key(key);
    wb_pg *pg = bctl_pg();
    bctl_shop shop;
    if (bctl_shop_open(pg, key, id, &shop) != 0) {
        bctl_shop_close(&shop);
        wb_pg_close(pg);
        return 1;
    }
    char err[512];
    int removed = 0, failed = 0;
    cJSON *hooks = bctl_shop_webhooks(&shop, err, sizeof err), *h;
    if (!hooks) {
        fprintf(stderr, "bridgectl: store %s: cannot list the shop's webhooks: %s\n", id, err);
        failed++;
    }
    cJSON_ArrayForEach(h, hooks) {
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(h, "bridge"))) continue;
        if (bctl_shop_delete_webhook(&shop, jtext(h, "id"), err, sizeof err) == 0) {
            printf("webhook %s (%s) unregistered\n", jtext(h, "id"), jtext(h, "topic"));
            removed++;
        } else {
            fprintf(stderr, "bridgectl: store %s: webhook %s (%s) not unregistered: %s\n", id, jtext(h, "id"),
                    jtext(h, "topic"), err);
            failed++;
        }
    }
    cJSON_Delete(hooks);
    bctl_shop_close(&shop);
    if (failed && !opts[0].flag) {
        fprintf(stderr, "bridgectl: store %s kept: its webhooks could not all be unregistered; fix that, or "
                        "--force removes it anyway\n", id);
        wb_pg_close(pg);
        return 1;
    }
    const char *p[] = {id};
    PGresult *r = wb_pg_query(pg, "DELETE FROM stores WHERE id = $1 RETURNING id", 1, p);
    int rc = 0;
    if (!r || PQntuples(r) != 1) {
        fprintf(stderr, "bridgectl: store %s: %s\n", id, r ? "already removed" : wb_pg_error(pg));
        rc = 1;
    } else {
        printf("store %s removed: %d webhook(s) unregistered%s, credentials deleted\n", id, removed,
               failed ? " (some could not be: --force)" : "");
    }
    if (r) PQclear(r);
    wb_pg_close(pg);
    return rc;
}
