/* product_mappings and product_mapping_conflicts: what is known about an
 * article, and the verdict of decide.c applied. A mapping is only ever
 * inserted here (and its content hash updated), never changed. A page is
 * mapped with a handful of statements whatever its size (its items passed as
 * one JSON parameter): one round trip an article made a large import wait
 * on PostgreSQL's latency. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "catalog.h"
#include "wb/strmap.h"
#include "wb/log.h"
#include "wb/metrics.h"

static int record_conflict(wb_pg *pg, const wb_store *store, const ci_article *a, const char *kind,
                           const char *detail, bool *is_new) {
    const char *p[] = {store->id, kind, a->product_id, a->variant_id ? a->variant_id : "",
                       a->sku && *a->sku ? a->sku : NULL, detail};
    PGresult *r = wb_pg_query(pg,
        "INSERT INTO product_mapping_conflicts (store_id, kind, shop_product_id, shop_variant_id, sku, detail) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (store_id, kind, shop_product_id, shop_variant_id) "
        "DO UPDATE SET last_seen = now(), sku = EXCLUDED.sku, detail = EXCLUDED.detail "
        "RETURNING (xmax = 0)", 6, p);
    if (!r) return -1;
    *is_new = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    if (*is_new) {
        wb_counter_inc(wb_counter("wb_catalog_conflicts_total",
                                  "Product mapping conflicts found (reported, never resolved silently).",
                                  "store,kind"),
                       store->id, kind);
        wb_warn(store->id, "product mapping conflict %s: product %s variant %s: %s", kind, a->product_id,
                a->variant_id && *a->variant_id ? a->variant_id : "-", detail);
    }
    return 0;
}

/* What PostgreSQL knows about one article of a page. */
typedef struct known_row {
    bool has_mapping;
    char *mapped_sku, *mapped_shop_sku; /* mapped_shop_sku NULL: the same */
} known_row;

/* A WMS barcode: how many articles carry it, and the first sku. */
typedef struct barcode_row {
    int count;
    char *sku;
} barcode_row;

static char *xdup(const char *s) {
    char *d = strdup(s);
    if (!d) abort();
    return d;
}

static void free_barcode(void *p) {
    barcode_row *b = p;
    if (b) free(b->sku);
    free(b);
}

/* "product\x1fvariant": an item's key in the page's maps. */
static char *item_key(const char *product, const char *variant) {
    char *k = NULL;
    if (asprintf(&k, "%s\x1f%s", product, variant) < 0) abort();
    return k;
}

static char *print_json(cJSON *doc) {
    char *text = cJSON_PrintUnformatted(doc);
    if (!text) abort();
    cJSON_Delete(doc);
    return text;
}

static const char *vid(const ci_article *a) { return a->variant_id ? a->variant_id : ""; }

static void conflict_detail(const char *kind, const ci_article *a, const ci_known *k, const ci_verdict *v,
                            const char *other_product, const char *other_variant, char *detail, size_t size) {
    const char *sku = a->sku ? a->sku : "", *barcode = a->barcode ? a->barcode : "";
    if (strcmp(kind, "missing_sku") == 0 && *barcode)
        snprintf(detail, size, "the shop item has no SKU (barcode %s); not mapped, not sent", barcode);
    else if (strcmp(kind, "missing_sku") == 0)
        snprintf(detail, size, "the shop item has no SKU; not mapped, not sent");
    else if (strcmp(kind, "sku_changed") == 0)
        snprintf(detail, size, "mapped to sku %s (shop SKU %s); the shop's SKU is now %s; "
                 "mapping not changed, not sent", k->mapped_sku,
                 k->mapped_shop_sku ? k->mapped_shop_sku : k->mapped_sku, sku);
    else if (strcmp(kind, "ambiguous_barcode") == 0)
        snprintf(detail, size, "SKU %s is no WMS article and barcode %s belongs to %d WMS "
                 "articles; not mapped, not sent", sku, barcode, k->wms_barcode_matches);
    else if (other_product && *other_product)
        snprintf(detail, size, "sku %s is already mapped to product %s%s%s; not mapped, not sent",
                 v->sku ? v->sku : sku, other_product, other_variant && *other_variant ? " variant " : "",
                 other_variant ? other_variant : "");
    else
        snprintf(detail, size, "sku %s was mapped to another item meanwhile; not mapped, not sent",
                 v->sku ? v->sku : sku);
}

