/* order-ingest as a process against the test stack: signed Shopify and
 * WooCommerce webhooks come out on shop.orders.v1 with every mapped field,
 * and recorded in PostgreSQL; bad signature 401, oversize 413, unknown store
 * 404, malformed JSON and a line without SKU to the dead-letter topic with
 * 200; duplicates (same webhook, same version, concurrent deliveries) give
 * one message; an update after picking started is not sent, a cancellation
 * is; a WooCommerce deletion goes out as cancelled; app/uninstalled disables
 * the store; Kafka down answers 503; SIGTERM exits 0 without a sanitizer
 * report. Run through tests/run.py (stack env, WB_BUILD_DIR). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "testlib.h"
#include "wb/crypto.h"
#include "wb/kafka.h"
#include "wb/log.h"
#include "wb/pg.h"
#include "wb/proto.h"
#include "wb/runloop.h"
#include "wb/shopclient.h"
#include "wb/store.h"

#define MASTER_KEY "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define SHOP_SECRET "shpss_e2e_secret"
#define WOO_SECRET "woo e2e webhook secret"

static char shop_id[64], woo_id[64], rwoo_id[64], rshop_id[64], run_tag[32];
static wb_pg *pg;
static wb_consumer *consumer;

/* ------------------------------------------------------------ the service */

typedef struct service {
    pid_t pid;
    int port;
    char log_path[256];
} service;

static service svc, dead_kafka_svc, repair_svc;
static const char *public_url; /* WB_ORDER_PUBLIC_URL of the next service started, or NULL */

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return strdup("");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = 0;
    fclose(f);
    return s;
}

static int start_service(service *s, const char *brokers, const char *name) {
    snprintf(s->log_path, sizeof s->log_path, "/tmp/oi-e2e-%s-%d.log", name, (int)getpid());
    char bin[512];
    snprintf(bin, sizeof bin, "%s/bin/order-ingest", wb_test_env("WB_BUILD_DIR"));
    s->pid = fork();
    if (s->pid == 0) {
        int fd = open(s->log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, 1);
        dup2(fd, 2);
        setenv("WB_PG_DSN", getenv("WB_TEST_PG_DSN"), 1);
        setenv("WB_KAFKA_BROKERS", brokers, 1);
        setenv("WB_HTTP_PORT", "0", 1);
        setenv("WB_HTTP_BIND", "127.0.0.1", 1);
        setenv("WB_HTTP_MAX_BODY", "65536", 1);
        setenv("WB_MASTER_KEY", MASTER_KEY, 1);
        setenv("WB_LOG_LEVEL", "info", 1);
        setenv("WB_ORDER_KAFKA_TIMEOUT_MS", "3000", 1);
        setenv("WB_ORDER_RECONCILE_MS", "0", 1);
        /* The tests change a store's rules and send at once: no 5 s cache. */
        setenv("WB_ORDER_STORE_CACHE_MS", "0", 1);
        setenv("WB_SHUTDOWN_TIMEOUT_MS", "5000", 1);
        if (public_url) setenv("WB_ORDER_PUBLIC_URL", public_url, 1);
        execl(bin, bin, (char *)NULL);
        _exit(127);
    }
    int64_t deadline = wb_monotonic_ms() + 60000;
    while (wb_monotonic_ms() < deadline) {
        char *log = read_file(s->log_path);
        char *at = strstr(log, "http server listening on 127.0.0.1:");
        bool started = strstr(log, "order-ingest started") != NULL;
        if (at) s->port = atoi(at + strlen("http server listening on 127.0.0.1:"));
        free(log);
        if (s->port && started) return 0;
        int st;
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
            s->pid = 0;
            return -1;
        }
        usleep(50000);
    }
    return -1;
}

/* SIGTERM; returns the exit status, or -1. */
static int stop_service(service *s) {
    if (!s->pid) return -1;
    kill(s->pid, SIGTERM);
    int st = 0;
    waitpid(s->pid, &st, 0);
    s->pid = 0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ------------------------------------------------------------------- HTTP */

typedef struct reply {
    int status;
    char body[4096];
} reply;

/* A request over a plain socket, HTTP/1.1 with Connection: close; the whole
 * response (malloc'd), or NULL. headers is a NULL-terminated list of
 * "Name: value". */
static char *request_raw(const char *method, int port, const char *path, const char *const *headers,
                         const char *body, size_t len) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return NULL;
    }
    char *head;
    size_t hlen;
    FILE *h = open_memstream(&head, &hlen);
    fprintf(h, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: %zu\r\n",
            method, path, len);
    for (int i = 0; headers && headers[i]; i++) fprintf(h, "%s\r\n", headers[i]);
    fprintf(h, "\r\n");
    fclose(h);
    ssize_t w = write(fd, head, hlen);
    free(head);
    for (size_t off = 0; w >= 0 && off < len; off += (size_t)w) w = write(fd, body + off, len - off);
    char *resp = NULL;
    size_t rlen = 0;
    FILE *r = open_memstream(&resp, &rlen);
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) fwrite(buf, 1, (size_t)n, r);
    fclose(r);
    close(fd);
    if (rlen < 12) {
        free(resp);
        return NULL;
    }
    return resp;
}

static int request(const char *method, int port, const char *path, const char *const *headers,
                   const char *body, size_t len, reply *out) {
    memset(out, 0, sizeof *out);
    char *resp = request_raw(method, port, path, headers, body, len);
    if (!resp) return -1;
    out->status = atoi(resp + 9);
    char *b = strstr(resp, "\r\n\r\n");
    if (b) snprintf(out->body, sizeof out->body, "%s", b + 4);
    free(resp);
    return 0;
}

/* The value of one series of the service's /metrics ("name{labels}"), 0
 * when absent, -1 when /metrics does not answer. */
static double metric(int port, const char *series) {
    char *resp = request_raw("GET", port, "/metrics", NULL, "", 0);
    if (!resp) return -1;
    double v = 0;
    size_t n = strlen(series);
    for (char *line = strstr(resp, "\r\n\r\n"); line; line = strchr(line + 1, '\n')) {
        if (strncmp(line + 1, series, n) == 0 && line[1 + n] == ' ') {
            v = atof(line + 1 + n + 1);
            break;
        }
    }
    free(resp);
    return v;
}

static int post(int port, const char *path, const char *const *headers, const char *body,
                size_t len, reply *out) {
    return request("POST", port, path, headers, body, len, out);
}

static void sign(const char *secret, const char *body, size_t len, char out[64]) {
    unsigned char mac[WB_SHA256_LEN];
    wb_hmac_sha256(secret, strlen(secret), body, len, mac);
    wb_base64_encode(mac, sizeof mac, out, 64);
}

static int shopify_post(service *s, const char *topic, const char *webhook_id, const char *body,
                        const char *secret, reply *out) {
    char sig[64], path[128], h_sig[128], h_topic[96], h_id[128], h_domain[128];
    sign(secret, body, strlen(body), sig);
    snprintf(path, sizeof path, "/webhooks/shopify/%s", shop_id);
    snprintf(h_sig, sizeof h_sig, "X-Shopify-Hmac-Sha256: %s", sig);
    snprintf(h_topic, sizeof h_topic, "X-Shopify-Topic: %s", topic);
    snprintf(h_id, sizeof h_id, "X-Shopify-Webhook-Id: %s", webhook_id);
    snprintf(h_domain, sizeof h_domain, "X-Shopify-Shop-Domain: %s.myshopify.com", shop_id);
    const char *headers[] = {"Content-Type: application/json", h_sig, h_topic, h_id, h_domain, NULL};
    return post(s->port, path, headers, body, strlen(body), out);
}

static int woo_post(service *s, const char *topic, const char *body, const char *secret, reply *out) {
    char sig[64], path[128], h_sig[128], h_topic[96];
    sign(secret, body, strlen(body), sig);
    snprintf(path, sizeof path, "/webhooks/woocommerce/%s", woo_id);
    snprintf(h_sig, sizeof h_sig, "X-WC-Webhook-Signature: %s", sig);
    snprintf(h_topic, sizeof h_topic, "X-WC-Webhook-Topic: %s", topic);
    const char *headers[] = {"Content-Type: application/json", h_sig, h_topic,
                             "X-WC-Webhook-Source: https://woo.example/", NULL};
    return post(s->port, path, headers, body, strlen(body), out);
}

/* ----------------------------------------------------------------- bodies */

