/* The topic contracts in C: one struct per message of proto/<topic>.schema.json,
 * with a decoder, an encoder and a free function each.
 *
 * - wb_X_decode() accepts exactly what the schema accepts. On error it returns
 *   -1, leaves *out empty (nothing to free) and writes "field.path: why" to
 *   err, e.g. "lines[2].quantity: must be an integer from 1 to 1000000".
 *   On success *out owns malloc'd copies of every string; wb_X_free() frees them.
 * - wb_X_encode() returns malloc'd compact JSON, or NULL when out of memory or
 *   when the struct would not make a valid message (the output is run through
 *   the decoder, so nothing invalid is ever produced; shop.orders.v1 runs it
 *   on the tree it prints, wb_pv_encode_tree). wb_X_encode_err() does
 *   the same and says why in err.
 * - Optional strings are NULL when absent and are left out by the encoder;
 *   optional arrays have a count of 0. The schemas allow neither "" nor [] for
 *   an optional field, so absent has one spelling.
 * - Amounts (prices, weights, dimensions) stay decimal strings ("12.50"):
 *   nothing here rounds them through a double.
 * - Timestamps stay RFC 3339 strings with their zone, as sent.
 */
#ifndef WB_PROTO_H
#define WB_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum wb_platform { WB_PLATFORM_SHOPIFY, WB_PLATFORM_WOOCOMMERCE } wb_platform;
const char *wb_platform_name(wb_platform p);

/* ---------------------------------------------------------- shop.orders.v1 */

typedef enum wb_order_type { WB_ORDER_CREATED, WB_ORDER_UPDATED, WB_ORDER_CANCELLED } wb_order_type;
const char *wb_order_type_name(wb_order_type t);

typedef struct wb_address {
    char *name;      /* company when set, otherwise first + last name */
    char *contact;   /* first + last name when name is a company */
    char *address1, *address2, *postcode, *city, *state;
    char *country_code; /* ISO 3166-1 alpha-2 */
    char *email, *phone;
} wb_address;

typedef struct wb_order_line {
    char *line_id; /* the shop's line item id */
    char *sku, *name;
    int64_t quantity;
    char *unit_price, *line_total; /* decimal strings in the order currency */
} wb_order_line;

typedef struct wb_order_msg {
    char *event_id; /* wb_order_event_id(store_id, order_id, version) */
    wb_order_type type;
    char *store_id;
    wb_platform platform;
    char *order_id, *order_number;
    int64_t version; /* grows with every change of the order in the shop */
    char *created_at, *currency;
    struct {
        char *code, *name; /* both NULL: no shipping line */
    } delivery_method;
    char *remark;
    char *warehouse; /* the WMS warehouse to fulfil it; NULL: not named (optional, added later) */
    wb_address customer; /* delivery address */
    wb_address invoice;
    struct {
        char *email, *mobile;
        bool by_email, by_sms; /* by_email needs email, by_sms needs mobile */
    } notification;
    wb_order_line *lines;
    size_t n_lines;
} wb_order_msg;

int wb_order_msg_decode(const char *json, size_t len, wb_order_msg *out, char *err, size_t errlen);
char *wb_order_msg_encode(const wb_order_msg *m);
char *wb_order_msg_encode_err(const wb_order_msg *m, char *err, size_t errlen);
/* The encoding without the schema check (which decodes the output again, a
 * third of order-ingest's CPU per order): only for a message whose checked
 * encoding passed and that changed since in fields the caller checked
 * itself (order-ingest: the type it decided, the warehouse it chose). */
char *wb_order_msg_reencode(const wb_order_msg *m);
/* The same for a warehouse set afterwards, without encoding again: json,
 * an encoding of a message that names no warehouse, with "warehouse" added
 * where the encoder puts it (malloc'd; the text wb_order_msg_reencode gives
 * once the message names it). NULL when json is not such an encoding. The
 * caller checks the warehouse (wb_pv_keypart). */
char *wb_order_json_set_warehouse(const char *json, const char *warehouse);
void wb_order_msg_free(wb_order_msg *m);

/* Lowercase hex SHA-256 of "store_id\norder_id\nversion": the same order
 * version always gets the same id, so a redelivery is recognisable. */
