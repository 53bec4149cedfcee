/* bridgectl store add|list|show|set|disable|settings. It never prints a
 * credential: `show` proves they decrypt and names their fields, no more. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "bridgectl.h"
#include "wb/store.h"

static cJSON *store_json(const wb_store *s) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", s->id);
    cJSON_AddStringToObject(o, "goods_owner", s->goods_owner);
    cJSON_AddStringToObject(o, "platform", s->platform);
    cJSON_AddStringToObject(o, "url", s->base_url);
    cJSON_AddBoolToObject(o, "enabled", s->enabled);
    cJSON_AddBoolToObject(o, "stock_sync", s->stock_sync);
    cJSON_AddStringToObject(o, "stock_mode", s->stock_mode);
    cJSON_AddNumberToObject(o, "window_seconds", s->window_seconds);
    cJSON_AddNumberToObject(o, "safety_stock", s->safety_stock);
    cJSON_AddStringToObject(o, "order_statuses", s->order_statuses);
    cJSON_AddStringToObject(o, "financial_statuses", s->financial_statuses);
    cJSON_AddStringToObject(o, "fulfillment_statuses", s->fulfillment_statuses);
    cJSON_AddStringToObject(o, "note_visibility", s->note_visibility);
    cJSON_AddBoolToObject(o, "complete_on_dispatch", s->complete_on_dispatch);
    cJSON_AddBoolToObject(o, "shipment_tracking", s->shipment_tracking);
    cJSON_AddBoolToObject(o, "virtual_as_non_stock", s->virtual_as_non_stock);
    cJSON_AddNumberToObject(o, "variations_limit", s->variations_limit);
    return o;
}

static void print_json(cJSON *doc) {
    bctl_print_json(doc);
}

int bctl_store_add(int argc, char **argv) {
    bctl_option opts[] = {{"platform", .required = true}, {"url", .required = false},
                          {"owner", .required = true}, {"credentials", .required = false},
                          {"shop", .required = false}, {"json", .is_flag = true},
                          {"connect", .is_flag = true}, {"authorize", .is_flag = true},
                          {"wait", .is_flag = false}, {0}};
    const char *id;
    const char *usage = "store add ID --platform shopify|woocommerce --url URL --owner OWNER "
                        "--credentials FILE|- [--connect]   (credentials: JSON, see docs/bridgectl.md)\n"
                        "       bridgectl store add ID --platform woocommerce --url URL --owner OWNER --authorize "
                        "[--wait SECONDS]\n"
                        "       bridgectl store add ID --platform shopify --shop NAME.myshopify.com --owner OWNER "
                        "[--url URL] [--json]   (prints the install URL)";
    if (bctl_parse(argc, argv, opts, &id, 1, usage)) return 2;
    /* --shop: the owner installs the app; the callback stores the token. */
    if (opts[4].value && !opts[3].value && strcmp(opts[0].value, "shopify") == 0)
        return bctl_shopify_install(id, opts[4].value, opts[2].value, opts[1].value, opts[5].flag);
    if (opts[7].flag && !opts[3].value && opts[1].value && strcmp(opts[0].value, "woocommerce") == 0) {
        char *end = NULL;
        long wait = opts[8].value ? strtol(opts[8].value, &end, 10) : 600;
        if (opts[8].value && (*end || wait < 1 || wait > 86400)) {
            fprintf(stderr, "bridgectl: --wait: expected seconds from 1 to 86400\n");
            fprintf(stderr, "usage: bridgectl %s\n", usage);
            return 2;
        }
        return bctl_woo_authorize(id, opts[1].value, opts[2].value, (int)wait);
    }
    const char *missing = !opts[3].value ? "--credentials" : !opts[1].value ? "--url" : NULL;
    if (missing || opts[4].value) {
        if (missing) fprintf(stderr, "bridgectl: %s is required\n", missing);
        else fprintf(stderr, "bridgectl: --shop is for a Shopify install, without --credentials\n");
        fprintf(stderr, "usage: bridgectl %s\n", usage);
        return 2;
    }
    if (opts[6].flag && strcmp(opts[0].value, "woocommerce") != 0) {
        fprintf(stderr, "bridgectl: --connect is for WooCommerce; a Shopify store connects with --shop\n");
        fprintf(stderr, "usage: bridgectl %s\n", usage);
        return 2;
    }
    if (opts[6].flag) {
        char cerr[512];
        char *creds = bctl_read_all(opts[3].value, cerr, sizeof cerr);
        if (!creds) {
            fprintf(stderr, "bridgectl: %s\n", cerr);
            return 1;
        }
        int crc = bctl_woo_connect(id, opts[1].value, opts[2].value, creds);
        memset(creds, 0, strlen(creds));
        free(creds);
        return crc;
    }
    unsigned char key[32];
    bctl_master_key(key);
    char err[512];
    char *credentials = bctl_read_all(opts[3].value, err, sizeof err);
    if (!credentials) {
        fprintf(stderr, "bridgectl: %s\n", err);
        return 1;
    }
    wb_pg *pg = bctl_pg();
    int rc = wb_store_add(pg, key, id, opts[2].value, opts[0].value, opts[1].value, credentials,
                          err, sizeof err);
    memset(credentials, 0, strlen(credentials));
    free(credentials);
    wb_pg_close(pg);
    if (rc) {
        fprintf(stderr, "bridgectl: %s\n", err);
        return 1;
    }
    printf("store %s added (%s, %s)\n", id, opts[0].value, opts[1].value);
    return 0;
}

