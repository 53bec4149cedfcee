/* QueryRoot fields: lists with cursor pagination and `query:` filters, and
 * single objects by id. */
#include <stdio.h>
#include <stdlib.h>

#include "orders.h"
#include "shopify_internal.h"
#include "util.h"

#define IS(n) FIELD_IS(f, n)
#define MAX_TERMS 8

typedef struct {
  search_term t[MAX_TERMS];
  int n;
} filter;

static void read_filter(gctx *c, const gql_field *f, filter *flt) {
  char buf[512];
  const char *q = arg_str(c, f, "query", buf, sizeof buf);
  flt->n = search_parse(q, flt->t, MAX_TERMS);
}

static bool product_matches(const filter *flt, const product_t *p) {
  for (int i = 0; i < flt->n; i++) {
    const search_term *t = &flt->t[i];
    bool ok = true;
    if (strcmp(t->key, "updated_at") == 0) ok = search_time(t, p->updated_ms);
    else if (strcmp(t->key, "created_at") == 0) ok = search_time(t, p->created_ms);
    else if (strcmp(t->key, "status") == 0) ok = search_text(t, p->status);
    else if (strcmp(t->key, "title") == 0) ok = search_text(t, p->title);
    else if (strcmp(t->key, "id") == 0) ok = search_num(t, p->id);
    else if (strcmp(t->key, "sku") == 0 || strcmp(t->key, "barcode") == 0) {
      ok = false;
      for (size_t k = 0; k < p->nvariants && !ok; k++)
        ok = search_text(t, t->key[0] == 's' ? p->variants[k]->sku : p->variants[k]->barcode);
    }
    if (!ok) return false;
  }
  return true;
}

static bool variant_matches(const filter *flt, const variant_t *v) {
  for (int i = 0; i < flt->n; i++) {
    const search_term *t = &flt->t[i];
    bool ok = true;
    if (strcmp(t->key, "sku") == 0) ok = search_text(t, v->sku);
    else if (strcmp(t->key, "barcode") == 0) ok = search_text(t, v->barcode);
    else if (strcmp(t->key, "product_id") == 0) ok = search_num(t, v->product_id);
    else if (strcmp(t->key, "id") == 0) ok = search_num(t, v->id);
    else if (strcmp(t->key, "inventory_item_id") == 0) ok = search_num(t, v->inventory_item_id);
    else if (strcmp(t->key, "updated_at") == 0) ok = search_time(t, v->updated_ms);
    if (!ok) return false;
  }
  return true;
}

static bool order_status_matches(const search_term *t, const order_t *o) {
  const char *status = o->cancelled_ms ? "cancelled" : o->closed ? "closed" : "open";
  if (strcasecmp(t->value, "any") == 0) return !t->negate;
  return search_text(t, status);
}

static bool order_matches(const filter *flt, const order_t *o) {
  for (int i = 0; i < flt->n; i++) {
    const search_term *t = &flt->t[i];
    bool ok = true;
    if (strcmp(t->key, "updated_at") == 0) ok = search_time(t, o->updated_ms);
    else if (strcmp(t->key, "created_at") == 0 || strcmp(t->key, "processed_at") == 0) ok = search_time(t, o->created_ms);
    else if (strcmp(t->key, "status") == 0) ok = order_status_matches(t, o);
    else if (strcmp(t->key, "name") == 0) ok = search_text(t, o->name) || search_text(t, o->name + 1);
    else if (strcmp(t->key, "id") == 0) ok = search_num(t, o->id);
    else if (strcmp(t->key, "financial_status") == 0) ok = search_text(t, o->financial_status);
    else if (strcmp(t->key, "fulfillment_status") == 0) {
      const char *fs = order_fulfillment_status(o);
      const char *mapped = strcmp(fs, "UNFULFILLED") == 0 ? "unshipped" : strcmp(fs, "FULFILLED") == 0 ? "shipped" : "partial";
      ok = search_text(t, mapped) || search_text(t, fs);
    }
    if (!ok) return false;
  }
  return true;
}

static int cmp_items(const void *a, const void *b) {
  const conn_item *x = a, *y = b;
  if (x->sort != y->sort) return x->sort < y->sort ? -1 : 1;
  return x->id < y->id ? -1 : x->id > y->id ? 1 : 0;
}

