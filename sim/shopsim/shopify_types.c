/* Field resolvers of the Shopify object types the bridge reads. Each gets
 * the object and one selected field and returns that field's value. */
#include <stdio.h>
#include <stdlib.h>

#include "orders.h"
#include "shopify_internal.h"
#include "util.h"

#define IS(n) FIELD_IS(f, n)

static cJSON *legacy_id(uint64_t id) {
  char buf[32];
  snprintf(buf, sizeof buf, "%llu", (unsigned long long)id);
  return cJSON_CreateString(buf);
}

static cJSON *str_or_null(const char *s) { return s ? cJSON_CreateString(s) : cJSON_CreateNull(); }

static cJSON *count_json(gctx *c, const gql_field *f, size_t n) {
  cJSON *j = cJSON_CreateObject();
  cJSON_AddNumberToObject(j, "count", (double)n);
  cJSON_AddStringToObject(j, "precision", "EXACT");
  cJSON *out = project(c, j, &f->sel);
  cJSON_Delete(j);
  return out;
}

static long total_available(const variant_t *v, int nloc) {
  long sum = 0;
  for (int i = 0; i < nloc; i++) sum += v->levels[i].available;
  return sum;
}

/* ---- Product ---- */

static cJSON *product_variants(gctx *c, product_t *p, const gql_field *f) {
  conn_item *items = xcalloc(p->nvariants, sizeof *items);
  for (size_t i = 0; i < p->nvariants; i++) items[i] = (conn_item){p->variants[i], p->variants[i]->id, 0};
  cJSON *out = connection(c, f, items, p->nvariants, "ProductVariant", field_variant);
  free(items);
  return out;
}

static cJSON *handle_of(const char *title) {
  char buf[256];
  size_t n = 0;
  for (const char *t = title; *t && n + 1 < sizeof buf; t++)
    buf[n++] = (*t >= 'A' && *t <= 'Z') ? (char)(*t + 32) : ((*t >= 'a' && *t <= 'z') || (*t >= '0' && *t <= '9')) ? *t : '-';
  buf[n] = '\0';
  return cJSON_CreateString(buf);
}

cJSON *field_product(gctx *c, void *obj, const gql_field *f) {
  product_t *p = obj;
  if (IS("id")) return gid_json("Product", p->id);
  if (IS("legacyResourceId")) return legacy_id(p->id);
  if (IS("title")) return cJSON_CreateString(p->title);
  if (IS("handle")) return handle_of(p->title);
  if (IS("status")) return cJSON_CreateString(p->status);
  if (IS("vendor")) return cJSON_CreateString(p->vendor);
  if (IS("productType")) return cJSON_CreateString(p->ncategories ? p->categories[0] : "");
  if (IS("tags")) {
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < p->ncategories; i++) cJSON_AddItemToArray(arr, cJSON_CreateString(p->categories[i]));
    return arr;
  }
  if (IS("createdAt")) return time_json(p->created_ms);
  if (IS("updatedAt")) return time_json(p->updated_ms);
  if (IS("hasOnlyDefaultVariant")) return cJSON_CreateBool(p->nvariants == 1);
  if (IS("tracksInventory")) return cJSON_CreateTrue();
  if (IS("isGiftCard")) return cJSON_CreateFalse();
  if (IS("totalInventory")) {
    long sum = 0;
    for (size_t i = 0; i < p->nvariants; i++) sum += total_available(p->variants[i], c->s->nlocations);
    return cJSON_CreateNumber((double)sum);
  }
  if (IS("variants")) return product_variants(c, p, f);
  if (IS("variantsCount")) return count_json(c, f, p->nvariants);
  return NULL;
}

/* ---- ProductVariant ---- */

