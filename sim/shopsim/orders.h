/* Order lifecycle shared by the control API and both platforms' APIs:
 * placing (stock is committed), changing, cancelling (stock comes back),
 * fulfilling (committed stock leaves), refunds and returns. All functions
 * expect the store lock held and bump the order's updated time. */
#ifndef SHOPSIM_ORDERS_H
#define SHOPSIM_ORDERS_H
#include "store.h"

/* spec: {lines:[{sku|variant_id, quantity, price?, name?}], status?, email?,
 * phone?, note?, currency?, billing?{...}, shipping_address?{...},
 * shipping_method?{code,title,total}} */
order_t *order_place(store_t *s, const cJSON *spec, char *err, size_t errlen);
/* Applies status, note, email, addresses, and line quantity changes
 * (lines:[{sku, quantity}]; a new sku adds a line). */
bool order_change(store_t *s, order_t *o, const cJSON *spec, char *err, size_t errlen);
void order_cancel(store_t *s, order_t *o, const char *reason);
/* WooCommerce status change; moving to cancelled restores stock as WooCommerce does. */
void order_set_woo_status(store_t *s, order_t *o, const char *status);

line_t *order_find_line(order_t *o, uint64_t line_id);
ffo_t *order_find_fo(store_t *s, uint64_t fo_id, order_t **owner);
/* Fulfils `qty` of fulfillment order line `fo_line_id` into fulfillment `f`. */
bool order_fulfil_line(store_t *s, order_t *o, ffo_t *fo, uint64_t fo_line_id, long qty, fulfillment_t *f,
                       char *err, size_t errlen);
fulfillment_t *order_new_fulfillment(store_t *s, order_t *o);
void order_update_fo_status(ffo_t *fo);
const char *order_fulfillment_status(const order_t *o); /* Shopify display status */
/* Puts `qty` of a line back on stock (refund with restock, processed return). */
void order_restock(store_t *s, order_t *o, line_t *l, long qty);
long order_total_cents(const order_t *o);
void money_fmt(long cents, char out[32]);
long money_parse(const char *s);
#endif
