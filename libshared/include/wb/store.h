/* Store configuration in PostgreSQL (table stores, store_locations): how a
 * 3PL describes each shop of each goods owner. Credentials are a JSON object
 * sealed with AES-256-GCM under WB_MASTER_KEY, the store id as associated
 * data; they are unsealed only into memory, never logged or printed.
 *
 * Credentials by platform:
 *   shopify:      {"access_token": "...", "api_secret": "..."}   (api_secret signs webhooks)
 *   woocommerce:  {"consumer_key": "...", "consumer_secret": "...", "webhook_secret": "..."} */
#ifndef WB_STORE_H
#define WB_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include "wb/pg.h"

typedef struct wb_store {
    char *id, *goods_owner, *platform, *base_url;
    bool enabled;
    char *credentials; /* unsealed JSON; NULL unless loaded with a key */
    bool stock_sync;
    char *stock_mode;   /* absolute | delta */
    int window_seconds;
    int safety_stock;
    char *order_statuses, *financial_statuses, *fulfillment_statuses; /* comma-separated */
    char *note_visibility; /* private | customer */
    bool complete_on_dispatch, shipment_tracking, virtual_as_non_stock;
    int variations_limit;
    long long rate_limit_rps; /* WooCommerce requests per second, 0 = no limit */
} wb_store;

typedef struct wb_store_location {
    char *shop_location_id, *warehouse;
    bool is_default;
} wb_store_location;

/* Checks the fields a store needs (id, owner, platform, URL) and the
 * credentials JSON for its platform. Returns 0 or -1 with err. */
int wb_store_validate(const char *id, const char *goods_owner, const char *platform,
                      const char *base_url, const char *credentials_json, char *err,
                      size_t err_size);

/* Seals the credentials and inserts the store. -1 with err (e.g. a duplicate id). */
int wb_store_add(wb_pg *pg, const unsigned char key[32], const char *id,
                 const char *goods_owner, const char *platform, const char *base_url,
                 const char *credentials_json, char *err, size_t err_size);

/* Loads one store. key NULL: credentials stay sealed (store->credentials NULL).
 * Returns 0, 1 when there is no such store, -1 on error (including a wrong key). */
int wb_store_load(wb_pg *pg, const unsigned char *key, const char *id, wb_store *store,
                  char *err, size_t err_size);
/* All stores, ordered by id, credentials sealed. Returns the count or -1. */
int wb_store_list(wb_pg *pg, wb_store **stores, char *err, size_t err_size);
void wb_store_free(wb_store *store);
void wb_store_list_free(wb_store *stores, int count);

/* The settings `store set` may change, with the text form they take. */
typedef struct wb_store_setting {
    const char *key, *column, *kind, *help;
} wb_store_setting;
extern const wb_store_setting wb_store_settings[];
extern const int wb_store_setting_count;

/* Sets one setting from its text form. Returns 0, 1 for no such store, -1 with err. */
int wb_store_set(wb_pg *pg, const char *id, const char *key, const char *value, char *err,
                 size_t err_size);

/* Maps a shop location to a warehouse; is_default makes it the store's one
 * default. Returns 0, 1 for no such store, -1 with err (e.g. a second default). */
int wb_location_map(wb_pg *pg, const char *store_id, const char *shop_location_id,
                    const char *warehouse, bool is_default, char *err, size_t err_size);
int wb_location_list(wb_pg *pg, const char *store_id, wb_store_location **out, char *err,
                     size_t err_size);
void wb_location_list_free(wb_store_location *locations, int count);

#endif
