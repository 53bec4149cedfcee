#include "control.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "shopify_bulk.h"
#include "orders.h"
#include "util.h"
#include "webhooks.h"
#include "woo.h"

typedef struct {
  http_request *req;
  http_reply *rep;
  const char *seg[8];
  int nseg;
  char buf[512];
  cJSON *body;
  store_t *s;
} ctl_t;

static bool is(const ctl_t *c, int i, const char *text) { return i < c->nseg && strcmp(c->seg[i], text) == 0; }
static bool method(const ctl_t *c, const char *m) { return strcmp(c->req->method, m) == 0; }
static bool writes(const ctl_t *c) { return method(c, "POST") || method(c, "PUT") || method(c, "PATCH"); }
static uint64_t seg_id(const ctl_t *c, int i) { return i < c->nseg ? strtoull(c->seg[i], NULL, 10) : 0; }

static void not_found(ctl_t *c) { reply_error(c->rep, 404, "no such control route; see docs/shopsim.md"); }

/* ---- store summary ---- */

static cJSON *store_summary(store_t *s) {
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "id", s->id);
  cJSON_AddStringToObject(j, "platform", s->platform == PLATFORM_SHOPIFY ? "shopify" : "woocommerce");
  cJSON_AddStringToObject(j, "plan", plan_name(s->plan));
  cJSON_AddStringToObject(j, "shop_domain", s->shop_domain);
  cJSON_AddBoolToObject(j, "shipment_tracking", s->shipment_tracking);
  cJSON_AddStringToObject(j, "throttle_mode", throttle_mode_name(s->throttle_mode));
  cJSON_AddNumberToObject(j, "webhook_delay_ms", (double)s->webhook_delay_ms);
  bucket_refill(&s->bucket);
  cJSON *b = cJSON_AddObjectToObject(j, "bucket");
  cJSON_AddNumberToObject(b, "size", s->bucket.size);
  cJSON_AddNumberToObject(b, "available", s->bucket.available);
  cJSON_AddNumberToObject(b, "restore_rate", s->bucket.rate);
  cJSON *locs = cJSON_AddArrayToObject(j, "locations");
  for (int i = 0; i < s->nlocations; i++) {
    cJSON *l = cJSON_CreateObject();
    cJSON_AddNumberToObject(l, "id", (double)s->locations[i].id);
    char gid[96];
    gid_fmt("Location", s->locations[i].id, gid);
    cJSON_AddStringToObject(l, "gid", gid);
    cJSON_AddStringToObject(l, "name", s->locations[i].name);
    cJSON_AddItemToArray(locs, l);
  }
  cJSON_AddNumberToObject(j, "products", (double)s->nproducts);
  cJSON_AddNumberToObject(j, "orders", (double)s->norders);
  return j;
}

/* ---- seeding ---- */

static cJSON *variant_summary(store_t *s, const variant_t *v) {
  cJSON *j = cJSON_CreateObject();
  cJSON_AddNumberToObject(j, "id", (double)v->id);
  cJSON_AddStringToObject(j, "sku", v->sku);
  cJSON_AddStringToObject(j, "barcode", v->barcode);
  if (s->platform == PLATFORM_SHOPIFY) {
    char gid[96];
    gid_fmt("ProductVariant", v->id, gid);
    cJSON_AddStringToObject(j, "gid", gid);
    cJSON_AddNumberToObject(j, "inventory_item_id", (double)v->inventory_item_id);
    gid_fmt("InventoryItem", v->inventory_item_id, gid);
    cJSON_AddStringToObject(j, "inventory_item_gid", gid);
  }
  cJSON_AddNumberToObject(j, "available", (double)v->levels[0].available);
  return j;
}

static cJSON *product_summary(store_t *s, const product_t *p) {
  cJSON *j = cJSON_CreateObject();
  cJSON_AddNumberToObject(j, "id", (double)p->id);
  if (s->platform == PLATFORM_SHOPIFY) {
    char gid[96];
    gid_fmt("Product", p->id, gid);
    cJSON_AddStringToObject(j, "gid", gid);
  }
  cJSON_AddStringToObject(j, "title", p->title);
  cJSON_AddStringToObject(j, "status", p->status);
  cJSON_AddStringToObject(j, "type", p->variable ? "variable" : "simple");
  cJSON_AddBoolToObject(j, "virtual", p->is_virtual);
  cJSON *vars = cJSON_AddArrayToObject(j, "variants");
  for (size_t i = 0; i < p->nvariants; i++) cJSON_AddItemToArray(vars, variant_summary(s, p->variants[i]));
  return j;
}

