/* order-ingest's state and its steps: the webhook handlers (webhook.c) and
 * the reconciler (reconcile.c) both hand a mapped order to oi_ingest(), which
 * prepares it and hands it to a group-commit batch (batch.c) that decides
 * (rules.h), produces and records under a per-order lock.
 *
 * Threads: webhook handlers run on the HTTP server's worker threads (a few,
 * shared by every connection); each borrows a PostgreSQL connection from the
 * pool only while it needs one (the store, the SKU rule), and returns once
 * its order is queued for its batch: the batcher (batch.c) answers the
 * webhook when the batch is done. The batchers have connections of their
 * own.
 * svc->producer is thread-safe. */
#ifndef OI_INGEST_H
#define OI_INGEST_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "map.h"
#include "rules.h"
#include "wb/service.h"
#include "wb/store.h"

#define OI_SERVICE "order-ingest"

typedef struct oi_config {
    int pg_pool;              /* WB_ORDER_PG_POOL: connections for webhook handlers, default 16 */
    int kafka_timeout_ms;     /* WB_ORDER_KAFKA_TIMEOUT_MS: wait for the ack, default 4000 */
    int64_t reconcile_ms;     /* WB_ORDER_RECONCILE_MS: reconciler period, default 60000; 0 off */
    int64_t reconcile_overlap_ms; /* WB_ORDER_RECONCILE_OVERLAP_MS, default 300000 */
    const char *public_url;   /* WB_ORDER_PUBLIC_URL: where shops reach this service; when set,
                                 the reconciler re-creates missing shop webhooks */
    int receipt_retention_h;  /* WB_ORDER_RECEIPT_RETENTION_H: webhook receipts kept, default 168 */
    int batchers;             /* WB_ORDER_BATCHERS: group-commit threads (batch.c), default 2 */
    int batch_max;            /* WB_ORDER_BATCH_MAX: orders per transaction at most, default 128 */
    int store_cache_ms;       /* WB_ORDER_STORE_CACHE_MS: stores and their rules cached, default 5000 */
    int commit_retry_ms;      /* WB_ORDER_COMMIT_RETRY_MS: how long a batch whose messages Kafka
                                 acknowledged retries its record (batch.c), default 10000; 0 off */
} oi_config;

void oi_config_read(wb_env *env, oi_config *cfg);

/* A fixed set of PostgreSQL connections shared by the handler threads. */
typedef struct oi_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    const char *dsn;
    int size, free_count;
    wb_pg **conns; /* NULL: not connected yet */
    bool *busy;
} oi_pool;

void oi_pool_init(oi_pool *p, const char *dsn, int size);
/* Borrows a connection (connecting when needed); NULL with err when
 * PostgreSQL cannot be reached. */
wb_pg *oi_pool_get(oi_pool *p, char *err, size_t errlen);
/* Returns it; broken closes it so the next borrower reconnects. */
void oi_pool_put(oi_pool *p, wb_pg *pg, bool broken);
void oi_pool_close(oi_pool *p);

typedef struct oi_batcher oi_batcher;

typedef struct oi_ctx {
    wb_service *svc;
    oi_config cfg;
    oi_pool pool;
    oi_batcher *batcher; /* batch.c */
} oi_ctx;

typedef enum oi_status {
    OI_OK = 0,        /* decided, and produced when the action sends */
    OI_KAFKA_DOWN = -1, /* no ack: nothing recorded (answer 503) */
    OI_DB_DOWN = -2,    /* PostgreSQL failed: nothing recorded (answer 503) */
    OI_SHOP_DOWN = -3,  /* the shop had to be asked (the warehouse) and did not answer (503) */
    OI_UNMAPPED = -4,   /* a store rule makes the order unmappable: reason in err, dead-letter it */
} oi_status;

/* The store's configuration an order needs (prepare.c): names the warehouse
 * (order->msg.warehouse) and applies the "every SKU mapped" rule. OI_OK,
 * OI_UNMAPPED, OI_SHOP_DOWN or OI_DB_DOWN. oi_ingest() calls it. pg may be
 * NULL: a connection is then borrowed from ctx->pool when one is needed (a
 * store whose rules are not cached, or the SKU rule). */
oi_status oi_prepare(oi_ctx *ctx, wb_pg *pg, const wb_store *store, oi_order *order, char *err,
                     size_t errlen);
/* The label for an oi_status that is not OI_OK: kafka_unavailable, ... */
const char *oi_status_outcome(oi_status st);

/* Applies the rules to order and, when they say so, produces it to
 * shop.orders.v1 (key store/order_id, waiting for the ack) and records it in
 * ingested_orders (after the ack). receipt_key (may be NULL) is recorded in
 * webhook_receipts, and a receipt already there makes it a duplicate. Sets
 * *action; order->msg.type is set to what went out. The decision, the
 * message and the record go through a group-commit batch (batch.c); pg
 * (may be NULL, see oi_prepare) only serves oi_prepare. */
