/* WooCommerce products, variations and their batch endpoints. */
#include <stdio.h>
#include <stdlib.h>

#include "util.h"
#include "webhooks.h"
#include "woo_internal.h"

static bool list_has(const char *csv, const char *value) {
  if (!csv || !*csv || strcmp(csv, "any") == 0) return true;
  char buf[256];
  snprintf(buf, sizeof buf, "%s", csv);
  char *save = NULL;
  for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
    if (strcmp(t, value) == 0) return true;
  return false;
}

static bool id_listed(const char *csv, uint64_t id) {
  if (!csv || !*csv) return true;
  char num[32];
  snprintf(num, sizeof num, "%llu", (unsigned long long)id);
  return list_has(csv, num);
}

static bool product_matches(woo_call *c, const product_t *p) {
  http_request *r = c->req;
  /* `any` (the default) is every status but trash, as WordPress's query
   * reads it; trash is listed only when asked for by name. */
  const char *status = req_query(r, "status");
  if (!status || strcmp(status, "any") == 0) {
    if (strcmp(p->status, "trash") == 0) return false;
  } else if (!list_has(status, p->status)) {
    return false;
  }
  if (!list_has(req_query(r, "type"), p->variable ? "variable" : "simple")) return false;
  if (!id_listed(req_query(r, "include"), p->id)) return false;
  const char *sku = req_query(r, "sku");
  if (sku && (p->variable || !p->nvariants || !list_has(sku, p->variants[0]->sku))) return false;
  const char *virt = req_query(r, "virtual");
  if (virt && (strcmp(virt, "true") == 0) != p->is_virtual) return false;
  const char *cat = req_query(r, "category");
  if (cat) {
    bool found = false;
    for (size_t i = 0; i < p->ncategories && !found; i++)
      found = list_has(cat, p->categories[i]) || id_listed(cat, woo_category_id(p->categories[i]));
    if (!found) return false;
  }
  return woo_time_filter(c, "modified_after", p->updated_ms, true) && woo_time_filter(c, "modified_before", p->updated_ms, false) &&
         woo_time_filter(c, "after", p->created_ms, true) && woo_time_filter(c, "before", p->created_ms, false);
}

static int64_t product_key(woo_call *c, const product_t *p) {
  const char *by = req_query(c->req, "orderby");
  if (by && strcmp(by, "id") == 0) return (int64_t)p->id;
  if (by && strcmp(by, "modified") == 0) return p->updated_ms;
  return p->created_ms;
}

typedef struct {
  woo_call *c;
  bool asc;
} sort_ctx;

/* By the orderby key, ties by id; `order` gives the direction (default desc). */
static int cmp_products(const void *a, const void *b, void *arg) {
  const sort_ctx *sc = arg;
  const product_t *x = *(product_t *const *)a, *y = *(product_t *const *)b;
  int64_t kx = product_key(sc->c, x), ky = product_key(sc->c, y);
  int r = kx != ky ? (kx < ky ? -1 : 1) : (x->id < y->id ? -1 : x->id > y->id ? 1 : 0);
  return sc->asc ? r : -r;
}

static void list_products(woo_call *c) {
  woo_page pg;
  if (!woo_read_page(c, &pg)) return;
  const char *order = req_query(c->req, "order");
  bool asc = order && strcmp(order, "asc") == 0;
  size_t n = 0;
  product_t **sel = xcalloc(c->s->nproducts, sizeof *sel);
  for (size_t i = 0; i < c->s->nproducts; i++)
    if (product_matches(c, c->s->products[i])) sel[n++] = c->s->products[i];
  sort_ctx sc = {c, asc};
  qsort_r(sel, n, sizeof *sel, cmp_products, &sc);
  cJSON *all = cJSON_CreateArray();
  long from = (pg.page - 1) * pg.per_page;
  /* Render only the page; the rest are placeholders for the count. */
  for (size_t i = 0; i < n; i++)
    cJSON_AddItemToArray(all, ((long)i >= from && (long)i < from + pg.per_page) ? woo_product_json(c->s, sel[i]) : cJSON_CreateNull());
  free(sel);
  woo_reply_page(c, &pg, all);
}