void wb_order_event_id(const char *store_id, const char *order_id, int64_t version,
                       char out[65]);

/* --------------------------------------------------------- shop.catalog.v1 */

typedef struct wb_catalog_msg {
    char *store_id;
    wb_platform platform;
    char *sku;
    char *name; /* product title + " - " + variant name */
    char *product_id, *variant_id, *barcode, *unit;
    char **categories;
    size_t n_categories;
    bool is_stock_article;
    struct {
        char *value, *unit; /* both NULL: no weight; unit g|kg|oz|lb */
    } weight;
    struct {
        char *length, *width, *height, *unit; /* all NULL: none; unit mm|cm|m|in */
    } dimensions;
    char *updated_at;
    /* NULL while the shop sells the article; "deleted" or "unpublished" once
     * it is gone from the shop (added after the first release, optional). */
    char *removed;
} wb_catalog_msg;

int wb_catalog_msg_decode(const char *json, size_t len, wb_catalog_msg *out, char *err, size_t errlen);
char *wb_catalog_msg_encode(const wb_catalog_msg *m);
char *wb_catalog_msg_encode_err(const wb_catalog_msg *m, char *err, size_t errlen);
void wb_catalog_msg_free(wb_catalog_msg *m);

/* ------------------------------------------------------------ wms.stock.v1 */

typedef enum wb_movement {
    WB_MOVEMENT_RECEIVING, WB_MOVEMENT_PICKING, WB_MOVEMENT_ADJUSTMENT, WB_MOVEMENT_TRANSFER,
    WB_MOVEMENT_COUNT, WB_MOVEMENT_RETURN, WB_MOVEMENT_RESERVATION, WB_MOVEMENT_SNAPSHOT
} wb_movement;
const char *wb_movement_name(wb_movement m);

typedef struct wb_stock_msg {
    char *goods_owner; /* Kafka key: goods_owner/sku */
    char *warehouse, *sku;
    int64_t on_hand;  /* level after the movement; may be negative */
    int64_t reserved; /* >= 0 */
    int64_t version;  /* grows per goods_owner/warehouse/sku */
    wb_movement movement;
    char *occurred_at;
} wb_stock_msg;

int wb_stock_msg_decode(const char *json, size_t len, wb_stock_msg *out, char *err, size_t errlen);
char *wb_stock_msg_encode(const wb_stock_msg *m);
char *wb_stock_msg_encode_err(const wb_stock_msg *m, char *err, size_t errlen);
void wb_stock_msg_free(wb_stock_msg *m);

/* ------------------------------------------------------- wms.fulfilment.v1 */

typedef enum wb_fulfilment_type {
    WB_FULFILMENT_ACCEPTED, WB_FULFILMENT_PICKING_STARTED, WB_FULFILMENT_PACKED,
    WB_FULFILMENT_DISPATCHED, WB_FULFILMENT_TRACKING_UPDATED, WB_FULFILMENT_RETURNED,
    WB_FULFILMENT_CANCELLED
} wb_fulfilment_type;
const char *wb_fulfilment_type_name(wb_fulfilment_type t);

typedef struct wb_shipment_line {
    char *line_id, *sku;
    int64_t quantity;
} wb_shipment_line;

typedef struct wb_shipment {
    char *id, *carrier, *tracking_number, *tracking_url;
    wb_shipment_line *lines;
    size_t n_lines;
} wb_shipment;

typedef struct wb_return_line {
    char *line_id, *sku;
    int64_t quantity;
    bool restock;
} wb_return_line;

typedef struct wb_return {
    char *id, *reason_code;
    wb_return_line *lines;
    size_t n_lines;
} wb_return;

typedef struct wb_fulfilment_msg {
    wb_fulfilment_type type;
    char *store_id, *order_id, *occurred_at;
    wb_shipment *shipments; /* >= 1 for dispatched and tracking_updated */
    size_t n_shipments;
    wb_return *returns;     /* >= 1 for returned */
    size_t n_returns;
} wb_fulfilment_msg;

int wb_fulfilment_msg_decode(const char *json, size_t len, wb_fulfilment_msg *out, char *err,
                             size_t errlen);
