/* WooCommerce resource JSON, shaped as REST API v3 returns it. */
#include <stdio.h>
#include <stdlib.h>

#include "http.h"
#include "orders.h"
#include "util.h"
#include "woo.h"

void woo_error(http_reply *rep, int status, const char *code, const char *message) {
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "code", code);
  cJSON_AddStringToObject(j, "message", message);
  cJSON *data = cJSON_AddObjectToObject(j, "data");
  cJSON_AddNumberToObject(data, "status", status);
  reply_json(rep, status, j);
}

static void add_dates(cJSON *j, const char *name, int64_t ms) {
  char key[48], buf[32];
  if (ms <= 0) {
    cJSON_AddNullToObject(j, name);
    snprintf(key, sizeof key, "%s_gmt", name);
    cJSON_AddNullToObject(j, key);
    return;
  }
  fmt_time(ms, false, buf); /* the simulated shops run on UTC: local == GMT */
  cJSON_AddStringToObject(j, name, buf);
  snprintf(key, sizeof key, "%s_gmt", name);
  cJSON_AddStringToObject(j, key, buf);
}

static const char *stock_status(const variant_t *v) {
  return !v->manage_stock || v->levels[0].available > 0 ? "instock" : "outofstock";
}

static void add_stock(cJSON *j, const variant_t *v) {
  cJSON_AddBoolToObject(j, "manage_stock", v->manage_stock);
  if (v->manage_stock) cJSON_AddNumberToObject(j, "stock_quantity", (double)v->levels[0].available);
  else cJSON_AddNullToObject(j, "stock_quantity");
  cJSON_AddStringToObject(j, "stock_status", stock_status(v));
  cJSON_AddStringToObject(j, "backorders", "no");
}

static void add_weight(cJSON *j, const variant_t *v) {
  char w[32];
  snprintf(w, sizeof w, "%.2f", v->weight);
  cJSON_AddStringToObject(j, "weight", w);
  cJSON *d = cJSON_AddObjectToObject(j, "dimensions");
  cJSON_AddStringToObject(d, "length", "10");
  cJSON_AddStringToObject(d, "width", "10");
  cJSON_AddStringToObject(d, "height", "5");
}

unsigned woo_category_id(const char *name) {
  unsigned h = 5381;
  for (const char *c = name; *c; c++) h = h * 33 + (unsigned char)*c;
  return 10 + h % 100000;
}

static cJSON *categories_json(const product_t *p) {
  cJSON *arr = cJSON_CreateArray();
  for (size_t i = 0; i < p->ncategories; i++) {
    cJSON *c = cJSON_CreateObject();
    cJSON_AddNumberToObject(c, "id", woo_category_id(p->categories[i]));
    cJSON_AddStringToObject(c, "name", p->categories[i]);
    cJSON_AddStringToObject(c, "slug", p->categories[i]);
    cJSON_AddItemToArray(arr, c);
  }
  return arr;
}

