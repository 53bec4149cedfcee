/* How due stock values become shop calls: as few as the platform allows.
 * Shopify's inventorySetQuantities takes up to 250 quantities of any items
 * and locations; WooCommerce's products/batch takes up to 100 simple
 * products, and products/{id}/variations/batch up to 100 variations of that
 * one product. */
#ifndef SP_PLAN_H
#define SP_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#define SP_SHOPIFY_BATCH 250
#define SP_WOO_BATCH 100

typedef struct sp_value {
    char *window;         /* store|item|location */
    char *item, *location;
    char *sku;            /* the item's sku, owned (flush.c; NULL elsewhere): the sender reads its in-flight orders */
    int64_t available;    /* flush.c: the levels' available sum, before safety stock and in-flight orders */
    int64_t quantity;     /* the value to set */
    int64_t change_from;  /* what the shop holds as far as we know, -1 = unknown */
    int64_t first_offset, opened_ms, deadline_ms, touches;
    int32_t partition;
    int64_t occurred_ms;  /* the newest event behind the value (end-to-end latency), 0 unknown */
    int64_t in_flight;    /* the in-flight order quantity the value subtracted (stock_sent.in_flight) */
    int64_t accepted_ms;  /* send.c: when the shop's answer accepting it came (wall ms) */
    int outcome;          /* SP_PENDING until send.c decides */
    int origin;           /* send.c: index in the caller's array */
} sp_value;

/* SP_REMOVED: the article left the shop (product_mappings.removed): not sent. */
enum { SP_PENDING, SP_SENT, SP_UNCHANGED, SP_REJECTED, SP_RETRY, SP_REMOVED };

typedef struct sp_call {
    int first, count;    /* a run of the (reordered) values */
    char endpoint[96];   /* WooCommerce: products/batch or products/{id}/variations/batch */
} sp_call;

/* Orders values so that each call is one run and fills calls (caller frees).
 * Returns the number of calls. */
int sp_plan_calls(const char *platform, sp_value *values, int count, sp_call **calls);

#endif