static bool sku_taken(store_t *s, const char *sku, const variant_t *self) {
  variant_t *v = store_find_sku(s, sku);
  return sku && *sku && v && v != self;
}

/* Applies WooCommerce fields to a product or variation. Returns an error
 * code or NULL. */
static const char *apply_variant_fields(store_t *s, variant_t *v, const cJSON *in) {
  const char *sku = jstr(in, "sku");
  if (sku && sku_taken(s, sku, v)) return "product_invalid_sku";
  if (sku) set_str(&v->sku, sku);
  if (jstr(in, "global_unique_id")) set_str(&v->barcode, jstr(in, "global_unique_id"));
  if (jstr(in, "regular_price")) set_str(&v->price, jstr(in, "regular_price"));
  if (cJSON_GetObjectItemCaseSensitive(in, "manage_stock")) v->manage_stock = jbool(in, "manage_stock", v->manage_stock);
  double q;
  if (jnum(in, "stock_quantity", &q)) {
    level_set(&v->levels[0], "available", clamp_long(q));
    s->counters.quantities_set++;
  }
  v->updated_ms = now_ms();
  return NULL;
}

static void apply_product_fields(product_t *p, const cJSON *in) {
  if (jstr(in, "name")) set_str(&p->title, jstr(in, "name"));
  if (jstr(in, "status")) set_str(&p->status, jstr(in, "status"));
  if (cJSON_GetObjectItemCaseSensitive(in, "virtual")) p->is_virtual = jbool(in, "virtual", p->is_virtual);
  const cJSON *cats = cJSON_GetObjectItemCaseSensitive(in, "categories");
  if (cJSON_IsArray(cats)) {
    for (size_t i = 0; i < p->ncategories; i++) free(p->categories[i]);
    p->ncategories = 0;
    const cJSON *cat;
    cJSON_ArrayForEach(cat, cats) if (jstr(cat, "name")) *VEC_PUSH(p->categories, p->ncategories) = xstrdup(jstr(cat, "name"));
  }
  p->updated_ms = now_ms();
}

static cJSON *item_error(uint64_t id, const char *code, const char *message) {
  cJSON *j = cJSON_CreateObject();
  cJSON_AddNumberToObject(j, "id", (double)id);
  cJSON *e = cJSON_AddObjectToObject(j, "error");
  cJSON_AddStringToObject(e, "code", code);
  cJSON_AddStringToObject(e, "message", message);
  cJSON *data = cJSON_AddObjectToObject(e, "data");
  cJSON_AddNumberToObject(data, "status", 400);
  return j;
}

static cJSON *update_product(store_t *s, product_t *p, const cJSON *in) {
  if (!p) return item_error((uint64_t)jint(in, "id", 0), "woocommerce_rest_product_invalid_id", "Invalid ID.");
  if (!p->variable && p->nvariants) {
    const char *err = apply_variant_fields(s, p->variants[0], in);
    if (err) return item_error(p->id, err, "Invalid or duplicated SKU.");
  }
  apply_product_fields(p, in);
  webhooks_emit(s, EV_PRODUCT_UPDATE, p->id);
  return woo_product_json(s, p);
}

static cJSON *create_product(store_t *s, const cJSON *in) {
  const char *sku = jstr(in, "sku");
  if (sku && sku_taken(s, sku, NULL)) return item_error(0, "product_invalid_sku", "Invalid or duplicated SKU.");
  const char *type = jstr(in, "type");
  bool variable = type && strcmp(type, "variable") == 0;
  product_t *p = store_add_product(s, jstr(in, "name") ? jstr(in, "name") : "Product", variable);
  if (!variable) {
    variant_t *v = store_add_variant(s, p, sku, jstr(in, "global_unique_id"), NULL, 0);
    v->manage_stock = false;
    apply_variant_fields(s, v, in);
  }
  apply_product_fields(p, in);
  return woo_product_json(s, p);
}

/* create+update+delete together at most 100, else 413 as WooCommerce answers. */
static bool batch_size_ok(woo_call *c, const cJSON *in) {
  int total = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(in, "create")) +
              cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(in, "update")) +
              cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(in, "delete"));
  if (total <= WOO_BATCH_LIMIT) return true;
  woo_error(c->rep, 413, "woocommerce_rest_request_entity_too_large", "Unable to accept more than 100 items for this request.");
  return false;
}

