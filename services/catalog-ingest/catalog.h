/* catalog-ingest's state and steps. A sync (the whole catalog, the products
 * changed since the store's poll cursor (changes.c), or one product after a
 * webhook) is a row in catalog_syncs; the main loop runs
 * them (sync.c) one page at a time: fetch (fetch_shopify.c, fetch_woo.c; a large
 * Shopify store's full sync by bulk operation, fetch_shopify_bulk.c) ->
 * articles (article.c) -> mapping (decide.c decides, mapping.c reads and
 * writes PostgreSQL) -> publish the changed ones (publish.c) -> record their
 * content hashes and the page's cursor. See docs/catalog-path.md. */
#ifndef CI_CATALOG_H
#define CI_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "wb/proto.h"
#include "wb/ratebudget.h"
#include "wb/service.h"
#include "wb/store.h"

#define CI_SERVICE "catalog-ingest"
#define CI_TOPIC "shop.catalog.v1"

extern const char wb_gql_catalog_variants[]; /* libshared/src/shopify_documents.c */
extern const char wb_gql_catalog_counts[];
extern const char wb_gql_catalog_changed_products[];
extern const char wb_gql_catalog_bulk_variants[]; /* the bulk operation's query */
extern const char wb_gql_catalog_bulk_start[];
extern const char wb_gql_catalog_bulk_status[];
extern const char wb_gql_catalog_bulk_running[];

typedef struct ci_config {
    int64_t poll_ms;         /* WB_CATALOG_POLL_MS: poll period per store (changed products), default 300000; 0: no schedule */
    int64_t full_sync_ms;    /* WB_CATALOG_FULL_SYNC_MS: full sync period per store, default 86400000; 0 off */
    int64_t overlap_ms;      /* WB_CATALOG_POLL_OVERLAP_MS: a poll asks from its cursor minus this, default 60000 */
    int shopify_page;        /* WB_CATALOG_SHOPIFY_PAGE: variants per query, default and most 199 (cost cap) */
    int woo_page;            /* WB_CATALOG_WOO_PAGE: products/variations per page, default 100 */
    int woo_workers;         /* WB_CATALOG_WOO_WORKERS: connections reading a page's variations at once, default 4 */
    int kafka_timeout_ms;    /* WB_CATALOG_KAFKA_TIMEOUT_MS: acks of one page, default 30000 */
    const char *unit;        /* WB_CATALOG_UNIT: the articles' unit, default "st" */
    long bulk_min_variants;  /* WB_CATALOG_BULK_MIN_VARIANTS: a Shopify full sync of at least this many variants
                                runs as a bulk operation, default 5000; 0: never */
    int bulk_batch;          /* WB_CATALOG_BULK_BATCH: result lines processed as one page, default 1000 */
    int bulk_poll_ms;        /* WB_CATALOG_BULK_POLL_MS: between polls of a running bulk operation, default 1000 */
} ci_config;

void ci_config_read(wb_env *env, ci_config *cfg);

typedef struct ci_ctx {
    wb_service *svc;
    ci_config cfg;
} ci_ctx;

/* ------------------------------------------------------------ article.c */

/* One sellable item as the shop describes it (a Shopify variant, a
 * WooCommerce simple product or variation). Strings are malloc'd; NULL or
 * "" when the shop has none. */
typedef struct ci_article {
    char *product_id;        /* Shopify product gid; WooCommerce product id */
    char *variant_id;        /* Shopify variant gid; WooCommerce variation id; "" for a simple product */
    char *inventory_item_id; /* Shopify InventoryItem gid; "" for WooCommerce */
    char *sku, *barcode;
    char *title, *variant_title;
    char **categories;
    size_t n_categories;
    bool is_virtual;
    char *weight, *weight_unit;                 /* decimal string, g|kg|oz|lb */
    char *length, *width, *height, *dim_unit;   /* decimal strings, mm|cm|m|in */
    char *updated_at;                           /* RFC 3339 with zone */
} ci_article;

void ci_article_free(ci_article *a);

typedef struct ci_articles {
    ci_article *items;
    size_t count, cap;
} ci_articles;

ci_article *ci_articles_add(ci_articles *list);
void ci_articles_free(ci_articles *list);

/* "Title - Variant", or the title alone when the variant has no name of its
 * own (Shopify's "Default Title"); cut to 255 characters on a UTF-8
 * boundary; the sku when the title is empty. malloc'd. */
char *ci_article_name(const char *title, const char *variant_title, const char *sku);

/* A number as the contract's decimal string ("0.5", "12"), or NULL when it
 * is negative, not finite or too large. malloc'd. */
char *ci_decimal(double v);
/* A shop's decimal text ("0.50", "10") as the contract's decimal string, or
 * NULL when it is empty or not a non-negative number. malloc'd. */
char *ci_decimal_text(const char *s);

typedef struct ci_article_opts {
    const char *store_id, *unit;
    wb_platform platform;
    bool categories;            /* the store's catalog_categories */
    bool virtual_as_non_stock;  /* the store's virtual_as_non_stock */
} ci_article_opts;