cJSON *field_variant(gctx *c, void *obj, const gql_field *f) {
  variant_t *v = obj;
  product_t *p = store_lookup(c->s, OBJ_PRODUCT, v->product_id);
  if (IS("id")) return gid_json("ProductVariant", v->id);
  if (IS("legacyResourceId")) return legacy_id(v->id);
  if (IS("title")) return cJSON_CreateString(v->title);
  if (IS("displayName")) {
    char buf[300];
    snprintf(buf, sizeof buf, "%s - %s", p ? p->title : "", v->title);
    return cJSON_CreateString(buf);
  }
  if (IS("sku")) return cJSON_CreateString(v->sku);
  if (IS("barcode")) return cJSON_CreateString(v->barcode);
  if (IS("price")) return cJSON_CreateString(v->price);
  if (IS("createdAt")) return time_json(v->created_ms);
  if (IS("updatedAt")) return time_json(v->updated_ms);
  if (IS("inventoryQuantity")) return cJSON_CreateNumber((double)total_available(v, c->s->nlocations));
  if (IS("availableForSale")) return cJSON_CreateBool(total_available(v, c->s->nlocations) > 0);
  if (IS("inventoryPolicy")) return cJSON_CreateString("DENY");
  if (IS("product")) return resolve_object(c, "Product", field_product, p, &f->sel);
  if (IS("inventoryItem")) return resolve_object(c, "InventoryItem", field_inventory_item, v, &f->sel);
  if (IS("selectedOptions")) {
    cJSON *opts = cJSON_CreateArray();
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", "Title");
    cJSON_AddStringToObject(o, "value", v->title);
    cJSON_AddItemToArray(opts, o);
    cJSON *out = project(c, opts, &f->sel);
    cJSON_Delete(opts);
    return out;
  }
  return NULL;
}

/* ---- InventoryItem and InventoryLevel ---- */

static cJSON *item_levels(gctx *c, variant_t *v, const gql_field *f) {
  int n = c->s->nlocations;
  level_ref *refs = xcalloc((size_t)n, sizeof *refs);
  conn_item *items = xcalloc((size_t)n, sizeof *items);
  for (int i = 0; i < n; i++) {
    refs[i] = (level_ref){v, i};
    items[i] = (conn_item){&refs[i], c->s->locations[i].id, 0};
  }
  cJSON *out = connection(c, f, items, (size_t)n, "InventoryLevel", field_level);
  free(items);
  free(refs);
  return out;
}

static cJSON *item_level(gctx *c, variant_t *v, const gql_field *f) {
  char buf[128];
  const char *loc = arg_str(c, f, "locationId", buf, sizeof buf);
  int li = loc ? store_location_index(c->s, gid_parse(loc, "Location")) : -1;
  if (li < 0) return cJSON_CreateNull();
  level_ref ref = {v, li};
  return resolve_object(c, "InventoryLevel", field_level, &ref, &f->sel);
}

cJSON *field_inventory_item(gctx *c, void *obj, const gql_field *f) {
  variant_t *v = obj;
  if (IS("id")) return gid_json("InventoryItem", v->inventory_item_id);
  if (IS("legacyResourceId")) return legacy_id(v->inventory_item_id);
  if (IS("sku")) return cJSON_CreateString(v->sku);
  if (IS("tracked")) return cJSON_CreateBool(v->manage_stock);
  if (IS("requiresShipping")) return cJSON_CreateTrue();
  if (IS("createdAt")) return time_json(v->created_ms);
  if (IS("updatedAt")) return time_json(v->updated_ms);
  if (IS("variant")) return resolve_object(c, "ProductVariant", field_variant, v, &f->sel);
  if (IS("inventoryLevels")) return item_levels(c, v, f);
  if (IS("inventoryLevel")) return item_level(c, v, f);
  if (IS("measurement")) {
    cJSON *m = cJSON_CreateObject();
    cJSON *w = cJSON_AddObjectToObject(m, "weight");
    cJSON_AddNumberToObject(w, "value", v->weight);
    cJSON_AddStringToObject(w, "unit", "KILOGRAMS");
    cJSON *out = project(c, m, &f->sel);
    cJSON_Delete(m);
    return out;
  }
  return NULL;
}

static cJSON *level_quantities(gctx *c, level_ref *r, const gql_field *f) {
  cJSON *names = arg_json(c, f, "names");
  cJSON *arr = cJSON_CreateArray();
  const cJSON *name;
  cJSON_ArrayForEach(name, names) {
    if (!cJSON_IsString(name)) continue;
    cJSON *q = cJSON_CreateObject();
    cJSON_AddStringToObject(q, "name", name->valuestring);
    cJSON_AddNumberToObject(q, "quantity", (double)level_get(&r->v->levels[r->loc], name->valuestring));
    cJSON_AddItemToObject(q, "updatedAt", time_json(r->v->updated_ms));
    cJSON_AddItemToArray(arr, q);
  }
  cJSON_Delete(names);
  cJSON *out = project(c, arr, &f->sel);
  cJSON_Delete(arr);
  return out;
}

