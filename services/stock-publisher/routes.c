/* Routing snapshot (see routes.h): three queries, three indexes. */
#include "routes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sp_article {
    sp_item_ref *refs;
    int count, cap;
} sp_article;

static void free_store(void *p) {
    sp_store *s = p;
    for (int i = 0; i < s->location_count; i++) {
        for (int w = 0; w < s->locations[i].warehouse_count; w++) free(s->locations[i].warehouses[w]);
        free(s->locations[i].warehouses);
        free(s->locations[i].id);
    }
    free(s->locations);
    free(s->id), free(s->goods_owner), free(s->platform), free(s->base_url), free(s->stock_mode);
    free(s->client_key);
    free(s);
}

static void free_article(void *p) {
    sp_article *a = p;
    for (int i = 0; i < a->count; i++) free(a->refs[i].item);
    free(a->refs);
    free(a);
}

void sp_routes_free(sp_routes *r) {
    if (!r) return;
    wb_strmap_clear(&r->articles, free_article);
    wb_strmap_clear(&r->items, free);
    wb_strmap_clear(&r->removed, free);
    wb_strmap_clear(&r->stores, free_store);
    free(r);
}

static int load_stores(sp_routes *r, wb_pg *pg) {
    PGresult *res = wb_pg_query(pg,
        "SELECT id, goods_owner, platform, base_url, stock_mode, window_seconds, safety_stock, "
        "rate_limit_rps, md5(base_url || ' ' || credentials_sealed) "
        "FROM stores WHERE enabled AND stock_sync", 0, NULL);
    if (!res) return -1;
    for (int i = 0; i < PQntuples(res); i++) {
        sp_store *s = calloc(1, sizeof *s);
        s->id = strdup(PQgetvalue(res, i, 0));
        s->goods_owner = strdup(PQgetvalue(res, i, 1));
        s->platform = strdup(PQgetvalue(res, i, 2));
        s->base_url = strdup(PQgetvalue(res, i, 3));
        s->stock_mode = strdup(PQgetvalue(res, i, 4));
        s->window_ms = atoll(PQgetvalue(res, i, 5)) * 1000;
        s->safety_stock = atoll(PQgetvalue(res, i, 6));
        s->rate_limit_rps = atoll(PQgetvalue(res, i, 7));
        s->client_key = strdup(PQgetvalue(res, i, 8));
        wb_strmap_put(&r->stores, s->id, NULL)->ptr = s;
    }
    PQclear(res);
    return 0;
}

static sp_location *location_of(sp_store *s, const char *id) {
    for (int i = 0; i < s->location_count; i++)
        if (strcmp(s->locations[i].id, id) == 0) return &s->locations[i];
    s->locations = realloc(s->locations, sizeof *s->locations * (size_t)(s->location_count + 1));
    sp_location *l = &s->locations[s->location_count++];
    memset(l, 0, sizeof *l);
    l->id = strdup(id);
    return l;
}

static int load_locations(sp_routes *r, wb_pg *pg) {
    PGresult *res = wb_pg_query(pg,
        "SELECT store_id, shop_location_id, warehouse FROM store_locations "
        "ORDER BY store_id, shop_location_id, warehouse", 0, NULL);
    if (!res) return -1;
    for (int i = 0; i < PQntuples(res); i++) {
        wb_strmap_entry *e = wb_strmap_get(&r->stores, PQgetvalue(res, i, 0));
        if (!e) continue; /* disabled store */
        sp_location *l = location_of(e->ptr, PQgetvalue(res, i, 1));
        l->warehouses = realloc(l->warehouses, sizeof(char *) * (size_t)(l->warehouse_count + 1));
        l->warehouses[l->warehouse_count++] = strdup(PQgetvalue(res, i, 2));
    }
    PQclear(res);
    return 0;
}

static void add_ref(sp_routes *r, sp_store *s, const char *sku, const char *item) {
    char key[1024];
    snprintf(key, sizeof key, "%s/%s", s->goods_owner, sku);
    wb_strmap_entry *e = wb_strmap_put(&r->articles, key, NULL);
    if (!e->ptr) e->ptr = calloc(1, sizeof(sp_article));
    sp_article *a = e->ptr;
    if (a->count == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 2;
        a->refs = realloc(a->refs, sizeof *a->refs * (size_t)a->cap);
    }
    a->refs[a->count++] = (sp_item_ref){s, strdup(item)};
    snprintf(key, sizeof key, "%s|%s", s->id, item);
    wb_strmap_entry *ie = wb_strmap_put(&r->items, key, NULL);
    free(ie->ptr);
    ie->ptr = strdup(sku);
    r->mapping_count++;
}

/* Removed articles stay routed (their windows open and coalesce as any
 * other): the flush is the one place that decides what goes out, so a window
 * opened before the removal, a retry or a reconciliation's correction is
 * held back there too. */