/* A Shopify REST order; sku2 NULL makes the second line a gift card without SKU. */
static char *shopify_order(long long id, const char *updated_at, const char *cancelled_at,
                           const char *sku2) {
    char *s;
    char line2[512];
    if (sku2)
        snprintf(line2, sizeof line2,
                 "{\"id\":%lld2,\"name\":\"Inner tube 700c\",\"sku\":\"%s\",\"quantity\":10,"
                 "\"current_quantity\":10,\"price\":\"89.00\",\"total_discount\":\"0.00\","
                 "\"discount_allocations\":[{\"amount\":\"89.00\"}],\"tax_lines\":[]}", id, sku2);
    else
        snprintf(line2, sizeof line2,
                 "{\"id\":123,\"name\":\"Gift card\",\"sku\":null,\"quantity\":1,\"price\":\"25.00\","
                 "\"gift_card\":true,\"tax_lines\":[]}");
    int n = asprintf(&s,
        "{\"id\":%lld,\"admin_graphql_api_id\":\"gid://shopify/Order/%lld\",\"name\":\"#%lld\","
        "\"order_number\":%lld,\"email\":\"anna@cykelverkstan.se\",\"phone\":null,"
        "\"created_at\":\"2026-11-20T14:03:11+01:00\",\"updated_at\":\"%s\",\"cancelled_at\":%s%s%s,"
        "\"currency\":\"SEK\",\"financial_status\":\"paid\",\"fulfillment_status\":null,"
        "\"taxes_included\":true,\"note\":\"Gate 3, please\","
        "\"customer\":{\"email\":\"anna@cykelverkstan.se\",\"first_name\":\"Anna\",\"last_name\":\"Lind\"},"
        "\"billing_address\":{\"first_name\":\"Ekonomi\",\"last_name\":null,\"company\":\"Cykelverkstan Lind AB\","
        "\"address1\":\"Box 4455\",\"city\":\"Malmö\",\"zip\":\"203 15\",\"country_code\":\"SE\"},"
        "\"shipping_address\":{\"first_name\":\"Anna\",\"last_name\":\"Lind\",\"company\":\"Cykelverkstan Lind AB\","
        "\"address1\":\"Industrigatan 12\",\"address2\":\"Port 3\",\"city\":\"Malmö\",\"zip\":\"211 19\","
        "\"country_code\":\"SE\",\"phone\":\"+46701234567\"},"
        "\"shipping_lines\":[{\"id\":1,\"code\":\"pn-home\",\"title\":\"PostNord MyPack Home\",\"price\":\"99.00\"}],"
        "\"line_items\":[{\"id\":%lld1,\"name\":\"Road tyre 700x28 - Black\",\"sku\":\"TYRE-%s\","
        "\"quantity\":4,\"current_quantity\":4,\"price\":\"449.00\",\"total_discount\":\"0.00\","
        "\"discount_allocations\":[],\"tax_lines\":[]},%s]}",
        id, id, id, id, updated_at, cancelled_at ? "\"" : "", cancelled_at ? cancelled_at : "null",
        cancelled_at ? "\"" : "", id, run_tag, line2);
    return n < 0 ? NULL : s;
}

static char *woo_order(long long id, const char *status, const char *modified_gmt) {
    char *s;
    int n = asprintf(&s,
        "{\"id\":%lld,\"parent_id\":0,\"number\":\"%lld\",\"status\":\"%s\",\"currency\":\"EUR\","
        "\"date_created\":\"2026-11-21T12:00:00\",\"date_created_gmt\":\"2026-11-21T11:00:00\","
        "\"date_modified\":\"2026-11-21T12:00:01\",\"date_modified_gmt\":\"%s\",\"customer_id\":0,"
        "\"billing\":{\"first_name\":\"Lea\",\"last_name\":\"Vogel\",\"company\":\"\",\"address_1\":\"Am Markt 1\","
        "\"address_2\":\"\",\"city\":\"Leipzig\",\"state\":\"\",\"postcode\":\"04109\",\"country\":\"DE\","
        "\"email\":\"lea@example.de\",\"phone\":\"+4915112345678\"},"
        "\"shipping\":{\"first_name\":\"Lea\",\"last_name\":\"Vogel\",\"company\":\"\",\"address_1\":\"Ringstr. 4\","
        "\"address_2\":\"\",\"city\":\"Halle\",\"state\":\"\",\"postcode\":\"06108\",\"country\":\"DE\",\"phone\":\"\"},"
        "\"customer_note\":\"\",\"payment_method\":\"bacs\","
        "\"line_items\":[{\"id\":%lld1,\"name\":\"Matcha 30 g\",\"product_id\":93,\"variation_id\":0,"
        "\"quantity\":3,\"subtotal\":\"74.70\",\"subtotal_tax\":\"0.00\",\"total\":\"74.70\",\"total_tax\":\"14.19\","
        "\"sku\":\"TEA-%s\",\"price\":24.9}],"
        "\"shipping_lines\":[{\"id\":9,\"method_title\":\"Flat rate\",\"method_id\":\"flat_rate\","
        "\"instance_id\":\"1\",\"total\":\"4.90\"}],\"fee_lines\":[],\"coupon_lines\":[],\"refunds\":[]}",
        id, id, status, modified_gmt, id, run_tag);
    return n < 0 ? NULL : s;
}

/* --------------------------------------------------------------- messages */

typedef struct seen_msg {
    char *topic, *key, *value;
} seen_msg;

static seen_msg seen[20000];
static int n_seen;

static void drain(int ms) {
    int64_t until = wb_monotonic_ms() + ms;
    while (wb_monotonic_ms() < until && n_seen < (int)(sizeof seen / sizeof *seen)) {
        rd_kafka_message_t *m = wb_consumer_poll(consumer, 100);
        if (!m) continue;
        const char *topic = rd_kafka_topic_name(m->rkt);
        bool ours = false;
        const char *stores[] = {shop_id, woo_id, rwoo_id, rshop_id};
        for (int s = 0; s < 4 && m->key && m->key_len; s++) {
            size_t n = strlen(stores[s]);
            if (n && m->key_len > n && memcmp(m->key, stores[s], n) == 0 && ((char *)m->key)[n] == '/')
                ours = true;
        }
        if (!ours && m->payload && strcmp(topic, WB_TOPIC_DEADLETTER) == 0) {
            char *v = strndup(m->payload, m->len);
            ours = strstr(v, shop_id) || strstr(v, woo_id) || (*rshop_id && strstr(v, rshop_id));
            free(v);
        }
        if (ours) {
            seen[n_seen].topic = strdup(topic);
            seen[n_seen].key = m->key ? strndup(m->key, m->key_len) : NULL;
            seen[n_seen].value = strndup(m->payload, m->len);
            n_seen++;
        }
        rd_kafka_message_destroy(m);
    }
}

/* The index of the first order message with this key, type and version
 * (version 0: any), waiting for it up to 60 s; -1 when it never came. */
static int wait_order(const char *key, const char *type, int64_t version) {
    int64_t deadline = wb_monotonic_ms() + 60000;
    int from = 0;
    for (;;) {
        for (int i = from; i < n_seen; i++) {
            if (strcmp(seen[i].topic, WB_TOPIC_ORDERS) || !seen[i].key || strcmp(seen[i].key, key))
                continue;
            cJSON *doc = cJSON_Parse(seen[i].value);
            const char *t = cJSON_GetStringValue(cJSON_GetObjectItem(doc, "type"));
            double v = cJSON_GetNumberValue(cJSON_GetObjectItem(doc, "version"));
            bool match = t && strcmp(t, type) == 0 && (version == 0 || (int64_t)v == version);
            cJSON_Delete(doc);
            if (match) return i;
        }
        from = n_seen;
        if (wb_monotonic_ms() > deadline) return -1;
        drain(200);
    }
}

static int count_orders(const char *key, const char *type) {
    int n = 0;
    for (int i = 0; i < n_seen; i++) {
        if (strcmp(seen[i].topic, WB_TOPIC_ORDERS) || !seen[i].key || strcmp(seen[i].key, key)) continue;
        cJSON *doc = cJSON_Parse(seen[i].value);
        const char *t = cJSON_GetStringValue(cJSON_GetObjectItem(doc, "type"));
        if (t && strcmp(t, type) == 0) n++;
        cJSON_Delete(doc);
    }
    return n;
}

/* The first dead letter whose JSON contains needle, waiting up to 60 s. */
static cJSON *wait_dead_letter(const char *needle) {
    int64_t deadline = wb_monotonic_ms() + 60000;
    int from = 0;
    for (;;) {
        for (int i = from; i < n_seen; i++)
            if (!strcmp(seen[i].topic, WB_TOPIC_DEADLETTER) && strstr(seen[i].value, needle))
                return cJSON_Parse(seen[i].value);
        from = n_seen;
        if (wb_monotonic_ms() > deadline) return NULL;
        drain(200);
    }
}

static char *db_value(const char *sql, const char *a, const char *b) {
    const char *p[] = {a, b};
    PGresult *r = wb_pg_query(pg, sql, b ? 2 : 1, p);
    char *v = r && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0) ? strdup(PQgetvalue(r, 0, 0)) : NULL;
    PQclear(r);
    return v;
}

/* ------------------------------------------------------------------ tests */

TEST(setup) {
    char err[512];
    snprintf(run_tag, sizeof run_tag, "%d%03d", (int)getpid(), (int)(wb_wall_ms() % 1000));
    snprintf(shop_id, sizeof shop_id, "oi-shop-%s", run_tag);
    snprintf(woo_id, sizeof woo_id, "oi-woo-%s", run_tag);
    const char *brokers = wb_test_env("WB_KAFKA_BROKERS");
    CHECK(wb_kafka_ensure_topics(brokers, wb_bridge_topics, wb_bridge_topic_count, 30000, err,
                                 sizeof err) == 0);
    pg = wb_pg_connect(wb_test_env("WB_TEST_PG_DSN"), err, sizeof err);
    if (!pg) FAILF("postgresql: %s", err);
    if (wb_pg_migrate(pg, wb_migrations, wb_migration_count, err, sizeof err) < 0) FAILF("%s", err);
    unsigned char key[32];
    CHECK(wb_master_key_parse(MASTER_KEY, key) == 0);
    char url[128];
    snprintf(url, sizeof url, "https://%s.myshopify.com", shop_id);
    if (wb_store_add(pg, key, shop_id, "owner-e2e", "shopify", url,
                     "{\"access_token\":\"shpat_e2e\",\"api_secret\":\"" SHOP_SECRET "\"}", err,
                     sizeof err) != 0)
        FAILF("store add: %s", err);
    if (wb_store_add(pg, key, woo_id, "owner-e2e", "woocommerce", "https://woo.example",
                     "{\"consumer_key\":\"ck_e2e\",\"consumer_secret\":\"cs_e2e\","
                     "\"webhook_secret\":\"" WOO_SECRET "\"}", err, sizeof err) != 0)
        FAILF("store add: %s", err);
    char group[128];
    snprintf(group, sizeof group, "wbtest.oi-e2e.%s", run_tag);
    const char *topics[] = {WB_TOPIC_ORDERS, WB_TOPIC_DEADLETTER};
    consumer = wb_consumer_new(brokers, group, topics, 2, NULL, err, sizeof err);
    if (!consumer) FAILF("consumer: %s", err);
    if (start_service(&svc, brokers, "main") != 0) {
        char *log = read_file(svc.log_path);
        FAILF("service did not start: %.400s", log);
    }
}

