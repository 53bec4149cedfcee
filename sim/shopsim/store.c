#include "store.h"
#include "oauth.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- id index: open addressing on (id, kind) ---- */

typedef struct {
  uint64_t key;
  void *obj;
} idslot_t;

struct idmap {
  idslot_t *slots;
  size_t cap, used;
};

static uint64_t id_key(obj_kind kind, uint64_t id) { return id * 8 + (uint64_t)kind; }
static size_t id_hash(uint64_t k, size_t cap) { return (size_t)((k * 0x9E3779B97F4A7C15ull) >> 17) & (cap - 1); }

static void idmap_put(struct idmap *m, uint64_t key, void *obj);

static void idmap_grow(struct idmap *m) {
  idslot_t *old = m->slots;
  size_t oldcap = m->cap;
  m->cap = oldcap ? oldcap * 2 : 1024;
  m->slots = xcalloc(m->cap, sizeof *m->slots);
  m->used = 0;
  for (size_t i = 0; i < oldcap; i++)
    if (old[i].key) idmap_put(m, old[i].key, old[i].obj);
  free(old);
}

static void idmap_put(struct idmap *m, uint64_t key, void *obj) {
  if ((m->used + 1) * 2 > m->cap) idmap_grow(m);
  size_t i = id_hash(key, m->cap);
  while (m->slots[i].key && m->slots[i].key != key) i = (i + 1) & (m->cap - 1);
  if (!m->slots[i].key) m->used++;
  m->slots[i].key = key;
  m->slots[i].obj = obj;
}

static void *idmap_get(const struct idmap *m, uint64_t key) {
  if (!m->cap) return NULL;
  size_t i = id_hash(key, m->cap);
  while (m->slots[i].key) {
    if (m->slots[i].key == key) return m->slots[i].obj;
    i = (i + 1) & (m->cap - 1);
  }
  return NULL;
}

void *store_lookup(store_t *s, obj_kind kind, uint64_t id) { return idmap_get(s->ids, id_key(kind, id)); }
void store_index(store_t *s, obj_kind kind, uint64_t id, void *obj) { idmap_put(s->ids, id_key(kind, id), obj); }

/* ---- registry ---- */

static pthread_rwlock_t reg_mu = PTHREAD_RWLOCK_INITIALIZER;
static store_t **live;
static size_t nlive;
static store_t **removed; /* kept until shutdown: handlers may still hold them */
static size_t nremoved;

void stores_init(void) {}

static void free_product(product_t *p) {
  for (size_t i = 0; i < p->nvariants; i++) {
    variant_t *v = p->variants[i];
    free(v->sku);
    free(v->barcode);
    free(v->title);
    free(v->price);
    free(v);
  }
  for (size_t i = 0; i < p->ncategories; i++) free(p->categories[i]);
  free(p->categories);
  free(p->variants);
  free(p->title);
  free(p->status);
  free(p->vendor);
  free(p);
}

static void free_refs(qty_ref_t *r) { free(r); }

static void free_order_parts(order_t *o);

static void free_order(order_t *o) {
  free_order_parts(o);
  free(o->lines);
  free(o->fos);
  free(o->fuls);
  free(o->notes);
  free(o->trackings);
  free(o->refunds);
  free(o->returns);
  free(o->name);
  free(o->status);
  free(o->financial_status);
  free(o->cancel_reason);
  free(o->currency);
  free(o->email);
  free(o->phone);
  free(o->customer_note);
  free(o->shipping_code);
  free(o->shipping_title);
  free(o->shipping_total);
  cJSON_Delete(o->billing);
  cJSON_Delete(o->shipping);
  free(o);
}

