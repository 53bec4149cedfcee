/* A store's rate budget, shared by every replica: a token bucket in Redis
 * (wb:{store}:ratebucket, one hash per store so its script stays in one
 * Cluster slot), taken before each shop call. Each replica pacing itself by
 * its own view of Shopify's throttleStatus would let N replicas spend N times
 * the restore rate between two answers; one bucket they all draw from cannot.
 *
 * Refill: WooCommerce has no published limit, so a store's rate_limit_rps
 * (requests per second, a one-second burst) is the budget; Shopify spends
 * cost points restored at the plan's rate, and every answer's throttleStatus
 * is folded back in (the bucket's size and rate become the reported ones,
 * and it never holds more than the shop said it has), so spending by other
 * apps or services on the same store is seen too. */
#ifndef SP_BUDGET_H
#define SP_BUDGET_H

#include <stdint.h>
#include "wb/redis.h"

/* Shopify's standard plan when no answer has told us better. */
#define SP_SHOPIFY_BUCKET 1000.0
#define SP_SHOPIFY_RESTORE 100.0

/* One thread's handle: its own Redis connection (made on first use) and
 * its own copy of the script, whose SHA is filled on first use. */
typedef struct sp_budget {
    char *url;
    wb_redis *redis;
    wb_redis_script script;
} sp_budget;

sp_budget *sp_budget_open(const char *redis_url);
void sp_budget_close(sp_budget *b);

/* Takes cost tokens from the store's bucket (capacity and refill per second
 * are the defaults until the shop reported its own; either 0 = no limit).
 * Returns 0 when taken, the milliseconds to wait before trying again when
 * the bucket cannot pay now (nothing is taken then), or -1 when Redis did not
 * answer. */
int64_t sp_budget_take(sp_budget *b, const char *store_id, double capacity, double per_second, double cost);

/* Folds a Shopify throttleStatus into the bucket: its size and restore rate
 * become the reported ones, and it holds at most what is available. */
int sp_budget_observe(sp_budget *b, const char *store_id, double maximum, double available,
                      double restore_rate);

#endif
