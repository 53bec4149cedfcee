/* The control API under /_sim/: stores, seeding, stock, orders, call log,
 * counters, faults, webhooks, clock. See docs/shopsim.md. */
#ifndef SHOPSIM_CONTROL_H
#define SHOPSIM_CONTROL_H
#include "http.h"
#include "store.h"

void control_handle(http_request *req, http_reply *rep);
/* Seeds products as POST /_sim/stores/{id}/seed does (store lock held). */
cJSON *control_seed(store_t *s, const cJSON *spec);
#endif
