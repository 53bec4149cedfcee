/* WooCommerce orders, order notes, refunds, the Shipment Tracking extension
 * and webhooks. */
#include <stdio.h>
#include <stdlib.h>

#include "orders.h"
#include "util.h"
#include "webhooks.h"
#include "woo_internal.h"

#define NO_ROUTE(c) woo_error((c)->rep, 404, "rest_no_route", "No route was found matching the URL and request method.")

static bool status_listed(const char *csv, const char *status) {
  if (!csv || !*csv || strcmp(csv, "any") == 0) return strcmp(status, "trash") != 0;
  char buf[256];
  snprintf(buf, sizeof buf, "%s", csv);
  char *save = NULL;
  for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
    if (strcmp(t, status) == 0 || (strncmp(t, "wc-", 3) == 0 && strcmp(t + 3, status) == 0)) return true;
  return false;
}

static bool order_matches(woo_call *c, const order_t *o) {
  if (!status_listed(req_query(c->req, "status"), o->status)) return false;
  return woo_time_filter(c, "modified_after", o->updated_ms, true) && woo_time_filter(c, "modified_before", o->updated_ms, false) &&
         woo_time_filter(c, "after", o->created_ms, true) && woo_time_filter(c, "before", o->created_ms, false);
}

static int64_t order_key(const char *by, const order_t *o) {
  if (by && strcmp(by, "id") == 0) return (int64_t)o->id;
  if (by && strcmp(by, "modified") == 0) return o->updated_ms;
  return o->created_ms;
}

typedef struct {
  const char *by;
  bool asc;
} sort_ctx;

static int cmp_orders(const void *a, const void *b, void *arg) {
  const sort_ctx *sc = arg;
  const order_t *x = *(order_t *const *)a, *y = *(order_t *const *)b;
  int64_t kx = order_key(sc->by, x), ky = order_key(sc->by, y);
  int r = kx != ky ? (kx < ky ? -1 : 1) : (x->id < y->id ? -1 : x->id > y->id ? 1 : 0);
  return sc->asc ? r : -r;
}

static void list_orders(woo_call *c) {
  woo_page pg;
  if (!woo_read_page(c, &pg)) return;
  const char *by = req_query(c->req, "orderby"), *order = req_query(c->req, "order");
  bool asc = order && strcmp(order, "asc") == 0;
  order_t **sel = xcalloc(c->s->norders, sizeof *sel);
  size_t n = 0;
  for (size_t i = 0; i < c->s->norders; i++)
    if (order_matches(c, c->s->orders[i])) sel[n++] = c->s->orders[i];
  sort_ctx sc = {by, asc};
  qsort_r(sel, n, sizeof *sel, cmp_orders, &sc);
  cJSON *all = cJSON_CreateArray();
  long from = (pg.page - 1) * pg.per_page;
  for (size_t i = 0; i < n; i++)
    cJSON_AddItemToArray(all, ((long)i >= from && (long)i < from + pg.per_page) ? woo_order_json(c->s, sel[i]) : cJSON_CreateNull());
  free(sel);
  woo_reply_page(c, &pg, all);
}

static const char *woo_statuses[] = {"pending", "processing", "on-hold", "completed", "cancelled",
                                     "refunded", "failed", "trash", "checkout-draft", NULL};

static bool valid_status(const char *s) {
  for (int i = 0; woo_statuses[i]; i++)
    if (strcmp(woo_statuses[i], s) == 0) return true;
  return false;
}

/* Status changes leave a system note, as WooCommerce's order history does. */
static void change_status(store_t *s, order_t *o, const char *status) {
  if (strcmp(o->status, status) == 0) return;
  char note[160];
  snprintf(note, sizeof note, "Order status changed from %s to %s.", o->status, status);
  order_set_woo_status(s, o, status);
  woo_add_note(s, o, note, false);
}

