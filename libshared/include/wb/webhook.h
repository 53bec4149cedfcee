/* What every service receiving shop webhooks checks first (order-ingest for
 * orders, catalog-ingest for products): the store named in the path, the
 * signature on the raw body, and WooCommerce's ping. */
#ifndef WB_WEBHOOK_H
#define WB_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include "wb/http.h"
#include "wb/store.h"

/* A store id as the path carries it (the stores table's rule). */
bool wb_webhook_store_id_ok(const char *id);

/* WooCommerce's ping, sent once, unsigned, when a webhook is created:
 * "webhook_id=N" form-encoded. */
bool wb_webhook_is_ping(const char *body, size_t len);

/* The secret that signs the store's webhooks (Shopify: api_secret,
 * WooCommerce: webhook_secret) from its unsealed credentials, malloc'd, or
 * NULL. */
char *wb_webhook_secret(const wb_store *store);

/* The platform's signature header (X-Shopify-Hmac-Sha256 or
 * X-WC-Webhook-Signature), or NULL when absent. */
const char *wb_webhook_signature(const wb_store *store, const wb_http_request *req);

/* True when that header is the HMAC of the raw body under the store's secret
 * (compared in constant time). */
bool wb_webhook_signed_ok(const wb_store *store, const wb_http_request *req);

#endif