int ci_map_page(wb_pg *pg, const wb_store *store, const ci_articles *list, ci_mapped *out, char *err,
                size_t errlen) {
    size_t n = list->count;
    if (n == 0) return 0;
    int rc = -1;
    known_row *known = calloc(n, sizeof *known);
    ci_verdict *verdicts = calloc(n, sizeof *verdicts);
    if (!known || !verdicts) abort();
    wb_strmap wms_skus, barcodes, by_sku, created, inserted_items;
    wb_strmap_init(&wms_skus), wb_strmap_init(&barcodes), wb_strmap_init(&by_sku);
    wb_strmap_init(&created), wb_strmap_init(&inserted_items);
    PGresult *r = NULL;
    char *json = NULL;
    long by_sku_count = 0, by_barcode_count = 0;

    /* 1. the items' existing mappings. Each lookup is a LATERAL subquery
     * kept apart (OFFSET 0) so it is an index lookup by the whole key: while
     * a new store's rows are not in the planner's statistics yet, a join
     * would be planned for a store of one row and scan all the store's rows
     * once per item, the page taking longer the more pages went before. */
    cJSON *items = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "i", (double)i);
        cJSON_AddStringToObject(o, "p", list->items[i].product_id);
        cJSON_AddStringToObject(o, "v", vid(&list->items[i]));
        cJSON_AddItemToArray(items, o);
        memset(&out[i], 0, sizeof out[i]);
    }
    json = print_json(items);
    const char *p1[] = {store->id, json};
    r = wb_pg_query(pg,
        "SELECT x.i, m.sku, m.shop_sku, coalesce(m.content_hash, '') "
        "FROM jsonb_to_recordset($2::jsonb) AS x(i int, p text, v text) CROSS JOIN LATERAL "
        "(SELECT sku, shop_sku, content_hash FROM product_mappings WHERE store_id = $1 "
        "AND shop_product_id = x.p AND shop_variant_id = x.v OFFSET 0) m",
        2, p1);
    free(json), json = NULL;
    if (!r) goto fail;
    for (int row = 0; row < PQntuples(r); row++) {
        size_t i = (size_t)atol(PQgetvalue(r, row, 0));
        if (i >= n) continue;
        known[i].has_mapping = true;
        known[i].mapped_sku = xdup(PQgetvalue(r, row, 1));
        if (!PQgetisnull(r, row, 2)) known[i].mapped_shop_sku = xdup(PQgetvalue(r, row, 2));
        snprintf(out[i].hash, sizeof out[i].hash, "%s", PQgetvalue(r, row, 3));
    }
    PQclear(r), r = NULL;

    /* 2. the WMS articles with the new items' SKUs or barcodes */
    cJSON *skus = cJSON_CreateArray(), *codes = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        const ci_article *a = &list->items[i];
        if (known[i].has_mapping || !a->sku || !*a->sku) continue;
        cJSON_AddItemToArray(skus, cJSON_CreateString(a->sku));
        if (a->barcode && *a->barcode) cJSON_AddItemToArray(codes, cJSON_CreateString(a->barcode));
    }
    bool any_new = cJSON_GetArraySize(skus) > 0;
    char *codes_json = print_json(codes);
    json = print_json(skus);
    if (any_new) {
        const char *p2[] = {store->goods_owner, json, codes_json};
        r = wb_pg_query(pg,
            "SELECT w.sku, coalesce(w.barcode, ''), true FROM jsonb_array_elements_text($2::jsonb) AS s(sku) "
            "CROSS JOIN LATERAL (SELECT sku, barcode FROM wms_articles WHERE goods_owner = $1 AND sku = s.sku "
            "OFFSET 0) w UNION "
            "SELECT w.sku, coalesce(w.barcode, ''), false FROM (SELECT DISTINCT jsonb_array_elements_text($3::jsonb)) "
            "AS b(code) CROSS JOIN LATERAL (SELECT sku, barcode FROM wms_articles WHERE goods_owner = $1 "
            "AND barcode = b.code OFFSET 0) w",
            3, p2);
    }
    free(codes_json);
    free(json), json = NULL;
    if (any_new && !r) goto fail;
    for (int row = 0; r && row < PQntuples(r); row++) {
        const char *sku = PQgetvalue(r, row, 0), *code = PQgetvalue(r, row, 1);
        bool created_now;
        if (strcmp(PQgetvalue(r, row, 2), "t") == 0) { /* found by its sku; by its barcode in a row of its own */
            wb_strmap_put(&wms_skus, sku, &created_now);
            continue;
        }
        if (!*code) continue;
        wb_strmap_entry *e = wb_strmap_put(&barcodes, code, &created_now);
        barcode_row *b = e->ptr;
        if (!b) {
            b = calloc(1, sizeof *b);
            if (!b) abort();
            e->ptr = b;
        }
        b->count++;
        if (!b->sku || strcmp(sku, b->sku) < 0) {
            free(b->sku);
            b->sku = xdup(sku);
        }
    }
    if (r) PQclear(r), r = NULL;

    /* 3. the skus the new items resolve to, mapped to other items already */
    cJSON *resolved = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        const ci_article *a = &list->items[i];
        if (known[i].has_mapping || !a->sku || !*a->sku) continue;
        const char *code = a->barcode ? a->barcode : "";
        wb_strmap_entry *b = *code ? wb_strmap_get(&barcodes, code) : NULL;
        ci_known k = {.wms_has_sku = wb_strmap_get(&wms_skus, a->sku) != NULL,
                      .wms_barcode_matches = b ? ((barcode_row *)b->ptr)->count : 0,
                      .wms_barcode_sku = b ? ((barcode_row *)b->ptr)->sku : NULL};
        ci_resolve(a->sku, code, &k, &verdicts[i]);
        if (verdicts[i].decision == CI_CREATE) cJSON_AddItemToArray(resolved, cJSON_CreateString(verdicts[i].sku));
    }
    any_new = cJSON_GetArraySize(resolved) > 0;
    json = print_json(resolved);
    if (any_new) {
        const char *p3[] = {store->id, json};
        r = wb_pg_query(pg,
            "SELECT m.sku, m.shop_product_id, m.shop_variant_id FROM jsonb_array_elements_text($2::jsonb) AS s(sku) "
            "CROSS JOIN LATERAL (SELECT sku, shop_product_id, shop_variant_id FROM product_mappings "
            "WHERE store_id = $1 AND sku = s.sku OFFSET 0) m", 2, p3);
    }
    free(json), json = NULL;
    if (any_new && !r) goto fail;
    for (int row = 0; r && row < PQntuples(r); row++) {
        bool c;
        wb_strmap_entry *e = wb_strmap_put(&by_sku, PQgetvalue(r, row, 0), &c);
        e->ptr = item_key(PQgetvalue(r, row, 1), PQgetvalue(r, row, 2));
    }
    if (r) PQclear(r), r = NULL;

    /* 4. the verdicts, in page order: an item mapped earlier on the page
     * holds its sku against a later one, as a mapping in PostgreSQL does */
    cJSON *inserts = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        const ci_article *a = &list->items[i];
        const char *code = a->barcode ? a->barcode : "";
        wb_strmap_entry *b = *code ? wb_strmap_get(&barcodes, code) : NULL;
        ci_known k = {.has_mapping = known[i].has_mapping, .mapped_sku = known[i].mapped_sku,
                      .mapped_shop_sku = known[i].mapped_shop_sku,
                      .wms_has_sku = a->sku && wb_strmap_get(&wms_skus, a->sku) != NULL,
                      .wms_barcode_matches = b ? ((barcode_row *)b->ptr)->count : 0,
                      .wms_barcode_sku = b ? ((barcode_row *)b->ptr)->sku : NULL};
        if (!k.has_mapping && verdicts[i].decision == CI_CREATE && verdicts[i].sku)
            k.sku_mapped_elsewhere = wb_strmap_get(&by_sku, verdicts[i].sku) ||
                                     wb_strmap_get(&created, verdicts[i].sku);
        ci_decide(a->sku, code, &k, &verdicts[i]);
        ci_verdict *v = &verdicts[i];
        out[i].decision = v->decision;
        if (v->decision == CI_CONFLICT) continue;
        snprintf(out[i].sku, sizeof out[i].sku, "%s", v->sku);
        if (v->decision != CI_CREATE) continue;
        out[i].hash[0] = 0;
        bool c;
        wb_strmap_entry *e = wb_strmap_put(&created, v->sku, &c);
        e->num = (int64_t)i;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "p", a->product_id);
        cJSON_AddStringToObject(o, "v", vid(a));
        cJSON_AddStringToObject(o, "item", a->inventory_item_id ? a->inventory_item_id : "");
        cJSON_AddStringToObject(o, "sku", v->sku);
        if (*code) cJSON_AddStringToObject(o, "barcode", code);
        else cJSON_AddNullToObject(o, "barcode");
        if (strcmp(v->sku, a->sku) != 0) cJSON_AddStringToObject(o, "shop_sku", a->sku);
        else cJSON_AddNullToObject(o, "shop_sku");
        cJSON_AddItemToArray(inserts, o);
    }

    /* 5. the new mappings, in one statement; one not inserted was mapped by
     * someone else meanwhile */
    any_new = cJSON_GetArraySize(inserts) > 0;
    json = print_json(inserts);
    if (any_new) {
        const char *p4[] = {store->id, json};
        r = wb_pg_query(pg,
            "INSERT INTO product_mappings (store_id, shop_product_id, shop_variant_id, inventory_item_id, "
            "sku, barcode, shop_sku) SELECT $1, x.p, x.v, x.item, x.sku, x.barcode, x.shop_sku "
            "FROM jsonb_to_recordset($2::jsonb) AS x(p text, v text, item text, sku text, barcode text, "
            "shop_sku text) ON CONFLICT DO NOTHING RETURNING shop_product_id, shop_variant_id", 2, p4);
    }
    free(json), json = NULL;
    if (any_new && !r) goto fail;
    for (int row = 0; r && row < PQntuples(r); row++) {
        char *key = item_key(PQgetvalue(r, row, 0), PQgetvalue(r, row, 1));
        bool c;
        wb_strmap_put(&inserted_items, key, &c);
        free(key);
    }
    if (r) PQclear(r), r = NULL;

    /* 6. conflicts recorded, clean items' old conflicts cleared */
    cJSON *clean = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        const ci_article *a = &list->items[i];
        ci_verdict *v = &verdicts[i];
        if (v->decision == CI_CREATE) {
            char *key = item_key(a->product_id, vid(a));
            bool ok = wb_strmap_get(&inserted_items, key) != NULL;
            free(key);
            if (!ok) {
                v->decision = CI_CONFLICT;
                v->conflict = "duplicate_sku";
                out[i].decision = CI_CONFLICT;
                out[i].sku[0] = 0;
            } else {
                wb_debug(store->id, "mapped product %s variant %s -> sku %s (by %s)", a->product_id,
                         *vid(a) ? vid(a) : "-", v->sku, ci_via_name(v->via));
                if (v->via == CI_VIA_BARCODE) by_barcode_count++;
                else by_sku_count++;
            }
        }
        if (v->decision == CI_CONFLICT) {
            const char *code = a->barcode ? a->barcode : "";
            wb_strmap_entry *b = *code ? wb_strmap_get(&barcodes, code) : NULL;
            ci_known k = {.mapped_sku = known[i].mapped_sku, .mapped_shop_sku = known[i].mapped_shop_sku,
                          .wms_barcode_matches = b ? ((barcode_row *)b->ptr)->count : 0};
            const char *other_product = NULL, *other_variant = NULL;
            char other[600] = "";
            wb_strmap_entry *e = v->sku ? wb_strmap_get(&by_sku, v->sku) : NULL;
            if (e) snprintf(other, sizeof other, "%s", (const char *)e->ptr);
            else if (v->sku && (e = wb_strmap_get(&created, v->sku)) && (size_t)e->num != i)
                snprintf(other, sizeof other, "%s\x1f%s", list->items[e->num].product_id,
                         vid(&list->items[e->num]));
            char *sep = strchr(other, '\x1f');
            if (sep) *sep = 0, other_product = other, other_variant = sep + 1;
            char detail[900];
            conflict_detail(v->conflict, a, &k, v, other_product, other_variant, detail, sizeof detail);
            out[i].conflict = v->conflict;
            if (record_conflict(pg, store, a, v->conflict, detail, &out[i].conflict_new)) goto fail;
            continue;
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "p", a->product_id);
        cJSON_AddStringToObject(o, "v", vid(a));
        cJSON_AddItemToArray(clean, o);
    }
    json = print_json(clean);
    const char *p5[] = {store->id, json};
    if (wb_pg_exec(pg, "DELETE FROM product_mapping_conflicts c USING jsonb_to_recordset($2::jsonb) AS x(p text, "
                       "v text) WHERE c.store_id = $1 AND c.shop_product_id = x.p AND c.shop_variant_id = x.v",
                   2, p5))
        goto fail;
    ci_count(store->id, "mapped_by_sku", (double)by_sku_count);
    ci_count(store->id, "mapped_by_barcode", (double)by_barcode_count);
    rc = 0;