TEST(shopify_order_on_topic_with_every_field) {
    long long id = 5734523158000LL + getpid() % 1000;
    char *body = shopify_order(id, "2026-11-20T14:03:12+01:00", NULL, "TUBE-1");
    reply r;
    CHECK(shopify_post(&svc, "orders/create", "wh-create-1", body, SHOP_SECRET, &r) == 0);
    free(body);
    CHECK_INT(r.status, 200);
    CHECK_CONTAINS(r.body, "\"status\":\"created\"");
    char key[128], oid[32];
    snprintf(oid, sizeof oid, "%lld", id);
    snprintf(key, sizeof key, "%s/%s", shop_id, oid);
    int i = wait_order(key, "created", 1795179792000LL);
    CHECK(i >= 0);
    wb_order_msg m;
    char err[256];
    if (wb_order_msg_decode(seen[i].value, strlen(seen[i].value), &m, err, sizeof err) != 0)
        FAILF("decode: %s", err);
    char want_event[65], tyre[64];
    wb_order_event_id(shop_id, oid, 1795179792000LL, want_event);
    snprintf(tyre, sizeof tyre, "TYRE-%s", run_tag);
    bool ok = !strcmp(m.event_id, want_event) && !strcmp(m.store_id, shop_id) &&
              m.platform == WB_PLATFORM_SHOPIFY && !strcmp(m.order_id, oid) &&
              m.order_number[0] == '#' && !strcmp(m.created_at, "2026-11-20T14:03:11+01:00") &&
              !strcmp(m.currency, "SEK") && !strcmp(m.delivery_method.code, "pn-home") &&
              !strcmp(m.delivery_method.name, "PostNord MyPack Home") && !strcmp(m.remark, "Gate 3, please") &&
              !strcmp(m.customer.name, "Cykelverkstan Lind AB") && !strcmp(m.customer.contact, "Anna Lind") &&
              !strcmp(m.customer.address1, "Industrigatan 12") && !strcmp(m.customer.address2, "Port 3") &&
              !strcmp(m.customer.postcode, "211 19") && !strcmp(m.customer.city, "Malmö") &&
              !strcmp(m.customer.country_code, "SE") && !strcmp(m.customer.email, "anna@cykelverkstan.se") &&
              !strcmp(m.customer.phone, "+46701234567") && !strcmp(m.invoice.name, "Cykelverkstan Lind AB") &&
              !strcmp(m.invoice.contact, "Ekonomi") && !strcmp(m.invoice.address1, "Box 4455") &&
              m.notification.by_email && !strcmp(m.notification.email, "anna@cykelverkstan.se") &&
              m.notification.by_sms && !strcmp(m.notification.mobile, "+46701234567") && m.n_lines == 2 &&
              !strcmp(m.lines[0].sku, tyre) && m.lines[0].quantity == 4 &&
              !strcmp(m.lines[0].unit_price, "449.00") && !strcmp(m.lines[0].line_total, "1796.00") &&
              !strcmp(m.lines[1].sku, "TUBE-1") && m.lines[1].quantity == 10 &&
              !strcmp(m.lines[1].unit_price, "89.00") && !strcmp(m.lines[1].line_total, "801.00");
    wb_order_msg_free(&m);
    if (!ok) FAILF("fields differ: %.900s", seen[i].value);
    char *state = db_value("SELECT state || ' ' || version || ' ' || open_quantities::text FROM ingested_orders "
                           "WHERE store_id = $1 AND shop_order_id = $2", shop_id, oid);
    char want[160];
    snprintf(want, sizeof want, "sent 1795179792000 {\"TUBE-1\": 10, \"TYRE-%s\": 4}", run_tag);
    bool row_ok = state && strcmp(state, want) == 0;
    char got[200];
    snprintf(got, sizeof got, "%s", state ? state : "(none)");
    free(state);
    if (!row_ok) FAILF("ingested_orders row is %s, expected %s", got, want);
}

TEST(shopify_routed_by_shop_domain) {
    long long id = 6734523158000LL + getpid() % 1000;
    char *body = shopify_order(id, "2026-11-20T15:00:00Z", NULL, "TUBE-1");
    char sig[64], h_sig[128], h_domain[128];
    sign(SHOP_SECRET, body, strlen(body), sig);
    snprintf(h_sig, sizeof h_sig, "X-Shopify-Hmac-Sha256: %s", sig);
    snprintf(h_domain, sizeof h_domain, "X-Shopify-Shop-Domain: %s.myshopify.com", shop_id);
    const char *headers[] = {h_sig, "X-Shopify-Topic: orders/create", h_domain,
                             "X-Shopify-Webhook-Id: wh-domain-1", NULL};
    reply r;
    CHECK(post(svc.port, "/webhooks/shopify", headers, body, strlen(body), &r) == 0);
    CHECK_INT(r.status, 200);
    /* a domain that is not the store's */
    const char *wrong[] = {h_sig, "X-Shopify-Topic: orders/create", "X-Shopify-Shop-Domain: other.myshopify.com", NULL};
    char path[128];
    snprintf(path, sizeof path, "/webhooks/shopify/%s", shop_id);
    CHECK(post(svc.port, path, wrong, body, strlen(body), &r) == 0);
    free(body);
    CHECK_INT(r.status, 404);
    char key[128];
    snprintf(key, sizeof key, "%s/%lld", shop_id, id);
    CHECK(wait_order(key, "created", 0) >= 0);
}

TEST(woocommerce_order_on_topic_with_every_field) {
    long long id = 4000 + getpid() % 1000;
    char *body = woo_order(id, "processing", "2026-11-21T11:00:01");
    reply r;
    CHECK(woo_post(&svc, "order.created", body, WOO_SECRET, &r) == 0);
    free(body);
    CHECK_INT(r.status, 200);
    char key[128], oid[32];
    snprintf(oid, sizeof oid, "%lld", id);
    snprintf(key, sizeof key, "%s/%s", woo_id, oid);
    int i = wait_order(key, "created", 1795258801000LL);
    CHECK(i >= 0);
    wb_order_msg m;
    char err[256], tea[64];
    if (wb_order_msg_decode(seen[i].value, strlen(seen[i].value), &m, err, sizeof err) != 0)
        FAILF("decode: %s", err);
    snprintf(tea, sizeof tea, "TEA-%s", run_tag);
    char line_id[40];
    snprintf(line_id, sizeof line_id, "%lld1", id);
    bool ok = m.platform == WB_PLATFORM_WOOCOMMERCE && !strcmp(m.order_id, oid) &&
              !strcmp(m.order_number, oid) && !strcmp(m.created_at, "2026-11-21T11:00:00Z") &&
              !strcmp(m.currency, "EUR") && !strcmp(m.delivery_method.code, "flat_rate") &&
              !strcmp(m.delivery_method.name, "Flat rate") && m.remark == NULL &&
              !strcmp(m.customer.name, "Lea Vogel") && m.customer.contact == NULL &&
              !strcmp(m.customer.address1, "Ringstr. 4") && !strcmp(m.customer.city, "Halle") &&
              !strcmp(m.customer.postcode, "06108") && !strcmp(m.customer.country_code, "DE") &&
              !strcmp(m.customer.email, "lea@example.de") && !strcmp(m.customer.phone, "+4915112345678") &&
              !strcmp(m.invoice.address1, "Am Markt 1") && !strcmp(m.invoice.email, "lea@example.de") &&
              !strcmp(m.notification.mobile, "+4915112345678") && m.n_lines == 1 &&
              !strcmp(m.lines[0].line_id, line_id) && !strcmp(m.lines[0].sku, tea) &&
              !strcmp(m.lines[0].name, "Matcha 30 g") && m.lines[0].quantity == 3 &&
              !strcmp(m.lines[0].unit_price, "24.90") && !strcmp(m.lines[0].line_total, "88.89");
    wb_order_msg_free(&m);
    if (!ok) FAILF("fields differ: %.900s", seen[i].value);
}

TEST(bad_or_missing_signature_401) {
    char *body = shopify_order(1, "2026-11-20T14:03:12+01:00", NULL, "X");
    reply r;
    CHECK(shopify_post(&svc, "orders/create", "wh-bad", body, "not the secret", &r) == 0);
    CHECK_INT(r.status, 401);
    char path[128];
    snprintf(path, sizeof path, "/webhooks/shopify/%s", shop_id);
    const char *nosig[] = {"X-Shopify-Topic: orders/create", NULL};
    CHECK(post(svc.port, path, nosig, body, strlen(body), &r) == 0);
    free(body);
    CHECK_INT(r.status, 401);
    char *wbody = woo_order(2, "processing", "2026-11-21T11:00:01");
    CHECK(woo_post(&svc, "order.created", wbody, SHOP_SECRET, &r) == 0);
    free(wbody);
    CHECK_INT(r.status, 401);
    /* a ping with a wrong signature is refused too */
    CHECK(woo_post(&svc, "", "webhook_id=12", "wrong", &r) == 0);
    CHECK_INT(r.status, 401);
}