static void update_order(woo_call *c, order_t *o) {
  cJSON *in = req_json(c->req);
  const char *status = jstr(in, "status");
  if (status && !valid_status(status)) {
    woo_error(c->rep, 400, "rest_invalid_param", "Invalid parameter(s): status");
    cJSON_Delete(in);
    return;
  }
  if (status) change_status(c->s, o, status);
  if (jstr(in, "customer_note")) set_str(&o->customer_note, jstr(in, "customer_note"));
  o->updated_ms = now_ms();
  webhooks_emit(c->s, EV_ORDER_UPDATED, o->id);
  reply_json(c->rep, 200, woo_order_json(c->s, o));
  cJSON_Delete(in);
}

static void notes(woo_call *c, order_t *o) {
  if (c->nseg == 3 && woo_method(c, "GET")) {
    cJSON *arr = cJSON_CreateArray();
    const char *type = req_query(c->req, "type");
    for (size_t i = o->nnotes; i-- > 0;) { /* newest first */
      bool customer = o->notes[i].customer_note;
      if (type && ((strcmp(type, "customer") == 0 && !customer) || (strcmp(type, "internal") == 0 && customer))) continue;
      cJSON_AddItemToArray(arr, woo_note_json(&o->notes[i]));
    }
    reply_json(c->rep, 200, arr);
  } else if (c->nseg == 3 && woo_method(c, "POST")) {
    cJSON *in = req_json(c->req);
    const char *text = jstr(in, "note");
    if (!text || !*text) {
      woo_error(c->rep, 400, "rest_missing_callback_param", "Missing parameter(s): note");
    } else {
      woo_add_note(c->s, o, text, jbool(in, "customer_note", false));
      o->updated_ms = now_ms();
      reply_json(c->rep, 201, woo_note_json(&o->notes[o->nnotes - 1]));
    }
    cJSON_Delete(in);
  } else {
    NO_ROUTE(c);
  }
}

static long refunded_cents(const order_t *o) {
  long sum = 0;
  for (size_t i = 0; i < o->nrefunds; i++) sum += money_parse(o->refunds[i].amount);
  return sum;
}

/* Checks the refund lines; returns the sum of their refund_total in cents, or -1. */
static long check_refund_lines(order_t *o, const cJSON *lines) {
  long sum = 0;
  const cJSON *l;
  cJSON_ArrayForEach(l, lines) {
    line_t *li = order_find_line(o, (uint64_t)jint(l, "id", 0));
    long q = jint(l, "quantity", 0);
    if (!li || q < 0 || q > li->quantity - li->refunded) return -1;
    double t = 0;
    jnum(l, "refund_total", &t);
    sum += clamp_long(t * 100 + 0.5);
  }
  return sum;
}

static void create_refund(woo_call *c, order_t *o) {
  cJSON *in = req_json(c->req);
  const cJSON *lines = cJSON_GetObjectItemCaseSensitive(in, "line_items");
  long lines_total = check_refund_lines(o, lines);
  double amount_d;
  long amount = jnum(in, "amount", &amount_d) ? clamp_long(amount_d * 100 + 0.5) : lines_total;
  if (lines_total < 0 || amount <= 0 || amount > order_total_cents(o) - refunded_cents(o)) {
    /* WooCommerce reports refund failures as 500 with this code. */
    woo_error(c->rep, 500, "woocommerce_rest_cannot_create_order_refund", "Invalid refund amount.");
    cJSON_Delete(in);
    return;
  }
  refund_t *r = VEC_PUSH(o->refunds, o->nrefunds);
  r->id = store_next_id(c->s);
  r->created_ms = now_ms();
  char buf[32];
  money_fmt(amount, buf);
  r->amount = xstrdup(buf);
  r->reason = xstrdup(jstr(in, "reason") ? jstr(in, "reason") : "");
  r->api_refund = jbool(in, "api_refund", true);
  r->restock = jbool(in, "api_restock", true);
  const cJSON *l;
  cJSON_ArrayForEach(l, lines) {
    line_t *li = order_find_line(o, (uint64_t)jint(l, "id", 0));
    long q = jint(l, "quantity", 0);
    if (q <= 0) continue;
    qty_ref_t *ref = VEC_PUSH(r->lines, r->nlines);
    ref->id = store_next_id(c->s);
    ref->ref = li->id;
    ref->qty = q;
    li->refunded += q;
    if (r->restock) order_restock(c->s, o, li, q);
  }
  snprintf(buf, sizeof buf, "Refunded %s", r->amount);
  woo_add_note(c->s, o, buf, false);
  if (refunded_cents(o) >= order_total_cents(o)) set_str(&o->status, "refunded");
  o->updated_ms = now_ms();
  webhooks_emit(c->s, EV_ORDER_UPDATED, o->id);
  reply_json(c->rep, 201, woo_refund_json(c->s, o, r));
  cJSON_Delete(in);
}

