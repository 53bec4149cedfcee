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

/* The bucket itself is libshared's (wb/ratebudget.h): the other services
 * draw from the same one. */
#include "wb/ratebudget.h"

/* Shopify's standard plan when no answer has told us better. */
#define SP_SHOPIFY_BUCKET 1000.0
#define SP_SHOPIFY_RESTORE 100.0

#endif