static cJSON *delete_result(store_t *s, uint64_t id, product_t *p, variant_t *v) {
  (void)v;
  if (!id || (!p && !v)) return item_error(id, "woocommerce_rest_product_invalid_id", "Invalid ID.");
  return woo_product_json(s, p);
}

static void products_batch(woo_call *c, const cJSON *in) {
  if (!batch_size_ok(c, in)) return;
  cJSON *out = cJSON_CreateObject();
  const cJSON *item;
  cJSON *created = cJSON_AddArrayToObject(out, "create");
  cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(in, "create")) cJSON_AddItemToArray(created, create_product(c->s, item));
  cJSON *updated = cJSON_AddArrayToObject(out, "update");
  cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(in, "update")) {
    product_t *p = store_lookup(c->s, OBJ_PRODUCT, (uint64_t)jint(item, "id", 0));
    cJSON_AddItemToArray(updated, update_product(c->s, p, item));
  }
  cJSON *deleted = cJSON_AddArrayToObject(out, "delete");
  cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(in, "delete")) {
    uint64_t id = (uint64_t)(cJSON_IsNumber(item) ? item->valuedouble : 0);
    product_t *p = store_lookup(c->s, OBJ_PRODUCT, id);
    cJSON *res = delete_result(c->s, id, p, NULL);
    if (p) set_str(&p->status, "trash");
    cJSON_AddItemToArray(deleted, res);
  }
  reply_json(c->rep, 200, out);
}

/* ---- variations ---- */

static variant_t *find_variation(product_t *p, uint64_t id) {
  for (size_t i = 0; p && p->variable && i < p->nvariants; i++)
    if (p->variants[i]->id == id) return p->variants[i];
  return NULL;
}

static void list_variations(woo_call *c, product_t *p) {
  woo_page pg;
  if (!woo_read_page(c, &pg)) return;
  const char *order = req_query(c->req, "order");
  bool asc = order && strcmp(order, "asc") == 0;
  const char *sku = req_query(c->req, "sku");
  cJSON *all = cJSON_CreateArray();
  for (size_t k = 0; p->variable && k < p->nvariants; k++) {
    size_t i = asc ? k : p->nvariants - 1 - k;
    variant_t *v = p->variants[i];
    if (sku && !list_has(sku, v->sku)) continue;
    if (!woo_time_filter(c, "modified_after", v->updated_ms, true)) continue;
    cJSON_AddItemToArray(all, woo_variation_json(c->s, p, v));
  }
  woo_reply_page(c, &pg, all);
}

static cJSON *update_variation(store_t *s, product_t *p, variant_t *v, const cJSON *in) {
  if (!v) return item_error((uint64_t)jint(in, "id", 0), "woocommerce_rest_product_variation_invalid_id", "Invalid ID.");
  const char *err = apply_variant_fields(s, v, in);
  if (err) return item_error(v->id, err, "Invalid or duplicated SKU.");
  p->updated_ms = now_ms();
  webhooks_emit(s, EV_PRODUCT_UPDATE, p->id);
  return woo_variation_json(s, p, v);
}

static cJSON *create_variation(store_t *s, product_t *p, const cJSON *in) {
  const char *sku = jstr(in, "sku");
  if (sku && sku_taken(s, sku, NULL)) return item_error(0, "product_invalid_sku", "Invalid or duplicated SKU.");
  const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(in, "attributes");
  const char *title = attrs ? jstr(cJSON_GetArrayItem(attrs, 0), "option") : NULL;
  variant_t *v = store_add_variant(s, p, sku, jstr(in, "global_unique_id"), title ? title : "Option", 0);
  v->manage_stock = false;
  apply_variant_fields(s, v, in);
  return woo_variation_json(s, p, v);
}

