/* A store's rate budget, shared by every service and replica: a token bucket
 * in Redis (wb:{store}:ratebucket, one hash per store so its script stays in
 * one Cluster slot). WooCommerce publishes no limit, so the store's
 * rate_limit_rps (requests per second, a one-second burst) is what the shop's
 * host is promised; stock-publisher, catalog-ingest, order-ingest's
 * reconciler and fulfilment-reporter all draw from this one bucket, so
 * together they never go over it. (A pacer per process would let four
 * services, times their replicas, each spend the whole rate.)
 *
 * Priority: a caller may keep a floor, taking only while the bucket would
 * still hold that much afterwards. A catalog sync (thousands of reads) keeps
 * half the bucket free, so a stock value or a tracking number still goes out
 * at once while a sync runs.
 *
 * Shopify spends cost points at the plan's restore rate; every answer's
 * throttleStatus can be folded in (observe), after which the bucket's size
 * and rate are the reported ones. Redis's own clock times the refill, so
 * replicas whose clocks differ still agree. */
#ifndef WB_RATEBUDGET_H
#define WB_RATEBUDGET_H

#include <stdint.h>

/* One thread's handle: its own Redis connection (made on first use). */
typedef struct wb_rate_budget wb_rate_budget;

wb_rate_budget *wb_rate_budget_open(const char *redis_url);
void wb_rate_budget_close(wb_rate_budget *b);

/* Takes cost tokens from the store's bucket if it holds at least
 * cost + floor (capacity and refill per second are the defaults until the
 * shop reported its own; either 0 = no limit). Returns 0 when taken, the
 * milliseconds to wait before the bucket could pay (nothing is taken then),
 * or -1 when Redis did not answer. */
int64_t wb_rate_budget_take(wb_rate_budget *b, const char *store_id, double capacity, double per_second,
                            double cost, double floor);

/* Takes as wb_rate_budget_take, waiting (interrupted by a stop) until it can
 * for at most max_wait_ms. 0 taken; 1 not within max_wait_ms or stopping;
 * -1 Redis did not answer (the caller goes on unpaced rather than stop
 * trading: the shop's own answers still slow it down). */
int wb_rate_budget_wait(wb_rate_budget *b, const char *store_id, double per_second, double cost, double floor,
                        int max_wait_ms);

/* Folds a Shopify throttleStatus into the bucket: its size and restore rate
 * become the reported ones, and it holds at most what is available. */
int wb_rate_budget_observe(wb_rate_budget *b, const char *store_id, double maximum, double available,
                           double restore_rate);

#endif