static cJSON *run_connection(gctx *c, const gql_field *f, conn_item *items, size_t n, const char *type, field_fn fn) {
  /* Items are collected in id order, which is the order of the default sort
   * key: a page of a 100,000-variant catalog need not sort them again. */
  size_t sorted = 1;
  while (sorted < n && cmp_items(&items[sorted - 1], &items[sorted]) <= 0) sorted++;
  if (sorted < n) qsort(items, n, sizeof *items, cmp_items);
  cJSON *out = connection(c, f, items, n, type, fn);
  free(items);
  return out;
}

static int64_t sort_value(gctx *c, const gql_field *f, int64_t created, int64_t updated, uint64_t id, const char *title) {
  char buf[64];
  const char *key = arg_str(c, f, "sortKey", buf, sizeof buf);
  if (!key || strcmp(key, "ID") == 0) return (int64_t)id;
  if (strcmp(key, "UPDATED_AT") == 0) return updated / 1000;
  if (strcmp(key, "CREATED_AT") == 0 || strcmp(key, "PROCESSED_AT") == 0) return created / 1000;
  if (strcmp(key, "TITLE") == 0 && title) return (int64_t)(unsigned char)title[0];
  return (int64_t)id;
}

static cJSON *products(gctx *c, const gql_field *f) {
  filter flt;
  read_filter(c, f, &flt);
  store_t *s = c->s;
  conn_item *items = xcalloc(s->nproducts, sizeof *items);
  size_t n = 0;
  for (size_t i = 0; i < s->nproducts; i++) {
    product_t *p = s->products[i];
    if (product_matches(&flt, p))
      items[n++] = (conn_item){p, p->id, sort_value(c, f, p->created_ms, p->updated_ms, p->id, p->title)};
  }
  return run_connection(c, f, items, n, "Product", field_product);
}

static size_t count_variants(store_t *s) {
  size_t n = 0;
  for (size_t i = 0; i < s->nproducts; i++) n += s->products[i]->nvariants;
  return n;
}

static cJSON *variants(gctx *c, const gql_field *f, bool as_items) {
  filter flt;
  read_filter(c, f, &flt);
  store_t *s = c->s;
  conn_item *items = xcalloc(count_variants(s), sizeof *items);
  size_t n = 0;
  for (size_t i = 0; i < s->nproducts; i++)
    for (size_t k = 0; k < s->products[i]->nvariants; k++) {
      variant_t *v = s->products[i]->variants[k];
      if (variant_matches(&flt, v)) {
        uint64_t id = as_items ? v->inventory_item_id : v->id;
        items[n++] = (conn_item){v, id, sort_value(c, f, v->created_ms, v->updated_ms, id, NULL)};
      }
    }
  if (as_items) return run_connection(c, f, items, n, "InventoryItem", field_inventory_item);
  return run_connection(c, f, items, n, "ProductVariant", field_variant);
}

static cJSON *orders(gctx *c, const gql_field *f) {
  filter flt;
  read_filter(c, f, &flt);
  store_t *s = c->s;
  conn_item *items = xcalloc(s->norders, sizeof *items);
  size_t n = 0;
  for (size_t i = 0; i < s->norders; i++) {
    order_t *o = s->orders[i];
    if (order_matches(&flt, o))
      items[n++] = (conn_item){o, o->id, sort_value(c, f, o->created_ms, o->updated_ms, o->id, NULL)};
  }
  return run_connection(c, f, items, n, "Order", field_order);
}

static cJSON *locations(gctx *c, const gql_field *f) {
  store_t *s = c->s;
  conn_item *items = xcalloc((size_t)s->nlocations, sizeof *items);
  for (int i = 0; i < s->nlocations; i++) items[i] = (conn_item){&s->locations[i], s->locations[i].id, (int64_t)s->locations[i].id};
  return run_connection(c, f, items, (size_t)s->nlocations, "Location", field_location);
}

/* Root fulfillmentOrders: open ones unless includeClosed. The order_child
 * refs live until the connection is rendered. */