oi_status oi_ingest(oi_ctx *ctx, wb_pg *pg, const wb_store *store, oi_order *order,
                    const char *receipt_key, oi_action *action, char *err, size_t errlen);

/* An order deleted in the shop that is known only by its id (WooCommerce
 * order.deleted): the last message sent goes out again as `cancelled`, with
 * version max(now_ms, last version + 1), through the same batch as every
 * other order; OI_ACT_UNKNOWN_CANCEL when it never went out. */
oi_status oi_ingest_deleted(oi_ctx *ctx, const wb_store *store, const char *order_id, int64_t now_ms,
                            oi_action *action, char *err, size_t errlen);

/* batch.c: group commit. oi_batcher_start runs cfg.batchers threads, each
 * with its own PostgreSQL connection; oi_batcher_stop joins them (after the
 * HTTP server stopped), once every queued order is done. oi_batch_submit
 * queues one prepared order and returns at once; done(arg, ...) runs on a
 * batcher thread once its batch committed (or failed), with err "" when st
 * is OI_OK; store, order and receipt_key must live until then.
 * oi_batch_ingest is the same, waiting for the outcome (the reconciler). */
typedef void (*oi_batch_done)(void *arg, oi_status st, oi_action action, const char *err);
void oi_batcher_start(oi_ctx *ctx);
void oi_batcher_stop(oi_ctx *ctx);
void oi_batch_submit(oi_ctx *ctx, const wb_store *store, oi_order *order, const char *receipt_key,
                     bool passes, oi_batch_done done, void *arg);
void oi_batch_submit_deleted(oi_ctx *ctx, const wb_store *store, oi_order *order, int64_t now_ms,
                             oi_batch_done done, void *arg);
oi_status oi_batch_ingest(oi_ctx *ctx, const wb_store *store, oi_order *order, const char *receipt_key,
                          bool passes, oi_action *action, char *err, size_t errlen);
/* The same for a deletion known by its id: order holds the store and order
 * ids only (its msg is replaced by the last message sent, as cancelled). */
oi_status oi_batch_ingest_deleted(oi_ctx *ctx, const wb_store *store, oi_order *order, int64_t now_ms,
                                  oi_action *action, char *err, size_t errlen);

/* {"SKU":qty,...} of the order's lines (malloc'd). */
char *oi_open_quantities(const wb_order_msg *m);

/* Publishes a dead letter for a body that cannot become an order (source
 * kind `source_kind`: "webhook" or "poll"). key may be NULL. Returns 0, or -1
 * when Kafka did not take it. */
int oi_dead_letter(oi_ctx *ctx, const char *store_id, const char *source_kind, const char *path,
                   const char *key, const char *reason, const void *body, size_t len);

/* Counts an outcome: wb_orders_total{store,platform,source,outcome}. */
void oi_count(const char *store_id, const char *platform, const char *source, const char *outcome);

/* store_cache.c: the webhook path's stores, shared read-only for 5 s.
 * oi_store_acquire returns like wb_store_load (0, 1 no such store, -1 with
 * err); release every store it gave. oi_store_forget drops a store at once
 * (app/uninstalled); oi_store_cache_clear at exit. */
int oi_store_acquire(wb_pg *pg, const unsigned char *key, const char *id, const wb_store **store,
                     char *err, size_t errlen);
void oi_store_release(const wb_store *store);
void oi_store_forget(const char *id);
void oi_store_cache_clear(void);
/* WB_ORDER_STORE_CACHE_MS (default 5000, 0: no caching); set before serving. */
void oi_store_cache_set_ttl(int64_t ms);
/* The store's order rules (prepare.c), cached alongside it with the same
 * lifetime and forgotten with it: true with *locations (malloc'd JSON
 * [[location, warehouse, is_default]], defaults first) when fresh. */
bool oi_store_rules_get(const char *id, bool *require_sku_mapping, char **locations);
void oi_store_rules_put(const char *id, bool require_sku_mapping, const char *locations);

/* webhook.c: registers POST /webhooks/shopify and /webhooks/woocommerce. */
void oi_add_routes(wb_service *svc, wb_http_server *http, void *ctx);


/* reconcile.c: one pass over every enabled store, with the main loop's
 * connection (main.c runs it every reconcile_ms, and when requested). */
void oi_reconcile_all(oi_ctx *ctx, wb_pg *pg);
/* prune.c: deletes webhook receipts past the retention (the reconciler's schedule). */
void oi_prune_receipts(oi_ctx *ctx, wb_pg *pg);
/* POST /reconcile asks for a pass now (answered 202); the main loop takes it. */
void oi_reconcile_request(void);
bool oi_reconcile_requested(void); /* and clears the request */

#endif