int bctl_store_list(int argc, char **argv) {
    bctl_option opts[] = {{"json", .is_flag = true}, {0}};
    if (bctl_parse(argc, argv, opts, NULL, 0, "store list [--json]")) return 2;
    wb_pg *pg = bctl_pg();
    wb_store *stores;
    char err[512];
    int n = wb_store_list(pg, &stores, err, sizeof err);
    wb_pg_close(pg);
    if (n < 0) {
        fprintf(stderr, "bridgectl: %s\n", err);
        return 1;
    }
    if (opts[0].flag) {
        cJSON *arr = cJSON_CreateArray();
        for (int i = 0; i < n; i++) cJSON_AddItemToArray(arr, store_json(&stores[i]));
        print_json(arr);
    } else {
        printf("%-24s %-12s %-16s %-8s %s\n", "STORE", "PLATFORM", "OWNER", "ENABLED", "URL");
        for (int i = 0; i < n; i++)
            printf("%-24s %-12s %-16s %-8s %s\n", stores[i].id, stores[i].platform,
                   stores[i].goods_owner, stores[i].enabled ? "yes" : "no", stores[i].base_url);
    }
    wb_store_list_free(stores, n);
    return 0;
}

/* The names of the credential fields, never their values. */
static char *credential_fields(const char *json) {
    cJSON *doc = cJSON_Parse(json), *item;
    char *names = calloc(1, 512);
    cJSON_ArrayForEach(item, doc) {
        if (*names) strncat(names, ", ", 511 - strlen(names));
        strncat(names, item->string, 511 - strlen(names));
    }
    cJSON_Delete(doc);
    return names;
}

int bctl_store_show(int argc, char **argv) {
    bctl_option opts[] = {{"json", .is_flag = true}, {0}};
    const char *id;
    if (bctl_parse(argc, argv, opts, &id, 1, "store show ID [--json]")) return 2;
    unsigned char key[32];
    bctl_master_key(key);
    wb_pg *pg = bctl_pg();
    wb_store s;
    char err[512];
    int rc = wb_store_load(pg, key, id, &s, err, sizeof err);
    wb_pg_close(pg);
    if (rc) {
        fprintf(stderr, "bridgectl: %s\n", err);
        return 1;
    }
    char *fields = credential_fields(s.credentials);
    cJSON *doc = store_json(&s);
    cJSON_AddStringToObject(doc, "credentials", "sealed, decrypt ok");
    cJSON_AddStringToObject(doc, "credential_fields", fields);
    if (opts[0].flag) {
        print_json(doc);
    } else {
        cJSON *item;
        cJSON_ArrayForEach(item, doc) {
            if (cJSON_IsString(item)) printf("%-22s %s\n", item->string, item->valuestring);
            else if (cJSON_IsBool(item)) printf("%-22s %s\n", item->string, cJSON_IsTrue(item) ? "true" : "false");
            else printf("%-22s %d\n", item->string, item->valueint);
        }
        cJSON_Delete(doc);
    }
    free(fields);
    wb_store_free(&s);
    return 0;
}

int bctl_store_set(int argc, char **argv) {
    const char *pos[3];
    if (bctl_parse(argc, argv, NULL, pos, 3, "store set ID KEY VALUE")) return 2;
    wb_pg *pg = bctl_pg();
    char err[512];
    int rc = wb_store_set(pg, pos[0], pos[1], pos[2], err, sizeof err);
    wb_pg_close(pg);
    if (rc) {
        fprintf(stderr, "bridgectl: %s\n", err);
        return 1;
    }
    printf("store %s: %s = %s\n", pos[0], pos[1], pos[2]);
    return 0;
}

int bctl_store_disable(int argc, char **argv) {
    const char *id;
    if (bctl_parse(argc, argv, NULL, &id, 1, "store disable ID")) return 2;
    wb_pg *pg = bctl_pg();
    char err[512];
    int rc = wb_store_set(pg, id, "enabled", "false", err, sizeof err);
    wb_pg_close(pg);
    if (rc) {
        fprintf(stderr, "bridgectl: %s\n", err);
        return 1;
    }
    printf("store %s disabled\n", id);
    return 0;
}

int bctl_store_settings(int argc, char **argv) {
    if (bctl_parse(argc, argv, NULL, NULL, 0, "store settings")) return 2;
    for (int i = 0; i < wb_store_setting_count; i++)
        printf("%-22s %-18s %s\n", wb_store_settings[i].key, wb_store_settings[i].kind,
               wb_store_settings[i].help);
    return 0;
}
