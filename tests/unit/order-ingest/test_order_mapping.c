/* order-ingest's pure parts: Shopify REST and WooCommerce REST v3 orders
 * (shaped as the shops send them in webhooks) mapped to shop.orders.v1, the
 * amount and time helpers, and the rules (filters, created/updated/cancelled,
 * duplicates, picking). */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ingest.h"
#include "map.h"
#include "rules.h"
#include "testlib.h"

/* An orders/create body as Shopify sends it (REST resource, trimmed of
 * fields the mapping does not read, but with their shapes intact). */
static const char *SHOPIFY_COMPANY =
    "{\"id\":5734523158582,\"admin_graphql_api_id\":\"gid://shopify/Order/5734523158582\","
    "\"name\":\"#1042\",\"order_number\":1042,\"email\":\"anna@cykelverkstan.se\","
    "\"contact_email\":\"anna@cykelverkstan.se\",\"phone\":null,"
    "\"created_at\":\"2026-11-20T14:03:11+01:00\",\"updated_at\":\"2026-11-20T14:03:12+01:00\","
    "\"cancelled_at\":null,\"cancel_reason\":null,\"currency\":\"SEK\",\"presentment_currency\":\"SEK\","
    "\"financial_status\":\"paid\",\"fulfillment_status\":null,\"taxes_included\":true,"
    "\"note\":\"Please deliver to the loading dock, gate 3.\",\"total_price\":\"2996.00\","
    "\"customer\":{\"id\":6940322693174,\"email\":\"anna@cykelverkstan.se\",\"first_name\":\"Anna\","
    "\"last_name\":\"Lind\",\"phone\":\"+46701234567\"},"
    "\"billing_address\":{\"first_name\":\"Ekonomi\",\"last_name\":null,\"company\":\"Cykelverkstan Lind AB\","
    "\"address1\":\"Box 4455\",\"address2\":\"\",\"city\":\"Malmö\",\"province\":null,\"zip\":\"203 15\","
    "\"country\":\"Sweden\",\"country_code\":\"SE\",\"phone\":null,\"name\":\"Ekonomi\"},"
    "\"shipping_address\":{\"first_name\":\"Anna\",\"last_name\":\"Lind\",\"company\":\"Cykelverkstan Lind AB\","
    "\"address1\":\"Industrigatan 12\",\"address2\":\"Port 3\",\"city\":\"Malmö\",\"province\":null,"
    "\"zip\":\"211 19\",\"country\":\"Sweden\",\"country_code\":\"SE\",\"phone\":\"+46 40 123 45 67\","
    "\"name\":\"Anna Lind\"},"
    "\"shipping_lines\":[{\"id\":4718620786742,\"code\":\"postnord-mypack-home\",\"title\":\"PostNord MyPack Home\","
    "\"price\":\"99.00\",\"source\":\"shopify\",\"discount_allocations\":[]}],"
    "\"line_items\":["
    "{\"id\":14086920003638,\"variant_id\":44610569208040,\"product_id\":8266836345064,"
    "\"title\":\"Road tyre 700x28\",\"variant_title\":\"Black\",\"name\":\"Road tyre 700x28 - Black\","
    "\"sku\":\"TYRE-700X28-BLK\",\"quantity\":4,\"current_quantity\":4,\"fulfillable_quantity\":4,"
    "\"price\":\"449.00\",\"total_discount\":\"0.00\",\"discount_allocations\":[],"
    "\"tax_lines\":[{\"price\":\"359.20\",\"rate\":0.25,\"title\":\"Moms\"}],\"requires_shipping\":true},"
    "{\"id\":14086920036406,\"title\":\"Inner tube 700c Presta\",\"name\":\"Inner tube 700c Presta\","
    "\"sku\":\"TUBE-700-PV\",\"quantity\":10,\"current_quantity\":10,\"price\":\"89.00\","
    "\"total_discount\":\"0.00\",\"discount_allocations\":[{\"amount\":\"89.00\","
    "\"discount_application_index\":0}],\"tax_lines\":[]},"
    "{\"id\":14086920069174,\"title\":\"Removed by an edit\",\"name\":\"Removed by an edit\","
    "\"sku\":\"GONE-1\",\"quantity\":1,\"current_quantity\":0,\"price\":\"5.00\",\"tax_lines\":[]}]}";

/* A private customer, no shipping line, no shipping address, no order email:
 * prices exclude tax. */
static const char *SHOPIFY_PRIVATE =
    "{\"id\":820982911946154508,\"admin_graphql_api_id\":\"gid://shopify/Order/820982911946154508\","
    "\"name\":\"#9999\",\"order_number\":9999,\"email\":\"\","
    "\"created_at\":\"2026-11-21T09:00:00-05:00\",\"updated_at\":\"2026-11-21T09:05:00.250-05:00\","
    "\"cancelled_at\":null,\"currency\":\"USD\",\"financial_status\":\"authorized\","
    "\"fulfillment_status\":\"partial\",\"taxes_included\":false,\"note\":null,"
    "\"customer\":{\"email\":\"bob@example.com\",\"first_name\":\"Bob\",\"last_name\":\"Norman\",\"phone\":null},"
    "\"billing_address\":{\"first_name\":\"Bob\",\"last_name\":\"Norman\",\"company\":null,"
    "\"address1\":\"Chestnut Street 92\",\"address2\":null,\"city\":\"Louisville\",\"province\":\"Kentucky\","
    "\"zip\":\"40202\",\"country_code\":\"us\",\"phone\":\"+1(502)-459-2181\"},"
    "\"shipping_lines\":[],"
    "\"line_items\":[{\"id\":866550311766439020,"
    "\"admin_graphql_api_id\":\"gid://shopify/LineItem/866550311766439020\",\"name\":\"IPod Nano - 8GB\",\"sku\":\"IPOD2008PINK\","
    "\"quantity\":3,\"price\":\"199.00\",\"total_discount\":\"10.00\","
    "\"tax_lines\":[{\"price\":\"11.94\",\"rate\":0.06,\"title\":\"State Tax\"}]}]}";

