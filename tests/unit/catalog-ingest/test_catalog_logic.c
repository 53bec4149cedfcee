/* catalog-ingest's pure parts: names, decimals, parsing shop items, the
 * message and its content hash, and the mapping decisions. */
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "../../testlib.h"
#include "catalog.h"
#include "wb/shopify_documents.h"

TEST(name_is_title_plus_variant) {
    char *n = ci_article_name("T-shirt", "Red / XL", "SKU1");
    CHECK_STR(n, "T-shirt - Red / XL");
    free(n);
    n = ci_article_name("Mug", "Default Title", "SKU1");
    CHECK_STR(n, "Mug");
    free(n);
    n = ci_article_name("Mug", "", "SKU1");
    CHECK_STR(n, "Mug");
    free(n);
    n = ci_article_name("", "", "SKU1");
    CHECK_STR(n, "SKU1");
    free(n);
}

TEST(name_cut_to_255_characters_on_a_utf8_boundary) {
    char title[1000] = "";
    for (int i = 0; i < 300; i++) strcat(title, "\xc3\xa4"); /* 300 x 'ä' */
    char *n = ci_article_name(title, "Gr\xc3\xb6\xc3\x9f" "e 42", "S");
    size_t cps = 0;
    for (const char *p = n; *p; p++) cps += ((unsigned char)*p & 0xC0) != 0x80;
    bool whole = ((unsigned char)n[strlen(n) - 1] & 0xC0) == 0x80; /* ends on a whole 'ä' */
    free(n);
    CHECK_INT(cps, 255);
    CHECK(whole);
}

TEST(decimals_as_the_contract_wants_them) {
    char *d = ci_decimal(0.5);
    CHECK_STR(d, "0.5");
    free(d);
    d = ci_decimal(12.0);
    CHECK_STR(d, "12");
    free(d);
    CHECK(ci_decimal(-1) == NULL);
    d = ci_decimal_text("0.50");
    CHECK_STR(d, "0.5");
    free(d);
    d = ci_decimal_text("10");
    CHECK_STR(d, "10");
    free(d);
    d = ci_decimal_text(".25");
    CHECK_STR(d, "0.25");
    free(d);
    CHECK(ci_decimal_text("") == NULL);
    CHECK(ci_decimal_text("abc") == NULL);
    CHECK(ci_decimal_text("-2") == NULL);
    /* A leading "." on a text that fills the buffer: no room for the "0"
     * (the fuzzer's stack overflow); it goes through strtod instead. */
    char longest[64];
    memset(longest, '5', sizeof longest - 1);
    longest[0] = '.';
    longest[sizeof longest - 1] = 0;
    d = ci_decimal_text(longest);
    CHECK_STR(d, "0.555556");
    free(d);
}

TEST(woo_times_get_a_zone) {
    char *t = ci_gmt_time("2026-11-25T10:00:00");
    CHECK_STR(t, "2026-11-25T10:00:00Z");
    free(t);
    t = ci_gmt_time("2026-11-25T10:00:00+01:00");
    CHECK_STR(t, "2026-11-25T10:00:00+01:00");
    free(t);
}

TEST(shopify_variant_parsed) {
    cJSON *n = cJSON_Parse(
        "{\"id\":\"gid://shopify/ProductVariant/2\",\"title\":\"Red\",\"sku\":\"S-1\",\"barcode\":\"123\","
        "\"updatedAt\":\"2026-11-25T10:00:00Z\",\"product\":{\"id\":\"gid://shopify/Product/1\",\"title\":\"Shirt\","
        "\"status\":\"ACTIVE\",\"productType\":\"Clothes\",\"updatedAt\":\"2026-11-25T11:00:00Z\"},"
        "\"inventoryItem\":{\"id\":\"gid://shopify/InventoryItem/3\",\"requiresShipping\":false,"
        "\"measurement\":{\"weight\":{\"value\":0.25,\"unit\":\"KILOGRAMS\"}}}}");
    ci_article a;
    CHECK_INT(ci_parse_shopify_variant(n, &a), 0);
    cJSON_Delete(n);
    CHECK_STR(a.product_id, "gid://shopify/Product/1");
    CHECK_STR(a.variant_id, "gid://shopify/ProductVariant/2");
    CHECK_STR(a.inventory_item_id, "gid://shopify/InventoryItem/3");
    CHECK_STR(a.weight, "0.25");
    CHECK_STR(a.weight_unit, "kg");
    CHECK(a.is_virtual);
    CHECK_INT(a.n_categories, 1);
    CHECK_STR(a.updated_at, "2026-11-25T11:00:00Z");
    ci_article_free(&a);
}