static void add_categories(product_t *p, const cJSON *cats, long index) {
  int n = cJSON_GetArraySize(cats);
  if (n == 0) return;
  const cJSON *cat = cJSON_GetArrayItem(cats, (int)(index % n));
  if (cJSON_IsString(cat)) *VEC_PUSH(p->categories, p->ncategories) = xstrdup(cat->valuestring);
}

cJSON *control_seed(store_t *s, const cJSON *spec) {
  long count = jint(spec, "products", 10), nvar = jint(spec, "variants", 1), stock = jint(spec, "stock", 10);
  long virtual_every = jint(spec, "virtual_every", 0), draft_every = jint(spec, "draft_every", 0);
  const char *prefix = jstr(spec, "sku_prefix") ? jstr(spec, "sku_prefix") : "SKU";
  const cJSON *cats = cJSON_GetObjectItemCaseSensitive(spec, "categories");
  if (nvar < 1) nvar = 1;
  long base = (long)s->nproducts;
  cJSON *out = cJSON_CreateArray();
  for (long i = 0; i < count; i++) {
    long no = base + i + 1;
    char title[96], sku[96], barcode[32], vt[32];
    snprintf(title, sizeof title, "Product %ld", no);
    bool variable = s->platform == PLATFORM_WOO ? nvar > 1 : false;
    product_t *p = store_add_product(s, title, variable);
    for (long k = 0; k < nvar; k++) {
      snprintf(sku, sizeof sku, "%s-%05ld-%ld", prefix, no, k + 1);
      snprintf(barcode, sizeof barcode, "871%05ld%04ld%ld", no % 100000, k + 1, (no + k) % 10);
      snprintf(vt, sizeof vt, nvar > 1 ? "Size %ld" : "Default Title", k + 1);
      store_add_variant(s, p, sku, barcode, vt, stock);
    }
    if (virtual_every > 0 && no % virtual_every == 0) p->is_virtual = true;
    if (draft_every > 0 && no % draft_every == 0) set_str(&p->status, s->platform == PLATFORM_SHOPIFY ? "DRAFT" : "draft");
    add_categories(p, cats, i);
    cJSON_AddItemToArray(out, product_summary(s, p));
  }
  return out;
}

/* ---- stock ---- */

static cJSON *stock_row(store_t *s, const variant_t *v, int loc) {
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "sku", v->sku);
  cJSON_AddNumberToObject(j, "product_id", (double)v->product_id);
  cJSON_AddNumberToObject(j, "variant_id", (double)v->id);
  if (s->platform == PLATFORM_SHOPIFY) {
    cJSON_AddNumberToObject(j, "inventory_item_id", (double)v->inventory_item_id);
    cJSON_AddNumberToObject(j, "location_id", (double)s->locations[loc].id);
    cJSON_AddNumberToObject(j, "on_hand", (double)v->levels[loc].on_hand);
    cJSON_AddNumberToObject(j, "committed", (double)v->levels[loc].committed);
  }
  cJSON_AddBoolToObject(j, "manage_stock", v->manage_stock);
  cJSON_AddNumberToObject(j, "available", (double)v->levels[loc].available);
  return j;
}

static void get_stock(ctl_t *c) {
  store_t *s = c->s;
  const char *sku = req_query(c->req, "sku");
  cJSON *arr = cJSON_CreateArray();
  int nloc = s->platform == PLATFORM_SHOPIFY ? s->nlocations : 1;
  for (size_t i = 0; i < s->nproducts; i++)
    for (size_t k = 0; k < s->products[i]->nvariants; k++) {
      variant_t *v = s->products[i]->variants[k];
      if (sku && strcmp(sku, v->sku) != 0) continue;
      for (int l = 0; l < nloc; l++) cJSON_AddItemToArray(arr, stock_row(s, v, l));
    }
  reply_json(c->rep, 200, arr);
}