cJSON *field_level(gctx *c, void *obj, const gql_field *f) {
  level_ref *r = obj;
  location_t *loc = &c->s->locations[r->loc];
  if (IS("id")) {
    char buf[128];
    snprintf(buf, sizeof buf, "gid://shopify/InventoryLevel/%llu?inventory_item_id=%llu",
             (unsigned long long)loc->id, (unsigned long long)r->v->inventory_item_id);
    return cJSON_CreateString(buf);
  }
  if (IS("quantities")) return level_quantities(c, r, f);
  if (IS("location")) return resolve_object(c, "Location", field_location, loc, &f->sel);
  if (IS("item")) return resolve_object(c, "InventoryItem", field_inventory_item, r->v, &f->sel);
  if (IS("updatedAt") || IS("createdAt")) return time_json(r->v->updated_ms);
  if (IS("canDeactivate")) return cJSON_CreateFalse();
  return NULL;
}

/* ---- Location ---- */

/* Location.inventoryLevel(inventoryItemId:) */
static cJSON *location_level(gctx *c, location_t *l, const gql_field *f) {
  char buf[128];
  const char *item = arg_str(c, f, "inventoryItemId", buf, sizeof buf);
  variant_t *v = item ? store_lookup(c->s, OBJ_INV_ITEM, gid_parse(item, "InventoryItem")) : NULL;
  if (!v) return cJSON_CreateNull();
  level_ref ref = {v, (int)(l - c->s->locations)};
  return resolve_object(c, "InventoryLevel", field_level, &ref, &f->sel);
}

cJSON *field_location(gctx *c, void *obj, const gql_field *f) {
  location_t *l = obj;
  if (IS("inventoryLevel")) return location_level(c, l, f);
  if (IS("id")) return gid_json("Location", l->id);
  if (IS("legacyResourceId")) return legacy_id(l->id);
  if (IS("name")) return cJSON_CreateString(l->name);
  if (IS("isActive") || IS("fulfillsOnlineOrders") || IS("shipsInventory")) return cJSON_CreateTrue();
  if (IS("isPrimary")) return cJSON_CreateBool(l == &c->s->locations[0]);
  if (IS("address")) {
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "address1", "Warehouse Road 1");
    cJSON_AddStringToObject(a, "city", "Utrecht");
    cJSON_AddStringToObject(a, "zip", "3511AA");
    cJSON_AddStringToObject(a, "countryCode", "NL");
    cJSON_AddStringToObject(a, "country", "Netherlands");
    cJSON *out = project(c, a, &f->sel);
    cJSON_Delete(a);
    return out;
  }
  return NULL;
}

/* ---- Order and its parts ---- */

cJSON *address_json(gctx *c, const cJSON *addr, const gql_field *f) {
  if (!addr) return cJSON_CreateNull();
  cJSON *a = cJSON_CreateObject();
  static const char *map[][2] = {{"firstName", "first_name"}, {"lastName", "last_name"}, {"company", "company"},
                                 {"address1", "address1"},    {"address2", "address2"},  {"city", "city"},
                                 {"zip", "zip"},              {"province", "province"},  {"provinceCode", "province"},
                                 {"country", "country"},      {"countryCodeV2", "country"}, {"phone", "phone"}};
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
    const char *v = jstr(addr, map[i][1]);
    cJSON_AddItemToObject(a, map[i][0], str_or_null(v));
  }
  char name[200];
  snprintf(name, sizeof name, "%s %s", jstr(addr, "first_name") ? jstr(addr, "first_name") : "",
           jstr(addr, "last_name") ? jstr(addr, "last_name") : "");
  cJSON_AddStringToObject(a, "name", name);
  cJSON *out = project(c, a, &f->sel);
  cJSON_Delete(a);
  return out;
}

static cJSON *customer_json(gctx *c, order_t *o, const gql_field *f) {
  cJSON *cu = cJSON_CreateObject();
  cJSON_AddItemToObject(cu, "id", gid_json("Customer", o->id + 7));
  cJSON_AddItemToObject(cu, "firstName", str_or_null(jstr(o->billing, "first_name")));
  cJSON_AddItemToObject(cu, "lastName", str_or_null(jstr(o->billing, "last_name")));
  cJSON_AddItemToObject(cu, "email", str_or_null(o->email));
  cJSON_AddItemToObject(cu, "phone", str_or_null(o->phone));
  cJSON *out = project(c, cu, &f->sel);
  cJSON_Delete(cu);
  return out;
}