TEST(oversize_413) {
    size_t len = 70000;
    char *body = malloc(len + 1);
    memset(body, ' ', len);
    body[0] = '{';
    body[len - 1] = '}';
    body[len] = 0;
    reply r;
    CHECK(shopify_post(&svc, "orders/create", "wh-big", body, SHOP_SECRET, &r) == 0);
    free(body);
    CHECK_INT(r.status, 413);
}

TEST(unknown_store_404) {
    reply r;
    const char *h[] = {"X-Shopify-Topic: orders/create", "X-Shopify-Hmac-Sha256: AAAA", NULL};
    CHECK(post(svc.port, "/webhooks/shopify/no-such-store", h, "{}", 2, &r) == 0);
    CHECK_INT(r.status, 404);
    CHECK(post(svc.port, "/webhooks/woocommerce/no-such-store", h, "{}", 2, &r) == 0);
    CHECK_INT(r.status, 404);
    char path[128];
    snprintf(path, sizeof path, "/webhooks/woocommerce/%s", shop_id); /* a Shopify store */
    CHECK(post(svc.port, path, h, "{}", 2, &r) == 0);
    CHECK_INT(r.status, 404);
}

TEST(woocommerce_ping_200) {
    char path[128];
    snprintf(path, sizeof path, "/webhooks/woocommerce/%s", woo_id);
    const char *h[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    reply r;
    CHECK(post(svc.port, path, h, "webhook_id=42", 13, &r) == 0);
    CHECK_INT(r.status, 200);
    CHECK(woo_post(&svc, "", "webhook_id=43", WOO_SECRET, &r) == 0);
    CHECK_INT(r.status, 200);
}

TEST(malformed_json_dead_letter_200) {
    const char *body = "{\"id\": 1, \"line_items\": [ oops";
    reply r;
    CHECK(shopify_post(&svc, "orders/create", "wh-malformed", body, SHOP_SECRET, &r) == 0);
    CHECK_INT(r.status, 200);
    CHECK_CONTAINS(r.body, "dead_letter");
    char path[128];
    snprintf(path, sizeof path, "\"path\":\"/webhooks/shopify/%s\"", shop_id);
    cJSON *dl = wait_dead_letter(path);
    CHECK(dl != NULL);
    const char *reason = cJSON_GetStringValue(cJSON_GetObjectItem(dl, "reason"));
    const char *kind = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(dl, "source"), "kind"));
    const char *store = cJSON_GetStringValue(cJSON_GetObjectItem(dl, "store_id"));
    const char *orig = cJSON_GetStringValue(cJSON_GetObjectItem(dl, "original_base64"));
    bool ok = reason && strstr(reason, "malformed JSON") && kind && !strcmp(kind, "webhook") &&
              store && !strcmp(store, shop_id) && orig;
    unsigned char raw[256];
    size_t raw_len = 0;
    if (ok) ok = wb_base64_decode(orig, strlen(orig), raw, sizeof raw, &raw_len) == 0 &&
                 raw_len == strlen(body) && memcmp(raw, body, raw_len) == 0;
    cJSON_Delete(dl);
    CHECK(ok);
}

TEST(line_without_sku_dead_letter_with_reason) {
    long long id = 7734523158000LL + getpid() % 1000;
    char *body = shopify_order(id, "2026-11-20T14:03:12+01:00", NULL, NULL);
    reply r;
    CHECK(shopify_post(&svc, "orders/create", "wh-nosku", body, SHOP_SECRET, &r) == 0);
    free(body);
    CHECK_INT(r.status, 200);
    char needle[256];
    snprintf(needle, sizeof needle, "order %lld: lines[1]: no sku (line 123 \\\"Gift card\\\")", id);
    cJSON *dl = wait_dead_letter(needle);
    if (!dl) FAILF("no dead letter with %s", needle);
    char key[128];
    snprintf(key, sizeof key, "%s/%lld", shop_id, id);
    const char *k = cJSON_GetStringValue(cJSON_GetObjectItem(dl, "key"));
    bool ok = k && !strcmp(k, key);
    cJSON_Delete(dl);
    CHECK(ok);
    CHECK_INT(count_orders(key, "created"), 0);
}

typedef struct racer {
    const char *body;
    char webhook_id[32];
    int status;
} racer;

static void *race(void *arg) {
    racer *x = arg;
    reply r;
    x->status = shopify_post(&svc, "orders/updated", x->webhook_id, x->body, SHOP_SECRET, &r) == 0 ? r.status : -1;
    return NULL;
}

TEST(duplicates_give_one_message) {
    long long id = 8734523158000LL + getpid() % 1000;
    char key[128];
    snprintf(key, sizeof key, "%s/%lld", shop_id, id);
    char *v1 = shopify_order(id, "2026-11-20T14:03:12+01:00", NULL, "TUBE-1");
    reply r;
    /* the same webhook twice */
    CHECK(shopify_post(&svc, "orders/create", "wh-dup-1", v1, SHOP_SECRET, &r) == 0);
    CHECK_INT(r.status, 200);
    CHECK(shopify_post(&svc, "orders/create", "wh-dup-1", v1, SHOP_SECRET, &r) == 0);
    CHECK_INT(r.status, 200);
    CHECK_CONTAINS(r.body, "duplicate");
    /* the same version under another webhook id */
    CHECK(shopify_post(&svc, "orders/updated", "wh-dup-2", v1, SHOP_SECRET, &r) == 0);
    CHECK_CONTAINS(r.body, "duplicate");
    free(v1);
    /* eight concurrent deliveries of one new version */
    char *v2 = shopify_order(id, "2026-11-20T14:10:00+01:00", NULL, "TUBE-1");
    racer racers[8];
    pthread_t th[8];
    for (int i = 0; i < 8; i++) {
        racers[i].body = v2;
        snprintf(racers[i].webhook_id, sizeof racers[i].webhook_id, "wh-race-%d", i);
        pthread_create(&th[i], NULL, race, &racers[i]);
    }
    for (int i = 0; i < 8; i++) pthread_join(th[i], NULL);
    free(v2);
    for (int i = 0; i < 8; i++) CHECK_INT(racers[i].status, 200);
    /* A later version on the same key marks the end: everything before it
     * on this key's partition has been read once it is seen. */
    char *v3 = shopify_order(id, "2026-11-20T14:20:00+01:00", NULL, "TUBE-1");
    CHECK(shopify_post(&svc, "orders/updated", "wh-dup-3", v3, SHOP_SECRET, &r) == 0);
    free(v3);
    CHECK(wait_order(key, "updated", 1795180800000LL) >= 0);
    CHECK_INT(count_orders(key, "created"), 1);
    CHECK_INT(count_orders(key, "updated"), 2); /* 14:10 once, 14:20 once */
    /* WooCommerce: the same order version twice */
    long long wid = 5000 + getpid() % 1000;
    char wkey[128];
    snprintf(wkey, sizeof wkey, "%s/%lld", woo_id, wid);
    char *w1 = woo_order(wid, "processing", "2026-11-21T11:00:01");
    CHECK(woo_post(&svc, "order.created", w1, WOO_SECRET, &r) == 0);
    CHECK(woo_post(&svc, "order.updated", w1, WOO_SECRET, &r) == 0);
    free(w1);
    CHECK_CONTAINS(r.body, "duplicate");
    char *w2 = woo_order(wid, "processing", "2026-11-21T11:05:00");
    CHECK(woo_post(&svc, "order.updated", w2, WOO_SECRET, &r) == 0);
    free(w2);
    CHECK(wait_order(wkey, "updated", 1795259100000LL) >= 0);
    CHECK_INT(count_orders(wkey, "created"), 1);
}

TEST(update_after_picking_not_sent_cancellation_sent) {
    long long id = 9734523158000LL + getpid() % 1000;
    char key[128], oid[32];
    snprintf(oid, sizeof oid, "%lld", id);
    snprintf(key, sizeof key, "%s/%s", shop_id, oid);
    char *v1 = shopify_order(id, "2026-11-20T14:03:12+01:00", NULL, "TUBE-1");
    reply r;
    CHECK(shopify_post(&svc, "orders/create", "wh-pick-1", v1, SHOP_SECRET, &r) == 0);
    free(v1);
    CHECK_INT(r.status, 200);
    /* what the fulfilment-reporter records for picking_started */
    const char *p[] = {shop_id, oid};
    CHECK(wb_pg_exec(pg, "UPDATE ingested_orders SET state = 'picking' WHERE store_id = $1 "
                         "AND shop_order_id = $2", 2, p) == 0);
    char *v2 = shopify_order(id, "2026-11-20T14:30:00+01:00", NULL, "TUBE-2");
    CHECK(shopify_post(&svc, "orders/updated", "wh-pick-2", v2, SHOP_SECRET, &r) == 0);
    free(v2);
    CHECK_INT(r.status, 200);
    CHECK_CONTAINS(r.body, "suppressed_picking");
    /* The same change found again (the reconciler's next pass, or another
     * delivery): still not sent, but counted and warned about only once. */
    char series[160];
    snprintf(series, sizeof series, "wb_order_updates_suppressed_total{store=\"%s\"}", shop_id);
    double suppressed = metric(svc.port, series);
    CHECK(suppressed >= 1);
    v2 = shopify_order(id, "2026-11-20T14:30:00+01:00", NULL, "TUBE-2");
    CHECK(shopify_post(&svc, "orders/updated", "wh-pick-2-again", v2, SHOP_SECRET, &r) == 0);
    free(v2);
    CHECK_CONTAINS(r.body, "suppressed_picking");
    CHECK(metric(svc.port, series) == suppressed);
    char *v3 = shopify_order(id, "2026-11-20T14:40:00+01:00", "2026-11-20T14:40:00+01:00", "TUBE-1");
    CHECK(shopify_post(&svc, "orders/cancelled", "wh-pick-3", v3, SHOP_SECRET, &r) == 0);
    free(v3);
    CHECK_INT(r.status, 200);
    CHECK(wait_order(key, "cancelled", 1795182000000LL) >= 0);
    CHECK_INT(count_orders(key, "created"), 1);
    CHECK_INT(count_orders(key, "updated"), 0);
    char *state = db_value("SELECT state || ' ' || open_quantities::text FROM ingested_orders "
                           "WHERE store_id = $1 AND shop_order_id = $2", shop_id, oid);
    bool ok = state && !strcmp(state, "cancelled {}");
    free(state);
    CHECK(ok);
}

