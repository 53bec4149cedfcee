/* The WMS's stock levels per warehouse and article, in memory, for the
 * partitions this replica owns. An article is "goods_owner/sku", the key of
 * wms.stock.v1. Events carry the level after a movement, with a version
 * that grows per warehouse/sku: an older version changes nothing, so
 * duplicates and replays are harmless. Dirty levels are checkpointed to
 * PostgreSQL (stock_levels) before offsets are committed; a new owner of a
 * partition loads them back. */
#ifndef SP_LEVELS_H
#define SP_LEVELS_H

#include <stdbool.h>
#include <stdint.h>
#include "wb/pg.h"

typedef struct sp_levels sp_levels;

typedef enum {
    SP_LEVEL_APPLIED, /* newer version: the level changed */
    SP_LEVEL_SAME,    /* same version again (a replay): nothing changed */
    SP_LEVEL_STALE,   /* older version: ignored */
} sp_level_result;

sp_levels *sp_levels_new(void);
void sp_levels_free(sp_levels *l);

sp_level_result sp_levels_apply(sp_levels *l, const char *warehouse, const char *article,
                                int64_t on_hand, int64_t reserved, int64_t version,
                                int32_t partition);

/* The same, with the event's occurred_at (ms since the epoch, 0 unknown),
 * kept for the end-to-end latency metric. */
sp_level_result sp_levels_apply_at(sp_levels *l, const char *warehouse, const char *article,
                                   int64_t on_hand, int64_t reserved, int64_t version,
                                   int32_t partition, int64_t occurred_ms);

/* The newest occurred_at behind the warehouses' levels of an article (ms),
 * 0 when none is known (levels loaded from a checkpoint). */
int64_t sp_levels_occurred(const sp_levels *l, const char *article, const char *const *warehouses,
                           int warehouse_count);

/* What a set of warehouses can sell of an article: the sum of each warehouse's
 * max(0, on_hand) - reserved. Unknown warehouses count 0. */
int64_t sp_levels_available(const sp_levels *l, const char *article, const char *const *warehouses,
                            int warehouse_count);

/* The partition that carries the article (from any of the warehouses'
 * levels), or -1 when none of them has a level here. */
int32_t sp_levels_partition(const sp_levels *l, const char *article, const char *const *warehouses,
                            int warehouse_count);

bool sp_levels_get(const sp_levels *l, const char *warehouse, const char *article, int64_t *on_hand,
                   int64_t *reserved, int64_t *version);

/* Writes every level changed since the last checkpoint in one statement.
 * Returns the number written, or -1 (the levels stay dirty). */
int sp_levels_checkpoint(sp_levels *l, wb_pg *pg);
/* Loads a partition's levels (a newer version already in memory wins).
 * Returns the number loaded or -1. */
int sp_levels_load_partition(sp_levels *l, wb_pg *pg, int32_t partition);
/* Forgets a partition this replica no longer owns (after a checkpoint). */
void sp_levels_drop_partition(sp_levels *l, int32_t partition);
int sp_levels_count(const sp_levels *l);

/* Sellable = max(0, available - safety stock - quantities of orders already
 * in the shop but not yet accepted by the WMS). The last term is what stops
 * overselling while an order is in flight. */
static inline int64_t sp_sellable(int64_t available, int64_t safety_stock, int64_t in_flight) {
    int64_t v = available - safety_stock - in_flight;
    return v > 0 ? v : 0;
}

#endif