static cJSON *shipping_line(gctx *c, order_t *o, const gql_field *f) {
  cJSON *sl = cJSON_CreateObject();
  cJSON_AddStringToObject(sl, "code", o->shipping_code);
  cJSON_AddStringToObject(sl, "title", o->shipping_title);
  cJSON_AddStringToObject(sl, "source", "shopify");
  cJSON *out = cJSON_CreateObject();
  for (size_t i = 0; i < f->sel.n; i++) {
    const gql_field *sub = &f->sel.fields[i];
    cJSON *v;
    if (strstr(sub->name, "PriceSet")) v = money_bag(c, money_parse(o->shipping_total), o->currency, sub);
    else v = project(c, cJSON_GetObjectItemCaseSensitive(sl, sub->name), &sub->sel);
    cJSON_AddItemToObject(out, gql_key(sub), v);
  }
  cJSON_Delete(sl);
  return out;
}

/* Connection over the children of an order (lines, fulfillment orders, ...). */
static cJSON *child_connection(gctx *c, order_t *o, const gql_field *f, size_t n, const char *type, field_fn fn,
                               uint64_t (*id_of)(order_t *, size_t), size_t parent) {
  order_child *refs = xcalloc(n, sizeof *refs);
  conn_item *items = xcalloc(n, sizeof *items);
  for (size_t i = 0; i < n; i++) {
    refs[i] = parent == (size_t)-1 ? (order_child){o, i, 0} : (order_child){o, parent, i};
    items[i] = (conn_item){&refs[i], id_of(o, parent == (size_t)-1 ? i : parent * 100000 + i), 0};
  }
  cJSON *out = connection(c, f, items, n, type, fn);
  free(items);
  free(refs);
  return out;
}

static uint64_t line_id(order_t *o, size_t i) { return o->lines[i].id; }
static uint64_t fo_id(order_t *o, size_t i) { return o->fos[i].id; }
static uint64_t return_id(order_t *o, size_t i) { return o->returns[i].id; }
static uint64_t fo_line_id(order_t *o, size_t k) { return o->fos[k / 100000].lines[k % 100000].id; }
static uint64_t ful_line_id(order_t *o, size_t k) { return o->fuls[k / 100000].lines[k % 100000].id; }
static uint64_t ret_line_id(order_t *o, size_t k) { return o->returns[k / 100000].lines[k % 100000].id; }
static uint64_t ref_line_id(order_t *o, size_t k) { return o->refunds[k / 100000].lines[k % 100000].id; }

static cJSON *child_list(gctx *c, order_t *o, const gql_field *f, size_t n, const char *type, field_fn fn) {
  cJSON *arr = cJSON_CreateArray();
  long first = arg_int(c, f, "first", -1);
  for (size_t i = 0; i < n && (first < 0 || (long)i < first); i++) {
    order_child ref = {o, i, 0};
    cJSON_AddItemToArray(arr, resolve_object(c, type, fn, &ref, &f->sel));
  }
  return arr;
}

static long order_refunded_cents(const order_t *o) {
  long sum = 0;
  for (size_t i = 0; i < o->nrefunds; i++) sum += money_parse(o->refunds[i].amount);
  return sum;
}

static cJSON *order_money(gctx *c, order_t *o, const gql_field *f) {
  long subtotal = order_total_cents(o) - money_parse(o->shipping_total);
  if (IS("totalPriceSet") || IS("currentTotalPriceSet")) return money_bag(c, order_total_cents(o), o->currency, f);
  if (IS("subtotalPriceSet") || IS("currentSubtotalPriceSet")) return money_bag(c, subtotal, o->currency, f);
  if (IS("totalShippingPriceSet")) return money_bag(c, money_parse(o->shipping_total), o->currency, f);
  if (IS("totalTaxSet") || IS("totalDiscountsSet")) return money_bag(c, 0, o->currency, f);
  if (IS("totalRefundedSet")) return money_bag(c, order_refunded_cents(o), o->currency, f);
  return NULL;
}

/* The payment of an order: the sim's orders are paid in one SALE of the
 * order's total, whose id is the order's own number. Refunds draw on it. */
static cJSON *field_sale(gctx *c, void *obj, const gql_field *f) {
  order_t *o = obj;
  if (IS("id")) return gid_json("OrderTransaction", o->id);
  if (IS("kind")) return cJSON_CreateString("SALE");
  if (IS("status")) return cJSON_CreateString("SUCCESS");
  if (IS("gateway") || IS("formattedGateway")) return cJSON_CreateString("manual");
  if (IS("test")) return cJSON_CreateFalse();
  if (IS("createdAt") || IS("processedAt")) return time_json(o->created_ms);
  if (IS("amountSet")) return money_bag(c, order_total_cents(o), o->currency, f);
  if (IS("parentTransaction")) return cJSON_CreateNull();
  return NULL;
}