char *wb_fulfilment_msg_encode(const wb_fulfilment_msg *m);
char *wb_fulfilment_msg_encode_err(const wb_fulfilment_msg *m, char *err, size_t errlen);
void wb_fulfilment_msg_free(wb_fulfilment_msg *m);

/* ---------------------------------------------------- bridge.deadletter.v1 */

typedef enum wb_source_kind { WB_SOURCE_KAFKA, WB_SOURCE_WEBHOOK, WB_SOURCE_POLL } wb_source_kind;
const char *wb_source_kind_name(wb_source_kind k);

/* The message wb_deadletter_json() (wb/deadletter.h) writes, as read back. */
typedef struct wb_deadletter_msg {
    char *reason, *service;
    char *store_id; /* NULL: null */
    wb_source_kind source_kind;
    char *source_topic;       /* kafka */
    int32_t source_partition; /* kafka */
    int64_t source_offset;    /* kafka */
    char *source_path;        /* webhook, poll */
    char *key;                /* NULL: null */
    char *original_base64;
    int64_t original_size;
    char *dead_at;
} wb_deadletter_msg;

int wb_deadletter_msg_decode(const char *json, size_t len, wb_deadletter_msg *out, char *err,
                             size_t errlen);
char *wb_deadletter_msg_encode(const wb_deadletter_msg *m);
char *wb_deadletter_msg_encode_err(const wb_deadletter_msg *m, char *err, size_t errlen);
void wb_deadletter_msg_free(wb_deadletter_msg *m);

/* A JSON number as an integer, for every number a shop answers with: true
 * with *out set when node is a whole number within [min, max] (7.0 is one);
 * false, *out untouched, for anything else: not a number, NaN, infinite
 * (cJSON reads 1e999 as that), a fraction, out of range. A plain
 * (int64_t)valuedouble of those is undefined behaviour. Keep min and max
 * within +-WB_JSON_INT_MAX, where a double is exact. wb_pv_int uses it. */
#define WB_JSON_INT_MAX 9007199254740991LL /* 2^53 - 1 */
struct cJSON;
bool wb_json_int(const struct cJSON *node, int64_t min, int64_t max, int64_t *out);

/* -------------------------------------------------------------------------
 * Validation helpers shared by libshared/src/proto_*.c; services use the
 * functions above. Every helper returns 0, or -1 after writing
 * "path: why" to the context's err (the first error wins).
 */
struct cJSON;

#define WB_PV_PATH 160               /* longest field path we build */
#define WB_PV_INT_MAX 9007199254740991LL /* 2^53 - 1: exact in a double */

typedef struct wb_pv {
    char *err;
    size_t errlen;
    /* Checking an encoder's own tree (wb_pv_encode_tree): the values are
     * checked as they would be read back, but not copied (string outputs
     * are left untouched). */
    bool check_only;
} wb_pv;

enum { WB_PV_OPTIONAL = 0, WB_PV_REQUIRED = 1, WB_PV_NULLABLE = 2 };

/* What a string must look like: length in code points (as JSON Schema counts)
 * and a check for its pattern or format. */
typedef struct wb_pv_rule {
    size_t min_len, max_len;
    bool (*ok)(const char *s); /* NULL: any text */
    const char *what;          /* "an RFC 3339 date-time with a zone" */
} wb_pv_rule;

extern const char *const wb_pv_platforms[]; /* "shopify", "woocommerce", NULL */

extern const wb_pv_rule wb_pv_short, wb_pv_text, wb_pv_long, wb_pv_keypart, wb_pv_email,
    wb_pv_date_time, wb_pv_decimal, wb_pv_country, wb_pv_currency, wb_pv_hex64, wb_pv_url,
    wb_pv_base64;

