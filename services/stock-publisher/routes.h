/* Where a stock change goes: from a WMS article (goods_owner/sku) in a
 * warehouse to the windows of every store of that goods owner that sells the
 * sku, at every shop location the warehouse feeds. A snapshot of the stores,
 * their locations and product mappings, read from PostgreSQL and refreshed
 * periodically; the service's loop swaps snapshots between batches. */
#ifndef SP_ROUTES_H
#define SP_ROUTES_H

#include <stdbool.h>
#include <stdint.h>
#include "wb/pg.h"
#include "wb/strmap.h"

typedef struct sp_location {
    char *id;
    char **warehouses;
    int warehouse_count;
} sp_location;

typedef struct sp_store {
    char *id, *goods_owner, *platform, *base_url, *stock_mode;
    int64_t window_ms;
    int64_t safety_stock;
    int64_t rate_limit_rps; /* WooCommerce requests per second, 0 = no limit (budget.h) */
    char *client_key;       /* md5 of URL and sealed credentials: a client is rebuilt when it changes */
    sp_location *locations;
    int location_count;
} sp_store;

typedef struct sp_item_ref {
    sp_store *store;
    char *item; /* Shopify inventory item gid; WooCommerce "product" or "product/variation" */
} sp_item_ref;

typedef struct sp_routes {
    wb_strmap stores;   /* id -> sp_store* */
    wb_strmap articles; /* goods_owner/sku -> sp_article* (the stores selling it) */
    wb_strmap items;    /* store|item -> sku (entry ptr: strdup'd sku) */
    wb_strmap removed;  /* store|item -> why the article left the shop ('deleted', 'unpublished'; migration 0011) */
    int mapping_count;
} sp_routes;

/* Loads every enabled store with stock sync on. NULL on a database error. */
sp_routes *sp_routes_load(wb_pg *pg, char *err, size_t err_size);
/* Routes to nowhere (until the first load succeeds). */
sp_routes *sp_routes_empty(void);
void sp_routes_free(sp_routes *r);

typedef void (*sp_route_fn)(void *ctx, const sp_store *store, const char *item,
                            const sp_location *location);
/* Calls fn for every (store, item, location) that a change of the article in
 * warehouse affects. Returns how many. */
int sp_routes_each(const sp_routes *r, const char *article, const char *warehouse, sp_route_fn fn,
                   void *ctx);

/* Calls fn for every (item, location) of one store that sells the sku, at
 * every location whatever its warehouses: a change of the sku's in-flight
 * orders in that store moves all of them. Returns how many. */
int sp_routes_each_store_sku(const sp_routes *r, const char *store_id, const char *sku, sp_route_fn fn,
                             void *ctx);

const sp_store *sp_routes_store(const sp_routes *r, const char *store_id);
const sp_location *sp_routes_location(const sp_store *s, const char *location_id);
/* Why the store's item left the shop ("deleted", "unpublished"), or NULL
 * while it is on sale: no stock is sent for a removed item. */
const char *sp_routes_removed(const sp_routes *r, const char *store_id, const char *item);
/* The sku behind a store's item, or NULL. */
const char *sp_routes_sku(const sp_routes *r, const char *store_id, const char *item);

#endif