static const char *SHOPIFY_NO_SKU =
    "{\"id\":1001,\"name\":\"#1001\",\"email\":\"a@b.example\",\"created_at\":\"2026-11-21T09:00:00Z\","
    "\"updated_at\":\"2026-11-21T09:00:00Z\",\"currency\":\"EUR\",\"financial_status\":\"paid\","
    "\"shipping_address\":{\"first_name\":\"A\",\"last_name\":\"B\",\"address1\":\"X 1\",\"city\":\"Y\","
    "\"country_code\":\"DE\"},"
    "\"line_items\":[{\"id\":122,\"name\":\"Mug\",\"sku\":\"MUG-1\",\"quantity\":1,\"price\":\"8.00\"},"
    "{\"id\":123,\"name\":\"Gift card\",\"sku\":null,\"quantity\":1,\"price\":\"25.00\"}]}";

/* A WooCommerce REST v3 order, as order.created delivers it. */
static const char *WOO_COMPANY =
    "{\"id\":4713,\"parent_id\":0,\"status\":\"processing\",\"currency\":\"EUR\",\"version\":\"9.4.2\","
    "\"prices_include_tax\":false,\"date_created\":\"2026-11-21T12:00:00\","
    "\"date_modified\":\"2026-11-21T12:00:01\",\"discount_total\":\"0.00\",\"shipping_total\":\"0.00\","
    "\"total\":\"104.05\",\"customer_id\":0,\"order_key\":\"wc_order_Xa1\","
    "\"billing\":{\"first_name\":\"Lea\",\"last_name\":\"Vogel\",\"company\":\"Café Morgenrot GmbH\","
    "\"address_1\":\"Am Markt 1\",\"address_2\":\"\",\"city\":\"Leipzig\",\"state\":\"\",\"postcode\":\"04109\","
    "\"country\":\"DE\",\"email\":\"rechnung@morgenrot.example\",\"phone\":\"+4915112345678\"},"
    "\"shipping\":{\"first_name\":\"Lea\",\"last_name\":\"Vogel\",\"company\":\"Café Morgenrot GmbH\","
    "\"address_1\":\"Am Markt 1\",\"address_2\":\"Hinterhaus\",\"city\":\"Leipzig\",\"state\":\"\","
    "\"postcode\":\"04109\",\"country\":\"DE\",\"phone\":\"+49 341 998877\"},"
    "\"payment_method\":\"bacs\",\"payment_method_title\":\"Direct bank transfer\","
    "\"customer_note\":\"Gift wrap the matcha, please\",\"date_paid\":null,"
    "\"date_created_gmt\":\"2026-11-21T11:00:00\",\"date_modified_gmt\":\"2026-11-21T11:00:01\","
    "\"line_items\":[{\"id\":330,\"name\":\"Matcha ceremonial 30 g\",\"product_id\":93,\"variation_id\":0,"
    "\"quantity\":3,\"tax_class\":\"\",\"subtotal\":\"74.70\",\"subtotal_tax\":\"14.19\",\"total\":\"74.70\","
    "\"total_tax\":\"14.19\",\"taxes\":[],\"meta_data\":[],\"sku\":\"TEA-MATCHA-30\",\"price\":24.9},"
    "{\"id\":331,\"name\":\"Bamboo whisk\",\"product_id\":94,\"variation_id\":0,\"quantity\":1,"
    "\"subtotal\":\"12.50\",\"total\":\"10.00\",\"total_tax\":\"0.00\",\"sku\":\"TEA-WHISK\",\"price\":12.5}],"
    "\"tax_lines\":[],\"shipping_lines\":[{\"id\":332,\"method_title\":\"Local pickup\","
    "\"method_id\":\"local_pickup\",\"instance_id\":\"3\",\"total\":\"0.00\",\"total_tax\":\"0.00\"}],"
    "\"fee_lines\":[],\"coupon_lines\":[],\"refunds\":[]}";