/* Fills msg (pointing into a and sku; free nothing but msg->categories,
 * with ci_msg_release) for the WMS sku the article is mapped to. */
void ci_article_msg(const ci_article *a, const char *sku, const ci_article_opts *o,
                    wb_catalog_msg *msg);
void ci_msg_release(wb_catalog_msg *msg);

/* The content hash of an article as it would go out: the hex SHA-256 of its
 * message with updated_at left out, so a touch in the shop that changes
 * nothing the WMS sees sends nothing. */
void ci_msg_hash(const wb_catalog_msg *msg, char out[65]);

/* ------------------------------------------------------------- decide.c */

typedef enum ci_decision {
    CI_USE_EXISTING, /* the item's mapping exists and agrees */
    CI_CREATE,       /* a new mapping, to wms_sku */
    CI_CONFLICT,     /* reported, nothing mapped or sent */
} ci_decision;

typedef enum ci_via { CI_VIA_EXISTING, CI_VIA_SKU, CI_VIA_BARCODE, CI_VIA_NEW } ci_via;

/* What PostgreSQL knows about an article. */
typedef struct ci_known {
    bool has_mapping;              /* a mapping for the item's product/variant ids */
    const char *mapped_sku;        /* its sku */
    const char *mapped_shop_sku;   /* the shop's sku when mapped (NULL: the same as mapped_sku) */
    bool wms_has_sku;              /* a WMS article with the shop's sku */
    int wms_barcode_matches;       /* WMS articles with the shop's barcode */
    const char *wms_barcode_sku;   /* the first of them */
    bool sku_mapped_elsewhere;     /* the resolved sku is mapped to another item */
} ci_known;

typedef struct ci_verdict {
    ci_decision decision;
    ci_via via;
    const char *sku;           /* the WMS sku (points into the article or known) */
    const char *conflict;      /* missing_sku | sku_changed | duplicate_sku | ambiguous_barcode */
} ci_verdict;

/* Step 1: which WMS sku a new item maps to: its own SKU when the WMS knows
 * it (or knows no article by its barcode either), else the one WMS article
 * with its barcode. Sets via and sku; a barcode shared by several WMS
 * articles (and an unknown SKU) is the conflict ambiguous_barcode. */
void ci_resolve(const char *shop_sku, const char *barcode, const ci_known *k, ci_verdict *v);

/* The whole decision, mapping never changed: no SKU -> missing_sku; a
 * mapping whose shop SKU differs from the shop's SKU now -> sku_changed; a
 * new item whose resolved sku is mapped to another item -> duplicate_sku. */
void ci_decide(const char *shop_sku, const char *barcode, const ci_known *k, ci_verdict *v);

const char *ci_via_name(ci_via via);

/* ------------------------------------------------------------ mapping.c */

typedef struct ci_mapped {
    char sku[256];
    char hash[65];     /* "" when none */
    ci_decision decision;
    const char *conflict;
    bool conflict_new; /* the conflict was not known before */
} ci_mapped;

/* Decides and applies a page of articles (out: one per article, in order):
 * reads what is known in a few statements, inserts the new mappings, and
 * records conflicts (counted, wb_catalog_conflicts_total{store,kind}). An
 * item mapped earlier on the page holds its sku against a later one. A
 * clean item's old conflicts are cleared. Returns 0, -1 on a PostgreSQL
 * failure (err). */
int ci_map_page(wb_pg *pg, const wb_store *store, const ci_articles *list, ci_mapped *out, char *err,
                size_t errlen);

/* Records the hashes of what went out (hashes[j] for items[j]) and the
 * messages themselves (a later removal carries the article as last sent). */
int ci_store_hashes(wb_pg *pg, const char *store_id, const ci_article *const *items, char (*hashes)[65],
                    char *const *messages, size_t count);

/* The page's items are in the shop (published): their removal, if any, is
 * over, and a full sync (sync_id; NULL for a product sync) has seen them. */
int ci_mark_seen(wb_pg *pg, const char *store_id, const ci_articles *list, const char *sync_id);

/* ------------------------------------------------------------ fetch_*.c */

/* One page of a full sync. cursor: where the page starts (NULL or "" at the
 * start); on return *next is the next page's cursor (malloc'd) or NULL
 * when this was the last page; *pages_total the pages in all when the
 * platform tells (-1 otherwise). product_id: only that product (webhooks),
 * all its variants in one call. Returns 0, -1 with err. */
typedef enum ci_product_state {
    CI_PRODUCT_PUBLISHED,   /* it is there and published */
    CI_PRODUCT_GONE,        /* deleted (404; no variants; WooCommerce's trash) */
    CI_PRODUCT_UNPUBLISHED, /* there, but a draft, archived, pending or private */
} ci_product_state;

