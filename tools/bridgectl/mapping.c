/* bridgectl mapping add|list: product mappings by hand (shop product,
 * variant and inventory item <-> sku), for a demo or a fix-up while
 * catalog-ingest is not there or has not run. A mapping is never changed
 * silently: adding one that exists identically does nothing, adding one
 * that contradicts an existing row (the sku on another item, the item under
 * another sku) fails and names the row. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "bridgectl.h"

__attribute__((format(printf, 2, 3))) static int fail(wb_pg *pg, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bridgectl: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    wb_pg_close(pg);
    return 1;
}

static int query_fail(wb_pg *pg) {
    fprintf(stderr, "bridgectl: postgresql: %s\n", wb_pg_error(pg));
    wb_pg_close(pg);
    return 1;
}

int bctl_mapping_add(int argc, char **argv) {
    bctl_option opts[] = {{"product", .required = true}, {"variant", .is_flag = false},
                          {"item", .is_flag = false}, {"barcode", .is_flag = false}, {0}};
    const char *pos[2];
    if (bctl_parse(argc, argv, opts, pos, 2,
                   "mapping add STORE SKU --product ID [--variant ID] [--item GID] [--barcode CODE]"))
        return 2;
    const char *store = pos[0], *sku = pos[1], *product = opts[0].value;
    const char *variant = opts[1].value ? opts[1].value : "", *item = opts[2].value ? opts[2].value : "";
    const char *barcode = opts[3].value;
    if (!*sku || !*product) {
        fprintf(stderr, "bridgectl: SKU and --product must not be empty\n");
        return 2;
    }
    wb_pg *pg = bctl_pg();
    const char *p1[] = {store};
    PGresult *r = wb_pg_query(pg, "SELECT platform FROM stores WHERE id = $1", 1, p1);
    if (!r) return query_fail(pg);
    if (PQntuples(r) == 0) {
        PQclear(r);
        return fail(pg, "store '%s' not found", store);
    }
    bool shopify = strcmp(PQgetvalue(r, 0, 0), "shopify") == 0;
    PQclear(r);
    if (shopify && !*item) {
        wb_pg_close(pg);
        fprintf(stderr, "bridgectl: store '%s' is a Shopify store: --item (the inventory item gid) is "
                        "what its stock calls name\n", store);
        return 2;
    }

    /* What exists for this sku, and for this product/variant. */
    const char *p2[] = {store, sku, product, variant};
    r = wb_pg_query(pg,
        "SELECT sku, shop_product_id, shop_variant_id, inventory_item_id, coalesce(barcode, '') "
        "FROM product_mappings WHERE store_id = $1 AND (sku = $2 OR (shop_product_id = $3 AND "
        "shop_variant_id = $4)) ORDER BY sku = $2 DESC", 4, p2);
    if (!r) return query_fail(pg);
    if (PQntuples(r) > 0) {
        bool same = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), sku) == 0 &&
                    strcmp(PQgetvalue(r, 0, 1), product) == 0 && strcmp(PQgetvalue(r, 0, 2), variant) == 0 &&
                    strcmp(PQgetvalue(r, 0, 3), item) == 0 && (!barcode || strcmp(PQgetvalue(r, 0, 4), barcode) == 0);
        if (same) {
            PQclear(r);
            wb_pg_close(pg);
            printf("store %s: sku %s already mapped so (unchanged)\n", store, sku);
            return 0;
        }
        char other[600];
        snprintf(other, sizeof other, "product %s%s%s%s%s", PQgetvalue(r, 0, 1),
                 *PQgetvalue(r, 0, 2) ? " variant " : "", PQgetvalue(r, 0, 2),
                 *PQgetvalue(r, 0, 3) ? " item " : "", PQgetvalue(r, 0, 3));
        char existing_sku[300];
        snprintf(existing_sku, sizeof existing_sku, "%s", PQgetvalue(r, 0, 0));
        PQclear(r);
        if (strcmp(existing_sku, sku) == 0)
            return fail(pg, "store '%s': sku %s is already mapped to %s; not changed", store, sku, other);
        return fail(pg, "store '%s': %s is already mapped to sku %s; not changed", store, other, existing_sku);
    }
    PQclear(r);
    const char *p3[] = {store, product, variant, item, sku, barcode};
    if (wb_pg_exec(pg,
                   "INSERT INTO product_mappings (store_id, shop_product_id, shop_variant_id, "
                   "inventory_item_id, sku, barcode) VALUES ($1, $2, $3, $4, $5, $6)", 6, p3))
        return query_fail(pg);
    wb_pg_close(pg);
    printf("store %s: sku %s <- product %s%s%s%s%s\n", store, sku, product, *variant ? " variant " : "",
           variant, *item ? " item " : "", item);
    return 0;
}

int bctl_mapping_list(int argc, char **argv) {
    bctl_option opts[] = {{"json", .is_flag = true}, {0}};
    const char *store;
    if (bctl_parse(argc, argv, opts, &store, 1, "mapping list STORE [--json]")) return 2;
    wb_pg *pg = bctl_pg();
    const char *p[] = {store};
    PGresult *r = wb_pg_query(pg,
        "SELECT sku, shop_product_id, shop_variant_id, inventory_item_id, barcode FROM product_mappings "
        "WHERE store_id = $1 ORDER BY sku", 1, p);
    if (!r) return query_fail(pg);
    if (opts[0].flag) {
        cJSON *arr = cJSON_CreateArray();
        for (int i = 0; i < PQntuples(r); i++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "sku", PQgetvalue(r, i, 0));
            cJSON_AddStringToObject(o, "product", PQgetvalue(r, i, 1));
            if (*PQgetvalue(r, i, 2)) cJSON_AddStringToObject(o, "variant", PQgetvalue(r, i, 2));
            if (*PQgetvalue(r, i, 3)) cJSON_AddStringToObject(o, "item", PQgetvalue(r, i, 3));
            if (!PQgetisnull(r, i, 4)) cJSON_AddStringToObject(o, "barcode", PQgetvalue(r, i, 4));
            cJSON_AddItemToArray(arr, o);
        }
        bctl_print_json(arr);
    } else {
        printf("%-24s %-36s %-36s %s\n", "SKU", "PRODUCT", "VARIANT", "ITEM");
        for (int i = 0; i < PQntuples(r); i++)
            printf("%-24s %-36s %-36s %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
                   PQgetvalue(r, i, 3));
    }
    PQclear(r);
    wb_pg_close(pg);
    return 0;
}