static void variations_batch(woo_call *c, product_t *p, const cJSON *in) {
  if (!batch_size_ok(c, in)) return;
  cJSON *out = cJSON_CreateObject();
  const cJSON *item;
  cJSON *created = cJSON_AddArrayToObject(out, "create");
  cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(in, "create")) cJSON_AddItemToArray(created, create_variation(c->s, p, item));
  cJSON *updated = cJSON_AddArrayToObject(out, "update");
  cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(in, "update")) {
    variant_t *v = find_variation(p, (uint64_t)jint(item, "id", 0));
    cJSON_AddItemToArray(updated, update_variation(c->s, p, v, item));
  }
  cJSON *deleted = cJSON_AddArrayToObject(out, "delete");
  cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(in, "delete")) {
    uint64_t id = (uint64_t)(cJSON_IsNumber(item) ? item->valuedouble : 0);
    variant_t *v = find_variation(p, id);
    cJSON_AddItemToArray(deleted, v ? woo_variation_json(c->s, p, v)
                                    : item_error(id, "woocommerce_rest_product_variation_invalid_id", "Invalid ID."));
  }
  reply_json(c->rep, 200, out);
}

static void variations(woo_call *c, product_t *p) {
  cJSON *in = req_json(c->req);
  if (woo_is(c, 3, "batch") && woo_method(c, "POST")) {
    if (!in) woo_error(c->rep, 400, "rest_invalid_json", "Invalid JSON body passed.");
    else variations_batch(c, p, in);
  } else if (c->nseg == 3 && woo_method(c, "GET")) {
    list_variations(c, p);
  } else if (c->nseg == 3 && woo_method(c, "POST")) {
    cJSON *res = create_variation(c->s, p, in);
    reply_json(c->rep, cJSON_GetObjectItemCaseSensitive(res, "error") ? 400 : 201, res);
  } else if (c->nseg == 4) {
    variant_t *v = find_variation(p, woo_seg_id(c, 3));
    if (!v) woo_error(c->rep, 404, "woocommerce_rest_product_variation_invalid_id", "Invalid ID.");
    else if (woo_method(c, "GET")) reply_json(c->rep, 200, woo_variation_json(c->s, p, v));
    else if (woo_method(c, "PUT")) {
      cJSON *res = update_variation(c->s, p, v, in);
      reply_json(c->rep, cJSON_GetObjectItemCaseSensitive(res, "error") ? 400 : 200, res);
    } else woo_error(c->rep, 404, "rest_no_route", "No route was found matching the URL and request method.");
  } else {
    woo_error(c->rep, 404, "rest_no_route", "No route was found matching the URL and request method.");
  }
  cJSON_Delete(in);
}

void woo_products(woo_call *c) {
  if (woo_is(c, 1, "batch")) {
    cJSON *in = req_json(c->req);
    if (!in) woo_error(c->rep, 400, "rest_invalid_json", "Invalid JSON body passed.");
    else products_batch(c, in);
    cJSON_Delete(in);
    return;
  }
  if (c->nseg == 1) {
    if (woo_method(c, "GET")) {
      list_products(c);
    } else if (woo_method(c, "POST")) {
      cJSON *in = req_json(c->req);
      cJSON *res = create_product(c->s, in);
      reply_json(c->rep, cJSON_GetObjectItemCaseSensitive(res, "error") ? 400 : 201, res);
      cJSON_Delete(in);
    } else {
      woo_error(c->rep, 404, "rest_no_route", "No route was found matching the URL and request method.");
    }
    return;
  }
  product_t *p = store_lookup(c->s, OBJ_PRODUCT, woo_seg_id(c, 1));
  if (!p) {
    woo_error(c->rep, 404, "woocommerce_rest_product_invalid_id", "Invalid ID.");
  } else if (woo_is(c, 2, "variations")) {
    variations(c, p);
  } else if (c->nseg == 2 && woo_method(c, "GET")) {
    reply_json(c->rep, 200, woo_product_json(c->s, p));
  } else if (c->nseg == 2 && woo_method(c, "PUT")) {
    cJSON *in = req_json(c->req);
    if (!in) in = cJSON_CreateObject();
    cJSON *res = update_product(c->s, p, in);
    reply_json(c->rep, cJSON_GetObjectItemCaseSensitive(res, "error") ? 400 : 200, res);
    cJSON_Delete(in);
  } else {
    woo_error(c->rep, 404, "rest_no_route", "No route was found matching the URL and request method.");
  }
}