/* A private customer without a shipping address. */
static const char *WOO_PRIVATE =
    "{\"id\":77,\"number\":\"77\",\"status\":\"on-hold\",\"currency\":\"SEK\","
    "\"date_created_gmt\":\"2026-11-22T08:15:30\",\"date_modified_gmt\":\"2026-11-22T08:16:00\","
    "\"billing\":{\"first_name\":\"Eva\",\"last_name\":\"Berg\",\"company\":\"\",\"address_1\":\"Storgatan 5\","
    "\"address_2\":\"\",\"city\":\"Uppsala\",\"state\":\"\",\"postcode\":\"753 20\",\"country\":\"SE\","
    "\"email\":\"eva@example.se\",\"phone\":\"\"},"
    "\"shipping\":{\"first_name\":\"\",\"last_name\":\"\",\"company\":\"\",\"address_1\":\"\",\"address_2\":\"\","
    "\"city\":\"\",\"state\":\"\",\"postcode\":\"\",\"country\":\"\",\"phone\":\"\"},"
    "\"customer_note\":\"\",\"shipping_lines\":[],"
    "\"line_items\":[{\"id\":9,\"name\":\"Sock 3-pack\",\"quantity\":3,\"subtotal\":\"100.00\","
    "\"total\":\"100.00\",\"total_tax\":\"25.00\",\"sku\":\"SOCK-3\",\"price\":33.333333333333336}]}";

static const char *WOO_NO_SKU =
    "{\"id\":78,\"number\":\"78\",\"status\":\"processing\",\"currency\":\"EUR\","
    "\"date_created_gmt\":\"2026-11-22T08:15:30\",\"date_modified_gmt\":\"2026-11-22T08:16:00\","
    "\"billing\":{\"first_name\":\"A\",\"last_name\":\"B\",\"address_1\":\"X 1\",\"city\":\"Y\",\"country\":\"DE\"},"
    "\"line_items\":[{\"id\":555,\"name\":\"Engraving service\",\"quantity\":1,\"subtotal\":\"5.00\","
    "\"total\":\"5.00\",\"sku\":\"\"}]}";

static oi_order order;
static char err[512];

TEST(shopify_company_order) {
    char *id = NULL;
    CHECK_INT(oi_map_shopify("nordic-bikes", SHOPIFY_COMPANY, strlen(SHOPIFY_COMPANY), &order, &id,
                             err, sizeof err), OI_MAP_OK);
    wb_order_msg *m = &order.msg;
    CHECK_STR(id, "5734523158582");
    free(id);
    CHECK_STR(m->order_id, "5734523158582");
    CHECK_STR(m->order_number, "#1042");
    CHECK_INT(m->platform, WB_PLATFORM_SHOPIFY);
    CHECK_INT(m->version, 1795179792000LL); /* 2026-11-20T13:03:12Z */
    char want[65];
    wb_order_event_id("nordic-bikes", "5734523158582", 1795179792000LL, want);
    CHECK_STR(m->event_id, want);
    CHECK_STR(m->created_at, "2026-11-20T14:03:11+01:00");
    CHECK_STR(m->currency, "SEK");
    CHECK_STR(m->delivery_method.code, "postnord-mypack-home");
    CHECK_STR(m->delivery_method.name, "PostNord MyPack Home");
    CHECK_STR(m->remark, "Please deliver to the loading dock, gate 3.");
    CHECK_STR(m->customer.name, "Cykelverkstan Lind AB");
    CHECK_STR(m->customer.contact, "Anna Lind");
    CHECK_STR(m->customer.address1, "Industrigatan 12");
    CHECK_STR(m->customer.address2, "Port 3");
    CHECK_STR(m->customer.postcode, "211 19");
    CHECK_STR(m->customer.city, "Malmö");
    CHECK_STR(m->customer.country_code, "SE");
    CHECK_STR(m->customer.email, "anna@cykelverkstan.se");
    CHECK_STR(m->customer.phone, "+46 40 123 45 67");
    CHECK_STR(m->invoice.name, "Cykelverkstan Lind AB");
    CHECK_STR(m->invoice.contact, "Ekonomi");
    CHECK_STR(m->invoice.address1, "Box 4455");
    CHECK(m->invoice.address2 == NULL);
    CHECK_STR(m->notification.email, "anna@cykelverkstan.se");
    CHECK(m->notification.by_email);
    CHECK_INT(m->n_lines, 2); /* the line an edit removed is gone */
    CHECK_STR(m->lines[0].line_id, "14086920003638");
    CHECK_STR(m->lines[0].sku, "TYRE-700X28-BLK");
    CHECK_STR(m->lines[0].name, "Road tyre 700x28 - Black");
    CHECK_INT(m->lines[0].quantity, 4);
    CHECK_STR(m->lines[0].unit_price, "449.00");
    CHECK_STR(m->lines[0].line_total, "1796.00"); /* taxes included: no tax added */
    CHECK_STR(m->lines[1].unit_price, "89.00");
    CHECK_STR(m->lines[1].line_total, "801.00"); /* 10 x 89 - 89 discount */
    CHECK(!order.cancelled);
    CHECK_STR(order.financial_status, "paid");
    CHECK_STR(order.fulfillment_status, "unfulfilled");
    char *json = wb_order_msg_encode(m);
    CHECK(json != NULL);
    free(json);
    oi_order_free(&order);
}