int wb_pv_fail(wb_pv *v, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Looks key up and writes its path to fpath: *node is NULL when the field is
 * absent, which is an error only when flags has WB_PV_REQUIRED. */
int wb_pv_field(wb_pv *v, const struct cJSON *obj, const char *path, const char *key, int flags,
                char fpath[WB_PV_PATH], const struct cJSON **node);
/* node is an object whose every key is in fields (NULL-terminated). */
int wb_pv_object(wb_pv *v, const struct cJSON *node, const char *path, const char *const fields[]);
int wb_pv_string(wb_pv *v, const struct cJSON *obj, const char *path, const char *key, int flags,
                 const wb_pv_rule *rule, char **out);
/* out may be NULL when v->check_only. */
int wb_pv_string_node(wb_pv *v, const struct cJSON *node, const char *path, const wb_pv_rule *rule,
                      char **out);
int wb_pv_int(wb_pv *v, const struct cJSON *obj, const char *path, const char *key, int flags,
              int64_t min, int64_t max, int64_t *out);
int wb_pv_bool(wb_pv *v, const struct cJSON *obj, const char *path, const char *key, int flags,
               bool *out);
int wb_pv_enum(wb_pv *v, const struct cJSON *obj, const char *path, const char *key, int flags,
               const char *const names[], int *out);
/* An array of n elements of size bytes: checks the array, sets *items to a
 * zeroed allocation and *n to its count (so a free function sees every
 * element even after an error), then decodes each element with fn. */
typedef int (*wb_pv_item_decoder)(wb_pv *v, const struct cJSON *node, const char *path,
                                  void *item);
int wb_pv_list(wb_pv *v, const struct cJSON *obj, const char *path, const char *key, int flags,
               size_t min_items, size_t max_items, size_t size, wb_pv_item_decoder fn,
               void **items, size_t *n);
/* For a rule that depends on another field: key must be present / absent. */
int wb_pv_needs(wb_pv *v, const struct cJSON *obj, const char *path, const char *key,
                const char *because);
int wb_pv_forbids(wb_pv *v, const struct cJSON *obj, const char *path, const char *key,
                  const char *because);

typedef int (*wb_pv_decoder)(wb_pv *v, const struct cJSON *root, void *out);
/* Parses json (exactly len bytes, one JSON value) and runs decode on it. */
int wb_pv_decode(const char *json, size_t len, wb_pv_decoder decode, void *out, char *err,
                 size_t errlen);

/* The tree refers to key (a literal) and s instead of copying them: it must
 * be printed and deleted before s is freed (the encoders do both at once). */
int wb_pv_put_str(struct cJSON *obj, const char *key, const char *s); /* NULL: left out */
int wb_pv_put_nullable(struct cJSON *obj, const char *key, const char *s); /* NULL: null */
int wb_pv_put_int(struct cJSON *obj, const char *key, int64_t n);
int wb_pv_put_bool(struct cJSON *obj, const char *key, bool b);
int wb_pv_put_enum(struct cJSON *obj, const char *key, const char *const names[], size_t count,
                   int value);
/* Add child to obj under key / to the array arr; they fail when child is
 * NULL (an encoder ran out of memory) and delete it when adding fails. */
int wb_pv_put_child(struct cJSON *obj, const char *key, struct cJSON *child);
int wb_pv_append(struct cJSON *arr, struct cJSON *child);
/* A JSON array of fn(element) for the n elements of size bytes at items;
 * NULL when fn or an allocation fails. */
typedef struct cJSON *(*wb_pv_item_encoder)(const void *item);
struct cJSON *wb_pv_encode_list(const void *items, size_t n, size_t size, wb_pv_item_encoder fn);

typedef int (*wb_pv_checker)(const char *json, size_t len, char *err, size_t errlen);
/* Prints doc (and deletes it), then checks the text with check; NULL on failure. */
char *wb_pv_encode(struct cJSON *doc, wb_pv_checker check, char *err, size_t errlen);
/* The same verdict without printing and parsing the text again: check runs
 * the message's decoder on doc itself (a wb_pv with check_only set), which
 * holds the very values the text would be read back as (strings print and
 * read back byte for byte; a wb_pv_put_int's digits are read as the parser
 * reads them). Then doc is printed (and deleted); NULL on failure. */
typedef int (*wb_pv_tree_checker)(const struct cJSON *doc, char *err, size_t errlen);
char *wb_pv_encode_tree(struct cJSON *doc, wb_pv_tree_checker check, char *err, size_t errlen);
/* doc printed without formatting, malloc'd (one allocation for a message
 * of a few KiB), or NULL. */
char *wb_pv_print(const struct cJSON *doc);

#endif