static bool set_one_stock(store_t *s, const cJSON *item, char *err, size_t len) {
  variant_t *v = store_find_sku(s, jstr(item, "sku"));
  double q;
  if (!v || !jnum(item, "quantity", &q)) {
    snprintf(err, len, "need a known sku and a quantity");
    return false;
  }
  int loc = 0;
  double lid;
  if (jnum(item, "location_id", &lid)) loc = store_location_index(s, (uint64_t)lid);
  if (loc < 0) {
    snprintf(err, len, "unknown location_id");
    return false;
  }
  const char *name = jstr(item, "name") ? jstr(item, "name") : "available";
  level_set(&v->levels[loc], name, clamp_long(q));
  v->updated_ms = now_ms();
  return true;
}

static void set_stock(ctl_t *c) {
  char err[160];
  const cJSON *items = cJSON_GetObjectItemCaseSensitive(c->body, "items");
  const cJSON *item;
  if (cJSON_IsArray(items)) {
    cJSON_ArrayForEach(item, items) if (!set_one_stock(c->s, item, err, sizeof err)) {
      reply_error(c->rep, 400, err);
      return;
    }
  } else if (!set_one_stock(c->s, c->body, err, sizeof err)) {
    reply_error(c->rep, 400, err);
    return;
  }
  reply_json(c->rep, 200, cJSON_Parse("{\"ok\":true}"));
}

/* ---- orders ---- */

static cJSON *refs_json(const qty_ref_t *r, size_t n, const char *ref_name, const char *qty_name) {
  cJSON *arr = cJSON_CreateArray();
  for (size_t i = 0; i < n; i++) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "id", (double)r[i].id);
    cJSON_AddNumberToObject(j, ref_name, (double)r[i].ref);
    cJSON_AddNumberToObject(j, qty_name, (double)r[i].qty);
    cJSON_AddItemToArray(arr, j);
  }
  return arr;
}

static cJSON *lines_detail(const order_t *o) {
  cJSON *lines = cJSON_CreateArray();
  for (size_t i = 0; i < o->nlines; i++) {
    const line_t *l = &o->lines[i];
    cJSON *lj = cJSON_CreateObject();
    cJSON_AddNumberToObject(lj, "id", (double)l->id);
    cJSON_AddStringToObject(lj, "sku", l->sku);
    cJSON_AddNumberToObject(lj, "quantity", (double)l->quantity);
    cJSON_AddNumberToObject(lj, "fulfilled", (double)l->fulfilled);
    cJSON_AddNumberToObject(lj, "refunded", (double)l->refunded);
    cJSON_AddNumberToObject(lj, "returned", (double)l->returned);
    cJSON_AddItemToArray(lines, lj);
  }
  return lines;
}

/* Fulfillment orders and fulfillments (Shopify). */
static void add_fulfilment_detail(cJSON *j, const order_t *o) {
  cJSON *fos = cJSON_AddArrayToObject(j, "fulfillment_orders");
  for (size_t i = 0; i < o->nfos; i++) {
    cJSON *fj = cJSON_CreateObject();
    cJSON_AddNumberToObject(fj, "id", (double)o->fos[i].id);
    cJSON_AddStringToObject(fj, "status", o->fos[i].status);
    cJSON_AddItemToObject(fj, "lines", refs_json(o->fos[i].lines, o->fos[i].nlines, "line_id", "remaining"));
    cJSON_AddItemToArray(fos, fj);
  }
  cJSON *fuls = cJSON_AddArrayToObject(j, "fulfillments");
  for (size_t i = 0; i < o->nfuls; i++) {
    const fulfillment_t *f = &o->fuls[i];
    cJSON *fj = cJSON_CreateObject();
    cJSON_AddNumberToObject(fj, "id", (double)f->id);
    cJSON_AddStringToObject(fj, "company", f->company ? f->company : "");
    cJSON_AddStringToObject(fj, "number", f->number ? f->number : "");
    cJSON_AddStringToObject(fj, "url", f->url ? f->url : "");
    cJSON_AddItemToObject(fj, "lines", refs_json(f->lines, f->nlines, "line_id", "quantity"));
    cJSON_AddItemToArray(fuls, fj);
  }
}