static void mark_removed(sp_routes *r, const char *store_id, const char *item, const char *why) {
    char key[1024];
    snprintf(key, sizeof key, "%s|%s", store_id, item);
    wb_strmap_entry *e = wb_strmap_put(&r->removed, key, NULL);
    free(e->ptr);
    e->ptr = strdup(why);
}

/* The item the shop's inventory call names: Shopify's inventory item; for
 * WooCommerce the product, or product/variation for a variation. */
static int load_mappings(sp_routes *r, wb_pg *pg) {
    PGresult *res = wb_pg_query(pg,
        "SELECT store_id, sku, CASE WHEN inventory_item_id <> '' THEN inventory_item_id "
        "WHEN shop_variant_id <> '' THEN shop_product_id || '/' || shop_variant_id "
        "ELSE shop_product_id END, coalesce(removed, '') FROM product_mappings", 0, NULL);
    if (!res) return -1;
    for (int i = 0; i < PQntuples(res); i++) {
        wb_strmap_entry *e = wb_strmap_get(&r->stores, PQgetvalue(res, i, 0));
        if (!e) continue;
        add_ref(r, e->ptr, PQgetvalue(res, i, 1), PQgetvalue(res, i, 2));
        if (*PQgetvalue(res, i, 3)) mark_removed(r, PQgetvalue(res, i, 0), PQgetvalue(res, i, 2), PQgetvalue(res, i, 3));
    }
    PQclear(res);
    return 0;
}

sp_routes *sp_routes_empty(void) {
    sp_routes *r = calloc(1, sizeof *r);
    wb_strmap_init(&r->stores);
    wb_strmap_init(&r->articles);
    wb_strmap_init(&r->items);
    wb_strmap_init(&r->removed);
    return r;
}

sp_routes *sp_routes_load(wb_pg *pg, char *err, size_t err_size) {
    sp_routes *r = sp_routes_empty();
    if (load_stores(r, pg) || load_locations(r, pg) || load_mappings(r, pg)) {
        snprintf(err, err_size, "loading stock routes: %s", wb_pg_error(pg));
        sp_routes_free(r);
        return NULL;
    }
    return r;
}

static bool feeds(const sp_location *l, const char *warehouse) {
    for (int i = 0; i < l->warehouse_count; i++)
        if (strcmp(l->warehouses[i], warehouse) == 0) return true;
    return false;
}

int sp_routes_each(const sp_routes *r, const char *article, const char *warehouse, sp_route_fn fn,
                   void *ctx) {
    wb_strmap_entry *e = wb_strmap_get(&r->articles, article);
    if (!e) return 0;
    sp_article *a = e->ptr;
    int n = 0;
    for (int i = 0; i < a->count; i++) {
        const sp_store *s = a->refs[i].store;
        for (int l = 0; l < s->location_count; l++) {
            if (!feeds(&s->locations[l], warehouse)) continue;
            fn(ctx, s, a->refs[i].item, &s->locations[l]);
            n++;
        }
    }
    return n;
}

int sp_routes_each_store_sku(const sp_routes *r, const char *store_id, const char *sku, sp_route_fn fn,
                             void *ctx) {
    const sp_store *s = sp_routes_store(r, store_id);
    if (!s) return 0;
    char key[1024];
    snprintf(key, sizeof key, "%s/%s", s->goods_owner, sku);
    wb_strmap_entry *e = wb_strmap_get(&r->articles, key);
    if (!e) return 0;
    sp_article *a = e->ptr;
    int n = 0;
    for (int i = 0; i < a->count; i++) {
        if (a->refs[i].store != s) continue; /* another store of the same goods owner */
        for (int l = 0; l < s->location_count; l++, n++) fn(ctx, s, a->refs[i].item, &s->locations[l]);
    }
    return n;
}

const sp_store *sp_routes_store(const sp_routes *r, const char *store_id) {
    wb_strmap_entry *e = wb_strmap_get(&r->stores, store_id);
    return e ? e->ptr : NULL;
}

const sp_location *sp_routes_location(const sp_store *s, const char *location_id) {
    for (int i = 0; i < s->location_count; i++)
        if (strcmp(s->locations[i].id, location_id) == 0) return &s->locations[i];
    return NULL;
}

const char *sp_routes_removed(const sp_routes *r, const char *store_id, const char *item) {
    char key[1024];
    snprintf(key, sizeof key, "%s|%s", store_id, item);
    wb_strmap_entry *e = wb_strmap_get(&r->removed, key);
    return e ? e->ptr : NULL;
}

const char *sp_routes_sku(const sp_routes *r, const char *store_id, const char *item) {
    char key[1024];
    snprintf(key, sizeof key, "%s|%s", store_id, item);
    wb_strmap_entry *e = wb_strmap_get(&r->items, key);
    return e ? e->ptr : NULL;
}