/* What the arrays of an order own. */
static void free_order_parts(order_t *o) {
  for (size_t i = 0; i < o->nlines; i++) {
    free(o->lines[i].sku);
    free(o->lines[i].name);
    free(o->lines[i].price);
  }
  for (size_t i = 0; i < o->nfos; i++) {
    free(o->fos[i].status);
    free_refs(o->fos[i].lines);
    free(o->fos[i].totals);
  }
  for (size_t i = 0; i < o->nfuls; i++) {
    fulfillment_t *f = &o->fuls[i];
    free(f->status);
    free(f->company);
    free(f->number);
    free(f->url);
    free_refs(f->lines);
  }
  for (size_t i = 0; i < o->nnotes; i++) free(o->notes[i].note);
  for (size_t i = 0; i < o->ntrackings; i++) {
    tracking_t *t = &o->trackings[i];
    free(t->id);
    free(t->provider);
    free(t->number);
    free(t->link);
    free(t->date_shipped);
  }
  for (size_t i = 0; i < o->nrefunds; i++) {
    free(o->refunds[i].amount);
    free(o->refunds[i].reason);
    free_refs(o->refunds[i].lines);
  }
  for (size_t i = 0; i < o->nreturns; i++) {
    free(o->returns[i].status);
    free_refs(o->returns[i].lines);
    free(o->returns[i].processed);
    for (size_t k = 0; o->returns[i].notes && k < o->returns[i].nlines; k++) free(o->returns[i].notes[k]);
    free(o->returns[i].notes);
  }
  cJSON_Delete(o->tags);
}

static void free_store(store_t *s) {
  for (size_t i = 0; i < s->nproducts; i++) free_product(s->products[i]);
  for (size_t i = 0; i < s->norders; i++) free_order(s->orders[i]);
  for (size_t i = 0; i < s->nwebhooks; i++) {
    webhook_t *w = &s->webhooks[i];
    free(w->topic);
    free(w->address);
    free(w->secret);
    free(w->name);
    free(w->status);
  }
  for (size_t b = 0; b < SIM_IDEM_BUCKETS; b++) {
    idem_t *e = s->idem[b];
    while (e) {
      idem_t *next = e->next;
      free(e->key);
      free(e->result);
      free(e);
      e = next;
    }
  }
  for (size_t i = 0; i < SIM_CALL_LOG; i++) {
    free(s->calls[i].path);
    free(s->calls[i].op);
    free(s->calls[i].query);
  }
  free(s->products);
  free(s->orders);
  free(s->webhooks);
  free(s->ids->slots);
  free(s->ids);
  free(s->access_token);
  free(s->consumer_key);
  free(s->consumer_secret);
  free(s->app_secret);
  free(s->shop_domain);
  free(s->currency);
  free(s->access_scopes);
  free(s->key_permissions);
  free(s->client_id);
  free(s->client_secret);
  oauth_codes_free(s);
  pthread_mutex_destroy(&s->mu);
  free(s);
}

void stores_shutdown(void) {
  pthread_rwlock_wrlock(&reg_mu);
  for (size_t i = 0; i < nlive; i++) free_store(live[i]);
  for (size_t i = 0; i < nremoved; i++) free_store(removed[i]);
  free(live);
  free(removed);
  live = removed = NULL;
  nlive = nremoved = 0;
  pthread_rwlock_unlock(&reg_mu);
}

static bool valid_store_id(const char *id) {
  size_t n = strlen(id);
  if (n == 0 || n >= 64 || id[0] == '_') return false;
  for (size_t i = 0; i < n; i++)
    if (!isalnum((unsigned char)id[i]) && id[i] != '-' && id[i] != '_' && id[i] != '.') return false;
  return true;
}

static store_t *find_locked(const char *id) {
  for (size_t i = 0; i < nlive; i++)
    if (strcmp(live[i]->id, id) == 0) return live[i];
  return NULL;
}

static const char *cfg_str(const cJSON *cfg, const char *key, const char *dflt, char *buf, size_t len,
                           const char *id) {
  const char *v = jstr(cfg, key);
  if (v) return v;
  snprintf(buf, len, dflt, id);
  return buf;
}

static void add_location(store_t *s, const char *name) {
  location_t *l = &s->locations[s->nlocations++];
  l->id = store_next_id(s);
  size_t n = strlen(name) < sizeof l->name ? strlen(name) : sizeof l->name - 1;
  memcpy(l->name, name, n);
  l->name[n] = '\0';
  store_index(s, OBJ_LOCATION, l->id, l);
}

