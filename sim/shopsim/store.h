/* The state of every simulated store, and the registry that finds a store by
 * id. One mutex per store guards everything inside it; handlers lock the
 * store for the whole request, which keeps each API call atomic as on the
 * real platforms. */
#ifndef SHOPSIM_STORE_H
#define SHOPSIM_STORE_H
#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "faults.h"
#include "ratelimit.h"

#define SIM_MAX_LOCATIONS 8
/* What the bridge asks for when it is installed (docs/bridgectl.md), the
 * scopes a store grants when none are configured. */
#define SIM_DEFAULT_SCOPES                                                                              \
  "read_orders,write_orders,read_products,read_inventory,write_inventory,read_locations,"             \
  "read_merchant_managed_fulfillment_orders,write_merchant_managed_fulfillment_orders,read_returns," \
  "write_returns"
#define SIM_WOO_VERSION "9.4.2"
#define SIM_WP_VERSION "6.7.1"
#define SIM_CALL_LOG 2000
#define SIM_DELIVERY_LOG 500

typedef enum { PLATFORM_SHOPIFY, PLATFORM_WOO } platform_t;

typedef struct {
  uint64_t id;
  char name[64];
} location_t;

/* Shopify's quantity names; WooCommerce uses levels[0].available only. */
typedef struct {
  long available, committed, on_hand;
} level_t;

typedef struct {
  uint64_t id, product_id, inventory_item_id;
  char *sku, *barcode, *title, *price;
  bool manage_stock; /* WooCommerce manage_stock; Shopify inventory item tracked */
  double weight;
  level_t levels[SIM_MAX_LOCATIONS];
  int64_t created_ms, updated_ms;
} variant_t;

typedef struct {
  uint64_t id;
  char *title, *status, *vendor;
  bool variable; /* WooCommerce type variable (else simple) */
  bool is_virtual;
  char **categories;
  size_t ncategories;
  variant_t **variants; /* WooCommerce simple: one variant with id == product id */
  size_t nvariants;
  int64_t created_ms, updated_ms;
} product_t;

typedef struct {
  uint64_t id, ref; /* ref: the line item (or fulfillment line item) it refers to */
  long qty;
} qty_ref_t;

typedef struct {
  uint64_t id, product_id, variant_id;
  char *sku, *name, *price;
  long quantity, fulfilled, refunded, returned;
  uint64_t fo_line_id; /* Shopify: its fulfillment order line item */
} line_t;

typedef struct {
  uint64_t id, location_id;
  char *status; /* OPEN, IN_PROGRESS, CLOSED, CANCELLED */
  qty_ref_t *lines; /* ref = line item id, qty = remaining */
  long *totals;
  size_t nlines;
  int64_t updated_ms;
} ffo_t;

typedef struct {
  uint64_t id;
  char *status, *company, *number, *url;
  qty_ref_t *lines; /* id = fulfillment line item id, ref = line item id */
  size_t nlines;
  int64_t created_ms, updated_ms;
} fulfillment_t;

typedef struct {
  uint64_t id;
  char *note;
  bool customer_note;
  int64_t created_ms;
} note_t;

typedef struct {
  char *id, *provider, *number, *link, *date_shipped;
} tracking_t;

typedef struct {
  uint64_t id;
  char *amount, *reason;
  bool restock, api_refund;
  qty_ref_t *lines; /* ref = line item id */
  size_t nlines;
  int64_t created_ms;
} refund_t;

typedef struct {
  uint64_t id;
  char *status; /* OPEN, CLOSED */
  qty_ref_t *lines; /* id = return line item id, ref = line item id */
  long *processed;
  char **notes; /* returnReasonNote per line (may be NULL) */
  size_t nlines;
  int64_t created_ms;
} return_t;

typedef struct {
  uint64_t id;
  long number;
  char *name, *status; /* WooCommerce status; Shopify uses the flags below */
  char *financial_status; /* Shopify display financial status */
  bool closed;
  int64_t cancelled_ms;
  char *cancel_reason;
  int64_t created_ms, updated_ms;
  char *currency, *email, *phone, *customer_note;
  char *shipping_code, *shipping_title, *shipping_total;
  cJSON *billing, *shipping; /* generic address keys, see control.c */
  line_t *lines;
  size_t nlines;
  ffo_t *fos;
  size_t nfos;
  fulfillment_t *fuls;
  size_t nfuls;
  note_t *notes;
  size_t nnotes;
  tracking_t *trackings;
  size_t ntrackings;
  refund_t *refunds;
  size_t nrefunds;
  return_t *returns;
  size_t nreturns;
  cJSON *tags; /* Shopify: array of strings (tagsAdd) */
} order_t;

/* Shopify webhook subscription or WooCommerce webhook. */
typedef struct {
  uint64_t id;
  char *topic, *address, *secret, *name, *status; /* status: WooCommerce only */
  int failures;      /* consecutive failed deliveries */
  int64_t created_ms, updated_ms;
} webhook_t;