TEST(shopify_private_no_shipping_line_email_fallback) {
    if (oi_map_shopify("s1", SHOPIFY_PRIVATE, strlen(SHOPIFY_PRIVATE), &order, NULL, err,
                       sizeof err) != OI_MAP_OK)
        FAILF("%s", err);
    wb_order_msg *m = &order.msg;
    CHECK_STR(m->order_id, "820982911946154508");
    CHECK_INT(m->version, 1795269900250LL); /* 2026-11-21T14:05:00.250Z */
    CHECK(m->delivery_method.code == NULL && m->delivery_method.name == NULL);
    CHECK(m->remark == NULL);
    /* no shipping address: the billing address is the delivery address */
    CHECK_STR(m->customer.name, "Bob Norman");
    CHECK(m->customer.contact == NULL);
    CHECK_STR(m->customer.address1, "Chestnut Street 92");
    CHECK_STR(m->customer.state, "Kentucky");
    CHECK_STR(m->customer.country_code, "US");
    CHECK_STR(m->customer.email, "bob@example.com"); /* the customer's, the order has none */
    CHECK_STR(m->customer.phone, "+1(502)-459-2181");
    CHECK_STR(m->notification.mobile, "+1(502)-459-2181");
    CHECK(m->notification.by_sms);
    CHECK_STR(m->lines[0].line_id, "866550311766439020");
    CHECK_STR(m->lines[0].unit_price, "199.00");
    CHECK_STR(m->lines[0].line_total, "598.94"); /* 3 x 199 - 10 + 11.94 tax */
    CHECK_STR(order.fulfillment_status, "partial");
    oi_order_free(&order);
}

TEST(shopify_line_without_sku_is_unmappable) {
    char *id = NULL;
    CHECK_INT(oi_map_shopify("s1", SHOPIFY_NO_SKU, strlen(SHOPIFY_NO_SKU), &order, &id, err,
                             sizeof err), OI_MAP_UNMAPPABLE);
    CHECK_STR(id, "1001");
    free(id);
    CHECK_STR(err, "lines[1]: no sku (line 123 \"Gift card\")");
}

/* body with every occurrence of from replaced by to (same length or not). */
static char *replaced(const char *body, const char *from, const char *to) {
    size_t n = 0, fl = strlen(from), tl = strlen(to);
    for (const char *p = strstr(body, from); p; p = strstr(p + fl, from)) n++;
    char *out = malloc(strlen(body) + n * tl + 1), *w = out;
    for (const char *p = body, *q; ; p = q + fl) {
        q = strstr(p, from);
        size_t len = q ? (size_t)(q - p) : strlen(p);
        memcpy(w, p, len);
        w += len;
        if (!q) break;
        memcpy(w, to, tl);
        w += tl;
    }
    *w = 0;
    return out;
}

/* After a return (or a refund) of everything, Shopify leaves every line with
 * current_quantity 0: the order still maps, with its lines as placed and
 * nothing_open set, so a cancellation can go out and a change the rules
 * ignore is not a dead letter (chaos finding 5). */
TEST(shopify_everything_returned_maps_with_nothing_open) {
    CHECK_INT(oi_map_shopify("s1", SHOPIFY_COMPANY, strlen(SHOPIFY_COMPANY), &order, NULL, err,
                             sizeof err), OI_MAP_OK);
    CHECK(!order.nothing_open);
    CHECK_INT(order.msg.n_lines, 2);
    oi_order_free(&order);
    char *a = replaced(SHOPIFY_COMPANY, "\"current_quantity\":4", "\"current_quantity\":0");
    char *body = replaced(a, "\"current_quantity\":10", "\"current_quantity\":0");
    free(a);
    int rc = oi_map_shopify("s1", body, strlen(body), &order, NULL, err, sizeof err);
    free(body);
    if (rc != OI_MAP_OK) FAILF("%s", err);
    CHECK(order.nothing_open);
    CHECK_INT(order.msg.n_lines, 3);
    CHECK_STR(order.msg.lines[0].sku, "TYRE-700X28-BLK");
    CHECK_INT(order.msg.lines[0].quantity, 4);
    CHECK_INT(order.msg.lines[1].quantity, 10);
    oi_order_free(&order);
    /* No line at all is still unmappable. */
    body = replaced(SHOPIFY_COMPANY, "\"line_items\":[", "\"line_items\":[],\"x\":[");
    CHECK_INT(oi_map_shopify("s1", body, strlen(body), &order, NULL, err, sizeof err),
              OI_MAP_UNMAPPABLE);
    free(body);
    CHECK_STR(err, "lines: the order has no line to fulfil");
    /* The rules: a cancellation or an ignored change goes on, a new order or an update cannot. */
    oi_order closed = {.nothing_open = true, .msg = {.order_id = "77"}};
    CHECK(!oi_refuse_nothing_open(&closed, OI_ACT_CANCEL, err, sizeof err));
    CHECK(!oi_refuse_nothing_open(&closed, OI_ACT_PICKING, err, sizeof err));
    CHECK(!oi_refuse_nothing_open(&closed, OI_ACT_DUPLICATE, err, sizeof err));
    CHECK(oi_refuse_nothing_open(&closed, OI_ACT_UPDATE, err, sizeof err));
    CHECK_STR(err, "order 77: lines: every line was refunded, returned or removed "
                   "(current_quantity 0): nothing to fulfil, not sent as updated");
    CHECK(oi_refuse_nothing_open(&closed, OI_ACT_CREATE, err, sizeof err));
    closed.nothing_open = false;
    CHECK(!oi_refuse_nothing_open(&closed, OI_ACT_UPDATE, err, sizeof err));
}

