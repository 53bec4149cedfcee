/* Shared by the WooCommerce REST handlers. Handlers run with the store lock held. */
#ifndef SHOPSIM_WOO_INTERNAL_H
#define SHOPSIM_WOO_INTERNAL_H
#include <string.h>
#include <strings.h>

#include "http.h"
#include "store.h"
#include "woo.h"

#define WOO_MAX_SEGMENTS 8
#define WOO_BATCH_LIMIT 100

typedef struct {
  store_t *s;
  http_request *req;
  http_reply *rep;
  const char *seg[WOO_MAX_SEGMENTS];
  char segbuf[512];
  int nseg;
} woo_call;

bool woo_check_auth(store_t *s, http_request *req, http_reply *rep);

/* Pagination: page, per_page (1..100, default 10), X-WP-Total and X-WP-TotalPages. */
typedef struct {
  long page, per_page;
} woo_page;
bool woo_read_page(woo_call *c, woo_page *pg);
/* Replies with items[from..] of the rendered array, taking ownership of `all`. */
void woo_reply_page(woo_call *c, const woo_page *pg, cJSON *all);

bool woo_is(const woo_call *c, int i, const char *text);
uint64_t woo_seg_id(const woo_call *c, int i);
bool woo_method(const woo_call *c, const char *m);

/* Product and variation handlers (woo_products.c). */
void woo_products(woo_call *c);
/* Orders, notes, refunds, shipment tracking, webhooks (woo_orders.c). */
void woo_orders(woo_call *c);
void woo_tracking(woo_call *c);
void woo_webhooks(woo_call *c);
/* GET /wc-auth/v1/authorize (woo_keys.c). */
void woo_keys_authorize(store_t *s, http_request *req, http_reply *rep);
/* Compares two timestamps for orderby/filters given as query strings. */
bool woo_time_filter(const woo_call *c, const char *param, int64_t value, bool after);
#endif