static bool store_configure(store_t *s, const cJSON *cfg, char *err, size_t errlen) {
  char buf[160];
  const char *platform = jstr(cfg, "platform");
  if (!platform || (strcmp(platform, "shopify") != 0 && strcmp(platform, "woocommerce") != 0)) {
    snprintf(err, errlen, "platform must be shopify or woocommerce");
    return false;
  }
  s->platform = platform[0] == 's' ? PLATFORM_SHOPIFY : PLATFORM_WOO;
  s->plan = plan_parse(jstr(cfg, "plan"));
  int mode = throttle_mode_parse(jstr(cfg, "throttle_mode"));
  if (s->plan < 0 || mode < 0) {
    snprintf(err, errlen, "unknown plan or throttle_mode");
    return false;
  }
  s->throttle_mode = (throttle_mode_t)mode;
  double size = (double)jint(cfg, "bucket_size", 1000);
  double rate = (double)jint(cfg, "restore_rate", (long)plan_restore_rate(s->plan));
  bucket_init(&s->bucket, size > 0 ? size : 1000, rate > 0 ? rate : 100);
  s->access_token = xstrdup(cfg_str(cfg, "access_token", "shpat_%s", buf, sizeof buf, s->id));
  s->consumer_key = xstrdup(cfg_str(cfg, "consumer_key", "ck_%s", buf, sizeof buf, s->id));
  s->consumer_secret = xstrdup(cfg_str(cfg, "consumer_secret", "cs_%s", buf, sizeof buf, s->id));
  const char *secret = jstr(cfg, "app_secret");
  if (!secret) secret = jstr(cfg, "webhook_secret");
  s->app_secret = xstrdup(secret ? secret : "shopsim-secret");
  s->shop_domain = xstrdup(cfg_str(cfg, "shop_domain",
                                   s->platform == PLATFORM_SHOPIFY ? "%s.myshopify.com" : "%s.example",
                                   buf, sizeof buf, s->id));
  s->currency = xstrdup(jstr(cfg, "currency") ? jstr(cfg, "currency") : "EUR");
  s->shipment_tracking = jbool(cfg, "shipment_tracking", false);
  snprintf(s->weight_unit, sizeof s->weight_unit, "%s", jstr(cfg, "weight_unit") ? jstr(cfg, "weight_unit") : "kg");
  snprintf(s->dimension_unit, sizeof s->dimension_unit, "%s",
           jstr(cfg, "dimension_unit") ? jstr(cfg, "dimension_unit") : "cm");
  s->access_scopes = xstrdup(jstr(cfg, "access_scopes") ? jstr(cfg, "access_scopes") : SIM_DEFAULT_SCOPES);
  const char *perm = jstr(cfg, "key_permissions") ? jstr(cfg, "key_permissions") : "read_write";
  if (strcmp(perm, "read") != 0 && strcmp(perm, "write") != 0 && strcmp(perm, "read_write") != 0) {
    snprintf(err, errlen, "key_permissions must be read, write or read_write");
    return false;
  }
  s->key_permissions = xstrdup(perm);
  s->client_id = xstrdup(cfg_str(cfg, "client_id", "client_%s", buf, sizeof buf, s->id));
  s->client_secret = xstrdup(cfg_str(cfg, "client_secret", "client-secret-%s", buf, sizeof buf, s->id));
  s->webhook_delay_ms = jint(cfg, "webhook_delay_ms", 0);
  long nloc = s->platform == PLATFORM_SHOPIFY ? jint(cfg, "locations", 1) : 1;
  if (nloc < 1) nloc = 1;
  if (nloc > SIM_MAX_LOCATIONS) nloc = SIM_MAX_LOCATIONS;
  for (long i = 0; i < nloc; i++) {
    snprintf(buf, sizeof buf, i == 0 ? "Main warehouse" : "Location %ld", i + 1);
    add_location(s, buf);
  }
  return true;
}

