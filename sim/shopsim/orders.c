#include "orders.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void money_fmt(long cents, char out[32]) {
  snprintf(out, 32, "%s%ld.%02ld", cents < 0 ? "-" : "", labs(cents) / 100, labs(cents) % 100);
}

long money_parse(const char *s) { return s ? lround(strtod(s, NULL) * 100.0) : 0; }

long order_total_cents(const order_t *o) {
  long total = money_parse(o->shipping_total);
  for (size_t i = 0; i < o->nlines; i++) total += money_parse(o->lines[i].price) * o->lines[i].quantity;
  return total;
}

static variant_t *line_variant(store_t *s, const line_t *l) {
  if (!l->variant_id) return NULL;
  variant_t *v = store_lookup(s, OBJ_VARIANT, l->variant_id);
  if (!v) {
    product_t *p = store_lookup(s, OBJ_PRODUCT, l->product_id); /* WooCommerce simple */
    v = (p && p->nvariants && p->variants[0]->id == l->variant_id) ? p->variants[0] : NULL;
  }
  return v;
}

/* Shopify moves ordered stock from available to committed; WooCommerce
 * reduces stock_quantity when the order is placed (processing). */
static void commit_stock(store_t *s, const line_t *l, long qty) {
  variant_t *v = line_variant(s, l);
  if (!v || !v->manage_stock) return;
  level_t *lv = &v->levels[0];
  if (s->platform == PLATFORM_SHOPIFY) {
    lv->committed += qty;
    lv->available -= qty;
  } else {
    lv->available -= qty;
    lv->on_hand -= qty;
  }
  v->updated_ms = now_ms();
}

void order_restock(store_t *s, order_t *o, line_t *l, long qty) {
  (void)o;
  variant_t *v = line_variant(s, l);
  if (!v || !v->manage_stock || qty <= 0) return;
  v->levels[0].available += qty;
  v->levels[0].on_hand += qty;
  v->updated_ms = now_ms();
}

static bool fill_line(store_t *s, line_t *l, const cJSON *spec, char *err, size_t errlen) {
  const char *sku = jstr(spec, "sku");
  variant_t *v = sku ? store_find_sku(s, sku) : NULL;
  if (!v) {
    uint64_t vid = (uint64_t)jint(spec, "variant_id", 0);
    v = vid ? store_lookup(s, OBJ_VARIANT, vid) : NULL;
  }
  if (!v && !jbool(spec, "unmapped", false)) {
    snprintf(err, errlen, "unknown sku or variant_id in line (set unmapped:true for a line without product)");
    return false;
  }
  l->quantity = jint(spec, "quantity", 1);
  if (l->quantity < 1) {
    snprintf(err, errlen, "quantity must be >= 1");
    return false;
  }
  if (v) {
    product_t *p = store_lookup(s, OBJ_PRODUCT, v->product_id);
    l->variant_id = v->id;
    l->product_id = v->product_id;
    l->sku = xstrdup(v->sku);
    char name[256];
    snprintf(name, sizeof name, "%s%s%s", p ? p->title : "", p && p->variable ? " - " : "",
             p && p->variable ? v->title : "");
    l->name = xstrdup(jstr(spec, "name") ? jstr(spec, "name") : name);
    l->price = xstrdup(jstr(spec, "price") ? jstr(spec, "price") : v->price);
  } else {
    l->sku = xstrdup(sku ? sku : "");
    l->name = xstrdup(jstr(spec, "name") ? jstr(spec, "name") : "Custom item");
    l->price = xstrdup(jstr(spec, "price") ? jstr(spec, "price") : "10.00");
  }
  return true;
}

static cJSON *default_address(void) {
  cJSON *a = cJSON_CreateObject();
  cJSON_AddStringToObject(a, "first_name", "Jo");
  cJSON_AddStringToObject(a, "last_name", "Tester");
  cJSON_AddStringToObject(a, "address1", "Main Street 1");
  cJSON_AddStringToObject(a, "city", "Amsterdam");
  cJSON_AddStringToObject(a, "zip", "1011AA");
  cJSON_AddStringToObject(a, "country", "NL");
  cJSON_AddStringToObject(a, "phone", "+31200000000");
  return a;
}