cJSON *field_order(gctx *c, void *obj, const gql_field *f) {
  order_t *o = obj;
  if (IS("id")) return gid_json("Order", o->id);
  if (IS("legacyResourceId")) return legacy_id(o->id);
  if (IS("name")) return cJSON_CreateString(o->name);
  if (IS("number")) return cJSON_CreateNumber((double)o->number);
  if (IS("email")) return str_or_null(o->email);
  if (IS("phone")) return str_or_null(o->phone);
  if (IS("note")) return str_or_null(o->customer_note);
  if (IS("currencyCode") || IS("presentmentCurrencyCode")) return cJSON_CreateString(o->currency);
  if (IS("createdAt") || IS("processedAt")) return time_json(o->created_ms);
  if (IS("updatedAt")) return time_json(o->updated_ms);
  if (IS("cancelledAt")) return time_json(o->cancelled_ms);
  if (IS("cancelReason")) return o->cancelled_ms ? cJSON_CreateString(o->cancel_reason) : cJSON_CreateNull();
  if (IS("closed")) return cJSON_CreateBool(o->closed);
  if (IS("closedAt")) return o->closed ? time_json(o->updated_ms) : cJSON_CreateNull();
  if (IS("confirmed") || IS("requiresShipping")) return cJSON_CreateTrue();
  if (IS("test")) return cJSON_CreateFalse();
  if (IS("displayFinancialStatus")) return cJSON_CreateString(o->financial_status);
  if (IS("displayFulfillmentStatus")) return cJSON_CreateString(order_fulfillment_status(o));
  if (IS("tags")) return o->tags ? cJSON_Duplicate(o->tags, 1) : cJSON_CreateArray();
  if (IS("sourceName")) return cJSON_CreateString("web");
  /* The sim's prices carry no tax: they are not tax-inclusive. */
  if (IS("taxesIncluded")) return cJSON_CreateFalse();
  if (strstr(f->name, "Set")) return order_money(c, o, f);
  if (IS("shippingAddress")) return address_json(c, o->shipping, f);
  if (IS("billingAddress")) return address_json(c, o->billing, f);
  if (IS("customer")) return customer_json(c, o, f);
  if (IS("shippingLine")) return shipping_line(c, o, f);
  if (IS("lineItems")) return child_connection(c, o, f, o->nlines, "LineItem", field_line_item, line_id, (size_t)-1);
  if (IS("fulfillmentOrders"))
    return child_connection(c, o, f, o->nfos, "FulfillmentOrder", field_fulfillment_order, fo_id, (size_t)-1);
  if (IS("fulfillments")) return child_list(c, o, f, o->nfuls, "Fulfillment", field_fulfillment);
  if (IS("refunds")) return child_list(c, o, f, o->nrefunds, "Refund", field_refund);
  if (IS("returns")) return child_connection(c, o, f, o->nreturns, "Return", field_return, return_id, (size_t)-1);
  if (IS("transactions")) {
    cJSON *arr = cJSON_CreateArray();
    cJSON_AddItemToArray(arr, resolve_object(c, "OrderTransaction", field_sale, o, &f->sel));
    return arr;
  }
  return NULL;
}

cJSON *field_line_item(gctx *c, void *obj, const gql_field *f) {
  order_child *ref = obj;
  line_t *l = &ref->order->lines[ref->index];
  if (IS("id")) return gid_json("LineItem", l->id);
  if (IS("name") || IS("title")) return cJSON_CreateString(l->name);
  if (IS("sku")) return cJSON_CreateString(l->sku);
  if (IS("quantity")) return cJSON_CreateNumber((double)l->quantity);
  if (IS("currentQuantity") || IS("refundableQuantity")) return cJSON_CreateNumber((double)(l->quantity - l->refunded));
  if (IS("unfulfilledQuantity") || IS("fulfillableQuantity"))
    return cJSON_CreateNumber((double)(l->quantity - l->fulfilled - l->refunded > 0 ? l->quantity - l->fulfilled - l->refunded : 0));
  if (IS("requiresShipping")) return cJSON_CreateTrue();
  if (IS("variantTitle")) return cJSON_CreateNull();
  if (IS("vendor")) return cJSON_CreateString("shopsim");
  /* The sim has no discounts and no taxes: both lists are empty, as Shopify
   * answers for a line without them. */
  if (IS("discountAllocations") || IS("taxLines")) return cJSON_CreateArray();
  if (IS("originalUnitPriceSet") || IS("discountedUnitPriceSet"))
    return money_bag(c, money_parse(l->price), ref->order->currency, f);
  if (IS("originalTotalSet") || IS("discountedTotalSet"))
    return money_bag(c, money_parse(l->price) * l->quantity, ref->order->currency, f);
  if (IS("variant")) return resolve_object(c, "ProductVariant", field_variant, store_lookup(c->s, OBJ_VARIANT, l->variant_id), &f->sel);
  if (IS("product")) return resolve_object(c, "Product", field_product, store_lookup(c->s, OBJ_PRODUCT, l->product_id), &f->sel);
  return NULL;
}

