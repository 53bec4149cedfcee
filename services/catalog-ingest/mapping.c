/* product_mappings and product_mapping_conflicts: what is known about an
 * article, and the verdict of decide.c applied. A mapping is only ever
 * inserted here (and its content hash updated), never changed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "wb/log.h"
#include "wb/metrics.h"

static int pg_fail(wb_pg *pg, char *err, size_t errlen) {
    snprintf(err, errlen, "%s", wb_pg_error(pg));
    return -1;
}

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

int ci_map_article(wb_pg *pg, const wb_store *store, const ci_article *a, ci_mapped *out,
                   char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    const char *variant = a->variant_id ? a->variant_id : "";
    const char *sku = a->sku ? a->sku : "";
    const char *barcode = a->barcode ? a->barcode : "";
    ci_known k = {0};
    char mapped_sku[256] = "", mapped_shop_sku[256] = "", barcode_sku[256] = "";
    char other_product[128] = "", other_variant[128] = "";
    int barcode_count = 0;

    const char *p1[] = {store->id, a->product_id, variant};
    PGresult *r = wb_pg_query(pg,
        "SELECT sku, shop_sku, coalesce(content_hash, '') FROM product_mappings "
        "WHERE store_id = $1 AND shop_product_id = $2 AND shop_variant_id = $3", 3, p1);
    if (!r) return pg_fail(pg, err, errlen);
    if (PQntuples(r) == 1) {
        k.has_mapping = true;
        snprintf(mapped_sku, sizeof mapped_sku, "%s", PQgetvalue(r, 0, 0));
        k.mapped_sku = mapped_sku;
        if (!PQgetisnull(r, 0, 1)) {
            snprintf(mapped_shop_sku, sizeof mapped_shop_sku, "%s", PQgetvalue(r, 0, 1));
            k.mapped_shop_sku = mapped_shop_sku;
        }
        snprintf(out->hash, sizeof out->hash, "%s", PQgetvalue(r, 0, 2));
    }
    PQclear(r);

    if (!k.has_mapping && *sku) {
        const char *p2[] = {store->goods_owner, sku, barcode};
        r = wb_pg_query(pg,
            "SELECT EXISTS (SELECT 1 FROM wms_articles WHERE goods_owner = $1 AND sku = $2), "
            "(SELECT count(*) FROM wms_articles WHERE goods_owner = $1 AND $3 <> '' AND barcode = $3), "
            "(SELECT min(sku) FROM wms_articles WHERE goods_owner = $1 AND $3 <> '' AND barcode = $3)",
            3, p2);
        if (!r) return pg_fail(pg, err, errlen);
        k.wms_has_sku = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
        barcode_count = atoi(PQgetvalue(r, 0, 1));
        k.wms_barcode_matches = barcode_count;
        if (!PQgetisnull(r, 0, 2)) {
            snprintf(barcode_sku, sizeof barcode_sku, "%s", PQgetvalue(r, 0, 2));
            k.wms_barcode_sku = barcode_sku;
        }
        PQclear(r);
        ci_verdict pre;
        ci_resolve(sku, barcode, &k, &pre);
        if (pre.decision == CI_CREATE) {
            const char *p3[] = {store->id, pre.sku};
            r = wb_pg_query(pg,
                "SELECT shop_product_id, shop_variant_id FROM product_mappings WHERE store_id = $1 AND sku = $2",
                2, p3);
            if (!r) return pg_fail(pg, err, errlen);
            if (PQntuples(r) == 1) {
                k.sku_mapped_elsewhere = true;
                snprintf(other_product, sizeof other_product, "%s", PQgetvalue(r, 0, 0));
                snprintf(other_variant, sizeof other_variant, "%s", PQgetvalue(r, 0, 1));
            }
            PQclear(r);
        }
    }

    ci_verdict v;
    ci_decide(sku, barcode, &k, &v);
    if (v.decision == CI_CREATE) {
        const char *shop_sku = strcmp(v.sku, sku) == 0 ? NULL : sku;
        const char *p4[] = {store->id, a->product_id, variant,
                            a->inventory_item_id ? a->inventory_item_id : "", v.sku,
                            *barcode ? barcode : NULL, shop_sku};
        r = wb_pg_query(pg,
            "INSERT INTO product_mappings (store_id, shop_product_id, shop_variant_id, inventory_item_id, "
            "sku, barcode, shop_sku) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING 1",
            7, p4);
        if (!r) return pg_fail(pg, err, errlen);
        bool inserted = PQntuples(r) == 1;
        PQclear(r);
        if (!inserted) { /* someone mapped the sku or the item meanwhile */
            v.decision = CI_CONFLICT;
            v.conflict = "duplicate_sku";
        } else {
            wb_debug(store->id, "mapped product %s variant %s -> sku %s (by %s)", a->product_id,
                     *variant ? variant : "-", v.sku, ci_via_name(v.via));
            ci_count(store->id, v.via == CI_VIA_BARCODE ? "mapped_by_barcode" : "mapped_by_sku", 1);
        }
    }
    out->decision = v.decision;
    if (v.decision == CI_CONFLICT) {
        char detail[900];
        const char *kind = v.conflict;
        if (strcmp(kind, "missing_sku") == 0 && *barcode)
            snprintf(detail, sizeof detail, "the shop item has no SKU (barcode %s); not mapped, not sent",
                     barcode);
        else if (strcmp(kind, "missing_sku") == 0)
            snprintf(detail, sizeof detail, "the shop item has no SKU; not mapped, not sent");
        else if (strcmp(kind, "sku_changed") == 0)
            snprintf(detail, sizeof detail, "mapped to sku %s (shop SKU %s); the shop's SKU is now %s; "
                     "mapping not changed, not sent", mapped_sku,
                     k.mapped_shop_sku ? mapped_shop_sku : mapped_sku, sku);
        else if (strcmp(kind, "ambiguous_barcode") == 0)
            snprintf(detail, sizeof detail, "SKU %s is no WMS article and barcode %s belongs to %d WMS "
                     "articles; not mapped, not sent", sku, barcode, barcode_count);
        else if (*other_product)
            snprintf(detail, sizeof detail, "sku %s is already mapped to product %s%s%s; not mapped, not sent",
                     v.sku ? v.sku : sku, other_product, *other_variant ? " variant " : "", other_variant);
        else
            snprintf(detail, sizeof detail, "sku %s was mapped to another item meanwhile; not mapped, not sent",
                     v.sku ? v.sku : sku);
        out->conflict = kind;
        if (record_conflict(pg, store, a, kind, detail, &out->conflict_new)) return pg_fail(pg, err, errlen);
        return 0;
    }
    snprintf(out->sku, sizeof out->sku, "%s", v.sku);
    if (v.decision == CI_CREATE) out->hash[0] = 0;
    /* The item is clean now: what was reported about it is over. */
    const char *p5[] = {store->id, a->product_id, variant};
    if (wb_pg_exec(pg, "DELETE FROM product_mapping_conflicts WHERE store_id = $1 AND shop_product_id = $2 "
                       "AND shop_variant_id = $3", 3, p5))
        return pg_fail(pg, err, errlen);
    return 0;
}

int ci_store_hash(wb_pg *pg, const char *store_id, const ci_article *a, const char *hash) {
    const char *p[] = {store_id, a->product_id, a->variant_id ? a->variant_id : "", hash};
    return wb_pg_exec(pg,
        "UPDATE product_mappings SET content_hash = $4, updated_at = now() "
        "WHERE store_id = $1 AND shop_product_id = $2 AND shop_variant_id = $3", 4, p);
}
