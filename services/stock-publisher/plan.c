#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* WooCommerce items: "product" (simple) or "product/variation". Simple
 * products sort first (one endpoint for all), then variations by product. */
static int woo_order(const void *a, const void *b) {
    const sp_value *x = a, *y = b;
    const char *sx = strchr(x->item, '/'), *sy = strchr(y->item, '/');
    if (!sx != !sy) return sx ? 1 : -1;
    if (!sx) return 0;
    size_t lx = (size_t)(sx - x->item), ly = (size_t)(sy - y->item);
    if (lx != ly) return lx < ly ? -1 : 1;
    return strncmp(x->item, y->item, lx);
}

static void woo_endpoint(const sp_value *v, char *out, size_t size) {
    const char *slash = strchr(v->item, '/');
    if (slash) snprintf(out, size, "products/%.*s/variations/batch", (int)(slash - v->item), v->item);
    else snprintf(out, size, "products/batch");
}

int sp_plan_calls(const char *platform, sp_value *values, int count, sp_call **calls) {
    bool woo = strcmp(platform, "woocommerce") == 0;
    int limit = woo ? SP_WOO_BATCH : SP_SHOPIFY_BATCH;
    if (woo) qsort(values, (size_t)count, sizeof *values, woo_order);
    *calls = calloc((size_t)count + 1, sizeof **calls);
    int n = 0;
    for (int i = 0; i < count;) {
        sp_call *c = &(*calls)[n++];
        c->first = i;
        if (woo) woo_endpoint(&values[i], c->endpoint, sizeof c->endpoint);
        else snprintf(c->endpoint, sizeof c->endpoint, "inventorySetQuantities");
        char endpoint[96];
        while (i < count && c->count < limit) {
            if (woo) {
                woo_endpoint(&values[i], endpoint, sizeof endpoint);
                if (strcmp(endpoint, c->endpoint) != 0) break;
            }
            c->count++;
            i++;
        }
    }
    return n;
}