/* Notes, trackings (WooCommerce), refunds and returns. */
static void add_after_sale_detail(cJSON *j, const order_t *o) {
  cJSON *notes = cJSON_AddArrayToObject(j, "notes");
  for (size_t i = 0; i < o->nnotes; i++) cJSON_AddItemToArray(notes, woo_note_json(&o->notes[i]));
  cJSON *tr = cJSON_AddArrayToObject(j, "trackings");
  for (size_t i = 0; i < o->ntrackings; i++) cJSON_AddItemToArray(tr, woo_tracking_json(&o->trackings[i]));
  cJSON *rf = cJSON_AddArrayToObject(j, "refunds");
  for (size_t i = 0; i < o->nrefunds; i++) {
    cJSON *r = cJSON_CreateObject();
    cJSON_AddNumberToObject(r, "id", (double)o->refunds[i].id);
    cJSON_AddStringToObject(r, "amount", o->refunds[i].amount);
    cJSON_AddBoolToObject(r, "restock", o->refunds[i].restock);
    cJSON_AddItemToObject(r, "lines", refs_json(o->refunds[i].lines, o->refunds[i].nlines, "line_id", "quantity"));
    cJSON_AddItemToArray(rf, r);
  }
  cJSON *rt = cJSON_AddArrayToObject(j, "returns");
  for (size_t i = 0; i < o->nreturns; i++) {
    cJSON *r = cJSON_CreateObject();
    cJSON_AddNumberToObject(r, "id", (double)o->returns[i].id);
    cJSON_AddStringToObject(r, "status", o->returns[i].status);
    cJSON_AddItemToObject(r, "lines", refs_json(o->returns[i].lines, o->returns[i].nlines, "fulfillment_line_id", "quantity"));
    cJSON_AddItemToArray(rt, r);
  }
}

/* The control API's own view of an order: platform-neutral, with the
 * bookkeeping (fulfilled, refunded, returned) tests assert on. */
static cJSON *order_detail(store_t *s, const order_t *o) {
  cJSON *j = cJSON_CreateObject();
  char buf[96];
  cJSON_AddNumberToObject(j, "id", (double)o->id);
  if (s->platform == PLATFORM_SHOPIFY) {
    gid_fmt("Order", o->id, buf);
    cJSON_AddStringToObject(j, "gid", buf);
  }
  cJSON_AddNumberToObject(j, "number", (double)o->number);
  cJSON_AddStringToObject(j, "name", o->name);
  cJSON_AddStringToObject(j, "status", o->status);
  cJSON_AddStringToObject(j, "financial_status", o->financial_status);
  cJSON_AddStringToObject(j, "fulfillment_status", order_fulfillment_status(o));
  cJSON_AddBoolToObject(j, "cancelled", o->cancelled_ms > 0);
  cJSON_AddBoolToObject(j, "closed", o->closed);
  cJSON_AddItemToObject(j, "tags", o->tags ? cJSON_Duplicate(o->tags, 1) : cJSON_CreateArray());
  fmt_time(o->updated_ms, true, buf);
  cJSON_AddStringToObject(j, "updated_at", buf);
  cJSON_AddItemToObject(j, "lines", lines_detail(o));
  add_fulfilment_detail(j, o);
  add_after_sale_detail(j, o);
  return j;
}

static void place_order(ctl_t *c) {
  char err[200];
  order_t *o = order_place(c->s, c->body, err, sizeof err);
  if (!o) {
    reply_error(c->rep, 400, err);
    return;
  }
  webhooks_emit(c->s, EV_ORDER_CREATE, o->id);
  reply_json(c->rep, 201, order_detail(c->s, o));
}