static line_t *line_by_id(order_t *o, uint64_t id, size_t *index) {
  for (size_t i = 0; i < o->nlines; i++)
    if (o->lines[i].id == id) {
      *index = i;
      return &o->lines[i];
    }
  return NULL;
}

static cJSON *line_ref_json(gctx *c, order_t *o, uint64_t line, const gql_field *f) {
  size_t idx = 0;
  if (!line_by_id(o, line, &idx)) return cJSON_CreateNull();
  order_child lref = {o, idx, 0};
  return resolve_object(c, "LineItem", field_line_item, &lref, &f->sel);
}

static cJSON *fo_line_field(gctx *c, void *obj, const gql_field *f) {
  order_child *ref = obj;
  ffo_t *fo = &ref->order->fos[ref->index];
  qty_ref_t *r = &fo->lines[ref->sub];
  size_t idx = 0;
  line_t *l = line_by_id(ref->order, r->ref, &idx);
  if (IS("id")) return gid_json("FulfillmentOrderLineItem", r->id);
  if (IS("totalQuantity")) return cJSON_CreateNumber((double)fo->totals[ref->sub]);
  if (IS("remainingQuantity")) return cJSON_CreateNumber((double)r->qty);
  if (IS("sku")) return cJSON_CreateString(l ? l->sku : "");
  if (IS("productTitle")) return cJSON_CreateString(l ? l->name : "");
  if (IS("lineItem")) return line_ref_json(c, ref->order, r->ref, f);
  if (IS("variant")) return resolve_object(c, "ProductVariant", field_variant, l ? store_lookup(c->s, OBJ_VARIANT, l->variant_id) : NULL, &f->sel);
  if (IS("inventoryItemId")) {
    variant_t *v = l ? store_lookup(c->s, OBJ_VARIANT, l->variant_id) : NULL;
    return v ? gid_json("InventoryItem", v->inventory_item_id) : cJSON_CreateNull();
  }
  return NULL;
}

cJSON *field_fulfillment_order(gctx *c, void *obj, const gql_field *f) {
  order_child *ref = obj;
  order_t *o = ref->order;
  ffo_t *fo = &o->fos[ref->index];
  if (IS("id")) return gid_json("FulfillmentOrder", fo->id);
  if (IS("status")) return cJSON_CreateString(fo->status);
  if (IS("requestStatus")) return cJSON_CreateString("UNSUBMITTED");
  if (IS("createdAt")) return time_json(o->created_ms);
  if (IS("updatedAt")) return time_json(fo->updated_ms);
  if (IS("orderId")) return gid_json("Order", o->id);
  if (IS("orderName")) return cJSON_CreateString(o->name);
  if (IS("order")) return resolve_object(c, "Order", field_order, o, &f->sel);
  if (IS("destination")) return address_json(c, o->shipping, f);
  if (IS("assignedLocation")) {
    int li = store_location_index(c->s, fo->location_id);
    location_t *loc = &c->s->locations[li < 0 ? 0 : li];
    cJSON *out = cJSON_CreateObject();
    for (size_t i = 0; i < f->sel.n; i++) {
      const gql_field *sub = &f->sel.fields[i];
      cJSON *v = FIELD_IS(sub, "location") ? resolve_object(c, "Location", field_location, loc, &sub->sel)
                 : FIELD_IS(sub, "name") ? cJSON_CreateString(loc->name) : cJSON_CreateNull();
      cJSON_AddItemToObject(out, gql_key(sub), v);
    }
    return out;
  }
  if (IS("lineItems"))
    return child_connection(c, o, f, fo->nlines, "FulfillmentOrderLineItem", fo_line_field, fo_line_id, ref->index);
  if (IS("supportedActions")) {
    cJSON *arr = cJSON_CreateArray();
    if (strcmp(fo->status, "OPEN") == 0 || strcmp(fo->status, "IN_PROGRESS") == 0) {
      cJSON *a = cJSON_CreateObject();
      cJSON_AddStringToObject(a, "action", "CREATE_FULFILLMENT");
      cJSON_AddItemToArray(arr, a);
    }
    cJSON *out = project(c, arr, &f->sel);
    cJSON_Delete(arr);
    return out;
  }
  return NULL;
}