cJSON *woo_product_json(store_t *s, const product_t *p) {
  cJSON *j = cJSON_CreateObject();
  char buf[256];
  cJSON_AddNumberToObject(j, "id", (double)p->id);
  cJSON_AddStringToObject(j, "name", p->title);
  snprintf(buf, sizeof buf, "product-%llu", (unsigned long long)p->id);
  cJSON_AddStringToObject(j, "slug", buf);
  snprintf(buf, sizeof buf, "https://%s/product/product-%llu/", s->shop_domain, (unsigned long long)p->id);
  cJSON_AddStringToObject(j, "permalink", buf);
  add_dates(j, "date_created", p->created_ms);
  add_dates(j, "date_modified", p->updated_ms);
  cJSON_AddStringToObject(j, "type", p->variable ? "variable" : "simple");
  cJSON_AddStringToObject(j, "status", p->status);
  cJSON_AddBoolToObject(j, "featured", false);
  cJSON_AddStringToObject(j, "catalog_visibility", "visible");
  cJSON_AddStringToObject(j, "description", "");
  cJSON_AddStringToObject(j, "short_description", "");
  const variant_t *v0 = p->nvariants ? p->variants[0] : NULL;
  cJSON_AddStringToObject(j, "sku", !p->variable && v0 ? v0->sku : "");
  cJSON_AddStringToObject(j, "global_unique_id", !p->variable && v0 ? v0->barcode : "");
  cJSON_AddStringToObject(j, "price", v0 ? v0->price : "");
  cJSON_AddStringToObject(j, "regular_price", !p->variable && v0 ? v0->price : "");
  cJSON_AddStringToObject(j, "sale_price", "");
  cJSON_AddBoolToObject(j, "virtual", p->is_virtual);
  cJSON_AddBoolToObject(j, "downloadable", false);
  if (!p->variable && v0) {
    add_stock(j, v0);
    add_weight(j, v0);
  } else {
    cJSON_AddBoolToObject(j, "manage_stock", false);
    cJSON_AddNullToObject(j, "stock_quantity");
    cJSON_AddStringToObject(j, "stock_status", "instock");
    cJSON_AddStringToObject(j, "weight", "");
  }
  cJSON_AddItemToObject(j, "categories", categories_json(p));
  cJSON *vars = cJSON_AddArrayToObject(j, "variations");
  for (size_t i = 0; p->variable && i < p->nvariants; i++) cJSON_AddItemToArray(vars, cJSON_CreateNumber((double)p->variants[i]->id));
  cJSON *attrs = cJSON_AddArrayToObject(j, "attributes");
  if (p->variable) {
    cJSON *a = cJSON_CreateObject();
    cJSON_AddNumberToObject(a, "id", 0);
    cJSON_AddStringToObject(a, "name", "Variant");
    cJSON_AddBoolToObject(a, "variation", true);
    cJSON *opts = cJSON_AddArrayToObject(a, "options");
    for (size_t i = 0; i < p->nvariants; i++) cJSON_AddItemToArray(opts, cJSON_CreateString(p->variants[i]->title));
    cJSON_AddItemToArray(attrs, a);
  }
  cJSON_AddNumberToObject(j, "parent_id", 0);
  cJSON_AddItemToObject(j, "meta_data", cJSON_CreateArray());
  return j;
}

cJSON *woo_variation_json(store_t *s, const product_t *p, const variant_t *v) {
  cJSON *j = cJSON_CreateObject();
  char buf[256];
  cJSON_AddNumberToObject(j, "id", (double)v->id);
  cJSON_AddNumberToObject(j, "parent_id", (double)p->id);
  add_dates(j, "date_created", v->created_ms);
  add_dates(j, "date_modified", v->updated_ms);
  snprintf(buf, sizeof buf, "https://%s/product/product-%llu/?attribute_variant=%s", s->shop_domain,
           (unsigned long long)p->id, v->title);
  cJSON_AddStringToObject(j, "permalink", buf);
  cJSON_AddStringToObject(j, "sku", v->sku);
  cJSON_AddStringToObject(j, "global_unique_id", v->barcode);
  cJSON_AddStringToObject(j, "price", v->price);
  cJSON_AddStringToObject(j, "regular_price", v->price);
  cJSON_AddStringToObject(j, "sale_price", "");
  cJSON_AddStringToObject(j, "status", "publish");
  cJSON_AddBoolToObject(j, "virtual", p->is_virtual);
  cJSON_AddBoolToObject(j, "downloadable", false);
  add_stock(j, v);
  add_weight(j, v);
  cJSON *attrs = cJSON_AddArrayToObject(j, "attributes");
  cJSON *a = cJSON_CreateObject();
  cJSON_AddNumberToObject(a, "id", 0);
  cJSON_AddStringToObject(a, "name", "Variant");
  cJSON_AddStringToObject(a, "option", v->title);
  cJSON_AddItemToArray(attrs, a);
  cJSON_AddNumberToObject(j, "menu_order", 0);
  cJSON_AddItemToObject(j, "meta_data", cJSON_CreateArray());
  return j;
}

static cJSON *woo_address(const cJSON *a, const order_t *o, bool billing) {
  static const char *map[][2] = {{"first_name", "first_name"}, {"last_name", "last_name"}, {"company", "company"},
                                 {"address_1", "address1"},   {"address_2", "address2"},   {"city", "city"},
                                 {"state", "province"},        {"postcode", "zip"},         {"country", "country"},
                                 {"phone", "phone"}};
  cJSON *j = cJSON_CreateObject();
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
    const char *v = jstr(a, map[i][1]);
    if (!v) v = jstr(a, map[i][0]);
    cJSON_AddStringToObject(j, map[i][0], v ? v : "");
  }
  if (billing) cJSON_AddStringToObject(j, "email", o->email ? o->email : "");
  return j;
}