store_t *store_create(const cJSON *cfg, char *err, size_t errlen) {
  const char *id = jstr(cfg, "id");
  if (!id || !valid_store_id(id)) {
    snprintf(err, errlen, "id must be 1-63 characters of [A-Za-z0-9._-], not starting with _");
    return NULL;
  }
  store_t *s = xcalloc(1, sizeof *s);
  snprintf(s->id, sizeof s->id, "%s", id);
  pthread_mutex_init(&s->mu, NULL);
  s->ids = xcalloc(1, sizeof *s->ids);
  unsigned seed = 2166136261u;
  for (const char *c = id; *c; c++) seed = (seed ^ (unsigned char)*c) * 16777619u;
  /* Ids start in a range derived from the store id: reproducible per store,
   * and distinct between stores so a client mixing stores up gets 404s. */
  s->next_id = 1000000ull * (1 + seed % 9000);
  s->next_order_number = 1001;
  faults_init(&s->faults, seed);
  if (!store_configure(s, cfg, err, errlen)) {
    free_store(s);
    return NULL;
  }
  pthread_rwlock_wrlock(&reg_mu);
  if (find_locked(id)) {
    pthread_rwlock_unlock(&reg_mu);
    snprintf(err, errlen, "store %s exists", id);
    free_store(s);
    return NULL;
  }
  *VEC_PUSH(live, nlive) = s;
  pthread_rwlock_unlock(&reg_mu);
  return s;
}

store_t *store_find(const char *id) {
  pthread_rwlock_rdlock(&reg_mu);
  store_t *s = find_locked(id);
  pthread_rwlock_unlock(&reg_mu);
  return s;
}

bool store_delete(const char *id) {
  pthread_rwlock_wrlock(&reg_mu);
  for (size_t i = 0; i < nlive; i++) {
    if (strcmp(live[i]->id, id) != 0) continue;
    *VEC_PUSH(removed, nremoved) = live[i];
    live[i] = live[--nlive];
    pthread_rwlock_unlock(&reg_mu);
    return true;
  }
  pthread_rwlock_unlock(&reg_mu);
  return false;
}

cJSON *stores_list(void) {
  cJSON *arr = cJSON_CreateArray();
  pthread_rwlock_rdlock(&reg_mu);
  for (size_t i = 0; i < nlive; i++) cJSON_AddItemToArray(arr, cJSON_CreateString(live[i]->id));
  pthread_rwlock_unlock(&reg_mu);
  return arr;
}

/* ---- catalogue ---- */

uint64_t store_next_id(store_t *s) { return s->next_id++; }

void store_touch_product(product_t *p) { p->updated_ms = now_ms(); }

int store_location_index(store_t *s, uint64_t location_id) {
  for (int i = 0; i < s->nlocations; i++)
    if (s->locations[i].id == location_id) return i;
  return -1;
}

product_t *store_add_product(store_t *s, const char *title, bool variable) {
  product_t *p = xcalloc(1, sizeof *p);
  p->id = store_next_id(s);
  p->title = xstrdup(title);
  p->status = xstrdup(s->platform == PLATFORM_SHOPIFY ? "ACTIVE" : "publish");
  p->vendor = xstrdup("shopsim");
  p->variable = variable;
  p->created_ms = p->updated_ms = now_ms();
  *VEC_PUSH(s->products, s->nproducts) = p;
  store_index(s, OBJ_PRODUCT, p->id, p);
  return p;
}

variant_t *store_add_variant(store_t *s, product_t *p, const char *sku, const char *barcode,
                             const char *title, long stock) {
  variant_t *v = xcalloc(1, sizeof *v);
  bool woo_simple = s->platform == PLATFORM_WOO && !p->variable;
  v->id = woo_simple ? p->id : store_next_id(s);
  v->product_id = p->id;
  v->sku = xstrdup(sku ? sku : "");
  v->barcode = xstrdup(barcode ? barcode : "");
  v->title = xstrdup(title ? title : "Default Title");
  v->price = xstrdup("19.95");
  v->manage_stock = true;
  v->weight = 0.5;
  v->created_ms = v->updated_ms = now_ms();
  for (int i = 0; i < SIM_MAX_LOCATIONS; i++) v->levels[i].available = v->levels[i].on_hand = stock;
  if (s->platform == PLATFORM_SHOPIFY) {
    v->inventory_item_id = store_next_id(s);
    store_index(s, OBJ_INV_ITEM, v->inventory_item_id, v);
  }
  if (!woo_simple) store_index(s, OBJ_VARIANT, v->id, v);
  *VEC_PUSH(p->variants, p->nvariants) = v;
  return v;
}