static void order_routes(ctl_t *c) {
  store_t *s = c->s;
  if (c->nseg == 3) {
    if (method(c, "POST")) {
      place_order(c);
    } else {
      cJSON *arr = cJSON_CreateArray();
      for (size_t i = 0; i < s->norders; i++) cJSON_AddItemToArray(arr, order_detail(s, s->orders[i]));
      reply_json(c->rep, 200, arr);
    }
    return;
  }
  order_t *o = store_find_order(s, seg_id(c, 3));
  char err[200];
  if (!o) {
    reply_error(c->rep, 404, "no such order");
  } else if (is(c, 4, "cancel") && method(c, "POST")) {
    order_cancel(s, o, jstr(c->body, "reason"));
    webhooks_emit(s, EV_ORDER_CANCELLED, o->id);
    if (s->platform == PLATFORM_SHOPIFY) webhooks_emit(s, EV_ORDER_UPDATED, o->id);
    reply_json(c->rep, 200, order_detail(s, o));
  } else if (c->nseg == 4 && writes(c)) {
    if (!order_change(s, o, c->body, err, sizeof err)) {
      reply_error(c->rep, 400, err);
      return;
    }
    webhooks_emit(s, o->cancelled_ms ? EV_ORDER_CANCELLED : EV_ORDER_UPDATED, o->id);
    reply_json(c->rep, 200, order_detail(s, o));
  } else if (c->nseg == 4) {
    reply_json(c->rep, 200, order_detail(s, o));
  } else {
    not_found(c);
  }
}

/* ---- products ---- */

static void create_product(ctl_t *c) {
  const cJSON *vars = cJSON_GetObjectItemCaseSensitive(c->body, "variants");
  int n = cJSON_GetArraySize(vars);
  const char *type = jstr(c->body, "type");
  bool variable = c->s->platform == PLATFORM_WOO && (type ? strcmp(type, "variable") == 0 : n > 1);
  product_t *p = store_add_product(c->s, jstr(c->body, "title") ? jstr(c->body, "title") : "Product", variable);
  if (jstr(c->body, "status")) set_str(&p->status, jstr(c->body, "status"));
  p->is_virtual = jbool(c->body, "virtual", false);
  const cJSON *v;
  cJSON_ArrayForEach(v, vars) {
    variant_t *nv = store_add_variant(c->s, p, jstr(v, "sku"), jstr(v, "barcode"), jstr(v, "title"), jint(v, "stock", 0));
    if (jstr(v, "price")) set_str(&nv->price, jstr(v, "price"));
    nv->manage_stock = jbool(v, "manage_stock", true);
  }
  if (n == 0) store_add_variant(c->s, p, jstr(c->body, "sku"), jstr(c->body, "barcode"), NULL, jint(c->body, "stock", 0));
  const cJSON *cat;
  cJSON_ArrayForEach(cat, cJSON_GetObjectItemCaseSensitive(c->body, "categories")) if (cJSON_IsString(cat)) *VEC_PUSH(p->categories, p->ncategories) = xstrdup(cat->valuestring);
  reply_json(c->rep, 201, product_summary(c->s, p));
}

static void change_product(ctl_t *c, product_t *p) {
  if (jstr(c->body, "title")) set_str(&p->title, jstr(c->body, "title"));
  if (jstr(c->body, "status")) set_str(&p->status, jstr(c->body, "status"));
  if (cJSON_GetObjectItemCaseSensitive(c->body, "virtual")) p->is_virtual = jbool(c->body, "virtual", false);
  const cJSON *v;
  cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(c->body, "variants")) {
    variant_t *var = store_find_sku(c->s, jstr(v, "sku"));
    if (!var || var->product_id != p->id) continue;
    if (jstr(v, "barcode")) set_str(&var->barcode, jstr(v, "barcode"));
    if (jstr(v, "price")) set_str(&var->price, jstr(v, "price"));
    if (jstr(v, "new_sku")) set_str(&var->sku, jstr(v, "new_sku"));
    var->updated_ms = now_ms();
  }
  store_touch_product(p);
  webhooks_emit(c->s, EV_PRODUCT_UPDATE, p->id);
  reply_json(c->rep, 200, product_summary(c->s, p));
}

