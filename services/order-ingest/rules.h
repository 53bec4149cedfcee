/* Whether and as what an order goes out (pure; ingest.c applies it under a
 * per-order lock with the row of ingested_orders it read).
 *
 * - Filters per store decide whether a new order goes to the WMS at all:
 *   WooCommerce `order_statuses` (default processing), Shopify
 *   `financial_statuses` and `fulfillment_statuses` (empty = all).
 *   Once an order went out, later versions are not filtered again.
 * - An order is `created` once. Later versions go out as `updated` while
 *   ingested_orders.state is 'sent' or 'accepted'; from 'picking' on they are
 *   logged and counted, not sent. A cancellation always goes out (once).
 * - The same version again is a duplicate, an older one stale: neither is
 *   produced again. */
#ifndef OI_RULES_H
#define OI_RULES_H

#include <stdbool.h>
#include <stdint.h>
#include "map.h"
#include "wb/store.h"

typedef enum oi_action {
    OI_ACT_CREATE,
    OI_ACT_UPDATE,
    OI_ACT_CANCEL,
    OI_ACT_DUPLICATE,         /* this version was sent already */
    OI_ACT_STALE,             /* older than the version sent */
    OI_ACT_FILTERED,          /* a status the store does not send */
    OI_ACT_PICKING,           /* the WMS is picking it: updates stop here */
    OI_ACT_ALREADY_CANCELLED, /* a cancelled order stays cancelled */
    OI_ACT_UNKNOWN_CANCEL,    /* cancelled before it ever went out: nothing to cancel */
} oi_action;

const char *oi_action_name(oi_action a);
/* True for the actions that produce a message. */
bool oi_action_sends(oi_action a);

typedef struct oi_prior {
    bool exists;
    int64_t version;
    const char *state; /* sent | accepted | picking | dispatched | cancelled */
} oi_prior;

/* value is in the comma-separated list (case-insensitive, spaces and a "wc-"
 * prefix ignored); an empty or NULL list holds everything. */
bool oi_list_has(const char *list, const char *value);
/* The store's filters applied to a mapped order. */
bool oi_filter_pass(const wb_store *store, const oi_order *order);

oi_action oi_decide(const oi_prior *prior, bool cancelled, int64_t version, bool passes_filter);

/* A version with no line left open (oi_order.nothing_open: everything
 * refunded, returned or edited away) goes out as a cancellation, and as
 * nothing when the rules ignore it (the WMS is past it); a new order or an
 * update would ask the WMS to fulfil nothing: true, with the reason in err,
 * for those (the caller dead-letters it, OI_UNMAPPED). */
bool oi_refuse_nothing_open(const oi_order *order, oi_action action, char *err, size_t errlen);

#endif
