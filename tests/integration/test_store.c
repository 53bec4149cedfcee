/* Store configuration: what bridgectl writes, a service reads back with its
 * credentials decrypted; the column never holds plaintext; a wrong key is an
 * error, never garbage; the one-default rule for locations holds. */
#include <stdlib.h>

#include "testlib.h"
#include "wb/log.h"
#include "wb/pg.h"
#include "wb/store.h"

static wb_pg *pg;
static unsigned char key[32], wrong_key[32];
static const char *shopify_creds = "{\"access_token\":\"shpat_plain_token_123\",\"api_secret\":\"shpss_hook_456\"}";

TEST(setup_fresh_schema) {
    char err[512];
    pg = wb_pg_connect(wb_test_env("WB_TEST_PG_DSN"), err, sizeof err);
    CHECK(pg != NULL);
    CHECK(wb_pg_exec(pg, "DROP SCHEMA public CASCADE", 0, NULL) == 0);
    CHECK(wb_pg_exec(pg, "CREATE SCHEMA public", 0, NULL) == 0);
    CHECK(wb_pg_migrate(pg, wb_migrations, wb_migration_count, err, sizeof err) == wb_migration_count);
}

TEST(added_store_reads_back_with_credentials) {
    char err[512];
    CHECK(wb_store_add(pg, key, "acme-eu", "acme", "shopify", "https://acme-eu.myshopify.com",
                       shopify_creds, err, sizeof err) == 0);
    wb_store s;
    CHECK(wb_store_load(pg, key, "acme-eu", &s, err, sizeof err) == 0);
    CHECK_STR(s.credentials, shopify_creds);
    CHECK_STR(s.platform, "shopify");
    CHECK_STR(s.goods_owner, "acme");
    CHECK(s.enabled && s.stock_sync && s.complete_on_dispatch && !s.shipment_tracking);
    CHECK_STR(s.stock_mode, "absolute");
    CHECK_INT(s.window_seconds, 30);
    CHECK_STR(s.order_statuses, "processing");
    CHECK_STR(s.note_visibility, "private");
    wb_store_free(&s);
}

TEST(credentials_column_holds_no_plaintext) {
    PGresult *res = wb_pg_query(pg, "SELECT credentials_sealed FROM stores WHERE id = 'acme-eu'", 0, NULL);
    CHECK(res && PQntuples(res) == 1);
    const char *sealed = PQgetvalue(res, 0, 0);
    bool starts = strncmp(sealed, "v1:", 3) == 0;
    bool leaks = strstr(sealed, "shpat_plain_token_123") || strstr(sealed, "shpss_hook_456") ||
                 strstr(sealed, "access_token");
    PQclear(res);
    CHECK(starts);
    CHECK(!leaks);
}

TEST(wrong_key_is_a_clear_error) {
    wb_store s;
    char err[512];
    CHECK_INT(wb_store_load(pg, wrong_key, "acme-eu", &s, err, sizeof err), -1);
    CHECK_CONTAINS(err, "cannot decrypt the credentials of store 'acme-eu': wrong WB_MASTER_KEY");
    CHECK(s.credentials == NULL && s.id == NULL);
    /* Without a key, the settings still load and the credentials stay sealed. */
    CHECK_INT(wb_store_load(pg, NULL, "acme-eu", &s, err, sizeof err), 0);
    CHECK(s.credentials == NULL);
    wb_store_free(&s);
}

TEST(credentials_are_bound_to_their_store) {
    char err[512];
    CHECK(wb_store_add(pg, key, "other", "acme", "shopify", "https://o.myshopify.com", shopify_creds,
                       err, sizeof err) == 0);
    /* Moving acme-eu's sealed credentials onto another row must not work. */
    CHECK(wb_pg_exec(pg, "UPDATE stores SET credentials_sealed = (SELECT credentials_sealed FROM "
                         "stores WHERE id = 'acme-eu') WHERE id = 'other'", 0, NULL) == 0);
    wb_store s;
    CHECK_INT(wb_store_load(pg, key, "other", &s, err, sizeof err), -1);
}