static cJSON *address_from(const cJSON *spec, const char *key) {
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(spec, key);
  return cJSON_IsObject(a) ? cJSON_Duplicate(a, 1) : NULL;
}

static void add_fo_line(store_t *s, ffo_t *fo, line_t *l) {
  qty_ref_t *r = VEC_PUSH(fo->lines, fo->nlines);
  fo->totals = xrealloc(fo->totals, fo->nlines * sizeof *fo->totals);
  r->id = store_next_id(s);
  r->ref = l->id;
  r->qty = l->quantity;
  fo->totals[fo->nlines - 1] = l->quantity;
  l->fo_line_id = r->id;
}

/* One fulfillment order holds every line, at the first location as for a
 * shop with one fulfilling location, or at the spec's location_id (standing
 * in for Shopify's order routing, which picks the location). */
static void create_fulfillment_order(store_t *s, order_t *o, const cJSON *spec) {
  ffo_t *fo = VEC_PUSH(o->fos, o->nfos);
  fo->id = store_next_id(s);
  fo->location_id = s->locations[0].id;
  double lid;
  if (jnum(spec, "location_id", &lid) && store_location_index(s, (uint64_t)lid) >= 0) fo->location_id = (uint64_t)lid;
  fo->status = xstrdup("OPEN");
  fo->updated_ms = now_ms();
  for (size_t i = 0; i < o->nlines; i++) add_fo_line(s, fo, &o->lines[i]);
}

static void apply_contact_fields(order_t *o, const cJSON *spec) {
  if (jstr(spec, "email")) set_str(&o->email, jstr(spec, "email"));
  if (jstr(spec, "phone")) set_str(&o->phone, jstr(spec, "phone"));
  if (jstr(spec, "note")) set_str(&o->customer_note, jstr(spec, "note"));
  cJSON *billing = address_from(spec, "billing");
  if (billing) {
    cJSON_Delete(o->billing);
    o->billing = billing;
  }
  cJSON *shipping = address_from(spec, "shipping_address");
  if (!shipping) shipping = address_from(spec, "shipping");
  if (shipping) {
    cJSON_Delete(o->shipping);
    o->shipping = shipping;
  }
  const cJSON *sm = cJSON_GetObjectItemCaseSensitive(spec, "shipping_method");
  if (cJSON_IsObject(sm)) {
    if (jstr(sm, "code")) set_str(&o->shipping_code, jstr(sm, "code"));
    if (jstr(sm, "title")) set_str(&o->shipping_title, jstr(sm, "title"));
    if (jstr(sm, "total")) set_str(&o->shipping_total, jstr(sm, "total"));
  }
}

