/* Mapping decisions (see catalog.h). Pure: mapping.c gathers what
 * PostgreSQL knows and applies the verdict. */
#include <string.h>

#include "catalog.h"

const char *ci_via_name(ci_via via) {
    switch (via) {
    case CI_VIA_EXISTING: return "existing";
    case CI_VIA_SKU: return "sku";
    case CI_VIA_BARCODE: return "barcode";
    default: return "new";
    }
}

void ci_resolve(const char *shop_sku, const char *barcode, const ci_known *k, ci_verdict *v) {
    v->decision = CI_CREATE;
    v->conflict = NULL;
    if (k->wms_has_sku) {
        v->via = CI_VIA_SKU;
        v->sku = shop_sku;
        return;
    }
    if (barcode && *barcode && k->wms_barcode_matches == 1 && k->wms_barcode_sku) {
        v->via = CI_VIA_BARCODE;
        v->sku = k->wms_barcode_sku;
        return;
    }
    if (barcode && *barcode && k->wms_barcode_matches > 1) {
        v->decision = CI_CONFLICT;
        v->conflict = "ambiguous_barcode";
        v->via = CI_VIA_BARCODE;
        v->sku = shop_sku;
        return;
    }
    v->via = CI_VIA_NEW; /* the shop's SKU becomes the WMS article's */
    v->sku = shop_sku;
}

void ci_decide(const char *shop_sku, const char *barcode, const ci_known *k, ci_verdict *v) {
    memset(v, 0, sizeof *v);
    if (!shop_sku || !*shop_sku) {
        v->decision = CI_CONFLICT;
        v->conflict = "missing_sku";
        /* an existing mapping stays as it is, and nothing is sent */
        return;
    }
    if (k->has_mapping) {
        const char *was = k->mapped_shop_sku ? k->mapped_shop_sku : k->mapped_sku;
        v->via = CI_VIA_EXISTING;
        v->sku = k->mapped_sku;
        if (!was || strcmp(was, shop_sku) != 0) {
            v->decision = CI_CONFLICT;
            v->conflict = "sku_changed";
            return;
        }
        v->decision = CI_USE_EXISTING;
        return;
    }
    ci_resolve(shop_sku, barcode, k, v);
    if (v->decision == CI_CONFLICT) return;
    if (k->sku_mapped_elsewhere) {
        v->decision = CI_CONFLICT;
        v->conflict = "duplicate_sku";
    }
}