static cJSON *fulfillment_orders(gctx *c, const gql_field *f) {
  store_t *s = c->s;
  bool include_closed = arg_bool(c, f, "includeClosed", false);
  size_t total = 0;
  for (size_t i = 0; i < s->norders; i++) total += s->orders[i]->nfos;
  order_child *refs = xcalloc(total, sizeof *refs);
  conn_item *items = xcalloc(total, sizeof *items);
  size_t n = 0;
  for (size_t i = 0; i < s->norders; i++)
    for (size_t k = 0; k < s->orders[i]->nfos; k++) {
      ffo_t *fo = &s->orders[i]->fos[k];
      bool closed = strcmp(fo->status, "CLOSED") == 0 || strcmp(fo->status, "CANCELLED") == 0;
      if (closed && !include_closed) continue;
      refs[n] = (order_child){s->orders[i], k, 0};
      items[n] = (conn_item){&refs[n], fo->id, (int64_t)fo->id};
      n++;
    }
  cJSON *out = run_connection(c, f, items, n, "FulfillmentOrder", field_fulfillment_order);
  free(refs);
  return out;
}

static cJSON *webhooks(gctx *c, const gql_field *f) {
  store_t *s = c->s;
  conn_item *items = xcalloc(s->nwebhooks, sizeof *items);
  for (size_t i = 0; i < s->nwebhooks; i++) items[i] = (conn_item){&s->webhooks[i], s->webhooks[i].id, (int64_t)s->webhooks[i].id};
  return run_connection(c, f, items, s->nwebhooks, "WebhookSubscription", field_webhook);
}

/* Any object by its gid, for node/nodes and the single-object fields. */
static cJSON *node_by_gid(gctx *c, const char *gid, const gql_selset *sel) {
  store_t *s = c->s;
  uint64_t id;
  if ((id = gid_parse(gid, "Product"))) return resolve_object(c, "Product", field_product, store_lookup(s, OBJ_PRODUCT, id), sel);
  if ((id = gid_parse(gid, "ProductVariant")))
    return resolve_object(c, "ProductVariant", field_variant, store_lookup(s, OBJ_VARIANT, id), sel);
  if ((id = gid_parse(gid, "InventoryItem")))
    return resolve_object(c, "InventoryItem", field_inventory_item, store_lookup(s, OBJ_INV_ITEM, id), sel);
  if ((id = gid_parse(gid, "Location"))) return resolve_object(c, "Location", field_location, store_lookup(s, OBJ_LOCATION, id), sel);
  if ((id = gid_parse(gid, "Order"))) return resolve_object(c, "Order", field_order, store_lookup(s, OBJ_ORDER, id), sel);
  if ((id = gid_parse(gid, "FulfillmentOrder"))) {
    order_t *o = NULL;
    ffo_t *fo = order_find_fo(s, id, &o);
    if (!fo) return cJSON_CreateNull();
    order_child ref = {o, (size_t)(fo - o->fos), 0};
    return resolve_object(c, "FulfillmentOrder", field_fulfillment_order, &ref, sel);
  }
  if ((id = gid_parse(gid, "WebhookSubscription")))
    return resolve_object(c, "WebhookSubscription", field_webhook, store_find_webhook(s, id), sel);
  return cJSON_CreateNull();
}

static cJSON *by_id(gctx *c, const gql_field *f, const char *type) {
  char buf[160];
  const char *gid = arg_str(c, f, "id", buf, sizeof buf);
  if (!gid) {
    add_error(c, f, "missingRequiredArguments", "Field '%s' is missing required arguments: id", f->name);
    return NULL;
  }
  if (type && !gid_parse(gid, type)) return cJSON_CreateNull();
  return node_by_gid(c, gid, &f->sel);
}

static cJSON *nodes(gctx *c, const gql_field *f) {
  cJSON *ids = arg_json(c, f, "ids");
  cJSON *arr = cJSON_CreateArray();
  const cJSON *id;
  cJSON_ArrayForEach(id, ids) cJSON_AddItemToArray(arr, cJSON_IsString(id) ? node_by_gid(c, id->valuestring, &f->sel) : cJSON_CreateNull());
  cJSON_Delete(ids);
  return arr;
}

