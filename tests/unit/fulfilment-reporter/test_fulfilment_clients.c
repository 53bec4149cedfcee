/* fulfilment-reporter keeps one shop client per store (clients.c): the same
 * client while the store's platform, URL and credentials stay, a new one
 * as soon as any of them changes. No call is made here. */
#include <string.h>

#include "reporter.h"
#include "testlib.h"

static wb_store store(const char *platform, const char *url, const char *credentials) {
    wb_store s;
    memset(&s, 0, sizeof s);
    s.id = "fr-unit-1";
    s.platform = (char *)platform;
    s.base_url = (char *)url;
    s.credentials = (char *)credentials;
    return s;
}

/* The Redis of the budget is never reached: no call is made. */
static void new_reporter(reporter *r, wb_service *svc) {
    memset(r, 0, sizeof *r);
    memset(svc, 0, sizeof *svc);
    svc->cfg.redis_url = "redis://127.0.0.1:1";
    r->svc = svc;
    wb_strmap_init(&r->clients);
}

static void client_of(reporter *r, wb_store *s, wb_shopify **shopify, wb_woo **woo) {
    cJSON *creds = cJSON_Parse(s->credentials);
    fr_clients_for(r, s, creds, shopify, woo);
    cJSON_Delete(creds);
}

TEST(same_store_same_client_until_credentials_change) {
    reporter r;
    wb_service svc;
    new_reporter(&r, &svc);
    wb_store a = store("shopify", "http://127.0.0.1:1/s", "{\"access_token\":\"shpat_a\"}");
    wb_shopify *s1, *s2, *s3;
    wb_woo *w1, *w2, *w3;
    client_of(&r, &a, &s1, &w1);
    client_of(&r, &a, &s2, &w2);
    CHECK(s1 != NULL && w1 == NULL);
    CHECK(s1 == s2);
    wb_store b = store("shopify", "http://127.0.0.1:1/s", "{\"access_token\":\"shpat_b\"}");
    client_of(&r, &b, &s3, &w3);
    CHECK(s3 != NULL && s3 != s1);
    fr_clients_close(&r);
}

TEST(url_or_platform_change_makes_a_new_client) {
    reporter r;
    wb_service svc;
    new_reporter(&r, &svc);
    const char *creds = "{\"consumer_key\":\"ck\",\"consumer_secret\":\"cs\"}";
    wb_store a = store("woocommerce", "http://127.0.0.1:1/w", creds);
    wb_store b = store("woocommerce", "http://127.0.0.1:2/w", creds);
    wb_store c = store("shopify", "http://127.0.0.1:2/w", "{\"access_token\":\"shpat_c\"}");
    wb_shopify *s1, *s2, *s3;
    wb_woo *w1, *w2, *w3;
    client_of(&r, &a, &s1, &w1);
    client_of(&r, &b, &s2, &w2);
    client_of(&r, &c, &s3, &w3);
    CHECK(w1 != NULL && s1 == NULL);
    CHECK(w2 != NULL && w2 != w1);
    CHECK(s3 != NULL && w3 == NULL);
    fr_clients_close(&r);
}

int main(void) {
    RUN(same_store_same_client_until_credentials_change);
    RUN(url_or_platform_change_makes_a_new_client);
    TEST_EXIT();
}