static void product_routes(ctl_t *c) {
  if (c->nseg == 3 && method(c, "POST")) {
    create_product(c);
  } else if (c->nseg == 3) {
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < c->s->nproducts; i++) cJSON_AddItemToArray(arr, product_summary(c->s, c->s->products[i]));
    reply_json(c->rep, 200, arr);
  } else {
    product_t *p = store_lookup(c->s, OBJ_PRODUCT, seg_id(c, 3));
    if (!p) reply_error(c->rep, 404, "no such product");
    else if (writes(c)) change_product(c, p);
    else reply_json(c->rep, 200, product_summary(c->s, p));
  }
}

/* ---- logs, counters, faults, settings, webhooks ---- */

static void get_calls(ctl_t *c) {
  store_t *s = c->s;
  const char *since_q = req_query(c->req, "since");
  uint64_t since = since_q ? strtoull(since_q, NULL, 10) : 0;
  uint64_t first = s->ncalls > SIM_CALL_LOG ? s->ncalls - SIM_CALL_LOG + 1 : 1;
  cJSON *arr = cJSON_CreateArray();
  for (uint64_t seq = first > since + 1 ? first : since + 1; seq <= s->ncalls; seq++) {
    call_t *cl = &s->calls[(seq - 1) % SIM_CALL_LOG];
    cJSON *j = cJSON_CreateObject();
    char ts[32];
    fmt_time(cl->ms, true, ts);
    cJSON_AddNumberToObject(j, "seq", (double)cl->seq);
    cJSON_AddStringToObject(j, "at", ts);
    cJSON_AddStringToObject(j, "method", cl->method);
    cJSON_AddStringToObject(j, "path", cl->path ? cl->path : "");
    cJSON_AddStringToObject(j, "op", cl->op ? cl->op : "");
    if (cl->query) cJSON_AddStringToObject(j, "query", cl->query);
    cJSON_AddNumberToObject(j, "status", cl->status);
    cJSON_AddBoolToObject(j, "throttled", cl->throttled);
    cJSON_AddNumberToObject(j, "cost", cl->cost);
    cJSON_AddNumberToObject(j, "actual_cost", cl->actual_cost);
    cJSON_AddItemToArray(arr, j);
  }
  reply_json(c->rep, 200, arr);
}

static cJSON *counters_json(const counters_t *k) {
  cJSON *j = cJSON_CreateObject();
  cJSON_AddNumberToObject(j, "calls", (double)k->calls);
  cJSON_AddNumberToObject(j, "throttled", (double)k->throttled);
  cJSON_AddNumberToObject(j, "faults", (double)k->faults);
  cJSON_AddNumberToObject(j, "unauthorized", (double)k->unauthorized);
  cJSON_AddNumberToObject(j, "queries", (double)k->queries);
  cJSON_AddNumberToObject(j, "mutations", (double)k->mutations);
  cJSON_AddNumberToObject(j, "rest_calls", (double)k->rest_calls);
  cJSON_AddNumberToObject(j, "quantities_set", (double)k->quantities_set);
  cJSON_AddNumberToObject(j, "idempotent_replays", (double)k->idempotent_replays);
  cJSON_AddNumberToObject(j, "webhooks_sent", (double)k->webhooks_sent);
  cJSON_AddNumberToObject(j, "webhooks_failed", (double)k->webhooks_failed);
  cJSON_AddNumberToObject(j, "webhooks_dropped", (double)k->webhooks_dropped);
  return j;
}

static void apply_settings(ctl_t *c) {
  store_t *s = c->s;
  const cJSON *b = c->body;
  int mode = throttle_mode_parse(jstr(b, "throttle_mode") ? jstr(b, "throttle_mode") : throttle_mode_name(s->throttle_mode));
  int plan = jstr(b, "plan") ? plan_parse(jstr(b, "plan")) : s->plan;
  if (mode < 0 || plan < 0) {
    reply_error(c->rep, 400, "unknown plan or throttle_mode");
    return;
  }
  s->throttle_mode = (throttle_mode_t)mode;
  if (plan != s->plan) s->bucket.rate = plan_restore_rate(plan);
  s->plan = plan;
  double d;
  bucket_refill(&s->bucket);
  if (jnum(b, "bucket_size", &d) && d > 0) s->bucket.size = d;
  if (jnum(b, "restore_rate", &d) && d > 0) s->bucket.rate = d;
  if (jnum(b, "bucket_available", &d)) s->bucket.available = d < 0 ? 0 : d > s->bucket.size ? s->bucket.size : d;
  if (s->bucket.available > s->bucket.size) s->bucket.available = s->bucket.size;
  if (cJSON_GetObjectItemCaseSensitive(b, "shipment_tracking")) s->shipment_tracking = jbool(b, "shipment_tracking", false);
  if (jstr(b, "weight_unit")) snprintf(s->weight_unit, sizeof s->weight_unit, "%s", jstr(b, "weight_unit"));
  if (jstr(b, "dimension_unit")) snprintf(s->dimension_unit, sizeof s->dimension_unit, "%s", jstr(b, "dimension_unit"));
  if (jnum(b, "webhook_delay_ms", &d)) s->webhook_delay_ms = d < 0 ? 0 : clamp_long(d);
  reply_json(c->rep, 200, store_summary(s));
}