typedef struct ci_fetch {
    const ci_config *cfg;
    const wb_store *store;
    void *client; /* wb_shopify* or wb_woo* */
    ci_product_state product_state; /* after a fetch of one product */
    long nodes_seen, nodes_kept;    /* Shopify: variants answered, and of active products */
    /* WooCommerce: the store's units (settings > products), read once a sync:
     * the contract's unit and the factor that takes the shop's number there. */
    bool units_read;
    const char *weight_unit, *dim_unit;
    double dim_factor;
    /* WooCommerce: the store's rate budget shared in Redis (rate_limit_rps,
     * wb/ratebudget.h): where it lives, and the sync connection's handle
     * (each worker connection opens its own). */
    const char *redis_url;
    wb_rate_budget *budget;
    /* Shopify bulk full sync (fetch_shopify_bulk.c): the downloaded result,
     * read a page of lines at a time, and how many lines are behind. */
    void *bulk_file;   /* FILE* */
    long bulk_line;
    bool restart_progress; /* the sync switched from the bulk result to pages: count its pages anew */
} ci_fetch;

/* Shopify full sync by bulk operation. A sync's cursor is then
 * "bulk:<BulkOperation gid>:<result lines done>". ci_bulk_start starts the
 * operation (or adopts ours already running) and returns its cursor, with
 * no articles; ci_bulk_page waits for the operation, downloads its JSONL
 * once, and returns the next bulk_batch lines' articles. Both return 0, 1
 * when bulk cannot be used (err says why: the caller pages instead), -1 on
 * a transport failure (err). */
#define CI_BULK_PREFIX "bulk:"
int ci_bulk_start(ci_fetch *f, long variants, char **next, long *pages_total, char *err, size_t errlen);
int ci_bulk_page(ci_fetch *f, const char *cursor, ci_articles *out, char **next, char *err, size_t errlen);
void ci_bulk_close(ci_fetch *f);
/* Parses "bulk:<gid>:<lines>" (gid up to size-1). 0, -1 when malformed. */
int ci_bulk_cursor_parse(const char *cursor, char *gid, size_t size, long *lines);
/* One JSONL line of the result: an article appended to out when it is a
 * variant of an active product (as a page's node). Returns 0, -1 when the
 * line is not JSON or not a variant. */
int ci_bulk_line(ci_fetch *f, const char *line, ci_articles *out);

/* WooCommerce's woocommerce_weight_unit / woocommerce_dimension_unit as the
 * contract's unit (lbs -> lb; yd -> in, factor 36); NULL when unknown. */
const char *ci_woo_weight_unit(const char *woo);
const char *ci_woo_dim_unit(const char *woo, double *factor);

int ci_fetch_shopify(ci_fetch *f, const char *cursor, const char *product_id, ci_articles *out,
                     char **next, long *pages_total, char *err, size_t errlen);
/* Sets a WooCommerce connection of a sync to draw from the store's shared
 * rate budget, keeping half of it for the other services (fetch_woo.c). */
void ci_woo_pace(void *client, wb_rate_budget *budget, const wb_store *store);
int ci_fetch_woo(ci_fetch *f, const char *cursor, const char *product_id, ci_articles *out,
                 char **next, long *pages_total, char *err, size_t errlen);

/* Pure parts, exposed for tests: one Shopify variant node, one WooCommerce
 * product (simple) or variation (parent given). Return 0, or -1 when the
 * node is not an item (no id). */
int ci_parse_shopify_variant(const cJSON *node, ci_article *a);
int ci_parse_woo_simple(const cJSON *product, ci_article *a);
int ci_parse_woo_variation(const cJSON *product, const cJSON *variation, ci_article *a);
/* "2026-11-25T10:00:00" (WooCommerce's _gmt) -> "...Z"; a zone kept. malloc'd. */
char *ci_gmt_time(const char *s);

/* ------------------------------------------------------------ changes.c */

/* Product ids (Shopify gids, WooCommerce numbers), malloc'd. */
typedef struct ci_changed {
    char **ids;
    size_t count, cap;
} ci_changed;

void ci_changed_free(ci_changed *c);

/* One page of the products the shop changed after `since` ("YYYY-MM-DDTHH:MM:SS",
 * UTC, whole seconds), published or not. cursor: where the page starts (NULL
 * or "" at the start); *next the next page's (malloc'd) or NULL after the
 * last. Returns 0, -1 with err. */
int ci_list_changed(ci_fetch *f, const char *since, const char *cursor, ci_changed *out, char **next,
                    char *err, size_t errlen);

/* ------------------------------------------------------------ publish.c */

/* Produces the messages (key store/sku) and waits for every ack. Returns the
 * number acknowledged; all of them when it equals count. */
size_t ci_publish(ci_ctx *ctx, const char *store_id, char **skus, char **values, size_t count,
                  bool *acked);

/* -------------------------------------------------------------- sync.c */

/* Requests a full sync of every enabled store due by the schedule. */
void ci_schedule(ci_ctx *ctx, wb_pg *pg);
/* Runs what is requested (or left running by a dead replica). Returns true
 * when it did something. */
bool ci_run_pending(ci_ctx *ctx, wb_pg *pg);

/* ------------------------------------------------------------ webhook.c */

/* POST /webhooks/shopify/{store}, /webhooks/woocommerce/{store}, /sync/{store}. */
void ci_add_routes(wb_service *svc, wb_http_server *http, void *ctx);

/* Counts an outcome of the catalog path: wb_catalog_items_total{store,outcome}. */
void ci_count(const char *store_id, const char *outcome, double n);

#endif