/* shopify_order() after a return of everything: every line's
 * current_quantity 0, as Shopify shows it (in place: "10" -> "0 "). */
static char *shopify_order_returned(long long id, const char *updated_at, const char *cancelled_at) {
    char *s = shopify_order(id, updated_at, cancelled_at, "TUBE-1");
    char *p;
    while ((p = strstr(s, "\"current_quantity\":4"))) p[19] = '0';
    while ((p = strstr(s, "\"current_quantity\":10"))) memcpy(p + 19, "0 ", 2);
    return s;
}

/* Chaos finding 5: an orders/updated after a return (no line left open) is
 * ignored like any change of a dispatched order, not dead-lettered; the same
 * change of an order the WMS has not started is a dead letter with the exact
 * reason, and a cancellation still goes out (with the lines as placed). */
TEST(shopify_update_after_return_ignored_cancel_sent) {
    long long id = 9834523158000LL + getpid() % 1000;
    char key[128], oid[32];
    snprintf(oid, sizeof oid, "%lld", id);
    snprintf(key, sizeof key, "%s/%s", shop_id, oid);
    char *v1 = shopify_order(id, "2026-11-20T14:03:12+01:00", NULL, "TUBE-1");
    reply r;
    CHECK(shopify_post(&svc, "orders/create", "wh-ret-1", v1, SHOP_SECRET, &r) == 0);
    free(v1);
    CHECK_CONTAINS(r.body, "\"status\":\"created\"");
    const char *p[] = {shop_id, oid};
    CHECK(wb_pg_exec(pg, "UPDATE ingested_orders SET state = 'dispatched' WHERE store_id = $1 "
                         "AND shop_order_id = $2", 2, p) == 0);
    char *v2 = shopify_order_returned(id, "2026-11-20T14:50:00+01:00", NULL);
    CHECK(shopify_post(&svc, "orders/updated", "wh-ret-2", v2, SHOP_SECRET, &r) == 0);
    free(v2);
    CHECK_INT(r.status, 200);
    CHECK_CONTAINS(r.body, "\"status\":\"suppressed_picking\"");
    /* The WMS has not started it: a change that leaves nothing to fulfil cannot go out. */
    CHECK(wb_pg_exec(pg, "UPDATE ingested_orders SET state = 'accepted' WHERE store_id = $1 "
                         "AND shop_order_id = $2", 2, p) == 0);
    char *v3 = shopify_order_returned(id, "2026-11-20T15:00:00+01:00", NULL);
    CHECK(shopify_post(&svc, "orders/updated", "wh-ret-3", v3, SHOP_SECRET, &r) == 0);
    free(v3);
    CHECK_INT(r.status, 200);
    CHECK_CONTAINS(r.body, "dead_letter");
    char needle[256];
    snprintf(needle, sizeof needle, "order %lld: lines: every line was refunded, returned or removed "
             "(current_quantity 0): nothing to fulfil, not sent as updated", id);
    cJSON *dl = wait_dead_letter(needle);
    if (!dl) FAILF("no dead letter with %s", needle);
    const char *k = cJSON_GetStringValue(cJSON_GetObjectItem(dl, "key"));
    bool ok = k && !strcmp(k, key);
    cJSON_Delete(dl);
    CHECK(ok);
    char *v4 = shopify_order_returned(id, "2026-11-20T15:10:00+01:00", "2026-11-20T15:10:00+01:00");
    CHECK(shopify_post(&svc, "orders/cancelled", "wh-ret-4", v4, SHOP_SECRET, &r) == 0);
    free(v4);
    CHECK_CONTAINS(r.body, "\"status\":\"cancelled\"");
    int i = wait_order(key, "cancelled", 1795183800000LL);
    CHECK(i >= 0);
    CHECK_CONTAINS(seen[i].value, "\"quantity\":10"); /* the lines as placed */
    CHECK_INT(count_orders(key, "updated"), 0);
}

TEST(woocommerce_filtered_then_deleted_goes_out_cancelled) {
    long long id = 6000 + getpid() % 1000;
    char key[128], oid[32];
    snprintf(oid, sizeof oid, "%lld", id);
    snprintf(key, sizeof key, "%s/%s", woo_id, oid);
    char *pending = woo_order(id, "pending", "2026-11-21T11:00:01");
    reply r;
    CHECK(woo_post(&svc, "order.created", pending, WOO_SECRET, &r) == 0);
    free(pending);
    CHECK_CONTAINS(r.body, "filtered");
    char *row = db_value("SELECT state FROM ingested_orders WHERE store_id = $1 AND shop_order_id = $2",
                         woo_id, oid);
    bool none = row == NULL;
    free(row);
    CHECK(none);
    char *processing = woo_order(id, "processing", "2026-11-21T11:02:00");
    CHECK(woo_post(&svc, "order.updated", processing, WOO_SECRET, &r) == 0);
    free(processing);
    CHECK_CONTAINS(r.body, "\"status\":\"created\"");
    char deleted[64];
    snprintf(deleted, sizeof deleted, "{\"id\":%lld}", id);
    CHECK(woo_post(&svc, "order.deleted", deleted, WOO_SECRET, &r) == 0);
    CHECK_INT(r.status, 200);
    CHECK_CONTAINS(r.body, "\"status\":\"cancelled\"");
    int i = wait_order(key, "cancelled", 0);
    CHECK(i >= 0);
    CHECK_CONTAINS(seen[i].value, "\"city\":\"Halle\""); /* the whole order, from the last message */
    row = db_value("SELECT state FROM ingested_orders WHERE store_id = $1 AND shop_order_id = $2", woo_id,
                   oid);
    CHECK(row && strcmp(row, "cancelled") == 0);
    free(row);
    CHECK(woo_post(&svc, "order.deleted", deleted, WOO_SECRET, &r) == 0);
    CHECK_CONTAINS(r.body, "already_cancelled");
    /* an order that never went out: nothing to cancel, and no row */
    char never[32], never_body[64];
    snprintf(never, sizeof never, "%lld", id + 500);
    snprintf(never_body, sizeof never_body, "{\"id\":%s}", never);
    CHECK(woo_post(&svc, "order.deleted", never_body, WOO_SECRET, &r) == 0);
    CHECK_INT(r.status, 200);
    CHECK_CONTAINS(r.body, "unknown_cancelled");
    row = db_value("SELECT state FROM ingested_orders WHERE store_id = $1 AND shop_order_id = $2", woo_id,
                   never);
    none = row == NULL;
    free(row);
    CHECK(none);
}

TEST(kafka_down_503) {
    if (start_service(&dead_kafka_svc, "127.0.0.1:1", "nokafka") != 0) {
        char *log = read_file(dead_kafka_svc.log_path);
        FAILF("service did not start: %.400s", log);
    }
    long long id = 3734523158000LL + getpid() % 1000;
    char *body = shopify_order(id, "2026-11-20T14:03:12+01:00", NULL, "TUBE-1");
    reply r;
    int rc = shopify_post(&dead_kafka_svc, "orders/create", "wh-nokafka", body, SHOP_SECRET, &r);
    free(body);
    int code = stop_service(&dead_kafka_svc);
    char *log = read_file(dead_kafka_svc.log_path);
    bool clean = !strstr(log, "Sanitizer") && !strstr(log, "runtime error");
    free(log);
    unlink(dead_kafka_svc.log_path);
    CHECK(rc == 0);
    CHECK_INT(r.status, 503);
    char oid[32];
    snprintf(oid, sizeof oid, "%lld", id);
    char *row = db_value("SELECT state FROM ingested_orders WHERE store_id = $1 AND shop_order_id = $2",
                         shop_id, oid);
    bool none = row == NULL;
    free(row);
    CHECK(none); /* nothing recorded without the ack */
    CHECK_INT(code, 0);
    CHECK(clean);
}


/* ------------------------------------------------------ with shopsim */

static pid_t sim_pid;
static int sim_port;
static char sim_log[256];

static int start_shopsim(void) {
    char bin[512];
    const char *env = getenv("WB_SHOPSIM_BIN");
    if (env && *env) snprintf(bin, sizeof bin, "%s", env);
    else snprintf(bin, sizeof bin, "%s/sim/shopsim/shopsim", wb_test_env("WB_BUILD_DIR"));
    if (access(bin, X_OK) != 0) return -2;
    snprintf(sim_log, sizeof sim_log, "/tmp/oi-e2e-shopsim-%d.log", (int)getpid());
    sim_pid = fork();
    if (sim_pid == 0) {
        int fd = open(sim_log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, 1);
        dup2(fd, 2);
        execl(bin, bin, "--port", "0", (char *)NULL);
        _exit(127);
    }
    int64_t deadline = wb_monotonic_ms() + 30000;
    while (wb_monotonic_ms() < deadline) {
        char *log = read_file(sim_log);
        char *at = strstr(log, "\"listening\"");
        char *port = at ? strstr(at, "\"port\":") : NULL;
        if (port) sim_port = atoi(port + 7);
        free(log);
        if (sim_port) return 0;
        usleep(50000);
    }
    return -1;
}