variant_t *store_find_sku(store_t *s, const char *sku) {
  if (!sku || !*sku) return NULL;
  for (size_t i = 0; i < s->nproducts; i++) {
    product_t *p = s->products[i];
    for (size_t j = 0; j < p->nvariants; j++)
      if (strcmp(p->variants[j]->sku, sku) == 0) return p->variants[j];
  }
  return NULL;
}

void level_set(level_t *l, const char *name, long qty) {
  if (strcmp(name, "on_hand") == 0) {
    l->on_hand = qty;
    l->available = qty - l->committed;
  } else {
    l->available = qty;
    l->on_hand = qty + l->committed;
  }
}

long level_get(const level_t *l, const char *name) {
  if (strcmp(name, "on_hand") == 0) return l->on_hand;
  if (strcmp(name, "committed") == 0) return l->committed;
  return l->available;
}

order_t *store_find_order(store_t *s, uint64_t id) { return store_lookup(s, OBJ_ORDER, id); }

webhook_t *store_find_webhook(store_t *s, uint64_t id) {
  for (size_t i = 0; i < s->nwebhooks; i++)
    if (s->webhooks[i].id == id) return &s->webhooks[i];
  return NULL;
}

void store_remove_webhook(store_t *s, uint64_t id) {
  for (size_t i = 0; i < s->nwebhooks; i++) {
    webhook_t *w = &s->webhooks[i];
    if (w->id != id) continue;
    free(w->topic);
    free(w->address);
    free(w->secret);
    free(w->name);
    free(w->status);
    memmove(w, w + 1, (s->nwebhooks - i - 1) * sizeof *w);
    s->nwebhooks--;
    return;
  }
}

/* ---- logs ---- */

void store_log_call(store_t *s, const char *method, const char *path, const char *op, int status,
                    bool throttled, int cost) {
  call_t *c = &s->calls[s->ncalls % SIM_CALL_LOG];
  c->seq = ++s->ncalls;
  c->ms = now_ms();
  snprintf(c->method, sizeof c->method, "%s", method);
  set_str(&c->path, path);
  set_str(&c->op, op);
  free(c->query);
  c->query = NULL;
  c->status = status;
  c->throttled = throttled;
  c->cost = cost;
  c->actual_cost = cost;
}

void store_log_query(store_t *s, const char *query) {
  if (s->ncalls) set_str(&s->calls[(s->ncalls - 1) % SIM_CALL_LOG].query, query);
}

void store_log_delivery(store_t *s, const delivery_t *d) {
  s->deliveries[s->ndeliveries % SIM_DELIVERY_LOG] = *d;
  s->ndeliveries++;
}

/* Idempotency keys: chained hash buckets, since a benchmark run can leave
 * hundreds of thousands of keys behind. */
static size_t idem_bucket(const char *key) {
  uint64_t h = 1469598103934665603ull;
  for (const char *c = key; *c; c++) h = (h ^ (unsigned char)*c) * 1099511628211ull;
  return (size_t)(h % SIM_IDEM_BUCKETS);
}

const char *store_idem_get(store_t *s, const char *key) {
  for (idem_t *e = s->idem[idem_bucket(key)]; e; e = e->next)
    if (strcmp(e->key, key) == 0) return e->result;
  return NULL;
}

void store_idem_put(store_t *s, const char *key, const char *result) {
  idem_t *e = xcalloc(1, sizeof *e);
  size_t b = idem_bucket(key);
  e->key = xstrdup(key);
  e->result = xstrdup(result);
  e->next = s->idem[b];
  s->idem[b] = e;
  s->nidem++;
}