order_t *order_place(store_t *s, const cJSON *spec, char *err, size_t errlen) {
  const cJSON *lines = cJSON_GetObjectItemCaseSensitive(spec, "lines");
  if (!cJSON_IsArray(lines) || cJSON_GetArraySize(lines) == 0) {
    snprintf(err, errlen, "lines: a non-empty array is required");
    return NULL;
  }
  order_t *o = xcalloc(1, sizeof *o);
  const cJSON *ls;
  cJSON_ArrayForEach(ls, lines) {
    line_t *l = VEC_PUSH(o->lines, o->nlines);
    l->id = 0;
    if (!fill_line(s, l, ls, err, errlen)) {
      o->nlines--;
      for (size_t i = 0; i < o->nlines; i++) {
        free(o->lines[i].sku);
        free(o->lines[i].name);
        free(o->lines[i].price);
      }
      free(o->lines);
      free(o);
      return NULL;
    }
  }
  o->id = store_next_id(s);
  for (size_t i = 0; i < o->nlines; i++) o->lines[i].id = store_next_id(s);
  o->number = s->next_order_number++;
  char name[32];
  snprintf(name, sizeof name, "#%ld", o->number);
  o->name = xstrdup(name);
  o->status = xstrdup(jstr(spec, "status") ? jstr(spec, "status") : "processing");
  o->financial_status = xstrdup(jstr(spec, "financial_status") ? jstr(spec, "financial_status") : "PAID");
  o->currency = xstrdup(jstr(spec, "currency") ? jstr(spec, "currency") : s->currency);
  o->email = xstrdup("customer@example.com");
  o->shipping_code = xstrdup("flat_rate");
  o->shipping_title = xstrdup("Standard shipping");
  o->shipping_total = xstrdup("4.95");
  o->billing = default_address();
  o->shipping = default_address();
  apply_contact_fields(o, spec);
  o->created_ms = o->updated_ms = now_ms();
  for (size_t i = 0; i < o->nlines; i++) commit_stock(s, &o->lines[i], o->lines[i].quantity);
  if (s->platform == PLATFORM_SHOPIFY) create_fulfillment_order(s, o, spec);
  *VEC_PUSH(s->orders, s->norders) = o;
  store_index(s, OBJ_ORDER, o->id, o);
  return o;
}

static line_t *line_by_sku(order_t *o, const char *sku) {
  for (size_t i = 0; sku && i < o->nlines; i++)
    if (strcmp(o->lines[i].sku, sku) == 0) return &o->lines[i];
  return NULL;
}

static bool change_lines(store_t *s, order_t *o, const cJSON *lines, char *err, size_t errlen) {
  const cJSON *ls;
  cJSON_ArrayForEach(ls, lines) {
    line_t *l = line_by_sku(o, jstr(ls, "sku"));
    if (l) {
      long qty = jint(ls, "quantity", l->quantity);
      if (qty < l->fulfilled) {
        snprintf(err, errlen, "quantity below fulfilled quantity");
        return false;
      }
      commit_stock(s, l, qty - l->quantity);
      for (size_t f = 0; f < o->nfos; f++)
        for (size_t k = 0; k < o->fos[f].nlines; k++)
          if (o->fos[f].lines[k].ref == l->id) {
            o->fos[f].lines[k].qty += qty - l->quantity;
            o->fos[f].totals[k] += qty - l->quantity;
          }
      l->quantity = qty;
      continue;
    }
    line_t fresh = {0};
    if (!fill_line(s, &fresh, ls, err, errlen)) return false;
    fresh.id = store_next_id(s);
    line_t *added = VEC_PUSH(o->lines, o->nlines);
    *added = fresh;
    commit_stock(s, added, added->quantity);
    if (o->nfos) add_fo_line(s, &o->fos[0], added);
  }
  for (size_t f = 0; f < o->nfos; f++) order_update_fo_status(&o->fos[f]);
  return true;
}

bool order_change(store_t *s, order_t *o, const cJSON *spec, char *err, size_t errlen) {
  const cJSON *lines = cJSON_GetObjectItemCaseSensitive(spec, "lines");
  if (cJSON_IsArray(lines) && !change_lines(s, o, lines, err, errlen)) return false;
  apply_contact_fields(o, spec);
  if (jstr(spec, "status")) order_set_woo_status(s, o, jstr(spec, "status"));
  if (jstr(spec, "financial_status")) set_str(&o->financial_status, jstr(spec, "financial_status"));
  o->updated_ms = now_ms();
  return true;
}

static void release_open_lines(store_t *s, order_t *o) {
  for (size_t i = 0; i < o->nlines; i++) {
    line_t *l = &o->lines[i];
    long open = l->quantity - l->fulfilled;
    if (open <= 0) continue;
    variant_t *v = line_variant(s, l);
    if (!v || !v->manage_stock) continue;
    if (s->platform == PLATFORM_SHOPIFY) {
      v->levels[0].committed -= open;
      v->levels[0].available += open;
    } else {
      v->levels[0].available += open;
      v->levels[0].on_hand += open;
    }
  }
}