static void stop_shopsim(void) {
    if (!sim_pid) return;
    kill(sim_pid, SIGTERM);
    waitpid(sim_pid, NULL, 0);
    sim_pid = 0;
    if (!getenv("OI_KEEP_LOGS")) unlink(sim_log);
}

static int sim_call(const char *method, const char *path, const char *body, reply *out) {
    const char *h[] = {"Content-Type: application/json", NULL};
    return request(method, sim_port, path, h, body ? body : "", body ? strlen(body) : 0, out);
}

/* The status of one of the sim store's webhooks. */
static int sim_webhook_status(const char *sim_store, const char *webhook_id, char *status, size_t size) {
    char path[160];
    snprintf(path, sizeof path, "/_sim/stores/%s/webhooks", sim_store);
    reply r;
    if (sim_call("GET", path, NULL, &r) != 0 || r.status != 200) return -1;
    cJSON *list = cJSON_Parse(r.body);
    const cJSON *w;
    int rc = -1;
    cJSON_ArrayForEach(w, list) {
        char idbuf[32];
        snprintf(idbuf, sizeof idbuf, "%.0f", cJSON_GetNumberValue(cJSON_GetObjectItem(w, "id")));
        if (strcmp(idbuf, webhook_id) == 0) {
            snprintf(status, size, "%s", cJSON_GetStringValue(cJSON_GetObjectItem(w, "status")));
            rc = 0;
        }
    }
    cJSON_Delete(list);
    return rc;
}

static char sim_store[64];