/* ---- Fulfillment ---- */

static cJSON *ful_line_field(gctx *c, void *obj, const gql_field *f) {
  order_child *ref = obj;
  qty_ref_t *r = &ref->order->fuls[ref->index].lines[ref->sub];
  if (IS("id")) return gid_json("FulfillmentLineItem", r->id);
  if (IS("quantity")) return cJSON_CreateNumber((double)r->qty);
  if (IS("lineItem")) return line_ref_json(c, ref->order, r->ref, f);
  return NULL;
}

cJSON *field_fulfillment(gctx *c, void *obj, const gql_field *f) {
  order_child *ref = obj;
  order_t *o = ref->order;
  fulfillment_t *fu = &o->fuls[ref->index];
  if (IS("id")) return gid_json("Fulfillment", fu->id);
  if (IS("legacyResourceId")) return legacy_id(fu->id);
  if (IS("status")) return cJSON_CreateString(fu->status);
  if (IS("name")) {
    char buf[64];
    snprintf(buf, sizeof buf, "%s-F%zu", o->name, ref->index + 1);
    return cJSON_CreateString(buf);
  }
  if (IS("createdAt")) return time_json(fu->created_ms);
  if (IS("updatedAt")) return time_json(fu->updated_ms);
  if (IS("order")) return resolve_object(c, "Order", field_order, o, &f->sel);
  if (IS("trackingInfo")) {
    cJSON *arr = cJSON_CreateArray();
    if (fu->number || fu->company) {
      cJSON *t = cJSON_CreateObject();
      cJSON_AddItemToObject(t, "company", str_or_null(fu->company));
      cJSON_AddItemToObject(t, "number", str_or_null(fu->number));
      cJSON_AddItemToObject(t, "url", str_or_null(fu->url));
      cJSON_AddItemToArray(arr, t);
    }
    cJSON *out = project(c, arr, &f->sel);
    cJSON_Delete(arr);
    return out;
  }
  if (IS("fulfillmentLineItems"))
    return child_connection(c, o, f, fu->nlines, "FulfillmentLineItem", ful_line_field, ful_line_id, ref->index);
  return NULL;
}

/* ---- Return and Refund ---- */

static cJSON *ret_line_field(gctx *c, void *obj, const gql_field *f) {
  order_child *ref = obj;
  return_t *rt = &ref->order->returns[ref->index];
  qty_ref_t *r = &rt->lines[ref->sub];
  if (IS("id")) return gid_json("ReturnLineItem", r->id);
  if (IS("quantity")) return cJSON_CreateNumber((double)r->qty);
  if (IS("processedQuantity")) return cJSON_CreateNumber((double)rt->processed[ref->sub]);
  if (IS("unprocessedQuantity") || IS("processableQuantity"))
    return cJSON_CreateNumber((double)(r->qty - rt->processed[ref->sub]));
  if (IS("returnReasonNote"))
    return cJSON_CreateString(rt->notes && rt->notes[ref->sub] ? rt->notes[ref->sub] : "");
  if (IS("customerNote")) return cJSON_CreateNull();
  if (IS("fulfillmentLineItem")) {
    /* r->ref is the fulfillment line item id; find it to give its line item */
    for (size_t i = 0; i < ref->order->nfuls; i++)
      for (size_t k = 0; k < ref->order->fuls[i].nlines; k++)
        if (ref->order->fuls[i].lines[k].id == r->ref) {
          order_child fl = {ref->order, i, k};
          return resolve_object(c, "FulfillmentLineItem", ful_line_field, &fl, &f->sel);
        }
    return cJSON_CreateNull();
  }
  return NULL;
}

/* A return's reverse fulfillment order: the sim keeps one per return, with
 * the return's id; its line items carry the ids of the return line items. */
static cJSON *rfo_line_field(gctx *c, void *obj, const gql_field *f) {
  order_child *ref = obj;
  return_t *rt = &ref->order->returns[ref->index];
  if (IS("id")) return gid_json("ReverseFulfillmentOrderLineItem", rt->lines[ref->sub].id);
  if (IS("totalQuantity")) return cJSON_CreateNumber((double)rt->lines[ref->sub].qty);
  if (IS("dispositions")) return cJSON_CreateArray();
  if (IS("fulfillmentLineItem")) return ret_line_field(c, obj, f);
  return NULL;
}