TEST(woo_variation_parsed_with_parent_fallbacks) {
    cJSON *p = cJSON_Parse("{\"id\":90,\"name\":\"Matcha\",\"type\":\"variable\",\"weight\":\"0.5\","
                           "\"dimensions\":{\"length\":\"10\",\"width\":\"5\",\"height\":\"2\"},"
                           "\"categories\":[{\"id\":1,\"name\":\"Tea\"}]}");
    cJSON *v = cJSON_Parse("{\"id\":93,\"sku\":\"TEA-30\",\"global_unique_id\":\"4006381333931\",\"weight\":\"\","
                           "\"dimensions\":{\"length\":\"\",\"width\":\"\",\"height\":\"\"},\"virtual\":false,"
                           "\"date_modified_gmt\":\"2026-11-18T08:00:00\","
                           "\"attributes\":[{\"name\":\"Size\",\"option\":\"30 g\"},{\"name\":\"Tin\",\"option\":\"Black\"}]}");
    ci_article a;
    CHECK_INT(ci_parse_woo_variation(p, v, &a), 0);
    cJSON_Delete(p);
    cJSON_Delete(v);
    CHECK_STR(a.product_id, "90");
    CHECK_STR(a.variant_id, "93");
    CHECK_STR(a.inventory_item_id, "");
    CHECK_STR(a.variant_title, "30 g, Black");
    CHECK_STR(a.weight, "0.5");
    CHECK_STR(a.length, "10");
    CHECK_STR(a.dim_unit, "cm");
    CHECK_STR(a.updated_at, "2026-11-18T08:00:00Z");
    CHECK_STR(a.barcode, "4006381333931");
    char *name = ci_article_name(a.title, a.variant_title, a.sku);
    CHECK_STR(name, "Matcha - 30 g, Black");
    free(name);
    ci_article_free(&a);
}

static ci_article sample(void) {
    ci_article a = {0};
    a.product_id = strdup("90");
    a.variant_id = strdup("");
    a.inventory_item_id = strdup("");
    a.sku = strdup("TEA-1");
    a.barcode = strdup("");
    a.title = strdup("Tea");
    a.variant_title = strdup("");
    a.is_virtual = true;
    a.updated_at = strdup("2026-11-18T08:00:00Z");
    a.categories = calloc(1, sizeof *a.categories);
    a.categories[0] = strdup("Drinks");
    a.n_categories = 1;
    return a;
}

TEST(message_follows_the_store_settings) {
    ci_article a = sample();
    ci_article_opts o = {.store_id = "s1", .unit = "st", .platform = WB_PLATFORM_WOOCOMMERCE};
    wb_catalog_msg m;
    ci_article_msg(&a, "TEA-1", &o, &m);
    char *json = wb_catalog_msg_encode(&m);
    CHECK(json != NULL);
    CHECK_CONTAINS(json, "\"is_stock_article\":true");
    CHECK_NOT_CONTAINS(json, "categories");
    CHECK_NOT_CONTAINS(json, "variant_id");
    CHECK_NOT_CONTAINS(json, "barcode");
    CHECK_CONTAINS(json, "\"unit\":\"st\"");
    free(json);
    ci_msg_release(&m);
    o.categories = true;
    o.virtual_as_non_stock = true;
    ci_article_msg(&a, "TEA-1", &o, &m);
    json = wb_catalog_msg_encode(&m);
    CHECK(json != NULL);
    CHECK_CONTAINS(json, "\"is_stock_article\":false");
    CHECK_CONTAINS(json, "\"categories\":[\"Drinks\"]");
    free(json);
    ci_msg_release(&m);
    ci_article_free(&a);
}

TEST(hash_ignores_updated_at_and_sees_content) {
    ci_article a = sample();
    ci_article_opts o = {.store_id = "s1", .unit = "st", .platform = WB_PLATFORM_WOOCOMMERCE};
    wb_catalog_msg m;
    char h1[65], h2[65], h3[65];
    ci_article_msg(&a, "TEA-1", &o, &m);
    ci_msg_hash(&m, h1);
    m.updated_at = "2026-12-01T00:00:00Z";
    ci_msg_hash(&m, h2);
    ci_msg_release(&m);
    CHECK_STR(h1, h2);
    CHECK_INT(strlen(h1), 64);
    free(a.title);
    a.title = strdup("Green tea");
    ci_article_msg(&a, "TEA-1", &o, &m);
    ci_msg_hash(&m, h3);
    ci_msg_release(&m);
    CHECK(strcmp(h1, h3) != 0);
    ci_article_free(&a);
}

