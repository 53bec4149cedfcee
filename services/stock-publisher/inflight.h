/* The in-flight term of the sellable value changes without any stock event:
 * an order arrives in the shop, or the WMS accepts or cancels one. The
 * publisher reads the in-flight totals per store and sku periodically and
 * reopens the windows of every item whose total moved (inflight.c). */
#ifndef SP_INFLIGHT_H
#define SP_INFLIGHT_H

#include "wb/strmap.h"

/* Calls fn for every key ("store|sku") whose total differs between before
 * and now; a key missing from one side counts 0 there. Returns how many. */
int sp_in_flight_diff(const wb_strmap *before, const wb_strmap *now,
                      void (*fn)(void *ctx, const char *key), void *ctx);

#endif
