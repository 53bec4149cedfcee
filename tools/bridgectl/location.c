/* bridgectl location map|list: which warehouses feed which shop location. */
#include <stdio.h>
#include <cjson/cJSON.h>

#include "bridgectl.h"
#include "wb/store.h"

int bctl_location_map(int argc, char **argv) {
    bctl_option opts[] = {{"default", .is_flag = true}, {0}};
    const char *pos[3];
    if (bctl_parse(argc, argv, opts, pos, 3, "location map STORE SHOP_LOCATION WAREHOUSE [--default]"))
        return 2;
    wb_pg *pg = bctl_pg();
    char err[512];
    int rc = wb_location_map(pg, pos[0], pos[1], pos[2], opts[0].flag, err, sizeof err);
    wb_pg_close(pg);
    if (rc) {
        fprintf(stderr, "bridgectl: %s\n", err);
        return 1;
    }
    printf("store %s: location %s <- warehouse %s%s\n", pos[0], pos[1], pos[2],
           opts[0].flag ? " (default)" : "");
    return 0;
}

int bctl_location_list(int argc, char **argv) {
    bctl_option opts[] = {{"json", .is_flag = true}, {0}};
    const char *store;
    if (bctl_parse(argc, argv, opts, &store, 1, "location list STORE [--json]")) return 2;
    wb_pg *pg = bctl_pg();
    wb_store_location *locs;
    char err[512];
    int n = wb_location_list(pg, store, &locs, err, sizeof err);
    wb_pg_close(pg);
    if (n < 0) {
        fprintf(stderr, "bridgectl: %s\n", err);
        return 1;
    }
    if (opts[0].flag) {
        cJSON *arr = cJSON_CreateArray();
        for (int i = 0; i < n; i++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "location", locs[i].shop_location_id);
            cJSON_AddStringToObject(o, "warehouse", locs[i].warehouse);
            cJSON_AddBoolToObject(o, "default", locs[i].is_default);
            cJSON_AddItemToArray(arr, o);
        }
        bctl_print_json(arr);
    } else {
        printf("%-40s %-20s %s\n", "LOCATION", "WAREHOUSE", "DEFAULT");
        for (int i = 0; i < n; i++)
            printf("%-40s %-20s %s\n", locs[i].shop_location_id, locs[i].warehouse,
                   locs[i].is_default ? "yes" : "");
    }
    wb_location_list_free(locs, n);
    return 0;
}