TEST(decide_new_item_by_sku) {
    ci_known k = {0};
    ci_verdict v;
    ci_decide("A-1", "123", &k, &v);
    CHECK_INT(v.decision, CI_CREATE);
    CHECK_INT(v.via, CI_VIA_NEW);
    CHECK_STR(v.sku, "A-1");
    k.wms_has_sku = true;
    k.wms_barcode_matches = 1;
    k.wms_barcode_sku = "OTHER";
    ci_decide("A-1", "123", &k, &v);
    CHECK_INT(v.via, CI_VIA_SKU); /* the SKU first */
    CHECK_STR(v.sku, "A-1");
}

TEST(decide_by_barcode_when_the_sku_does_not_match) {
    ci_known k = {.wms_barcode_matches = 1, .wms_barcode_sku = "WMS-9"};
    ci_verdict v;
    ci_decide("SHOP-9", "4006381333931", &k, &v);
    CHECK_INT(v.decision, CI_CREATE);
    CHECK_INT(v.via, CI_VIA_BARCODE);
    CHECK_STR(v.sku, "WMS-9");
    k.wms_barcode_matches = 2;
    ci_decide("SHOP-9", "4006381333931", &k, &v);
    CHECK_INT(v.decision, CI_CONFLICT);
    CHECK_STR(v.conflict, "ambiguous_barcode");
    ci_decide("SHOP-9", "", &k, &v); /* no barcode: the shop's SKU */
    CHECK_INT(v.decision, CI_CREATE);
    CHECK_STR(v.sku, "SHOP-9");
}

TEST(decide_never_changes_an_existing_mapping) {
    ci_known k = {.has_mapping = true, .mapped_sku = "A-1"};
    ci_verdict v;
    ci_decide("A-1", "", &k, &v);
    CHECK_INT(v.decision, CI_USE_EXISTING);
    CHECK_STR(v.sku, "A-1");
    ci_decide("A-2", "", &k, &v);
    CHECK_INT(v.decision, CI_CONFLICT);
    CHECK_STR(v.conflict, "sku_changed");
    k.mapped_sku = "WMS-9"; /* mapped by barcode */
    k.mapped_shop_sku = "SHOP-9";
    ci_decide("SHOP-9", "", &k, &v);
    CHECK_INT(v.decision, CI_USE_EXISTING);
    CHECK_STR(v.sku, "WMS-9");
    ci_decide("SHOP-10", "", &k, &v);
    CHECK_STR(v.conflict, "sku_changed");
}

TEST(decide_conflicts_for_duplicates_and_missing_skus) {
    ci_known k = {.sku_mapped_elsewhere = true};
    ci_verdict v;
    ci_decide("A-1", "", &k, &v);
    CHECK_INT(v.decision, CI_CONFLICT);
    CHECK_STR(v.conflict, "duplicate_sku");
    ci_known none = {0};
    ci_decide("", "123", &none, &v);
    CHECK_STR(v.conflict, "missing_sku");
    ci_decide(NULL, NULL, &none, &v);
    CHECK_STR(v.conflict, "missing_sku");
}

TEST(woo_units_as_the_contract_names_them) {
    CHECK_STR(ci_woo_weight_unit("kg"), "kg");
    CHECK_STR(ci_woo_weight_unit("g"), "g");
    CHECK_STR(ci_woo_weight_unit("lbs"), "lb");
    CHECK_STR(ci_woo_weight_unit("oz"), "oz");
    CHECK(ci_woo_weight_unit("stone") == NULL);
    CHECK(ci_woo_weight_unit(NULL) == NULL);
    double f = 0;
    CHECK_STR(ci_woo_dim_unit("mm", &f), "mm");
    CHECK(f == 1);
    CHECK_STR(ci_woo_dim_unit("m", &f), "m");
    CHECK_STR(ci_woo_dim_unit("in", &f), "in");
    CHECK_STR(ci_woo_dim_unit("yd", &f), "in");
    CHECK(f == 36);
    CHECK(ci_woo_dim_unit("ft", &f) == NULL);
}