TEST(shopsim_webhook_then_reconciler_catches_dropped_one) {
    int rc = start_shopsim();
    if (rc == -2) FAILF("shopsim is not built (set WB_SHOPSIM_BIN or build with WB_BUILD_SIM=ON)");
    CHECK(rc == 0);
    snprintf(sim_store, sizeof sim_store, "simwoo-%s", run_tag);
    snprintf(rwoo_id, sizeof rwoo_id, "oi-rwoo-%s", run_tag);
    char body[1024], path[256];
    snprintf(body, sizeof body,
             "{\"id\":\"%s\",\"platform\":\"woocommerce\",\"app_secret\":\"%s\",\"currency\":\"EUR\","
             "\"seed\":{\"products\":2,\"variants\":1,\"stock\":50,\"sku_prefix\":\"RC%s\"}}",
             sim_store, WOO_SECRET, run_tag);
    reply r;
    CHECK(sim_call("POST", "/_sim/stores", body, &r) == 0);
    CHECK_INT(r.status, 201);
    /* the bridge's store, pointing at the simulated shop (plain http: OAuth 1.0a) */
    unsigned char key[32];
    wb_master_key_parse(MASTER_KEY, key);
    char url[160], cred[256], err[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/%s", sim_port, sim_store);
    snprintf(cred, sizeof cred, "{\"consumer_key\":\"ck_%s\",\"consumer_secret\":\"cs_%s\",\"webhook_secret\":\"%s\"}",
             sim_store, sim_store, WOO_SECRET);
    if (wb_store_add(pg, key, rwoo_id, "owner-e2e", "woocommerce", url, cred, err, sizeof err) != 0)
        FAILF("store add: %s", err);
    /* the shop's order.created webhook to the service */
    snprintf(path, sizeof path, "/_sim/stores/%s/webhooks", sim_store);
    snprintf(body, sizeof body, "{\"topic\":\"order.created\",\"address\":\"http://127.0.0.1:%d/webhooks/woocommerce/%s\"}",
             svc.port, rwoo_id);
    CHECK(sim_call("POST", path, body, &r) == 0);
    CHECK_INT(r.status, 201);
    cJSON *wh = cJSON_Parse(r.body);
    char webhook_id[32];
    snprintf(webhook_id, sizeof webhook_id, "%.0f", cJSON_GetNumberValue(cJSON_GetObjectItem(wh, "id")));
    cJSON_Delete(wh);
    /* 1. an order placed in the shop arrives through the webhook */
    snprintf(path, sizeof path, "/_sim/stores/%s/orders", sim_store);
    snprintf(body, sizeof body, "{\"lines\":[{\"sku\":\"RC%s-00001-1\",\"quantity\":2}],\"status\":\"processing\","
             "\"email\":\"jo@example.nl\",\"shipping_method\":{\"code\":\"flat_rate\",\"title\":\"Flat rate\",\"total\":\"4.95\"}}",
             run_tag);
    CHECK(sim_call("POST", path, body, &r) == 0);
    CHECK_INT(r.status, 201);
    cJSON *o = cJSON_Parse(r.body);
    char oid1[32];
    snprintf(oid1, sizeof oid1, "%.0f", cJSON_GetNumberValue(cJSON_GetObjectItem(o, "id")));
    cJSON_Delete(o);
    char okey[160];
    snprintf(okey, sizeof okey, "%s/%s", rwoo_id, oid1);
    int i = wait_order(okey, "created", 0);
    if (i < 0) FAILF("order %s never came through the webhook", okey);
    char sku[64];
    snprintf(sku, sizeof sku, "\"sku\":\"RC%s-00001-1\"", run_tag);
    CHECK_CONTAINS(seen[i].value, sku);
    CHECK_CONTAINS(seen[i].value, "\"quantity\":2");
    CHECK_CONTAINS(seen[i].value, "\"code\":\"flat_rate\"");
    /* 2. the shop disables the webhook; the next order's webhook is lost */
    snprintf(cred, sizeof cred, "ck_%s", sim_store);
    char cs[96];
    snprintf(cs, sizeof cs, "cs_%s", sim_store);
    wb_woo *woo = wb_woo_new(sim_store, url, cred, cs, NULL);
    cJSON *dis = cJSON_CreateObject();
    cJSON_AddStringToObject(dis, "status", "disabled");
    char wpath[64];
    snprintf(wpath, sizeof wpath, "webhooks/%s", webhook_id);
    wb_shop_response put;
    rc = wb_woo_request(woo, "PUT", wpath, NULL, dis, &put);
    long put_status = put.status;
    wb_shop_response_free(&put);
    cJSON_Delete(dis);
    wb_woo_free(woo);
    CHECK(rc == 0);
    CHECK_INT(put_status, 200);
    char status[32] = "";
    CHECK(sim_webhook_status(sim_store, webhook_id, status, sizeof status) == 0);
    CHECK_STR(status, "disabled");
    snprintf(body, sizeof body, "{\"lines\":[{\"sku\":\"RC%s-00002-1\",\"quantity\":1}],\"status\":\"processing\"}", run_tag);
    CHECK(sim_call("POST", path, body, &r) == 0);
    CHECK_INT(r.status, 201);
    o = cJSON_Parse(r.body);
    char oid2[32];
    snprintf(oid2, sizeof oid2, "%.0f", cJSON_GetNumberValue(cJSON_GetObjectItem(o, "id")));
    cJSON_Delete(o);
    /* 3. the reconciler finds it, and turns the webhook back on */
    CHECK(post(svc.port, "/reconcile", NULL, "", 0, &r) == 0);
    CHECK_INT(r.status, 202);
    snprintf(okey, sizeof okey, "%s/%s", rwoo_id, oid2);
    i = wait_order(okey, "created", 0);
    if (i < 0) FAILF("the reconciler never sent order %s", okey);
    snprintf(sku, sizeof sku, "\"sku\":\"RC%s-00002-1\"", run_tag);
    CHECK_CONTAINS(seen[i].value, sku);
    snprintf(okey, sizeof okey, "%s/%s", rwoo_id, oid1);
    CHECK_INT(count_orders(okey, "created"), 1); /* the first one is not sent again */
    int64_t deadline = wb_monotonic_ms() + 30000;
    while (wb_monotonic_ms() < deadline) {
        if (sim_webhook_status(sim_store, webhook_id, status, sizeof status) == 0 && !strcmp(status, "active")) break;
        usleep(200000);
    }
    CHECK_STR(status, "active");
    char *cursor = db_value("SELECT value FROM sync_cursors WHERE store_id = $1 AND name = 'orders_modified'", rwoo_id, NULL);
    bool has_cursor = cursor && atoll(cursor) > 0;
    free(cursor);
    CHECK(has_cursor);
}

/* ------------------------------------------------ the Shopify reconciler */

static char sim_shop[64];
static char sim_loc_gid[2][96];
static long long sim_loc_id[2];

/* Places an order in the sim store at location index loc; its id, or 0. */
static long long sim_shop_order(const char *sku, int qty, int loc) {
    char body[1024], path[160];
    snprintf(path, sizeof path, "/_sim/stores/%s/orders", sim_shop);
    snprintf(body, sizeof body,
             "{\"lines\":[{\"sku\":\"%s\",\"quantity\":%d}],\"financial_status\":\"PAID\","
             "\"email\":\"kim@example.se\",\"location_id\":%lld,"
             "\"shipping_method\":{\"code\":\"pn-home\",\"title\":\"PostNord Home\",\"total\":\"49.00\"}}",
             sku, qty, sim_loc_id[loc]);
    reply r;
    if (sim_call("POST", path, body, &r) != 0 || r.status != 201) return 0;
    cJSON *o = cJSON_Parse(r.body);
    long long id = (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(o, "id"));
    cJSON_Delete(o);
    return id;
}

/* The order message for key: decoded into m, or -1 when it never came. */
static int wait_decoded(const char *key, wb_order_msg *m, char *why, size_t size) {
    int i = wait_order(key, "created", 0);
    if (i < 0) {
        snprintf(why, size, "order %s never came", key);
        return -1;
    }
    if (wb_order_msg_decode(seen[i].value, strlen(seen[i].value), m, why, size) != 0) return -1;
    return 0;
}

TEST(shopify_reconciler_catches_missed_order_and_recreates_webhooks) {
    if (!sim_pid) FAILF("shopsim is not running");
    snprintf(sim_shop, sizeof sim_shop, "simshop-%s", run_tag);
    snprintf(rshop_id, sizeof rshop_id, "oi-rshop-%s", run_tag);
    char body[1024];
    snprintf(body, sizeof body,
             "{\"id\":\"%s\",\"platform\":\"shopify\",\"app_secret\":\"%s\",\"currency\":\"SEK\",\"locations\":2,"
             "\"seed\":{\"products\":3,\"variants\":1,\"stock\":50,\"sku_prefix\":\"RS%s\"}}",
             sim_shop, SHOP_SECRET, run_tag);
    reply r;
    CHECK(sim_call("POST", "/_sim/stores", body, &r) == 0);
    CHECK_INT(r.status, 201);
    cJSON *st = cJSON_Parse(r.body);
    const cJSON *locs = cJSON_GetObjectItem(st, "locations");
    for (int k = 0; k < 2; k++) {
        const cJSON *l = cJSON_GetArrayItem(locs, k);
        sim_loc_id[k] = (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(l, "id"));
        const char *g = cJSON_GetStringValue(cJSON_GetObjectItem(l, "gid"));
        snprintf(sim_loc_gid[k], sizeof sim_loc_gid[k], "%s", g ? g : "");
    }
    cJSON_Delete(st);
    CHECK(sim_loc_id[0] && sim_loc_id[1] && *sim_loc_gid[0]);
    /* the bridge's store, its locations mapped to two warehouses (the first the default) */
    unsigned char key[32];
    wb_master_key_parse(MASTER_KEY, key);
    char url[160], cred[384], err[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/%s", sim_port, sim_shop);
    snprintf(cred, sizeof cred,
             "{\"access_token\":\"shpat_%s\",\"api_secret\":\"%s\",\"shop_domain\":\"%s.myshopify.com\"}",
             sim_shop, SHOP_SECRET, sim_shop);
    if (wb_store_add(pg, key, rshop_id, "owner-e2e", "shopify", url, cred, err, sizeof err) != 0)
        FAILF("store add: %s", err);
    char loc2[32];
    snprintf(loc2, sizeof loc2, "%lld", sim_loc_id[1]);
    CHECK(wb_location_map(pg, rshop_id, sim_loc_gid[0], "WH-NORTH", true, err, sizeof err) == 0);
    CHECK(wb_location_map(pg, rshop_id, loc2, "WH-SOUTH", false, err, sizeof err) == 0);
    /* 1. an order placed while the shop has no webhook to us: nothing arrives by itself */
    char sku1[64];
    snprintf(sku1, sizeof sku1, "RS%s-00001-1", run_tag);
    long long oid1 = sim_shop_order(sku1, 3, 1);
    CHECK(oid1 > 0);
    /* 2. a replica that knows its public URL reconciles: the order comes out, and the
     * four subscriptions are re-created pointing at the main service */
    char pub[96];
    snprintf(pub, sizeof pub, "http://127.0.0.1:%d", svc.port);
    public_url = pub;
    int started = start_service(&repair_svc, wb_test_env("WB_KAFKA_BROKERS"), "repair");
    public_url = NULL;
    if (started != 0) FAILF("the second service did not start");
    CHECK(post(repair_svc.port, "/reconcile", NULL, "", 0, &r) == 0);
    CHECK_INT(r.status, 202);
    char okey[160];
    snprintf(okey, sizeof okey, "%s/%lld", rshop_id, oid1);
    wb_order_msg m;
    char why[256];
    if (wait_decoded(okey, &m, why, sizeof why) != 0) FAILF("%s", why);
    char oid1s[32];
    snprintf(oid1s, sizeof oid1s, "%lld", oid1);
    bool ok = m.platform == WB_PLATFORM_SHOPIFY && !strcmp(m.order_id, oid1s) && m.n_lines == 1 &&
              !strcmp(m.lines[0].sku, sku1) && m.lines[0].quantity == 3 && !strcmp(m.currency, "SEK") &&
              m.delivery_method.code && !strcmp(m.delivery_method.code, "pn-home") &&
              m.customer.email && !strcmp(m.customer.email, "kim@example.se") && m.warehouse &&
              !strcmp(m.warehouse, "WH-SOUTH");
    char got[300];
    snprintf(got, sizeof got, "sku %s qty %lld warehouse %s code %s", m.n_lines ? m.lines[0].sku : "-",
             m.n_lines ? (long long)m.lines[0].quantity : 0LL, m.warehouse ? m.warehouse : "(none)",
             m.delivery_method.code ? m.delivery_method.code : "(none)");
    wb_order_msg_free(&m);
    if (!ok) FAILF("reconciled order: %s", got);
    char path[160];
    snprintf(path, sizeof path, "/_sim/stores/%s/webhooks", sim_shop);
    const char *want[] = {"orders/create", "orders/updated", "orders/cancelled", "app/uninstalled"};
    int found = 0;
    int64_t deadline = wb_monotonic_ms() + 60000;
    while (found < 4 && wb_monotonic_ms() < deadline) {
        found = 0;
        CHECK(sim_call("GET", path, NULL, &r) == 0);
        cJSON *list = cJSON_Parse(r.body);
        char addr[256];
        snprintf(addr, sizeof addr, "%s/webhooks/shopify/%s", pub, rshop_id);
        for (int k = 0; k < 4; k++) {
            const cJSON *w;
            cJSON_ArrayForEach(w, list) {
                const char *t = cJSON_GetStringValue(cJSON_GetObjectItem(w, "topic"));
                const char *a = cJSON_GetStringValue(cJSON_GetObjectItem(w, "delivery_url"));
                if (t && a && !strcmp(t, want[k]) && !strcmp(a, addr)) {
                    found++;
                    break;
                }
            }
        }
        cJSON_Delete(list);
        if (found < 4) usleep(200000);
    }
    CHECK_INT(found, 4);
    /* 3. a second pass: the same order version is recognised, and nothing is re-created */
    CHECK(post(repair_svc.port, "/reconcile", NULL, "", 0, &r) == 0);
    int64_t settle = wb_monotonic_ms() + 60000;
    char *cursor = NULL;
    while (wb_monotonic_ms() < settle) {
        free(cursor);
        cursor = db_value("SELECT value FROM sync_cursors WHERE store_id = $1 AND name = 'orders_modified'",
                          rshop_id, NULL);
        if (cursor && atoll(cursor) > 0) break;
        usleep(200000);
    }
    bool has_cursor = cursor && atoll(cursor) > 0;
    free(cursor);
    CHECK(has_cursor);
    /* the webhook path and the reconciler give the same message: a second order by
     * webhook, then a reconcile, stays one message */
    char sku2[64];
    snprintf(sku2, sizeof sku2, "RS%s-00002-1", run_tag);
    long long oid2 = sim_shop_order(sku2, 1, 0);
    CHECK(oid2 > 0);
    snprintf(okey, sizeof okey, "%s/%lld", rshop_id, oid2);
    if (wait_decoded(okey, &m, why, sizeof why) != 0) FAILF("by webhook: %s", why);
    ok = m.warehouse && !strcmp(m.warehouse, "WH-NORTH");
    snprintf(got, sizeof got, "%s", m.warehouse ? m.warehouse : "(none)");
    wb_order_msg_free(&m);
    if (!ok) FAILF("webhook order at the first location: warehouse %s", got);
    CHECK(post(repair_svc.port, "/reconcile", NULL, "", 0, &r) == 0);
    /* the reconcile is done when the repair service logs its pass; wait for the
     * cursor to pass order 2's version, then count */
    deadline = wb_monotonic_ms() + 60000;
    bool passed = false;
    while (!passed && wb_monotonic_ms() < deadline) {
        char *v = db_value("SELECT count(*)::text FROM ingested_orders WHERE store_id = $1", rshop_id, NULL);
        char *c = db_value("SELECT value FROM sync_cursors WHERE store_id = $1 AND name = 'orders_modified'",
                           rshop_id, NULL);
        char *ver = db_value("SELECT version FROM ingested_orders WHERE store_id = $1 AND shop_order_id = $2",
                             rshop_id, okey + strlen(rshop_id) + 1);
        passed = v && c && ver && atoll(v) == 2 && atoll(c) >= atoll(ver);
        free(v), free(c), free(ver);
        if (!passed) usleep(200000);
    }
    CHECK(passed);
    drain(1000);
    CHECK_INT(count_orders(okey, "created"), 1);
    snprintf(okey, sizeof okey, "%s/%lld", rshop_id, oid1);
    CHECK_INT(count_orders(okey, "created"), 1);
    CHECK_INT(stop_service(&repair_svc), 0);
}

/* A webhook's body does not say where the order ships from: with two
 * warehouses mapped, the service asks the shop for the fulfillment order's
 * location. */
TEST(shopify_webhook_order_names_warehouse_of_assigned_location) {
    if (!*rshop_id) FAILF("the Shopify reconciler test did not set the store up");
    char sku[64];
    snprintf(sku, sizeof sku, "RS%s-00003-1", run_tag);
    long long oid = sim_shop_order(sku, 2, 1);
    CHECK(oid > 0);
    char okey[160], why[256];
    snprintf(okey, sizeof okey, "%s/%lld", rshop_id, oid);
    wb_order_msg m;
    if (wait_decoded(okey, &m, why, sizeof why) != 0) FAILF("%s", why);
    bool ok = m.warehouse && !strcmp(m.warehouse, "WH-SOUTH") && m.n_lines == 1 && !strcmp(m.lines[0].sku, sku);
    char got[100];
    snprintf(got, sizeof got, "%s", m.warehouse ? m.warehouse : "(none)");
    wb_order_msg_free(&m);
    if (!ok) FAILF("warehouse %s, want WH-SOUTH", got);
}

TEST(unmapped_sku_dead_letter_when_store_requires_mapping) {
    char err[256];
    CHECK(wb_store_set(pg, woo_id, "require_sku_mapping", "true", err, sizeof err) == 0);
    char mapped[64];
    snprintf(mapped, sizeof mapped, "TEA-%s", run_tag);
    const char *p[] = {woo_id, mapped};
    CHECK(wb_pg_exec(pg, "INSERT INTO product_mappings (store_id, shop_product_id, sku) VALUES ($1, '93', $2)",
                     2, p) == 0);
    /* a mapped SKU goes out */
    long long id = 8834523158000LL + getpid() % 1000;
    char *body = woo_order(id, "processing", "2026-11-21T11:00:05");
    reply r;
    CHECK(woo_post(&svc, "order.created", body, WOO_SECRET, &r) == 0);
    free(body);
    CHECK_INT(r.status, 200);
    char key[128];
    snprintf(key, sizeof key, "%s/%lld", woo_id, id);
    CHECK(wait_order(key, "created", 0) >= 0);
    /* one that is not: dead letter with the reason, nothing on the orders topic */
    CHECK(wb_pg_exec(pg, "DELETE FROM product_mappings WHERE store_id = $1 AND sku = $2", 2, p) == 0);
    body = woo_order(id + 1, "processing", "2026-11-21T11:00:06");
    CHECK(woo_post(&svc, "order.created", body, WOO_SECRET, &r) == 0);
    free(body);
    CHECK_INT(r.status, 200);
    CHECK_CONTAINS(r.body, "dead_letter");
    char needle[256];
    snprintf(needle, sizeof needle, "order %lld: sku [\\\"%s\\\"] has no product mapping", id + 1, mapped);
    cJSON *dl = wait_dead_letter(needle);
    if (!dl) FAILF("no dead letter with %s", needle);
    cJSON_Delete(dl);
    snprintf(key, sizeof key, "%s/%lld", woo_id, id + 1);
    CHECK_INT(count_orders(key, "created"), 0);
    CHECK(wb_store_set(pg, woo_id, "require_sku_mapping", "false", err, sizeof err) == 0);
}

/* Receipts older than the retention (default 168 h) go on the reconciler's
 * schedule; recent ones stay, since they still stop a retried webhook. */
TEST(old_webhook_receipts_pruned_on_reconcile) {
    const char *p[] = {shop_id, "prune-old", "prune-new"};
    CHECK(wb_pg_exec(pg, "INSERT INTO webhook_receipts (store_id, dedup_key, received_at) VALUES "
                         "($1, $2, now() - interval '200 hours'), ($1, $3, now() - interval '100 hours')",
                     3, p) == 0);
    reply r;
    CHECK(post(svc.port, "/reconcile", NULL, "", 0, &r) == 0);
    CHECK_INT(r.status, 202);
    int64_t deadline = wb_monotonic_ms() + 60000;
    char *old = NULL;
    do {
        free(old);
        old = db_value("SELECT dedup_key FROM webhook_receipts WHERE store_id = $1 AND dedup_key = $2", shop_id,
                       "prune-old");
        if (old) usleep(200000);
    } while (old && wb_monotonic_ms() < deadline);
    bool gone = old == NULL;
    free(old);
    CHECK(gone);
    char *recent = db_value("SELECT dedup_key FROM webhook_receipts WHERE store_id = $1 AND dedup_key = $2",
                            shop_id, "prune-new");
    bool kept = recent != NULL;
    free(recent);
    CHECK(kept);
}

/* Two warehouses mapped and the shop unreachable (the e2e store's URL does
 * not resolve): the webhook cannot name its warehouse, so it is refused 503
 * for Shopify to retry, and nothing goes out. */
TEST(shopify_webhook_503_when_the_warehouse_cannot_be_asked) {
    char err[256];
    CHECK(wb_location_map(pg, shop_id, "gid://shopify/Location/1", "WH-ONE", true, err, sizeof err) == 0);
    CHECK(wb_location_map(pg, shop_id, "gid://shopify/Location/2", "WH-TWO", false, err, sizeof err) == 0);
    long long id = 9934523158000LL + getpid() % 1000;
    char *body = shopify_order(id, "2026-11-20T14:03:12+01:00", NULL, "TUBE-9");
    reply r;
    CHECK(shopify_post(&svc, "orders/create", "wh-unreachable", body, SHOP_SECRET, &r) == 0);
    free(body);
    const char *p[] = {shop_id};
    wb_pg_exec(pg, "DELETE FROM store_locations WHERE store_id = $1", 1, p);
    CHECK_INT(r.status, 503);
    CHECK_CONTAINS(r.body, "shop unavailable");
    char key[128];
    snprintf(key, sizeof key, "%s/%lld", shop_id, id);
    char *row = db_value("SELECT version FROM ingested_orders WHERE store_id = $1 AND shop_order_id = $2", shop_id,
                         key + strlen(shop_id) + 1);
    bool none = row == NULL;
    free(row);
    CHECK(none);
}

TEST(app_uninstalled_disables_store) {
    reply r;
    CHECK(shopify_post(&svc, "app/uninstalled", "wh-uninstall", "{\"id\":1,\"name\":\"x\"}", SHOP_SECRET, &r) == 0);
    CHECK_INT(r.status, 200);
    char *enabled = db_value("SELECT enabled::text FROM stores WHERE id = $1", shop_id, NULL);
    bool ok = enabled && !strcmp(enabled, "false");
    free(enabled);
    CHECK(ok);
    char *body = shopify_order(11, "2026-11-20T14:03:12+01:00", NULL, "TUBE-1");
    CHECK(shopify_post(&svc, "orders/create", "wh-after-uninstall", body, SHOP_SECRET, &r) == 0);
    free(body);
    CHECK_INT(r.status, 200);
    CHECK_CONTAINS(r.body, "store disabled");
}

TEST(sigterm_exits_0_without_sanitizer_report) {
    int code = stop_service(&svc);
    char *log = read_file(svc.log_path);
    bool clean = !strstr(log, "Sanitizer") && !strstr(log, "runtime error");
    bool stopped = strstr(log, "order-ingest stopped") != NULL;
    char tail[400];
    size_t n = strlen(log);
    snprintf(tail, sizeof tail, "%s", n > 399 ? log + n - 399 : log);
    free(log);
    if (code != 0 || !clean || !stopped) FAILF("exit %d, log: %s", code, tail);
    if (!getenv("OI_KEEP_LOGS")) unlink(svc.log_path);
}

static void cleanup(void) {
    if (svc.pid) stop_service(&svc);
    if (dead_kafka_svc.pid) stop_service(&dead_kafka_svc);
    if (repair_svc.pid) stop_service(&repair_svc);
    stop_shopsim();
    if (pg) {
        const char *p[] = {shop_id, woo_id, rwoo_id, rshop_id};
        wb_pg_exec(pg, "DELETE FROM stores WHERE id = $1 OR id = $2 OR id = $3 OR id = $4", 4, p);
        wb_pg_close(pg);
    }
    if (consumer) wb_consumer_close(consumer);
    for (int i = 0; i < n_seen; i++) free(seen[i].topic), free(seen[i].key), free(seen[i].value);
}

int main(void) {
    wb_log_init("test-order-ingest", WB_LOG_WARN);
    wb_log_set_output(stderr);
    signal(SIGPIPE, SIG_IGN);
    RUN(setup);
    if (wb_test_failures) {
        cleanup();
        TEST_EXIT();
    }
    RUN(shopify_order_on_topic_with_every_field);
    RUN(shopify_routed_by_shop_domain);
    RUN(woocommerce_order_on_topic_with_every_field);
    RUN(bad_or_missing_signature_401);
    RUN(oversize_413);
    RUN(unknown_store_404);
    RUN(woocommerce_ping_200);
    RUN(malformed_json_dead_letter_200);
    RUN(line_without_sku_dead_letter_with_reason);
    RUN(duplicates_give_one_message);
    RUN(update_after_picking_not_sent_cancellation_sent);
    RUN(shopify_update_after_return_ignored_cancel_sent);
    RUN(woocommerce_filtered_then_deleted_goes_out_cancelled);
    RUN(kafka_down_503);
    RUN(shopsim_webhook_then_reconciler_catches_dropped_one);
    RUN(shopify_reconciler_catches_missed_order_and_recreates_webhooks);
    RUN(shopify_webhook_order_names_warehouse_of_assigned_location);
    RUN(unmapped_sku_dead_letter_when_store_requires_mapping);
    RUN(old_webhook_receipts_pruned_on_reconcile);
    RUN(shopify_webhook_503_when_the_warehouse_cannot_be_asked);
    RUN(app_uninstalled_disables_store);
    RUN(sigterm_exits_0_without_sanitizer_report);
    cleanup();
    TEST_EXIT();
}