static void refunds(woo_call *c, order_t *o) {
  if (c->nseg == 3 && woo_method(c, "GET")) {
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = o->nrefunds; i-- > 0;) cJSON_AddItemToArray(arr, woo_refund_json(c->s, o, &o->refunds[i]));
    reply_json(c->rep, 200, arr);
  } else if (c->nseg == 3 && woo_method(c, "POST")) {
    create_refund(c, o);
  } else {
    NO_ROUTE(c);
  }
}

void woo_orders(woo_call *c) {
  if (c->nseg == 1) {
    if (woo_method(c, "GET")) list_orders(c);
    else NO_ROUTE(c);
    return;
  }
  order_t *o = store_find_order(c->s, woo_seg_id(c, 1));
  if (!o) woo_error(c->rep, 404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.");
  else if (woo_is(c, 2, "notes")) notes(c, o);
  else if (woo_is(c, 2, "refunds")) refunds(c, o);
  else if (c->nseg == 2 && woo_method(c, "GET")) reply_json(c->rep, 200, woo_order_json(c->s, o));
  else if (c->nseg == 2 && woo_method(c, "PUT")) update_order(c, o);
  else NO_ROUTE(c);
}

/* ---- Shipment Tracking extension: orders/{id}/shipment-trackings ---- */

static void add_tracking(woo_call *c, order_t *o) {
  cJSON *in = req_json(c->req);
  const char *number = jstr(in, "tracking_number");
  if (!number || !*number) {
    woo_error(c->rep, 400, "woocommerce_shipment_tracking_missing_tracking_number", "Tracking number is required.");
    cJSON_Delete(in);
    return;
  }
  tracking_t *t = VEC_PUSH(o->trackings, o->ntrackings);
  char id[37];
  random_uuid(id);
  for (char *p = id, *q = id;; p++) { /* 32 hex characters, as the extension makes them */
    if (*p != '-') *q++ = *p;
    if (!*p) break;
  }
  t->id = xstrdup(id);
  const char *provider = jstr(in, "custom_tracking_provider");
  if (!provider || !*provider) provider = jstr(in, "tracking_provider");
  t->provider = xstrdup(provider ? provider : "");
  t->number = xstrdup(number);
  t->link = xstrdup(jstr(in, "custom_tracking_link") ? jstr(in, "custom_tracking_link") : "");
  char today[32];
  fmt_time(now_ms(), false, today);
  today[10] = '\0';
  t->date_shipped = xstrdup(jstr(in, "date_shipped") ? jstr(in, "date_shipped") : today);
  o->updated_ms = now_ms();
  reply_json(c->rep, 201, woo_tracking_json(t));
  cJSON_Delete(in);
}

void woo_tracking(woo_call *c) {
  if (!woo_is(c, 0, "orders") || !woo_is(c, 2, "shipment-trackings")) {
    NO_ROUTE(c);
    return;
  }
  order_t *o = store_find_order(c->s, woo_seg_id(c, 1));
  if (!o) {
    woo_error(c->rep, 404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.");
  } else if (c->nseg == 3 && woo_method(c, "GET")) {
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < o->ntrackings; i++) cJSON_AddItemToArray(arr, woo_tracking_json(&o->trackings[i]));
    reply_json(c->rep, 200, arr);
  } else if (c->nseg == 3 && woo_method(c, "POST")) {
    add_tracking(c, o);
  } else {
    NO_ROUTE(c);
  }
}

/* ---- webhooks ---- */

static bool valid_webhook_status(const char *s) {
  return strcmp(s, "active") == 0 || strcmp(s, "paused") == 0 || strcmp(s, "disabled") == 0;
}

static void update_webhook(woo_call *c, webhook_t *w) {
  cJSON *in = req_json(c->req);
  const char *status = jstr(in, "status");
  if (status && !valid_webhook_status(status)) {
    woo_error(c->rep, 400, "rest_invalid_param", "Invalid parameter(s): status");
    cJSON_Delete(in);
    return;
  }
  if (status) {
    /* Re-activation starts a new count of consecutive failures. */
    if (strcmp(status, "active") == 0 && strcmp(w->status, "active") != 0) w->failures = 0;
    set_str(&w->status, status);
  }
  if (jstr(in, "delivery_url")) set_str(&w->address, jstr(in, "delivery_url"));
  if (jstr(in, "secret")) set_str(&w->secret, jstr(in, "secret"));
  if (jstr(in, "name")) set_str(&w->name, jstr(in, "name"));
  if (jstr(in, "topic")) set_str(&w->topic, jstr(in, "topic"));
  w->updated_ms = now_ms();
  reply_json(c->rep, 200, webhook_json(c->s, w));
  cJSON_Delete(in);
}

static void create_webhook(woo_call *c) {
  cJSON *in = req_json(c->req);
  const char *topic = jstr(in, "topic"), *url = jstr(in, "delivery_url"), *status = jstr(in, "status");
  if (!topic || !url) {
    woo_error(c->rep, 400, "rest_missing_callback_param", "Missing parameter(s): topic, delivery_url");
  } else if (status && !valid_webhook_status(status)) {
    woo_error(c->rep, 400, "rest_invalid_param", "Invalid parameter(s): status");
  } else {
    webhook_t *w = webhook_add(c->s, topic, url, jstr(in, "secret"), jstr(in, "name"));
    if (status) set_str(&w->status, status);
    reply_json(c->rep, 201, webhook_json(c->s, w));
  }
  cJSON_Delete(in);
}

void woo_webhooks(woo_call *c) {
  if (c->nseg == 1) {
    if (woo_method(c, "GET")) {
      woo_page pg;
      if (!woo_read_page(c, &pg)) return;
      const char *status = req_query(c->req, "status");
      cJSON *all = cJSON_CreateArray();
      for (size_t i = 0; i < c->s->nwebhooks; i++)
        if (!status || strcmp(status, "all") == 0 || strcmp(status, c->s->webhooks[i].status) == 0)
          cJSON_AddItemToArray(all, webhook_json(c->s, &c->s->webhooks[i]));
      woo_reply_page(c, &pg, all);
    } else if (woo_method(c, "POST")) {
      create_webhook(c);
    } else {
      NO_ROUTE(c);
    }
    return;
  }
  webhook_t *w = store_find_webhook(c->s, woo_seg_id(c, 1));
  if (!w) woo_error(c->rep, 404, "woocommerce_rest_webhook_invalid_id", "Invalid ID.");
  else if (woo_method(c, "GET")) reply_json(c->rep, 200, webhook_json(c->s, w));
  else if (woo_method(c, "PUT")) update_webhook(c, w);
  else if (woo_method(c, "DELETE")) {
    reply_json(c->rep, 200, webhook_json(c->s, w));
    store_remove_webhook(c->s, w->id);
  } else NO_ROUTE(c);
}
