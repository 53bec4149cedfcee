/* The WooCommerce REST client (libshared/src/shop_http.c + woocommerce.c,
 * the real code, OAuth over http and Basic auth over https) and
 * catalog-ingest's handling of its answers (ci_fetch_woo: a page of products
 * and the variations of each variable one, or one product) under libFuzzer,
 * the shop's answers played from the input by fake_shop.h: statuses,
 * X-WP-TotalPages / X-WP-Total headers of any shape, broken JSON, objects
 * where arrays belong. */
#include "fake_shop.h"
#include "shop_http.c"
#include "woocommerce.c"
#include "fuzz_client_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_feed(data, size);
    wb_woo *w = wb_woo_new("s1", size % 3 ? "https://s1.example" : "http://s1.example/shop",
                           "ck_fuzz", "cs_fuzz_secret", NULL);
    if (!w) return 0;
    ci_config cfg = {.shopify_page = 100, .woo_page = 100, .unit = "st"};
    wb_store store = {.id = "s1", .platform = "woocommerce", .base_url = "https://s1.example",
                      .enabled = true, .variations_limit = (int)(size % 5)};
    ci_fetch f = {.cfg = &cfg, .store = &store, .client = w};
    ci_articles out = {0};
    char *next = NULL, err[512];
    long pages;
    ci_fetch_woo(&f, size % 7 ? "2" : NULL, size & 1 ? "12" : NULL, &out, &next, &pages, err,
                 sizeof err);
    free(next);
    fz_articles_out(&out, WB_PLATFORM_WOOCOMMERCE);
    wb_woo_free(w);
    return 0;
}