TEST(shopify_cancelled_and_malformed) {
    char *body = strdup(SHOPIFY_PRIVATE);
    char *p = strstr(body, "\"cancelled_at\":null");
    memcpy(p, "\"cancelled_at\":\"1\" ", 19);
    int rc = oi_map_shopify("s1", body, strlen(body), &order, NULL, err, sizeof err);
    free(body);
    if (rc != OI_MAP_OK) FAILF("%s", err);
    CHECK(order.cancelled);
    CHECK_INT(order.msg.type, WB_ORDER_CANCELLED);
    oi_order_free(&order);
    CHECK_INT(oi_map_shopify("s1", "{\"id\":1,", 8, &order, NULL, err, sizeof err), OI_MAP_MALFORMED);
    CHECK_INT(oi_map_shopify("s1", "[1]", 3, &order, NULL, err, sizeof err), OI_MAP_MALFORMED);
    CHECK_INT(oi_map_shopify("s1", "{\"id\":1}", 8, &order, NULL, err, sizeof err), OI_MAP_UNMAPPABLE);
    CHECK_CONTAINS(err, "updated_at");
}

TEST(woocommerce_company_order) {
    CHECK_INT(oi_map_woocommerce("woo-teashop", WOO_COMPANY, strlen(WOO_COMPANY), &order, NULL, err,
                                 sizeof err), OI_MAP_OK);
    wb_order_msg *m = &order.msg;
    CHECK_STR(m->order_id, "4713");
    CHECK_STR(m->order_number, "4713"); /* no "number": the id */
    CHECK_INT(m->platform, WB_PLATFORM_WOOCOMMERCE);
    CHECK_INT(m->version, 1795258801000LL);
    CHECK_STR(m->created_at, "2026-11-21T11:00:00Z"); /* the _gmt time, with its zone */
    CHECK_STR(m->currency, "EUR");
    CHECK_STR(m->delivery_method.code, "local_pickup");
    CHECK_STR(m->delivery_method.name, "Local pickup");
    CHECK_STR(m->remark, "Gift wrap the matcha, please");
    CHECK_STR(m->customer.name, "Café Morgenrot GmbH");
    CHECK_STR(m->customer.contact, "Lea Vogel");
    CHECK_STR(m->customer.address2, "Hinterhaus");
    CHECK_STR(m->customer.phone, "+49 341 998877");
    CHECK_STR(m->customer.email, "rechnung@morgenrot.example"); /* billing email */
    CHECK_STR(m->invoice.email, "rechnung@morgenrot.example");
    CHECK_STR(m->invoice.phone, "+4915112345678");
    CHECK(m->invoice.address2 == NULL);
    CHECK_STR(m->notification.mobile, "+4915112345678");
    CHECK_INT(m->n_lines, 2);
    CHECK_STR(m->lines[0].line_id, "330");
    CHECK_STR(m->lines[0].sku, "TEA-MATCHA-30");
    CHECK_STR(m->lines[0].name, "Matcha ceremonial 30 g");
    CHECK_INT(m->lines[0].quantity, 3);
    CHECK_STR(m->lines[0].unit_price, "24.90");
    CHECK_STR(m->lines[0].line_total, "88.89"); /* total + total_tax */
    CHECK_STR(m->lines[1].unit_price, "12.50");
    CHECK_STR(m->lines[1].line_total, "10.00"); /* after the coupon */
    CHECK_STR(order.status, "processing");
    CHECK(!order.cancelled);
    oi_order_free(&order);
}

TEST(woocommerce_private_billing_only) {
    CHECK_INT(oi_map_woocommerce("w", WOO_PRIVATE, strlen(WOO_PRIVATE), &order, NULL, err,
                                 sizeof err), OI_MAP_OK);
    wb_order_msg *m = &order.msg;
    CHECK_STR(m->order_number, "77");
    CHECK(m->delivery_method.code == NULL);
    CHECK(m->remark == NULL);
    CHECK_STR(m->customer.name, "Eva Berg");
    CHECK(m->customer.contact == NULL);
    CHECK_STR(m->customer.address1, "Storgatan 5");
    CHECK_STR(m->customer.email, "eva@example.se");
    CHECK(m->customer.phone == NULL);
    CHECK(m->notification.mobile == NULL && !m->notification.by_sms);
    CHECK_STR(m->lines[0].unit_price, "33.333333");
    CHECK_STR(m->lines[0].line_total, "125.00");
    oi_order_free(&order);
}

TEST(woocommerce_line_without_sku_and_trash) {
    char *id = NULL;
    CHECK_INT(oi_map_woocommerce("w", WOO_NO_SKU, strlen(WOO_NO_SKU), &order, &id, err, sizeof err),
              OI_MAP_UNMAPPABLE);
    CHECK_STR(id, "78");
    free(id);
    CHECK_STR(err, "lines[0]: no sku (line 555 \"Engraving service\")");
    char *body = strdup(WOO_PRIVATE);
    char *p = strstr(body, "\"on-hold\"");
    memcpy(p, "\"trash\"  ", 9);
    int rc = oi_map_woocommerce("w", body, strlen(body), &order, NULL, err, sizeof err);
    free(body);
    if (rc != OI_MAP_OK) FAILF("%s", err);
    CHECK(order.cancelled);
    oi_order_free(&order);
}