TEST(bulk_cursor_round_trip_and_malformed_ones_refused) {
    char gid[160];
    long lines = -1;
    CHECK(ci_bulk_cursor_parse("bulk:gid://shopify/BulkOperation/12:340", gid, sizeof gid, &lines) == 0);
    CHECK_STR(gid, "gid://shopify/BulkOperation/12");
    CHECK(lines == 340);
    CHECK(ci_bulk_cursor_parse("bulk:gid://shopify/BulkOperation/12:0", gid, sizeof gid, &lines) == 0);
    CHECK(lines == 0);
    CHECK(ci_bulk_cursor_parse("eyJsYXN0X2lkIjoxMjN9", gid, sizeof gid, &lines) == -1); /* a page's cursor */
    CHECK(ci_bulk_cursor_parse("bulk:gid://shopify/BulkOperation/12", gid, sizeof gid, &lines) == -1);
    CHECK(ci_bulk_cursor_parse("bulk:gid://shopify/BulkOperation/12:-1", gid, sizeof gid, &lines) == -1);
    CHECK(ci_bulk_cursor_parse("bulk:gid://shopify/BulkOperation/12:3x", gid, sizeof gid, &lines) == -1);
    CHECK(ci_bulk_cursor_parse("bulk::3", gid, sizeof gid, &lines) == -1);
    CHECK(ci_bulk_cursor_parse("bulk:gid://shopify/BulkOperation/12:3", gid, 8, &lines) == -1); /* too long */
}

TEST(bulk_line_parsed_as_a_page_node) {
    ci_config cfg = {.bulk_batch = 10};
    ci_fetch f = {.cfg = &cfg};
    ci_articles list = {0};
    const char *active = "{\"id\":\"gid://shopify/ProductVariant/2\",\"title\":\"Red\",\"sku\":\"S-1\",\"barcode\":\"123\","
                         "\"updatedAt\":\"2026-11-25T10:00:00Z\",\"product\":{\"id\":\"gid://shopify/Product/1\","
                         "\"title\":\"Shirt\",\"status\":\"ACTIVE\",\"productType\":\"\",\"updatedAt\":\"2026-11-25T09:00:00Z\"},"
                         "\"inventoryItem\":{\"id\":\"gid://shopify/InventoryItem/3\",\"requiresShipping\":true,"
                         "\"measurement\":{\"weight\":{\"value\":0.5,\"unit\":\"KILOGRAMS\"}}}}\n";
    const char *draft = "{\"id\":\"gid://shopify/ProductVariant/4\",\"sku\":\"S-2\",\"product\":{\"id\":"
                        "\"gid://shopify/Product/5\",\"status\":\"DRAFT\"}}";
    CHECK(ci_bulk_line(&f, active, &list) == 0);
    CHECK(ci_bulk_line(&f, draft, &list) == 0);
    CHECK(ci_bulk_line(&f, "not json", &list) == -1);
    CHECK(ci_bulk_line(&f, "{\"sku\":\"no id\"}", &list) == -1);
    CHECK(list.count == 1 && f.nodes_seen == 2 && f.nodes_kept == 1);
    CHECK_STR(list.items[0].variant_id, "gid://shopify/ProductVariant/2");
    CHECK_STR(list.items[0].inventory_item_id, "gid://shopify/InventoryItem/3");
    CHECK_STR(list.items[0].weight, "0.5");
    ci_articles_free(&list);
}

/* The schema test validates the bulk query through the start mutation's
 * example variables: they must carry exactly the query the service sends. */
TEST(bulk_start_example_carries_the_bulk_query) {
    const char *example = NULL;
    for (int i = 0; i < wb_gql_document_count; i++)
        if (strcmp(wb_gql_documents[i].name, "catalog_bulk_start") == 0) example = wb_gql_documents[i].example_variables;
    CHECK(example != NULL);
    cJSON *vars = cJSON_Parse(example ? example : "");
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(vars, "query");
    CHECK(cJSON_IsString(q) && strcmp(q->valuestring, wb_gql_catalog_bulk_variants) == 0);
    cJSON_Delete(vars);
}

int main(void) {
    RUN(name_is_title_plus_variant);
    RUN(name_cut_to_255_characters_on_a_utf8_boundary);
    RUN(decimals_as_the_contract_wants_them);
    RUN(woo_times_get_a_zone);
    RUN(shopify_variant_parsed);
    RUN(woo_variation_parsed_with_parent_fallbacks);
    RUN(message_follows_the_store_settings);
    RUN(hash_ignores_updated_at_and_sees_content);
    RUN(decide_new_item_by_sku);
    RUN(decide_by_barcode_when_the_sku_does_not_match);
    RUN(decide_never_changes_an_existing_mapping);
    RUN(decide_conflicts_for_duplicates_and_missing_skus);
    RUN(woo_units_as_the_contract_names_them);
    RUN(bulk_cursor_round_trip_and_malformed_ones_refused);
    RUN(bulk_line_parsed_as_a_page_node);
    RUN(bulk_start_example_carries_the_bulk_query);
    return wb_test_failures ? 1 : 0;
}