static cJSON *webhook_detail(store_t *s, const webhook_t *w) {
  cJSON *j = webhook_json(s, w);
  char gid[96];
  if (s->platform == PLATFORM_SHOPIFY) {
    gid_fmt("WebhookSubscription", w->id, gid);
    cJSON_AddStringToObject(j, "gid", gid);
  }
  cJSON_AddNumberToObject(j, "failures", w->failures);
  return j;
}

static void webhook_routes(ctl_t *c) {
  store_t *s = c->s;
  if (method(c, "POST")) {
    const char *topic = jstr(c->body, "topic"), *address = jstr(c->body, "address");
    if (!address) address = jstr(c->body, "delivery_url");
    if (!topic || !address) {
      reply_error(c->rep, 400, "topic and address are required");
      return;
    }
    webhook_t *w = webhook_add(s, topic, address, jstr(c->body, "secret"), jstr(c->body, "name"));
    reply_json(c->rep, 201, webhook_detail(s, w));
    return;
  }
  cJSON *arr = cJSON_CreateArray();
  for (size_t i = 0; i < s->nwebhooks; i++) cJSON_AddItemToArray(arr, webhook_detail(s, &s->webhooks[i]));
  reply_json(c->rep, 200, arr);
}

static void get_deliveries(ctl_t *c) {
  store_t *s = c->s;
  uint64_t first = s->ndeliveries > SIM_DELIVERY_LOG ? s->ndeliveries - SIM_DELIVERY_LOG : 0;
  cJSON *arr = cJSON_CreateArray();
  for (uint64_t i = first; i < s->ndeliveries; i++) {
    delivery_t *d = &s->deliveries[i % SIM_DELIVERY_LOG];
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "webhook_id", (double)d->webhook_id);
    cJSON_AddStringToObject(j, "topic", d->topic);
    cJSON_AddStringToObject(j, "delivery_id", d->delivery_id);
    cJSON_AddNumberToObject(j, "attempt", d->attempt);
    cJSON_AddNumberToObject(j, "status", d->status);
    cJSON_AddStringToObject(j, "outcome", d->outcome);
    cJSON_AddItemToArray(arr, j);
  }
  reply_json(c->rep, 200, arr);
}

static void reset_logs(store_t *s) {
  memset(&s->counters, 0, sizeof s->counters);
  for (size_t i = 0; i < SIM_CALL_LOG; i++) {
    free(s->calls[i].path);
    free(s->calls[i].op);
    free(s->calls[i].query);
  }
  memset(s->calls, 0, sizeof s->calls);
  s->ncalls = 0;
  s->ndeliveries = 0;
}