TEST(decimals_and_times) {
    int64_t v;
    char buf[32];
    CHECK_INT(oi_decimal_parse("12.5", &v), 0);
    CHECK_INT(v, 12500000);
    oi_decimal_format(v, buf);
    CHECK_STR(buf, "12.50");
    CHECK_INT(oi_decimal_parse("0.1234567", &v), 0);
    CHECK_INT(v, 123457);
    oi_decimal_format(v, buf);
    CHECK_STR(buf, "0.123457");
    /* By hand, as snprintf("%lld.%06lld") with trailing zeros past two dropped did. */
    struct { int64_t v; const char *s; } fmt[] = {
        {0, "0.00"}, {1, "0.000001"}, {10000, "0.01"}, {1000000, "1.00"}, {-5, "0.00"},
        {123450000, "123.45"}, {999999999999999999LL, "999999999999.999999"},
        {INT64_MAX, "9223372036854.775807"}, {1234500000, "1234.50"}};
    for (size_t i = 0; i < sizeof fmt / sizeof fmt[0]; i++) {
        oi_decimal_format(fmt[i].v, buf);
        CHECK_STR(buf, fmt[i].s);
    }
    CHECK_INT(oi_decimal_parse("-1", &v), -1);
    CHECK_INT(oi_decimal_parse("1e3", &v), -1);
    CHECK_INT(oi_decimal_parse("", &v), -1);
    CHECK_INT(oi_parse_time_ms("2026-11-21T11:00:01", true, &v), 0);
    CHECK_INT(v, 1795258801000LL);
    CHECK_INT(oi_parse_time_ms("2026-11-21T11:00:01", false, &v), -1);
    CHECK_INT(oi_parse_time_ms("2026-11-21T12:00:01.5+01:00", false, &v), 0);
    CHECK_INT(v, 1795258801500LL);
    char *t = oi_text("  Åsa Öberg  ", 3);
    CHECK_STR(t, "Åsa");
    free(t);
    CHECK(oi_text("   ", 10) == NULL);
}

TEST(rules_filters) {
    CHECK(oi_list_has("processing", "processing"));
    CHECK(oi_list_has("processing, on-hold", "wc-on-hold"));
    CHECK(!oi_list_has("processing", "pending"));
    CHECK(oi_list_has("", "anything"));
    CHECK(oi_list_has(NULL, NULL));
    CHECK(oi_list_has("PAID", "paid"));
    wb_store store = {0};
    store.order_statuses = "processing";
    store.financial_statuses = "paid";
    store.fulfillment_statuses = "";
    oi_order o = {0};
    o.msg.platform = WB_PLATFORM_WOOCOMMERCE;
    o.status = "processing";
    CHECK(oi_filter_pass(&store, &o));
    o.status = "pending";
    CHECK(!oi_filter_pass(&store, &o));
    o.msg.platform = WB_PLATFORM_SHOPIFY;
    o.financial_status = "paid";
    o.fulfillment_status = "unfulfilled";
    CHECK(oi_filter_pass(&store, &o));
    o.financial_status = "pending";
    CHECK(!oi_filter_pass(&store, &o));
}

TEST(rules_decisions) {
    oi_prior none = {0};
    CHECK_INT(oi_decide(&none, false, 10, true), OI_ACT_CREATE);
    CHECK_INT(oi_decide(&none, false, 10, false), OI_ACT_FILTERED);
    CHECK_INT(oi_decide(&none, true, 10, true), OI_ACT_UNKNOWN_CANCEL);
    oi_prior sent = {true, 10, "sent"};
    CHECK_INT(oi_decide(&sent, false, 10, true), OI_ACT_DUPLICATE);
    CHECK_INT(oi_decide(&sent, false, 9, true), OI_ACT_STALE);
    CHECK_INT(oi_decide(&sent, false, 11, false), OI_ACT_UPDATE); /* filters gate creation only */
    CHECK_INT(oi_decide(&sent, true, 11, true), OI_ACT_CANCEL);
    oi_prior accepted = {true, 10, "accepted"};
    CHECK_INT(oi_decide(&accepted, false, 11, true), OI_ACT_UPDATE);
    oi_prior picking = {true, 10, "picking"};
    CHECK_INT(oi_decide(&picking, false, 11, true), OI_ACT_PICKING);
    CHECK_INT(oi_decide(&picking, true, 11, true), OI_ACT_CANCEL); /* cancellations always go out */
    oi_prior dispatched = {true, 10, "dispatched"};
    CHECK_INT(oi_decide(&dispatched, false, 11, true), OI_ACT_PICKING);
    oi_prior cancelled = {true, 10, "cancelled"};
    CHECK_INT(oi_decide(&cancelled, true, 11, true), OI_ACT_ALREADY_CANCELLED);
    CHECK_INT(oi_decide(&cancelled, false, 11, true), OI_ACT_ALREADY_CANCELLED);
}

TEST(open_quantities_sum_per_sku) {
    wb_order_line lines[] = {{.sku = "A", .quantity = 2}, {.sku = "B", .quantity = 1},
                             {.sku = "A", .quantity = 3}};
    wb_order_msg m = {.lines = lines, .n_lines = 3};
    char *q = oi_open_quantities(&m);
    CHECK_STR(q, "{\"A\":5,\"B\":1}");
    free(q);
    /* Written by hand: the text cJSON gave, escapes included. */
    wb_order_line odd[] = {{.sku = "q\"b\\s\n\x01\xC3\xA5", .quantity = 1000000},
                           {.sku = "A", .quantity = 7}, {.sku = "q\"b\\s\n\x01\xC3\xA5", .quantity = 999}};
    wb_order_msg o = {.lines = odd, .n_lines = 3};
    cJSON *ref = cJSON_CreateObject();
    cJSON_AddNumberToObject(ref, odd[0].sku, 1000999);
    cJSON_AddNumberToObject(ref, "A", 7);
    char *want = cJSON_PrintUnformatted(ref);
    q = oi_open_quantities(&o);
    CHECK_STR(q, want);
    free(q);
    free(want);
    cJSON_Delete(ref);
    wb_order_msg none = {0};
    q = oi_open_quantities(&none);
    CHECK_STR(q, "{}");
    free(q);
}