static cJSON *line_items_json(const order_t *o) {
  cJSON *arr = cJSON_CreateArray();
  for (size_t i = 0; i < o->nlines; i++) {
    const line_t *l = &o->lines[i];
    cJSON *j = cJSON_CreateObject();
    char total[32];
    money_fmt(money_parse(l->price) * l->quantity, total);
    cJSON_AddNumberToObject(j, "id", (double)l->id);
    cJSON_AddStringToObject(j, "name", l->name);
    cJSON_AddNumberToObject(j, "product_id", (double)l->product_id);
    bool is_variation = l->variant_id && l->variant_id != l->product_id;
    cJSON_AddNumberToObject(j, "variation_id", is_variation ? (double)l->variant_id : 0);
    cJSON_AddNumberToObject(j, "quantity", (double)l->quantity);
    cJSON_AddStringToObject(j, "tax_class", "");
    cJSON_AddStringToObject(j, "subtotal", total);
    cJSON_AddStringToObject(j, "subtotal_tax", "0.00");
    cJSON_AddStringToObject(j, "total", total);
    cJSON_AddStringToObject(j, "total_tax", "0.00");
    cJSON_AddItemToObject(j, "taxes", cJSON_CreateArray());
    cJSON_AddItemToObject(j, "meta_data", cJSON_CreateArray());
    cJSON_AddStringToObject(j, "sku", l->sku);
    cJSON_AddNumberToObject(j, "price", strtod(l->price, NULL));
    cJSON_AddItemToArray(arr, j);
  }
  return arr;
}

static cJSON *shipping_lines_json(const order_t *o) {
  cJSON *arr = cJSON_CreateArray();
  cJSON *j = cJSON_CreateObject();
  cJSON_AddNumberToObject(j, "id", (double)(o->id + 1));
  cJSON_AddStringToObject(j, "method_title", o->shipping_title);
  cJSON_AddStringToObject(j, "method_id", o->shipping_code);
  cJSON_AddStringToObject(j, "instance_id", "1");
  cJSON_AddStringToObject(j, "total", o->shipping_total);
  cJSON_AddStringToObject(j, "total_tax", "0.00");
  cJSON_AddItemToObject(j, "taxes", cJSON_CreateArray());
  cJSON_AddItemToObject(j, "meta_data", cJSON_CreateArray());
  cJSON_AddItemToArray(arr, j);
  return arr;
}

cJSON *woo_order_json(store_t *s, const order_t *o) {
  (void)s;
  cJSON *j = cJSON_CreateObject();
  char buf[64];
  cJSON_AddNumberToObject(j, "id", (double)o->id);
  cJSON_AddNumberToObject(j, "parent_id", 0);
  snprintf(buf, sizeof buf, "%ld", o->number);
  cJSON_AddStringToObject(j, "number", buf);
  snprintf(buf, sizeof buf, "wc_order_%llx", (unsigned long long)o->id * 2654435761ull);
  cJSON_AddStringToObject(j, "order_key", buf);
  cJSON_AddStringToObject(j, "created_via", "checkout");
  cJSON_AddStringToObject(j, "version", "9.4.0");
  cJSON_AddStringToObject(j, "status", o->status);
  cJSON_AddStringToObject(j, "currency", o->currency);
  add_dates(j, "date_created", o->created_ms);
  add_dates(j, "date_modified", o->updated_ms);
  cJSON_AddStringToObject(j, "discount_total", "0.00");
  cJSON_AddStringToObject(j, "shipping_total", o->shipping_total);
  char total[32];
  money_fmt(order_total_cents(o), total);
  cJSON_AddStringToObject(j, "total", total);
  cJSON_AddStringToObject(j, "total_tax", "0.00");
  cJSON_AddBoolToObject(j, "prices_include_tax", false);
  cJSON_AddNumberToObject(j, "customer_id", 0);
  cJSON_AddStringToObject(j, "customer_note", o->customer_note ? o->customer_note : "");
  cJSON_AddItemToObject(j, "billing", woo_address(o->billing, o, true));
  cJSON_AddItemToObject(j, "shipping", woo_address(o->shipping, o, false));
  cJSON_AddStringToObject(j, "payment_method", "bacs");
  cJSON_AddStringToObject(j, "payment_method_title", "Direct bank transfer");
  cJSON_AddStringToObject(j, "transaction_id", "");
  add_dates(j, "date_paid", o->created_ms);
  add_dates(j, "date_completed", strcmp(o->status, "completed") == 0 ? o->updated_ms : 0);
  cJSON_AddItemToObject(j, "line_items", line_items_json(o));
  cJSON_AddItemToObject(j, "shipping_lines", shipping_lines_json(o));
  cJSON_AddItemToObject(j, "fee_lines", cJSON_CreateArray());
  cJSON_AddItemToObject(j, "coupon_lines", cJSON_CreateArray());
  cJSON *refunds = cJSON_AddArrayToObject(j, "refunds");
  for (size_t i = 0; i < o->nrefunds; i++) {
    cJSON *r = cJSON_CreateObject();
    char neg[40];
    snprintf(neg, sizeof neg, "-%s", o->refunds[i].amount);
    cJSON_AddNumberToObject(r, "id", (double)o->refunds[i].id);
    cJSON_AddStringToObject(r, "reason", o->refunds[i].reason ? o->refunds[i].reason : "");
    cJSON_AddStringToObject(r, "total", neg);
    cJSON_AddItemToArray(refunds, r);
  }
  cJSON_AddItemToObject(j, "meta_data", cJSON_CreateArray());
  return j;
}