TEST(validation_errors_name_the_field) {
    char err[512];
    struct { const char *id, *owner, *platform, *url, *creds, *expect; } cases[] = {
        {"Bad Id", "o", "shopify", "https://x", shopify_creds, "store id 'Bad Id'"},
        {"s1", "", "shopify", "https://x", shopify_creds, "goods owner: required"},
        {"s1", "o", "magento", "https://x", shopify_creds, "platform 'magento': expected shopify or woocommerce"},
        {"s1", "o", "shopify", "ftp://x", shopify_creds, "url 'ftp://x'"},
        {"s1", "o", "shopify", "https://", shopify_creds, "url 'https://'"},
        {"s1", "o", "shopify", "https://x", "not json", "credentials: expected a JSON object"},
        {"s1", "o", "shopify", "https://x", "{\"access_token\":\"t\"}", "credentials: shopify needs a non-empty \"api_secret\""},
        {"s1", "o", "woocommerce", "https://x", "{\"consumer_key\":\"ck\",\"consumer_secret\":\"cs\"}",
         "credentials: woocommerce needs a non-empty \"webhook_secret\""},
        {"acme-eu", "o", "shopify", "https://x", shopify_creds, "store 'acme-eu' already exists"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err[0] = 0;
        CHECK_INT(wb_store_add(pg, key, cases[i].id, cases[i].owner, cases[i].platform, cases[i].url,
                               cases[i].creds, err, sizeof err), -1);
        CHECK_CONTAINS(err, cases[i].expect);
    }
}

TEST(settings_change_with_type_checks) {
    char err[512];
    CHECK_INT(wb_store_set(pg, "acme-eu", "window_seconds", "0", err, sizeof err), 0);
    CHECK_INT(wb_store_set(pg, "acme-eu", "stock_mode", "delta", err, sizeof err), 0);
    CHECK_INT(wb_store_set(pg, "acme-eu", "order_statuses", "processing,on-hold", err, sizeof err), 0);
    CHECK_INT(wb_store_set(pg, "acme-eu", "shipment_tracking", "on", err, sizeof err), 0);
    CHECK_INT(wb_store_set(pg, "acme-eu", "financial_statuses", "", err, sizeof err), 0);
    wb_store s;
    CHECK_INT(wb_store_load(pg, NULL, "acme-eu", &s, err, sizeof err), 0);
    int window = s.window_seconds;
    bool tracking = s.shipment_tracking;
    char mode[16], statuses[64];
    snprintf(mode, sizeof mode, "%s", s.stock_mode);
    snprintf(statuses, sizeof statuses, "%s", s.order_statuses);
    wb_store_free(&s);
    CHECK_INT(window, 0);
    CHECK_STR(mode, "delta");
    CHECK_STR(statuses, "processing,on-hold");
    CHECK(tracking);

    struct { const char *key, *value, *expect; } bad[] = {
        {"window_seconds", "3601", "window_seconds: expected an integer from 0 to 3600"},
        {"window_seconds", "-1", "window_seconds: expected an integer"},
        {"stock_mode", "relative", "stock_mode: expected absolute|delta"},
        {"note_visibility", "public", "note_visibility: expected private|customer"},
        {"stock_sync", "perhaps", "stock_sync: expected true or false"},
        {"order_statuses", "Processing; DROP", "order_statuses: expected a comma-separated list"},
        {"colour", "red", "unknown setting 'colour'"},
        {"url", "nope", "url 'nope'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_INT(wb_store_set(pg, "acme-eu", bad[i].key, bad[i].value, err, sizeof err), -1);
        CHECK_CONTAINS(err, bad[i].expect);
    }
    CHECK_INT(wb_store_set(pg, "nope", "enabled", "false", err, sizeof err), 1);
    CHECK_CONTAINS(err, "no store 'nope'");
}

TEST(one_default_location_per_store) {
    char err[512];
    CHECK_INT(wb_location_map(pg, "acme-eu", "gid://shopify/Location/1", "WH-NORTH", true, err, sizeof err), 0);
    CHECK_INT(wb_location_map(pg, "acme-eu", "gid://shopify/Location/1", "WH-SOUTH", false, err, sizeof err), 0);
    CHECK_INT(wb_location_map(pg, "acme-eu", "gid://shopify/Location/2", "WH-EAST", true, err, sizeof err), -1);
    CHECK_CONTAINS(err, "store 'acme-eu' already has a default location (gid://shopify/Location/1 -> WH-NORTH)");
    CHECK_INT(wb_location_map(pg, "ghost", "L", "W", false, err, sizeof err), 1);
    wb_store_location *locs;
    int n = wb_location_list(pg, "acme-eu", &locs, err, sizeof err);
    CHECK_INT(n, 2);
    bool ok = locs[0].is_default && strcmp(locs[0].warehouse, "WH-NORTH") == 0 &&
              !locs[1].is_default && strcmp(locs[1].warehouse, "WH-SOUTH") == 0;
    wb_location_list_free(locs, n);
    CHECK(ok);
}

/* The whole path: bridgectl (a separate process, as an operator runs it)
 * seals and stores; the library a service uses reads it back decrypted. */
TEST(store_added_by_bridgectl_reads_back_in_a_service) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "printf '%%s' '{\"consumer_key\":\"ck_x\",\"consumer_secret\":\"cs_y\",\"webhook_secret\":\"wh_z\"}' | "
             "WB_PG_DSN='%s' WB_MASTER_KEY='%s' '%s/bin/bridgectl' store add wc-cli --platform woocommerce "
             "--url http://127.0.0.1:8/shop --owner beta --credentials - >/dev/null",
             wb_test_env("WB_TEST_PG_DSN"), "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
             wb_test_env("WB_BUILD_DIR"));
    CHECK_INT(system(cmd), 0);
    unsigned char cli_key[32];
    for (int i = 0; i < 32; i++) cli_key[i] = (unsigned char)i;
    wb_store s;
    char err[512];
    CHECK_INT(wb_store_load(pg, cli_key, "wc-cli", &s, err, sizeof err), 0);
    bool ok = s.credentials &&
              strcmp(s.credentials, "{\"consumer_key\":\"ck_x\",\"consumer_secret\":\"cs_y\",\"webhook_secret\":\"wh_z\"}") == 0 &&
              strcmp(s.platform, "woocommerce") == 0 && strcmp(s.goods_owner, "beta") == 0;
    wb_store_free(&s);
    CHECK(ok);
}

int main(void) {
    wb_log_init("test_store", WB_LOG_ERROR);
    wb_log_set_output(stderr);
    for (int i = 0; i < 32; i++) key[i] = (unsigned char)(i * 7), wrong_key[i] = (unsigned char)(i * 7 + 1);
    RUN(setup_fresh_schema);
    if (!pg) TEST_EXIT();
    RUN(added_store_reads_back_with_credentials);
    RUN(credentials_column_holds_no_plaintext);
    RUN(wrong_key_is_a_clear_error);
    RUN(credentials_are_bound_to_their_store);
    RUN(validation_errors_name_the_field);
    RUN(settings_change_with_type_checks);
    RUN(one_default_location_per_store);
    RUN(store_added_by_bridgectl_reads_back_in_a_service);
    wb_pg_close(pg);
    TEST_EXIT();
}
