/* Webhook bodies: Shopify sends its REST resource shapes (snake_case), taken
 * when the event happens; WooCommerce sends the REST v3 resource as it is
 * when the delivery goes out (woo_render.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orders.h"
#include "util.h"
#include "webhook_payloads.h"
#include "woo.h"

static void add_time(cJSON *j, const char *key, int64_t ms) {
  if (ms <= 0) {
    cJSON_AddNullToObject(j, key);
    return;
  }
  char buf[32];
  fmt_time(ms, true, buf);
  cJSON_AddStringToObject(j, key, buf);
}

static void add_gid(cJSON *j, const char *type, uint64_t id) {
  char buf[96];
  gid_fmt(type, id, buf);
  cJSON_AddStringToObject(j, "admin_graphql_api_id", buf);
}

static cJSON *rest_address(const cJSON *a) {
  if (!a) return cJSON_CreateNull();
  static const char *map[][2] = {{"first_name", "first_name"}, {"last_name", "last_name"}, {"company", "company"},
                                 {"address1", "address1"},     {"address2", "address2"},   {"city", "city"},
                                 {"zip", "zip"},               {"province", "province"},   {"country_code", "country"},
                                 {"phone", "phone"}};
  cJSON *j = cJSON_CreateObject();
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
    const char *v = jstr(a, map[i][1]);
    if (v) cJSON_AddStringToObject(j, map[i][0], v);
    else cJSON_AddNullToObject(j, map[i][0]);
  }
  return j;
}

static cJSON *rest_line(const order_t *o, const line_t *l) {
  (void)o;
  cJSON *j = cJSON_CreateObject();
  cJSON_AddNumberToObject(j, "id", (double)l->id);
  add_gid(j, "LineItem", l->id);
  cJSON_AddNumberToObject(j, "product_id", (double)l->product_id);
  cJSON_AddNumberToObject(j, "variant_id", (double)l->variant_id);
  cJSON_AddStringToObject(j, "sku", l->sku);
  cJSON_AddStringToObject(j, "name", l->name);
  cJSON_AddStringToObject(j, "title", l->name);
  cJSON_AddNumberToObject(j, "quantity", (double)l->quantity);
  cJSON_AddStringToObject(j, "price", l->price);
  long open = l->quantity - l->fulfilled - l->refunded;
  cJSON_AddNumberToObject(j, "fulfillable_quantity", (double)(open > 0 ? open : 0));
  if (l->fulfilled == 0) cJSON_AddNullToObject(j, "fulfillment_status");
  else cJSON_AddStringToObject(j, "fulfillment_status", l->fulfilled >= l->quantity ? "fulfilled" : "partial");
  cJSON_AddBoolToObject(j, "requires_shipping", true);
  return j;
}

static cJSON *shopify_order(store_t *s, const order_t *o) {
  (void)s;
  cJSON *j = cJSON_CreateObject();
  char buf[64];
  cJSON_AddNumberToObject(j, "id", (double)o->id);
  add_gid(j, "Order", o->id);
  cJSON_AddStringToObject(j, "name", o->name);
  cJSON_AddNumberToObject(j, "order_number", (double)o->number);
  cJSON_AddStringToObject(j, "email", o->email ? o->email : "");
  if (o->phone) cJSON_AddStringToObject(j, "phone", o->phone);
  else cJSON_AddNullToObject(j, "phone");
  add_time(j, "created_at", o->created_ms);
  add_time(j, "updated_at", o->updated_ms);
  add_time(j, "processed_at", o->created_ms);
  add_time(j, "cancelled_at", o->cancelled_ms);
  if (o->cancelled_ms) cJSON_AddStringToObject(j, "cancel_reason", o->cancel_reason);
  else cJSON_AddNullToObject(j, "cancel_reason");
  add_time(j, "closed_at", o->closed ? o->updated_ms : 0);
  cJSON_AddStringToObject(j, "currency", o->currency);
  snprintf(buf, sizeof buf, "%s", o->financial_status);
  for (char *c = buf; *c; c++) *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
  cJSON_AddStringToObject(j, "financial_status", buf);
  const char *fs = order_fulfillment_status(o);
  if (strcmp(fs, "UNFULFILLED") == 0) cJSON_AddNullToObject(j, "fulfillment_status");
  else cJSON_AddStringToObject(j, "fulfillment_status", strcmp(fs, "FULFILLED") == 0 ? "fulfilled" : "partial");
  if (o->customer_note) cJSON_AddStringToObject(j, "note", o->customer_note);
  else cJSON_AddNullToObject(j, "note");
  money_fmt(order_total_cents(o), buf);
  cJSON_AddStringToObject(j, "total_price", buf);
  money_fmt(order_total_cents(o) - money_parse(o->shipping_total), buf);
  cJSON_AddStringToObject(j, "subtotal_price", buf);
  cJSON_AddItemToObject(j, "shipping_address", rest_address(o->shipping));
  cJSON_AddItemToObject(j, "billing_address", rest_address(o->billing));
  cJSON *cu = cJSON_AddObjectToObject(j, "customer");
  cJSON_AddNumberToObject(cu, "id", (double)(o->id + 7));
  cJSON_AddStringToObject(cu, "email", o->email ? o->email : "");
  cJSON_AddStringToObject(cu, "first_name", jstr(o->billing, "first_name") ? jstr(o->billing, "first_name") : "");
  cJSON_AddStringToObject(cu, "last_name", jstr(o->billing, "last_name") ? jstr(o->billing, "last_name") : "");
  cJSON *lines = cJSON_AddArrayToObject(j, "line_items");
  for (size_t i = 0; i < o->nlines; i++) cJSON_AddItemToArray(lines, rest_line(o, &o->lines[i]));
  cJSON *ship = cJSON_AddArrayToObject(j, "shipping_lines");
  cJSON *sl = cJSON_CreateObject();
  cJSON_AddStringToObject(sl, "code", o->shipping_code);
  cJSON_AddStringToObject(sl, "title", o->shipping_title);
  cJSON_AddStringToObject(sl, "price", o->shipping_total);
  cJSON_AddItemToArray(ship, sl);
  return j;
}

static cJSON *shopify_product(store_t *s, const product_t *p) {
  cJSON *j = cJSON_CreateObject();
  char buf[32];
  cJSON_AddNumberToObject(j, "id", (double)p->id);
  add_gid(j, "Product", p->id);
  cJSON_AddStringToObject(j, "title", p->title);
  snprintf(buf, sizeof buf, "%s", p->status);
  for (char *c = buf; *c; c++) *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
  cJSON_AddStringToObject(j, "status", buf);
  cJSON_AddStringToObject(j, "vendor", p->vendor);
  add_time(j, "created_at", p->created_ms);
  add_time(j, "updated_at", p->updated_ms);
  cJSON *vars = cJSON_AddArrayToObject(j, "variants");
  for (size_t i = 0; i < p->nvariants; i++) {
    const variant_t *v = p->variants[i];
    cJSON *vj = cJSON_CreateObject();
    cJSON_AddNumberToObject(vj, "id", (double)v->id);
    add_gid(vj, "ProductVariant", v->id);
    cJSON_AddNumberToObject(vj, "product_id", (double)p->id);
    cJSON_AddStringToObject(vj, "title", v->title);
    cJSON_AddStringToObject(vj, "sku", v->sku);
    cJSON_AddStringToObject(vj, "barcode", v->barcode);
    cJSON_AddStringToObject(vj, "price", v->price);
    cJSON_AddNumberToObject(vj, "inventory_item_id", (double)v->inventory_item_id);
    long sum = 0;
    for (int k = 0; k < s->nlocations; k++) sum += v->levels[k].available;
    cJSON_AddNumberToObject(vj, "inventory_quantity", (double)sum);
    cJSON_AddItemToArray(vars, vj);
  }
  return j;
}

static cJSON *shopify_shop(store_t *s) {
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "name", s->id);
  cJSON_AddStringToObject(j, "domain", s->shop_domain);
  cJSON_AddStringToObject(j, "myshopify_domain", s->shop_domain);
  cJSON_AddStringToObject(j, "email", "owner@example.com");
  cJSON_AddStringToObject(j, "currency", s->currency);
  return j;
}

char *webhook_body(store_t *s, const char *topic, uint64_t resource_id) {
  cJSON *j = NULL;
  if (s->platform == PLATFORM_SHOPIFY) {
    if (strncmp(topic, "orders/", 7) == 0) {
      order_t *o = store_find_order(s, resource_id);
      j = o ? shopify_order(s, o) : NULL;
    } else if (strncmp(topic, "products/", 9) == 0) {
      product_t *p = store_lookup(s, OBJ_PRODUCT, resource_id);
      j = p ? shopify_product(s, p) : NULL;
    } else if (strcmp(topic, "app/uninstalled") == 0) {
      j = shopify_shop(s);
    }
  } else if (strncmp(topic, "order.", 6) == 0) {
    order_t *o = store_find_order(s, resource_id);
    j = o ? woo_order_json(s, o) : NULL;
  } else if (strncmp(topic, "product.", 8) == 0) {
    product_t *p = store_lookup(s, OBJ_PRODUCT, resource_id);
    j = p ? woo_product_json(s, p) : NULL;
  }
  if (!j) return NULL;
  char *text = json_print(j);
  cJSON_Delete(j);
  return text;
}
