/* The in-flight term of the sellable value changes without any stock event:
 * an order arrives in the shop, or the WMS accepts or cancels one. The
 * publisher reads the in-flight totals per store and sku periodically and
 * reopens the windows of every item whose total moved (inflight.c). */
#ifndef SP_INFLIGHT_H
#define SP_INFLIGHT_H

#include <stdbool.h>
#include <stdint.h>

#include "wb/strmap.h"

/* Calls fn for every key ("store|sku") whose total differs between before
 * and now; a key missing from one side counts 0 there. Returns how many. */
int sp_in_flight_diff(const wb_strmap *before, const wb_strmap *now,
                      void (*fn)(void *ctx, const char *key), void *ctx);

/* Whether a value sent with `used` in-flight quantity for the store's sku
 * is out of date with the totals now ("store|sku" -> total; missing = 0). */
bool sp_in_flight_moved(const wb_strmap *totals, const char *store, const char *sku, int64_t used);

#endif