/* The same order as SHOPIFY_COMPANY, as the reconciler's GraphQL query
 * (wb_gql_reconcile_orders) returns it: the lines' second page comes
 * separately, as ReconcileOrderLines returns it. */
static const char *SHOPIFY_GQL_COMPANY =
    "{\"id\":\"gid://shopify/Order/5734523158582\",\"name\":\"#1042\",\"email\":\"anna@cykelverkstan.se\","
    "\"phone\":null,\"note\":\"Please deliver to the loading dock, gate 3.\",\"currencyCode\":\"SEK\","
    "\"createdAt\":\"2026-11-20T14:03:11+01:00\",\"updatedAt\":\"2026-11-20T14:03:12+01:00\",\"cancelledAt\":null,"
    "\"taxesIncluded\":true,\"displayFinancialStatus\":\"PAID\",\"displayFulfillmentStatus\":\"UNFULFILLED\","
    "\"shippingAddress\":{\"firstName\":\"Anna\",\"lastName\":\"Lind\",\"company\":\"Cykelverkstan Lind AB\","
    "\"address1\":\"Industrigatan 12\",\"address2\":\"Port 3\",\"city\":\"Malmö\",\"zip\":\"211 19\",\"province\":null,"
    "\"countryCodeV2\":\"SE\",\"phone\":\"+46 40 123 45 67\"},"
    "\"billingAddress\":{\"firstName\":\"Ekonomi\",\"lastName\":null,\"company\":\"Cykelverkstan Lind AB\","
    "\"address1\":\"Box 4455\",\"address2\":\"\",\"city\":\"Malmö\",\"zip\":\"203 15\",\"province\":null,"
    "\"countryCodeV2\":\"SE\",\"phone\":null},"
    "\"shippingLine\":{\"code\":\"postnord-mypack-home\",\"title\":\"PostNord MyPack Home\"},"
    "\"lineItems\":{\"nodes\":["
    "{\"id\":\"gid://shopify/LineItem/14086920003638\",\"name\":\"Road tyre 700x28 - Black\",\"sku\":\"TYRE-700X28-BLK\","
    "\"quantity\":4,\"currentQuantity\":4,\"originalUnitPriceSet\":{\"shopMoney\":{\"amount\":\"449.0\"}},"
    "\"discountAllocations\":[],\"taxLines\":[{\"priceSet\":{\"shopMoney\":{\"amount\":\"359.2\"}}}]},"
    "{\"id\":\"gid://shopify/LineItem/14086920036406\",\"name\":\"Inner tube 700c Presta\",\"sku\":\"TUBE-700-PV\","
    "\"quantity\":10,\"currentQuantity\":10,\"originalUnitPriceSet\":{\"shopMoney\":{\"amount\":\"89.0\"}},"
    "\"discountAllocations\":[{\"allocatedAmountSet\":{\"shopMoney\":{\"amount\":\"89.0\"}}}],\"taxLines\":[]}],"
    "\"pageInfo\":{\"hasNextPage\":true,\"endCursor\":\"eyJsYXN0X2lkIjoxfQ==\"}},"
    "\"fulfillmentOrders\":{\"nodes\":[{\"assignedLocation\":{\"location\":{\"id\":\"gid://shopify/Location/77\"}}}]}}";
static const char *SHOPIFY_GQL_MORE_LINES =
    "[{\"id\":\"gid://shopify/LineItem/14086920069174\",\"name\":\"Removed by an edit\",\"sku\":\"GONE-1\","
    "\"quantity\":1,\"currentQuantity\":0,\"originalUnitPriceSet\":{\"shopMoney\":{\"amount\":\"5.0\"}},"
    "\"discountAllocations\":[],\"taxLines\":[]}]";

