/* WooCommerce REST API v3 for one store:
 * /<store>/wp-json/wc/v3/... and, when enabled for the store, the Shipment
 * Tracking extension /<store>/wp-json/wc-shipment-tracking/v3/... */
#ifndef SHOPSIM_WOO_H
#define SHOPSIM_WOO_H
#include "http.h"
#include "store.h"

void woo_handle(store_t *s, http_request *req, http_reply *rep);

/* Resource JSON as the REST API returns it (also the webhook bodies). */
cJSON *woo_product_json(store_t *s, const product_t *p);
cJSON *woo_variation_json(store_t *s, const product_t *p, const variant_t *v);
cJSON *woo_order_json(store_t *s, const order_t *o);
cJSON *woo_refund_json(store_t *s, const order_t *o, const refund_t *r);
cJSON *woo_note_json(const note_t *n);
cJSON *woo_tracking_json(const tracking_t *t);
/* Category ids are derived from their names. */
unsigned woo_category_id(const char *name);
/* WooCommerce error body {code, message, data:{status}}. */
void woo_error(http_reply *rep, int status, const char *code, const char *message);
/* Adds a system note as WooCommerce does on status changes. */
void woo_add_note(store_t *s, order_t *o, const char *text, bool customer);
#endif