fail:
    if (rc) snprintf(err, errlen, "%s", wb_pg_error(pg));
    if (r) PQclear(r);
    free(json);
    for (size_t i = 0; i < n; i++) free(known[i].mapped_sku), free(known[i].mapped_shop_sku);
    free(known), free(verdicts);
    wb_strmap_clear(&wms_skus, NULL), wb_strmap_clear(&barcodes, free_barcode);
    wb_strmap_clear(&by_sku, free), wb_strmap_clear(&created, NULL), wb_strmap_clear(&inserted_items, NULL);
    return rc;
}

int ci_store_hashes(wb_pg *pg, const char *store_id, const ci_article *const *items, char (*hashes)[65],
                    char *const *messages, size_t count) {
    if (count == 0) return 0;
    cJSON *rows = cJSON_CreateArray();
    for (size_t j = 0; j < count; j++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "p", items[j]->product_id);
        cJSON_AddStringToObject(o, "v", vid(items[j]));
        cJSON_AddStringToObject(o, "h", hashes[j]);
        cJSON_AddStringToObject(o, "m", messages[j]);
        cJSON_AddItemToArray(rows, o);
    }
    char *json = print_json(rows);
    const char *p[] = {store_id, json};
    int rc = wb_pg_exec(pg,
        "UPDATE product_mappings m SET content_hash = x.h, last_message = x.m, updated_at = now() "
        "FROM jsonb_to_recordset($2::jsonb) AS x(p text, v text, h text, m text) "
        "WHERE m.store_id = $1 AND m.shop_product_id = x.p AND m.shop_variant_id = x.v", 2, p);
    free(json);
    return rc;
}

int ci_mark_seen(wb_pg *pg, const char *store_id, const ci_articles *list, const char *sync_id) {
    if (list->count == 0) return 0;
    cJSON *rows = cJSON_CreateArray();
    for (size_t i = 0; i < list->count; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "p", list->items[i].product_id);
        cJSON_AddStringToObject(o, "v", vid(&list->items[i]));
        cJSON_AddItemToArray(rows, o);
    }
    char *json = print_json(rows);
    const char *p[] = {store_id, json, sync_id};
    /* Only rows that change are written: a product sync touches nothing
     * unless the article comes back after a removal. */
    int rc = wb_pg_exec(pg,
        "UPDATE product_mappings m SET removed = NULL, removed_at = NULL, "
        "seen_sync = coalesce($3::bigint, m.seen_sync) "
        "FROM jsonb_to_recordset($2::jsonb) AS x(p text, v text) "
        "WHERE m.store_id = $1 AND m.shop_product_id = x.p AND m.shop_variant_id = x.v "
        "AND (m.removed IS NOT NULL OR ($3::bigint IS NOT NULL AND m.seen_sync IS DISTINCT FROM $3::bigint))",
        3, p);
    free(json);
    return rc;
}
