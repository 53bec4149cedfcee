/* The Shopify GraphQL client (libshared/src/shop_http.c + shopify.c, the
 * real code) and catalog-ingest's handling of its answers (ci_fetch_shopify:
 * one page, or every page of one product) under libFuzzer, the shop's
 * answers played from the input by fake_shop.h: statuses, THROTTLED bodies,
 * cost reports with any numbers, Retry-After, broken JSON, bodies cut short. */
#include "fake_shop.h"
#include "shop_http.c"
#include "shopify.c"
#include "fuzz_client_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_feed(data, size);
    wb_shopify *s = wb_shopify_new("s1", "https://s1.example", "shpat_fuzz_token", NULL);
    if (!s) return 0;
    ci_config cfg = {.shopify_page = 100, .woo_page = 100, .unit = "st"};
    wb_store store = {.id = "s1", .platform = "shopify", .base_url = "https://s1.example",
                      .enabled = true};
    ci_fetch f = {.cfg = &cfg, .store = &store, .client = s};
    ci_articles out = {0};
    char *next = NULL, err[512];
    long pages;
    /* Odd sizes: one product (the webhook's sync), even: a page of the catalog. */
    ci_fetch_shopify(&f, size % 3 ? "cursor-1" : NULL, size & 1 ? "gid://shopify/Product/7" : NULL,
                     &out, &next, &pages, err, sizeof err);
    free(next);
    fz_articles_out(&out, WB_PLATFORM_SHOPIFY);
    wb_shopify_free(s);
    return 0;
}