typedef struct {
  uint64_t seq;
  int64_t ms;
  char method[8];
  char *path, *op;
  char *query; /* WooCommerce: the request's query parameters ("" for none) */
  int status;
  bool throttled;
  int cost;
  int actual_cost; /* Shopify: what the answer charged after the refund (0 when throttled) */
} call_t;

typedef struct {
  uint64_t webhook_id;
  char topic[48];
  char delivery_id[64];
  int attempt, status;
  char outcome[16]; /* delivered, failed, dropped, deleted, disabled */
  int64_t ms;
} delivery_t;

typedef struct {
  unsigned long calls, throttled, faults, quantities_set, mutations, queries, rest_calls;
  unsigned long idempotent_replays; /* a mutation whose @idempotent key was seen before */
  unsigned long webhooks_sent, webhooks_failed, webhooks_dropped, unauthorized;
} counters_t;

#define SIM_IDEM_BUCKETS 4096
typedef struct idem {
  char *key;
  char *result; /* JSON of the first answer */
  struct idem *next;
} idem_t;

typedef struct store {
  char id[64];
  platform_t platform;
  int plan; /* index into plans in ratelimit.c */
  char *access_token, *consumer_key, *consumer_secret, *app_secret, *shop_domain, *currency;
  bool shipment_tracking;
  /* WooCommerce: the units of products' weight and dimensions (settings >
   * products: woocommerce_weight_unit kg|g|lbs|oz, woocommerce_dimension_unit
   * m|cm|mm|in|yd); the numbers stored are in these units. */
  char weight_unit[8], dimension_unit[8];
  /* What the credentials may do: Shopify's granted access scopes (comma
   * list, currentAppInstallation.accessScopes) and the WooCommerce key's
   * permissions (read, write or read_write, as its REST auth checks them). */
  char *access_scopes, *key_permissions;
  /* Shopify OAuth (authorization code grant): the app's credentials, the
   * codes handed out and not yet exchanged. */
  char *client_id, *client_secret;
  struct oauth_code *oauth_codes;
  long webhook_delay_ms; /* simulated ms before a delivery is sent (WooCommerce queue) */
  pthread_mutex_t mu;
  bucket_t bucket;
  throttle_mode_t throttle_mode;
  unsigned long throttle_seq;
  faults_t faults;
  uint64_t next_id;
  long next_order_number;
  location_t locations[SIM_MAX_LOCATIONS];
  int nlocations;
  product_t **products;
  size_t nproducts;
  order_t **orders;
  size_t norders;
  webhook_t *webhooks;
  size_t nwebhooks;
  idem_t *idem[SIM_IDEM_BUCKETS];
  size_t nidem;
  counters_t counters;
  call_t calls[SIM_CALL_LOG];
  uint64_t ncalls;
  delivery_t deliveries[SIM_DELIVERY_LOG];
  uint64_t ndeliveries;
  struct idmap *ids;
  struct bulk_ops *bulk; /* Shopify bulk operations (shopify_bulk.c), NULL until the first */
} store_t;

/* Registry. Stores are never freed while the process runs (a deleted store
 * only leaves the registry), so a pointer from store_find stays valid. */
void stores_init(void);
void stores_shutdown(void);
/* Creates a store from the control API's JSON; NULL with err on bad input. */
store_t *store_create(const cJSON *cfg, char *err, size_t errlen);
store_t *store_find(const char *id);
bool store_delete(const char *id);
cJSON *stores_list(void);

uint64_t store_next_id(store_t *s);
void store_touch_product(product_t *p);

/* Lookup by id (products, variants, inventory items, orders, ...). */
typedef enum { OBJ_PRODUCT = 1, OBJ_VARIANT, OBJ_INV_ITEM, OBJ_ORDER, OBJ_LOCATION } obj_kind;
void *store_lookup(store_t *s, obj_kind kind, uint64_t id);
void store_index(store_t *s, obj_kind kind, uint64_t id, void *obj);
int store_location_index(store_t *s, uint64_t location_id); /* -1 if unknown */

product_t *store_add_product(store_t *s, const char *title, bool variable);
variant_t *store_add_variant(store_t *s, product_t *p, const char *sku, const char *barcode,
                             const char *title, long stock);
variant_t *store_find_sku(store_t *s, const char *sku);
/* Sets a quantity: name "available" or "on_hand"; the other moves with it
 * (on_hand = available + committed). */
void level_set(level_t *l, const char *name, long qty);
long level_get(const level_t *l, const char *name);

order_t *store_find_order(store_t *s, uint64_t id);
webhook_t *store_find_webhook(store_t *s, uint64_t id);
void store_remove_webhook(store_t *s, uint64_t id);

/* Sets the query of the call logged last. */
void store_log_query(store_t *s, const char *query);
void store_log_call(store_t *s, const char *method, const char *path, const char *op, int status,
                    bool throttled, int cost);
void store_log_delivery(store_t *s, const delivery_t *d);
const char *store_idem_get(store_t *s, const char *key);
void store_idem_put(store_t *s, const char *key, const char *result);
#endif
