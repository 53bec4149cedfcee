/* Order bodies the fuzzer (tests/fuzz/fuzz_webhook.c) found or would find
 * hostile, mapped as the webhook path maps them: each must end as a precise
 * refusal (unmappable, with the field named), never as a wrong order or
 * undefined behaviour. */
#include <stdlib.h>
#include <string.h>

#include "map.h"
#include "testlib.h"

static int map(bool shopify, const char *json, char *err, size_t errlen) {
    oi_order o;
    char *id = NULL;
    int rc = shopify ? oi_map_shopify("s1", json, strlen(json), &o, &id, err, errlen)
                     : oi_map_woocommerce("s1", json, strlen(json), &o, &id, err, errlen);
    if (rc == OI_MAP_OK) oi_order_free(&o);
    free(id);
    return rc;
}

/* A quantity of 1.4e63 used to be converted to int64_t (undefined
 * behaviour; found by fuzz_webhook, corpus regress-huge-quantity). */
TEST(huge_quantity_is_refused_by_name) {
    char err[512];
    const char *shopify =
        "{\"id\":1001,\"name\":\"#1001\",\"email\":\"a@b.example\",\"created_at\":\"2026-11-21T09:00:00Z\","
        "\"updated_at\":\"2026-11-21T09:00:00Z\",\"currency\":\"EUR\",\"financial_status\":\"paid\","
        "\"shipping_address\":{\"first_name\":\"A\",\"last_name\":\"B\",\"address1\":\"X 1\",\"city\":\"Y\","
        "\"country_code\":\"DE\"},\"line_items\":[{\"id\":123,\"name\":\"Mug\",\"sku\":\"MUG-1\","
        "\"quantity\":1444444444444444444444444444444444444444444444444444444444444444,\"price\":\"8.00\"}]}";
    CHECK_INT(map(true, shopify, err, sizeof err), OI_MAP_UNMAPPABLE);
    CHECK_CONTAINS(err, "quantity");
    const char *woo =
        "{\"id\":77,\"number\":\"77\",\"status\":\"processing\",\"currency\":\"EUR\","
        "\"date_created_gmt\":\"2026-11-21T09:00:00\",\"date_modified_gmt\":\"2026-11-21T09:00:00\","
        "\"billing\":{\"first_name\":\"A\",\"last_name\":\"B\",\"address_1\":\"X 1\",\"city\":\"Y\","
        "\"country\":\"DE\",\"email\":\"a@b.example\"},"
        "\"line_items\":[{\"id\":5,\"name\":\"Mug\",\"sku\":\"MUG-1\",\"quantity\":1e300,"
        "\"subtotal\":\"8.00\",\"total\":\"8.00\",\"total_tax\":\"0.00\"}]}";
    CHECK_INT(map(false, woo, err, sizeof err), OI_MAP_UNMAPPABLE);
    CHECK_CONTAINS(err, "quantity");
    /* And the same lines with a sane quantity map: the refusal is the number's. */
    char *fixed = strdup(woo);
    char *q = strstr(fixed, "1e300");
    memcpy(q, "2    ", 5);
    CHECK_INT(map(false, fixed, err, sizeof err), OI_MAP_OK);
    free(fixed);
}

int main(void) {
    RUN(huge_quantity_is_refused_by_name);
    TEST_EXIT();
}