void order_cancel(store_t *s, order_t *o, const char *reason) {
  if (o->cancelled_ms) return;
  release_open_lines(s, o);
  o->cancelled_ms = now_ms();
  set_str(&o->cancel_reason, reason ? reason : "CUSTOMER");
  set_str(&o->status, "cancelled");
  for (size_t i = 0; i < o->nfos; i++)
    if (strcmp(o->fos[i].status, "CLOSED") != 0) set_str(&o->fos[i].status, "CANCELLED");
  o->updated_ms = now_ms();
}

void order_set_woo_status(store_t *s, order_t *o, const char *status) {
  if (strcmp(status, "cancelled") == 0) {
    order_cancel(s, o, "other");
    return;
  }
  set_str(&o->status, status);
  o->updated_ms = now_ms();
}

line_t *order_find_line(order_t *o, uint64_t line_id) {
  for (size_t i = 0; i < o->nlines; i++)
    if (o->lines[i].id == line_id) return &o->lines[i];
  return NULL;
}

ffo_t *order_find_fo(store_t *s, uint64_t fo_id, order_t **owner) {
  for (size_t i = 0; i < s->norders; i++) {
    order_t *o = s->orders[i];
    for (size_t k = 0; k < o->nfos; k++)
      if (o->fos[k].id == fo_id) {
        *owner = o;
        return &o->fos[k];
      }
  }
  return NULL;
}

fulfillment_t *order_new_fulfillment(store_t *s, order_t *o) {
  fulfillment_t *f = VEC_PUSH(o->fuls, o->nfuls);
  f->id = store_next_id(s);
  f->status = xstrdup("SUCCESS");
  f->created_ms = f->updated_ms = now_ms();
  return f;
}

void order_update_fo_status(ffo_t *fo) {
  if (strcmp(fo->status, "CANCELLED") == 0) return;
  long remaining = 0, total = 0;
  for (size_t i = 0; i < fo->nlines; i++) {
    remaining += fo->lines[i].qty;
    total += fo->totals[i];
  }
  set_str(&fo->status, remaining == 0 ? "CLOSED" : remaining < total ? "IN_PROGRESS" : "OPEN");
  fo->updated_ms = now_ms();
}

bool order_fulfil_line(store_t *s, order_t *o, ffo_t *fo, uint64_t fo_line_id, long qty, fulfillment_t *f,
                       char *err, size_t errlen) {
  qty_ref_t *r = NULL;
  for (size_t i = 0; i < fo->nlines; i++)
    if (fo->lines[i].id == fo_line_id) r = &fo->lines[i];
  if (!r) {
    snprintf(err, errlen, "Fulfillment order line item does not exist.");
    return false;
  }
  if (qty < 1 || qty > r->qty) {
    snprintf(err, errlen, "Invalid fulfillment order line item quantity requested.");
    return false;
  }
  line_t *l = order_find_line(o, r->ref);
  r->qty -= qty;
  l->fulfilled += qty;
  variant_t *v = line_variant(s, l);
  if (v && v->manage_stock) {
    int li = store_location_index(s, fo->location_id);
    level_t *lv = &v->levels[li < 0 ? 0 : li];
    lv->committed -= qty;
    lv->on_hand -= qty;
  }
  qty_ref_t *fl = VEC_PUSH(f->lines, f->nlines);
  fl->id = store_next_id(s);
  fl->ref = l->id;
  fl->qty = qty;
  return true;
}

const char *order_fulfillment_status(const order_t *o) {
  long fulfilled = 0, total = 0;
  for (size_t i = 0; i < o->nlines; i++) {
    fulfilled += o->lines[i].fulfilled;
    total += o->lines[i].quantity;
  }
  if (fulfilled == 0) return "UNFULFILLED";
  return fulfilled < total ? "PARTIALLY_FULFILLED" : "FULFILLED";
}
