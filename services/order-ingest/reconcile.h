/* What the WooCommerce reconciler (reconcile.c) and the Shopify one
 * (reconcile_shopify.c) share: the cursor, repair counting, poll dead letters. */
#ifndef OI_RECONCILE_H
#define OI_RECONCILE_H

#include <stdbool.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "ingest.h"

#define OI_CURSOR_NAME "orders_modified"

/* sync_cursors 'orders_modified' of the store, in ms; -1 when it could not
 * be read, *found false when there is none yet. */
int64_t oi_cursor_read(wb_pg *pg, const char *store_id, bool *found);
int oi_cursor_write(wb_pg *pg, const char *store_id, int64_t ms);

/* wb_order_webhook_repairs_total{store,kind}: kind reenabled | created. */
void oi_count_repair(const char *store_id, const char *kind);

/* A dead letter for an order the poll found unmappable, once per order
 * version (version: the shop's modification time as it wrote it). path names
 * the listing. Returns 0, or -1 when it was not published or recorded. */
int oi_poll_dead_letter(oi_ctx *ctx, wb_pg *pg, const wb_store *store, const cJSON *o,
                        const char *order_id, const char *version, const char *path,
                        const char *reason);

/* One pass over a Shopify store: orders since the cursor, then its webhook
 * subscriptions (reconcile_shopify.c). */
void oi_reconcile_shopify(oi_ctx *ctx, wb_pg *pg, const wb_store *store);

#endif