cJSON *woo_refund_json(store_t *s, const order_t *o, const refund_t *r) {
  (void)s;
  cJSON *j = cJSON_CreateObject();
  cJSON_AddNumberToObject(j, "id", (double)r->id);
  add_dates(j, "date_created", r->created_ms);
  cJSON_AddStringToObject(j, "amount", r->amount);
  cJSON_AddStringToObject(j, "reason", r->reason ? r->reason : "");
  cJSON_AddNumberToObject(j, "refunded_by", 1);
  cJSON_AddBoolToObject(j, "refunded_payment", r->api_refund);
  cJSON *lines = cJSON_AddArrayToObject(j, "line_items");
  for (size_t i = 0; i < r->nlines; i++) {
    line_t *l = NULL;
    for (size_t k = 0; k < o->nlines; k++)
      if (o->lines[k].id == r->lines[i].ref) l = &o->lines[k];
    if (!l) continue;
    cJSON *li = cJSON_CreateObject();
    char total[32];
    money_fmt(-money_parse(l->price) * r->lines[i].qty, total);
    cJSON_AddNumberToObject(li, "id", (double)r->lines[i].id);
    cJSON_AddStringToObject(li, "name", l->name);
    cJSON_AddNumberToObject(li, "product_id", (double)l->product_id);
    cJSON_AddNumberToObject(li, "variation_id", l->variant_id != l->product_id ? (double)l->variant_id : 0);
    cJSON_AddNumberToObject(li, "quantity", (double)-r->lines[i].qty);
    cJSON_AddStringToObject(li, "total", total);
    cJSON_AddStringToObject(li, "sku", l->sku);
    cJSON *meta = cJSON_AddArrayToObject(li, "meta_data");
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "key", "_refunded_item_id");
    char ref[32];
    snprintf(ref, sizeof ref, "%llu", (unsigned long long)l->id);
    cJSON_AddStringToObject(m, "value", ref);
    cJSON_AddItemToArray(meta, m);
    cJSON_AddItemToArray(lines, li);
  }
  return j;
}

cJSON *woo_note_json(const note_t *n) {
  cJSON *j = cJSON_CreateObject();
  cJSON_AddNumberToObject(j, "id", (double)n->id);
  cJSON_AddStringToObject(j, "author", n->customer_note ? "shopsim" : "system");
  add_dates(j, "date_created", n->created_ms);
  cJSON_AddStringToObject(j, "note", n->note);
  cJSON_AddBoolToObject(j, "customer_note", n->customer_note);
  return j;
}

cJSON *woo_tracking_json(const tracking_t *t) {
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "tracking_id", t->id);
  cJSON_AddStringToObject(j, "tracking_provider", t->provider ? t->provider : "");
  cJSON_AddStringToObject(j, "tracking_link", t->link ? t->link : "");
  cJSON_AddStringToObject(j, "tracking_number", t->number ? t->number : "");
  cJSON_AddStringToObject(j, "date_shipped", t->date_shipped ? t->date_shipped : "");
  return j;
}

void woo_add_note(store_t *s, order_t *o, const char *text, bool customer) {
  note_t *n = VEC_PUSH(o->notes, o->nnotes);
  n->id = store_next_id(s);
  n->note = xstrdup(text);
  n->customer_note = customer;
  n->created_ms = now_ms();
}