static cJSON *rfo_field(gctx *c, void *obj, const gql_field *f) {
  order_child *ref = obj;
  order_t *o = ref->order;
  return_t *rt = &o->returns[ref->index];
  if (IS("id")) return gid_json("ReverseFulfillmentOrder", rt->id);
  if (IS("status")) return cJSON_CreateString(strcmp(rt->status, "CLOSED") == 0 ? "CLOSED" : "OPEN");
  if (IS("order")) return resolve_object(c, "Order", field_order, o, &f->sel);
  if (IS("lineItems"))
    return child_connection(c, o, f, rt->nlines, "ReverseFulfillmentOrderLineItem", rfo_line_field, ret_line_id, ref->index);
  return NULL;
}

static uint64_t rfo_id(order_t *o, size_t k) { return o->returns[k / 100000].id; }

cJSON *field_return(gctx *c, void *obj, const gql_field *f) {
  order_child *ref = obj;
  order_t *o = ref->order;
  return_t *rt = &o->returns[ref->index];
  if (IS("id")) return gid_json("Return", rt->id);
  if (IS("status")) return cJSON_CreateString(rt->status);
  if (IS("name")) {
    char buf[64];
    snprintf(buf, sizeof buf, "%s-R%zu", o->name, ref->index + 1);
    return cJSON_CreateString(buf);
  }
  if (IS("order")) return resolve_object(c, "Order", field_order, o, &f->sel);
  if (IS("returnLineItems"))
    return child_connection(c, o, f, rt->nlines, "ReturnLineItem", ret_line_field, ret_line_id, ref->index);
  if (IS("reverseFulfillmentOrders"))
    return child_connection(c, o, f, 1, "ReverseFulfillmentOrder", rfo_field, rfo_id, ref->index);
  if (IS("totalQuantity")) {
    long sum = 0;
    for (size_t i = 0; i < rt->nlines; i++) sum += rt->lines[i].qty;
    return cJSON_CreateNumber((double)sum);
  }
  return NULL;
}

static cJSON *ref_line_field(gctx *c, void *obj, const gql_field *f) {
  order_child *ref = obj;
  refund_t *rf = &ref->order->refunds[ref->index];
  qty_ref_t *r = &rf->lines[ref->sub];
  if (IS("id")) return gid_json("RefundLineItem", r->id);
  if (IS("quantity")) return cJSON_CreateNumber((double)r->qty);
  if (IS("restockType")) return cJSON_CreateString(rf->restock ? "RETURN" : "NO_RESTOCK");
  if (IS("restocked")) return cJSON_CreateBool(rf->restock);
  if (IS("lineItem")) return line_ref_json(c, ref->order, r->ref, f);
  return NULL;
}

cJSON *field_refund(gctx *c, void *obj, const gql_field *f) {
  order_child *ref = obj;
  order_t *o = ref->order;
  refund_t *rf = &o->refunds[ref->index];
  if (IS("id")) return gid_json("Refund", rf->id);
  if (IS("legacyResourceId")) return legacy_id(rf->id);
  if (IS("createdAt")) return time_json(rf->created_ms);
  if (IS("note")) return str_or_null(rf->reason);
  if (IS("totalRefundedSet")) return money_bag(c, money_parse(rf->amount), o->currency, f);
  if (IS("order")) return resolve_object(c, "Order", field_order, o, &f->sel);
  if (IS("refundLineItems"))
    return child_connection(c, o, f, rf->nlines, "RefundLineItem", ref_line_field, ref_line_id, ref->index);
  return NULL;
}

/* ---- WebhookSubscription ---- */

cJSON *field_webhook(gctx *c, void *obj, const gql_field *f) {
  webhook_t *w = obj;
  if (IS("id")) return gid_json("WebhookSubscription", w->id);
  if (IS("legacyResourceId")) return legacy_id(w->id);
  if (IS("topic")) {
    char buf[64];
    size_t n = 0;
    for (const char *t = w->topic; *t && n + 1 < sizeof buf; t++)
      buf[n++] = *t == '/' ? '_' : (*t >= 'a' && *t <= 'z') ? (char)(*t - 32) : *t;
    buf[n] = '\0';
    return cJSON_CreateString(buf);
  }
  if (IS("uri") || IS("callbackUrl")) return cJSON_CreateString(w->address);
  if (IS("format")) return cJSON_CreateString("JSON");
  if (IS("createdAt")) return time_json(w->created_ms);
  if (IS("updatedAt")) return time_json(w->updated_ms);
  if (IS("endpoint")) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "__typename", "WebhookHttpEndpoint");
    cJSON_AddStringToObject(e, "callbackUrl", w->address);
    cJSON *out = project(c, e, &f->sel);
    cJSON_Delete(e);
    return out;
  }
  return NULL;
}