/* Routes /stores/{id}/<what> with the store locked. */
static void store_routes(ctl_t *c) {
  store_t *s = c->s;
  if (c->nseg == 2) {
    if (method(c, "DELETE")) {
      store_delete(s->id);
      reply_json(c->rep, 200, cJSON_Parse("{\"deleted\":true}"));
    } else {
      reply_json(c->rep, 200, store_summary(s));
    }
  } else if (is(c, 2, "seed") && method(c, "POST")) {
    reply_json(c->rep, 201, control_seed(s, c->body));
  } else if (is(c, 2, "products")) {
    product_routes(c);
  } else if (is(c, 2, "stock")) {
    if (writes(c)) set_stock(c);
    else get_stock(c);
  } else if (is(c, 2, "orders")) {
    order_routes(c);
  } else if (is(c, 2, "calls")) {
    if (method(c, "DELETE")) {
      reset_logs(s);
      reply_json(c->rep, 200, cJSON_Parse("{\"ok\":true}"));
    } else {
      get_calls(c);
    }
  } else if (is(c, 2, "counters")) {
    reply_json(c->rep, 200, counters_json(&s->counters));
  } else if (is(c, 2, "faults")) {
    if (writes(c)) faults_configure(&s->faults, c->body);
    reply_json(c->rep, 200, faults_json(&s->faults));
  } else if (is(c, 2, "settings") && writes(c)) {
    apply_settings(c);
  } else if (is(c, 2, "webhooks")) {
    webhook_routes(c);
  } else if (is(c, 2, "deliveries")) {
    get_deliveries(c);
  } else if (is(c, 2, "bulk")) {
    bulk_control(s, c->req->method, c->nseg > 3 ? c->seg[3] : NULL, c->body, c->rep);
  } else if (is(c, 2, "uninstall") && method(c, "POST")) {
    webhooks_emit(s, EV_APP_UNINSTALLED, 0);
    reply_json(c->rep, 200, cJSON_Parse("{\"ok\":true}"));
  } else {
    not_found(c);
  }
}

static void create_store(ctl_t *c) {
  char err[200];
  if (!c->body) {
    reply_error(c->rep, 400, "JSON body required");
    return;
  }
  store_t *s = store_create(c->body, err, sizeof err);
  if (!s) {
    reply_error(c->rep, strstr(err, "exists") ? 409 : 400, err);
    return;
  }
  pthread_mutex_lock(&s->mu);
  const cJSON *seed = cJSON_GetObjectItemCaseSensitive(c->body, "seed");
  if (cJSON_IsObject(seed)) cJSON_Delete(control_seed(s, seed));
  cJSON *summary = store_summary(s);
  pthread_mutex_unlock(&s->mu);
  log_kv("info", "store created", "store", s->id, "platform", jstr(c->body, "platform"), NULL);
  reply_json(c->rep, 201, summary);
}

static void clock_route(ctl_t *c) {
  double f;
  if (writes(c) && jnum(c->body, "factor", &f)) clock_set_factor(f);
  cJSON *j = cJSON_CreateObject();
  cJSON_AddNumberToObject(j, "factor", clock_factor());
  reply_json(c->rep, 200, j);
}

static void split(ctl_t *c) {
  snprintf(c->buf, sizeof c->buf, "%s", c->req->path);
  char *save = NULL;
  for (char *t = strtok_r(c->buf, "/", &save); t && c->nseg < 8; t = strtok_r(NULL, "/", &save)) c->seg[c->nseg++] = t;
}

void control_handle(http_request *req, http_reply *rep) {
  ctl_t c = {.req = req, .rep = rep};
  split(&c);
  c.body = req_json(req);
  if (writes(&c) && req->body_len > 0 && !c.body) {
    reply_error(rep, 400, "invalid JSON body");
  } else if (c.nseg == 0 || is(&c, 0, "health")) {
    reply_json(rep, 200, cJSON_Parse("{\"ok\":true}"));
  } else if (is(&c, 0, "clock")) {
    clock_route(&c);
  } else if (is(&c, 0, "webhooks") && is(&c, 1, "pending")) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "pending", webhooks_pending());
    reply_json(rep, 200, j);
  } else if (is(&c, 0, "stores") && c.nseg == 1) {
    if (method(&c, "POST")) create_store(&c);
    else reply_json(rep, 200, stores_list());
  } else if (is(&c, 0, "stores")) {
    c.s = store_find(c.seg[1]);
    if (!c.s) {
      reply_error(rep, 404, "no such store");
    } else {
      if (!c.body) c.body = cJSON_CreateObject();
      pthread_mutex_lock(&c.s->mu);
      store_routes(&c);
      pthread_mutex_unlock(&c.s->mu);
    }
  } else {
    not_found(&c);
  }
  cJSON_Delete(c.body);
}