TEST(shopify_graphql_order_maps_as_its_webhook) {
    oi_order rest, gql;
    char *id = NULL;
    CHECK_INT(oi_map_shopify("nordic-bikes", SHOPIFY_COMPANY, strlen(SHOPIFY_COMPANY), &rest, NULL, err,
                             sizeof err), OI_MAP_OK);
    cJSON *node = cJSON_Parse(SHOPIFY_GQL_COMPANY), *more = cJSON_Parse(SHOPIFY_GQL_MORE_LINES);
    CHECK(node && more);
    int rc = oi_map_shopify_gql("nordic-bikes", node, more, &gql, &id, err, sizeof err);
    if (rc != OI_MAP_OK) FAILF("gql: %s", err);
    CHECK_STR(id, "5734523158582");
    free(id);
    char *a = wb_order_msg_encode(&rest.msg), *b = wb_order_msg_encode(&gql.msg);
    CHECK(a && b);
    CHECK_STR(b, a); /* the same message, so the same event id: one is a duplicate of the other */
    free(a);
    free(b);
    CHECK_STR(gql.shop_location, "gid://shopify/Location/77");
    CHECK_STR(gql.financial_status, "paid");
    CHECK_STR(gql.fulfillment_status, "unfulfilled");
    CHECK(!gql.cancelled);
    oi_order_free(&rest);
    oi_order_free(&gql);
    /* statuses as REST spells them; cancelledAt cancels; no SKU is unmappable */
    cJSON_ReplaceItemInObject(node, "displayFulfillmentStatus", cJSON_CreateString("PARTIALLY_FULFILLED"));
    cJSON_ReplaceItemInObject(node, "cancelledAt", cJSON_CreateString("2026-11-20T15:00:00+01:00"));
    CHECK_INT(oi_map_shopify_gql("nordic-bikes", node, NULL, &gql, NULL, err, sizeof err), OI_MAP_OK);
    CHECK_STR(gql.fulfillment_status, "partial");
    CHECK(gql.cancelled);
    CHECK_INT(gql.msg.n_lines, 2);
    oi_order_free(&gql);
    cJSON *lines = cJSON_GetObjectItem(cJSON_GetObjectItem(node, "lineItems"), "nodes");
    cJSON_ReplaceItemInObject(cJSON_GetArrayItem(lines, 1), "sku", cJSON_CreateNull());
    CHECK_INT(oi_map_shopify_gql("nordic-bikes", node, NULL, &gql, &id, err, sizeof err), OI_MAP_UNMAPPABLE);
    CHECK_CONTAINS(err, "lines[1]: no sku (line 14086920036406 \"Inner tube 700c Presta\")");
    CHECK_STR(id, "5734523158582");
    free(id);
    cJSON_Delete(node);
    cJSON_Delete(more);
}

/* The mapper's checked encoding is reused when only the type (the rules')
 * or the warehouse (prepare.c, checked there) changes: encoded again without
 * the check, it must say exactly what the checked encoding says. */
TEST(reencode_matches_checked_encoding) {
    oi_order order;
    char err[512];
    CHECK_INT(oi_map_shopify("s1", SHOPIFY_COMPANY, strlen(SHOPIFY_COMPANY), &order, NULL, err, sizeof err),
              OI_MAP_OK);
    CHECK(order.json != NULL);
    order.msg.type = WB_ORDER_UPDATED;
    order.msg.warehouse = strdup("WH-MALMO.1");
    char *checked = wb_order_msg_encode(&order.msg), *again = wb_order_msg_reencode(&order.msg);
    CHECK(checked && again && strcmp(checked, again) == 0);
    CHECK_CONTAINS(again, "\"type\":\"updated\"");
    CHECK_CONTAINS(again, "\"warehouse\":\"WH-MALMO.1\"");
    free(checked);
    free(again);
    oi_order_free(&order);
}

/* prepare.c puts the chosen warehouse into the mapper's text: the same
 * bytes as encoding the message with it, whatever the text before holds. */
TEST(warehouse_set_in_text_matches_reencode) {
    const char *remarks[] = {NULL, "a \",\"customer\":{ b", "\\", "x\",\"warehouse\":\"y"};
    const char *warehouses[] = {"WH1", "W\"1\\\n\x01\xC3\xA9"};
    for (size_t r = 0; r < 4; r++) {
        for (size_t w = 0; w < 2; w++) {
            oi_order order;
            char err[512];
            CHECK_INT(oi_map_shopify("s1", SHOPIFY_COMPANY, strlen(SHOPIFY_COMPANY), &order, NULL, err,
                                     sizeof err), OI_MAP_OK);
            free(order.msg.remark);
            order.msg.remark = remarks[r] ? strdup(remarks[r]) : NULL;
            if (r == 0) { /* no delivery method either */
                free(order.msg.delivery_method.code), free(order.msg.delivery_method.name);
                order.msg.delivery_method.code = order.msg.delivery_method.name = NULL;
            }
            char *before = wb_order_msg_reencode(&order.msg);
            order.msg.warehouse = strdup(warehouses[w]);
            char *spliced = wb_order_json_set_warehouse(before, warehouses[w]);
            char *again = wb_order_msg_reencode(&order.msg);
            CHECK(spliced && again);
            if (spliced && again) CHECK_STR(spliced, again);
            CHECK(wb_order_json_set_warehouse(again, "WH2") == NULL); /* it names one already */
            free(before);
            free(spliced);
            free(again);
            oi_order_free(&order);
        }
    }
    CHECK(wb_order_json_set_warehouse("{\"a\":1}", "WH1") == NULL);
}

int main(void) {
    RUN(shopify_company_order);
    RUN(shopify_private_no_shipping_line_email_fallback);
    RUN(shopify_line_without_sku_is_unmappable);
    RUN(shopify_cancelled_and_malformed);
    RUN(shopify_everything_returned_maps_with_nothing_open);
    RUN(woocommerce_company_order);
    RUN(woocommerce_private_billing_only);
    RUN(woocommerce_line_without_sku_and_trash);
    RUN(decimals_and_times);
    RUN(rules_filters);
    RUN(rules_decisions);
    RUN(open_quantities_sum_per_sku);
    RUN(shopify_graphql_order_maps_as_its_webhook);
    RUN(reencode_matches_checked_encoding);
    RUN(warehouse_set_in_text_matches_reencode);
    TEST_EXIT();
}
