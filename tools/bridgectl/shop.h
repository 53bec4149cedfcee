/* bridgectl's view of a store's shop: client, webhooks (shop.c). */
#ifndef BRIDGECTL_SHOP_H
#define BRIDGECTL_SHOP_H

#include <stdbool.h>
#include <cjson/cJSON.h>

#include "wb/pg.h"
#include "wb/shopclient.h"
#include "wb/store.h"

typedef struct bctl_shop {
    wb_store store;
    bool loaded, shopify;
    cJSON *creds;
    wb_shopify *gql;
    wb_woo *woo;
} bctl_shop;

/* Loads the store with its credentials and opens its client; 1 after
 * printing why (no such store, wrong key). */
int bctl_shop_open(wb_pg *pg, const unsigned char key[32], const char *id, bctl_shop *shop);
void bctl_shop_close(bctl_shop *shop);
/* Opens the client for store.id/platform/base_url and creds already set
 * (a store not saved yet). */
void bctl_shop_client(bctl_shop *shop);
/* WooCommerce: what the key may do, into report (permissions{read,write},
 * api, problems[]); see store_check.c. */
void bctl_woo_check(bctl_shop *shop, cJSON *report);
/* One Shopify operation; *data is the answer's data (cJSON_Delete it). -1
 * with err on transport, auth or GraphQL errors. */
int bctl_shop_graphql(bctl_shop *shop, const char *document, const cJSON *vars, cJSON **data, char *err,
                      size_t err_size);
void bctl_woo_error(const wb_shop_response *r, char *err, size_t err_size);
/* Every webhook of the shop: [{id, topic, address, status, bridge}], bridge
 * true when the address is the bridge's endpoint for this store
 * (.../webhooks/PLATFORM/STORE). NULL with err when the shop cannot say. */
cJSON *bctl_shop_webhooks(bctl_shop *shop, char *err, size_t err_size);
int bctl_shop_delete_webhook(bctl_shop *shop, const char *id, char *err, size_t err_size);

#endif