static cJSON *shop(gctx *c, const gql_field *f) {
  store_t *s = c->s;
  cJSON *j = cJSON_CreateObject();
  cJSON_AddItemToObject(j, "id", gid_json("Shop", s->next_id % 1000000 + 1));
  cJSON_AddStringToObject(j, "name", s->id);
  cJSON_AddStringToObject(j, "myshopifyDomain", s->shop_domain);
  cJSON_AddStringToObject(j, "currencyCode", s->currency);
  cJSON_AddStringToObject(j, "email", "owner@example.com");
  cJSON *plan = cJSON_AddObjectToObject(j, "plan");
  cJSON_AddStringToObject(plan, "displayName", plan_name(s->plan));
  cJSON_AddBoolToObject(plan, "shopifyPlus", s->plan >= 2);
  cJSON *out = project(c, j, &f->sel);
  cJSON_Delete(j);
  c->actual_cost += 1;
  return out;
}

/* productsCount / productVariantsCount: a Count {count precision}. As
 * Shopify: at most `limit` (default 10000; null = no limit), precision
 * AT_LEAST when the limit was reached. productsCount takes the products'
 * `query:` filter; productVariantsCount has no search fields (its query is
 * ignored). */
static cJSON *count_of(gctx *c, const gql_field *f, bool of_variants) {
  store_t *s = c->s;
  long limit = 10000;
  cJSON *l = arg_json(c, f, "limit");
  if (l && cJSON_IsNull(l)) limit = -1;
  else if (l && cJSON_IsNumber(l)) limit = (long)l->valuedouble;
  cJSON_Delete(l);
  size_t n = 0;
  if (of_variants) {
    n = count_variants(s);
  } else {
    filter flt;
    read_filter(c, f, &flt);
    for (size_t i = 0; i < s->nproducts; i++) n += product_matches(&flt, s->products[i]);
  }
  bool capped = limit >= 0 && n >= (size_t)limit;
  cJSON *j = cJSON_CreateObject();
  cJSON_AddNumberToObject(j, "count", (double)(capped ? (size_t)limit : n));
  cJSON_AddStringToObject(j, "precision", capped ? "AT_LEAST" : "EXACT");
  cJSON *out = project(c, j, &f->sel);
  cJSON_Delete(j);
  c->actual_cost += 1;
  return out;
}

/* The app's installation: its granted access scopes. */
static cJSON *app_installation(gctx *c, const gql_field *f) {
  store_t *s = c->s;
  cJSON *j = cJSON_CreateObject();
  cJSON_AddItemToObject(j, "id", gid_json("AppInstallation", s->next_id % 1000000 + 7));
  cJSON *scopes = cJSON_AddArrayToObject(j, "accessScopes");
  char *list = xstrdup(s->access_scopes), *save = NULL;
  for (char *h = strtok_r(list, ",", &save); h; h = strtok_r(NULL, ",", &save)) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "handle", h);
    cJSON_AddStringToObject(o, "description", h);
    cJSON_AddItemToArray(scopes, o);
  }
  free(list);
  cJSON *out = project(c, j, &f->sel);
  cJSON_Delete(j);
  c->actual_cost += 1;
  return out;
}

cJSON *query_root(gctx *c, const gql_field *f) {
  if (IS("products")) return products(c, f);
  if (IS("productVariants")) return variants(c, f, false);
  if (IS("productsCount")) return count_of(c, f, false);
  if (IS("productVariantsCount")) return count_of(c, f, true);
  if (IS("inventoryItems")) return variants(c, f, true);
  if (IS("orders")) return orders(c, f);
  if (IS("locations")) return locations(c, f);
  if (IS("fulfillmentOrders")) return fulfillment_orders(c, f);
  if (IS("webhookSubscriptions")) return webhooks(c, f);
  if (IS("product")) return by_id(c, f, "Product");
  if (IS("productVariant")) return by_id(c, f, "ProductVariant");
  if (IS("inventoryItem")) return by_id(c, f, "InventoryItem");
  if (IS("location")) return by_id(c, f, "Location");
  if (IS("order")) return by_id(c, f, "Order");
  if (IS("fulfillmentOrder")) return by_id(c, f, "FulfillmentOrder");
  if (IS("webhookSubscription")) return by_id(c, f, "WebhookSubscription");
  if (IS("node")) return by_id(c, f, NULL);
  if (IS("nodes")) return nodes(c, f);
  if (IS("shop")) return shop(c, f);
  if (IS("currentAppInstallation")) return app_installation(c, f);
  bool handled = false;
  cJSON *bulk = bulk_query(c, f, &handled);
  if (handled) return bulk;
  add_error(c, f, "undefinedField", "Field '%s' doesn't exist on type 'QueryRoot'", f->name);
  return NULL;
}
