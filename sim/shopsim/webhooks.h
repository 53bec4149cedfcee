/* Webhook subscriptions and their delivery from a small pool of threads with
 * libcurl. Shopify: snapshot body at event time, same X-Shopify-Webhook-Id
 * on every retry, 8 retries over 4 hours (scaled by the clock factor), the
 * subscription removed after the last retry fails. WooCommerce: one delivery,
 * never retried, body rendered at send time, pending deliveries coalesced
 * per webhook and resource, webhook disabled once consecutive failures pass 5. */
#ifndef SHOPSIM_WEBHOOKS_H
#define SHOPSIM_WEBHOOKS_H
#include "store.h"

#define SHOPIFY_WEBHOOK_RETRIES 8
#define WOO_MAX_FAILURES 5
#define WEBHOOK_TIMEOUT_MS 5000

void webhooks_start(unsigned threads);
void webhooks_stop(void);

/* Platform-neutral events; called with the store lock held. */
#define EV_ORDER_CREATE "orders/create"
#define EV_ORDER_UPDATED "orders/updated"
#define EV_ORDER_CANCELLED "orders/cancelled"
#define EV_PRODUCT_UPDATE "products/update"
#define EV_APP_UNINSTALLED "app/uninstalled"
void webhooks_emit(store_t *s, const char *event, uint64_t resource_id);

/* Adds a subscription (store lock held). Shopify topics are given as
 * "orders/create" or "ORDERS_CREATE"; WooCommerce as "order.created". */
webhook_t *webhook_add(store_t *s, const char *topic, const char *address, const char *secret, const char *name);
cJSON *webhook_json(const store_t *s, const webhook_t *w);
/* Number of deliveries queued or in flight, for tests that wait. */
unsigned webhooks_pending(void);
#endif
