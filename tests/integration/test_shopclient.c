/* The shop clients against a scripted in-process HTTP server (libmicrohttpd
 * on 127.0.0.1, port 0): retries, Retry-After, timeouts, the deadline,
 * Shopify's cost and THROTTLED handling, WooCommerce's OAuth 1.0a signature
 * (verified here independently of the library), credentials kept out of URLs
 * and logs, and the per-store outcome metrics. Waits are only checked from
 * below ("at least ~1 s passed"), never from above. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testlib.h"
#include "wb/log.h"
#include "wb/metrics.h"
#include "wb/runloop.h"
#include "wb/shopclient.h"

#define TOKEN "shpat_t0ken_must_not_leak_42"
#define CKEY "ck_visible_key_1234"
#define CSECRET "cs_secret_must_not_leak_99"

/* ---------------------------------------------------------------- the server */

typedef struct {
    int status;
    const char *header_name, *header_value; /* one extra header, or NULL */
    const char *header2_name, *header2_value;
    char body[1024];
    int delay_ms; /* before answering: a slow shop */
} scripted;

#define MAX_SCRIPT 16
#define MAX_SEEN 32

typedef struct {
    char method[16], path[256], uri[2048], token[128], authorization[256], content_type[64];
    char nonce[128], body[512];
    bool oauth_ok;
} seen;

static struct {
    pthread_mutex_t mu;
    scripted script[MAX_SCRIPT];
    int script_len, next; /* past the end: the last entry again */
    seen seen[MAX_SEEN];
    int seen_count;
} srv = {.mu = PTHREAD_MUTEX_INITIALIZER};

static struct MHD_Daemon *daemon_;
static int port;
static char base[64];

typedef struct {
    char uri[2048];
    char body[1024];
    size_t body_len;
    bool started;
} conn_state;

static void script(int n, ...) {
    va_list ap;
    va_start(ap, n);
    pthread_mutex_lock(&srv.mu);
    for (int i = 0; i < n && i < MAX_SCRIPT; i++) srv.script[i] = va_arg(ap, scripted);
    srv.script_len = n;
    srv.next = 0;
    srv.seen_count = 0;
    pthread_mutex_unlock(&srv.mu);
    va_end(ap);
}

static int seen_count(void) {
    pthread_mutex_lock(&srv.mu);
    int n = srv.seen_count;
    pthread_mutex_unlock(&srv.mu);
    return n;
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c) {
    (void)cls, (void)c;
    conn_state *st = calloc(1, sizeof *st);
    snprintf(st->uri, sizeof st->uri, "%s", uri);
    return st;
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode toe) {
    (void)cls, (void)c, (void)toe;
    free(*con_cls);
    *con_cls = NULL;
}

/* ---- an OAuth 1.0a check written apart from the library: curl's escape is
 * RFC 3986 (only ALPHA DIGIT -._~ kept), OpenSSL does the HMAC. */

typedef struct {
    char *k, *v;
} kv;

typedef struct {
    kv items[64];
    int n;
    char signature[128];
} oauth_params;

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value) {
    (void)kind;
    oauth_params *p = cls;
    if (strcmp(key, "oauth_signature") == 0) {
        snprintf(p->signature, sizeof p->signature, "%s", value ? value : "");
    } else if (p->n < 64) {
        p->items[p->n].k = curl_easy_escape(NULL, key, 0);
        p->items[p->n].v = curl_easy_escape(NULL, value ? value : "", 0);
        p->n++;
    }
    return MHD_YES;
}

static int cmp_kv(const void *a, const void *b) {
    const kv *x = a, *y = b;
    int c = strcmp(x->k, y->k);
    return c ? c : strcmp(x->v, y->v);
}

static bool verify_oauth(struct MHD_Connection *c, const char *method, const char *path) {
    oauth_params p = {.n = 0};
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, &p);
    qsort(p.items, (size_t)p.n, sizeof p.items[0], cmp_kv);
    char norm[4096] = "", url[512], text[8192];
    for (int i = 0; i < p.n; i++) {
        size_t at = strlen(norm);
        snprintf(norm + at, sizeof norm - at, "%s%s=%s", i ? "&" : "", p.items[i].k, p.items[i].v);
        curl_free(p.items[i].k);
        curl_free(p.items[i].v);
    }
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    char *eu = curl_easy_escape(NULL, url, 0), *en = curl_easy_escape(NULL, norm, 0);
    snprintf(text, sizeof text, "%s&%s&%s", method, eu, en);
    curl_free(eu);
    curl_free(en);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), CSECRET "&", (int)strlen(CSECRET "&"), (unsigned char *)text,
         strlen(text), mac, &len);
    char expected[128];
    EVP_EncodeBlock((unsigned char *)expected, mac, (int)len);
    return p.signature[0] && strcmp(expected, p.signature) == 0 &&
           strstr(norm, "oauth_signature_method=HMAC-SHA256") != NULL;
}

static void record(struct MHD_Connection *c, const char *method, const char *url,
                   const conn_state *st) {
    if (srv.seen_count >= MAX_SEEN) return;
    seen *s = &srv.seen[srv.seen_count++];
    memset(s, 0, sizeof *s);
    const char *v;
    snprintf(s->method, sizeof s->method, "%s", method);
    snprintf(s->path, sizeof s->path, "%s", url);
    snprintf(s->uri, sizeof s->uri, "%s", st->uri);
    snprintf(s->body, sizeof s->body, "%.*s", (int)st->body_len, st->body);
    if ((v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Shopify-Access-Token")))
        snprintf(s->token, sizeof s->token, "%s", v);
    if ((v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization")))
        snprintf(s->authorization, sizeof s->authorization, "%s", v);
    if ((v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type")))
        snprintf(s->content_type, sizeof s->content_type, "%s", v);
    if ((v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "oauth_nonce"))) {
        snprintf(s->nonce, sizeof s->nonce, "%s", v);
        s->oauth_ok = verify_oauth(c, method, url);
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls) {
    (void)cls, (void)version;
    conn_state *st = *con_cls;
    if (!st->started) { /* headers only; the body (if any) follows */
        st->started = true;
        return MHD_YES;
    }
    if (*upload_size) {
        size_t room = sizeof st->body - 1 - st->body_len;
        size_t n = *upload_size < room ? *upload_size : room;
        memcpy(st->body + st->body_len, upload, n);
        st->body_len += n;
        *upload_size = 0;
        return MHD_YES;
    }
    pthread_mutex_lock(&srv.mu);
    record(c, method, url, st);
    int i = srv.next < srv.script_len ? srv.next++ : srv.script_len - 1;
    scripted r = srv.script[i];
    pthread_mutex_unlock(&srv.mu);
    if (r.delay_ms) usleep((useconds_t)r.delay_ms * 1000);
    struct MHD_Response *res =
        MHD_create_response_from_buffer(strlen(r.body), r.body, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(res, "Content-Type", "application/json");
    if (r.header_name) MHD_add_response_header(res, r.header_name, r.header_value);
    if (r.header2_name) MHD_add_response_header(res, r.header2_name, r.header2_value);
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)r.status, res);
    MHD_destroy_response(res);
    return ok;
}

static int start_server(void) {
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    daemon_ = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD,
                               0, NULL, NULL, on_request, NULL,
                               MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                               MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
                               MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
                               MHD_OPTION_END);
    if (!daemon_) return -1;
    port = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT)->port;
    snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
    return 0;
}

/* ---------------------------------------------------------------- helpers */

static scripted reply(int status, const char *body) {
    scripted r = {.status = status};
    snprintf(r.body, sizeof r.body, "%s", body);
    return r;
}

static scripted reply_h(int status, const char *body, const char *name, const char *value) {
    scripted r = reply(status, body);
    r.header_name = name;
    r.header_value = value;
    return r;
}

/* A Shopify answer: data (or a THROTTLED error) with extensions.cost. */
static scripted shopify_answer(int status, bool throttled, double requested, double max,
                               double available, double restore) {
    scripted r = {.status = status};
    snprintf(r.body, sizeof r.body,
             "{%s\"extensions\":{\"cost\":{\"requestedQueryCost\":%g,\"actualQueryCost\":%s,"
             "\"throttleStatus\":{\"maximumAvailable\":%g,\"currentlyAvailable\":%g,"
             "\"restoreRate\":%g}}}}",
             throttled ? "\"errors\":[{\"message\":\"Throttled\",\"extensions\":{\"code\":"
                         "\"THROTTLED\",\"documentation\":\"https://shopify.dev/api/usage/"
                         "rate-limits\"}}],"
                       : "\"data\":{\"shop\":{\"name\":\"Acme\"}},",
             requested, throttled ? "null" : "2", max, available, restore);
    return r;
}

static wb_shop_opts fast_opts(void) {
    wb_shop_opts o = {.connect_timeout_ms = 1000, .request_timeout_ms = 5000,
                      .deadline_ms = 20000, .max_attempts = 4, .backoff_base_ms = 10,
                      .backoff_max_ms = 50};
    return o;
}

static double calls(const char *store, const char *platform, const char *outcome) {
    wb_metric *m = wb_counter("wb_shop_calls_total", "", "store,platform,outcome");
    return wb_metric_value(m, store, platform, outcome);
}

/* ---------------------------------------------------------------- WooCommerce */

TEST(woo_retries_5xx_then_returns_answer) {
    script(3, reply(503, "{}"), reply(502, "{}"),
           reply(200, "[{\"id\":1}]"));
    wb_shop_opts o = fast_opts();
    wb_woo *w = wb_woo_new("woo-retry", base, CKEY, CSECRET, &o);
    wb_log_clear_secrets(); /* prove the client keeps secrets out, not the redactor */
    wb_shop_response r;
    int rc = wb_woo_request(w, "GET", "orders", "status=processing", NULL, &r);
    wb_woo_free(w);
    int attempts = r.attempts;
    long status = r.status;
    bool body_ok = r.body && strcmp(r.body, "[{\"id\":1}]") == 0;
    wb_shop_response_free(&r);
    CHECK_INT(rc, 0);
    CHECK_INT(status, 200);
    CHECK_INT(attempts, 3);
    CHECK(body_ok);
    CHECK_INT(seen_count(), 3);
    /* Each attempt signed afresh: WooCommerce refuses a nonce twice. */
    CHECK(srv.seen[0].oauth_ok && srv.seen[1].oauth_ok && srv.seen[2].oauth_ok);
    CHECK(strcmp(srv.seen[0].nonce, srv.seen[1].nonce) != 0);
    CHECK(strcmp(srv.seen[1].nonce, srv.seen[2].nonce) != 0);
    CHECK_INT(calls("woo-retry", "woocommerce", "server_error"), 2);
    CHECK_INT(calls("woo-retry", "woocommerce", "ok"), 1);
}

TEST(woo_requests_paced_by_shared_budget) {
    /* 5 requests a second for the store, shared in Redis: 8 requests (one
     * of them a retry) go 5 at once and 3 a fifth of a second apart. */
    script(8, reply(503, "{}"), reply(200, "[]"), reply(200, "[]"), reply(200, "[]"), reply(200, "[]"),
           reply(200, "[]"), reply(200, "[]"), reply(200, "[]"));
    wb_shop_opts o = fast_opts();
    char store[64];
    snprintf(store, sizeof store, "woo-paced-%d-%lld", (int)getpid(), (long long)wb_monotonic_ms());
    wb_woo *w = wb_woo_new(store, base, CKEY, CSECRET, &o);
    wb_rate_budget *budget = wb_rate_budget_open(getenv("WB_REDIS_URL"));
    wb_woo_set_budget(w, budget, 5, 0);
    int64_t t0 = wb_monotonic_ms();
    int ok = 0;
    for (int i = 0; i < 7; i++) {
        wb_shop_response r;
        if (wb_woo_request(w, "GET", "orders", NULL, NULL, &r) == 0 && r.status == 200) ok++;
        wb_shop_response_free(&r);
    }
    int64_t took = wb_monotonic_ms() - t0;
    wb_woo_free(w);
    wb_rate_budget_close(budget);
    CHECK_INT(ok, 7);
    CHECK_INT(seen_count(), 8);
    CHECK(took >= 550);
}

TEST(woo_oauth_over_http_signs_query_and_hides_secret) {
    scripted page = reply_h(200, "[]", "X-WP-Total", "42");
    page.header2_name = "X-WP-TotalPages";
    page.header2_value = "3";
    script(1, page);
    wb_shop_opts o = fast_opts();
    wb_woo *w = wb_woo_new("woo-oauth", base, CKEY, CSECRET, &o);
    wb_log_clear_secrets();
    wb_shop_response r;
    int rc = wb_woo_request(w, "GET", "orders",
                            "status=processing&per_page=100&search=caf%C3%A9+au+lait"
                            "&modified_after=2026-11-25T10%3A00%3A00",
                            NULL, &r);
    wb_woo_free(w);
    long pages = r.total_pages, items = r.total_items;
    wb_shop_response_free(&r);
    CHECK_INT(rc, 0);
    CHECK_INT(pages, 3);
    CHECK_INT(items, 42);
    CHECK_INT(seen_count(), 1);
    seen *s = &srv.seen[0];
    CHECK_STR(s->path, "/wp-json/wc/v3/orders");
    CHECK(s->oauth_ok);
    CHECK_CONTAINS(s->uri, "oauth_consumer_key=" CKEY);
    CHECK_CONTAINS(s->uri, "oauth_signature_method=HMAC-SHA256");
    CHECK_CONTAINS(s->uri, "oauth_timestamp=");
    CHECK_CONTAINS(s->uri, "status=processing");
    CHECK_NOT_CONTAINS(s->uri, CSECRET);
    CHECK_NOT_CONTAINS(s->uri, "consumer_secret");
    CHECK_STR(s->authorization, ""); /* no Basic auth over plain http */
}

TEST(woo_absolute_path_and_json_body) {
    script(1, reply(201, "{\"tracking_id\":\"t1\"}"));
    wb_shop_opts o = fast_opts();
    wb_woo *w = wb_woo_new("woo-post", base, CKEY, CSECRET, &o);
    cJSON *body = cJSON_Parse("{\"tracking_number\":\"1Z999\",\"custom_tracking_provider\":\"DHL\"}");
    wb_shop_response r;
    int rc = wb_woo_request(w, "POST", "/wp-json/wc-shipment-tracking/v3/orders/5/shipment-trackings",
                            NULL, body, &r);
    cJSON_Delete(body);
    wb_woo_free(w);
    long status = r.status;
    wb_shop_response_free(&r);
    CHECK_INT(rc, 0);
    CHECK_INT(status, 201);
    seen *s = &srv.seen[0];
    CHECK_STR(s->method, "POST");
    CHECK_STR(s->path, "/wp-json/wc-shipment-tracking/v3/orders/5/shipment-trackings");
    CHECK(s->oauth_ok);
    CHECK_STR(s->body, "{\"tracking_number\":\"1Z999\",\"custom_tracking_provider\":\"DHL\"}");
    CHECK_STR(s->content_type, "application/json");
}

TEST(retry_after_is_waited) {
    script(2, reply_h(429, "{}", "Retry-After", "1"), reply(200, "[]"));
    wb_shop_opts o = fast_opts();
    wb_woo *w = wb_woo_new("woo-429", base, CKEY, CSECRET, &o);
    wb_shop_response r;
    int64_t t0 = wb_monotonic_ms();
    int rc = wb_woo_request(w, "GET", "products", NULL, NULL, &r);
    int64_t waited = wb_monotonic_ms() - t0;
    wb_woo_free(w);
    int attempts = r.attempts;
    long status = r.status;
    wb_shop_response_free(&r);
    CHECK_INT(rc, 0);
    CHECK_INT(status, 200);
    CHECK_INT(attempts, 2);
    CHECK(waited >= 950); /* backoff alone would be at most 50 ms here */
    CHECK_INT(calls("woo-429", "woocommerce", "throttled"), 1);
}

TEST(client_error_is_not_retried) {
    script(2, reply(404, "{\"code\":\"woocommerce_rest_invalid_id\"}"), reply(200, "{}"));
    wb_shop_opts o = fast_opts();
    wb_woo *w = wb_woo_new("woo-404", base, CKEY, CSECRET, &o);
    wb_shop_response r;
    int rc = wb_woo_request(w, "GET", "orders/999", NULL, NULL, &r);
    wb_woo_free(w);
    int attempts = r.attempts;
    long status = r.status;
    bool body_ok = r.body && strstr(r.body, "invalid_id");
    wb_shop_response_free(&r);
    CHECK_INT(rc, 0);
    CHECK_INT(status, 404);
    CHECK_INT(attempts, 1);
    CHECK(body_ok);
    CHECK_INT(seen_count(), 1);
    CHECK_INT(calls("woo-404", "woocommerce", "client_error"), 1);
}

TEST(slow_answer_times_out_and_is_retried) {
    scripted slow = reply(200, "[\"late\"]");
    slow.delay_ms = 1500;
    script(2, slow, reply(200, "[\"fresh\"]"));
    wb_shop_opts o = fast_opts();
    o.request_timeout_ms = 300;
    wb_woo *w = wb_woo_new("woo-slow", base, CKEY, CSECRET, &o);
    wb_shop_response r;
    int rc = wb_woo_request(w, "GET", "orders", NULL, NULL, &r);
    wb_woo_free(w);
    int attempts = r.attempts;
    bool fresh = r.body && strcmp(r.body, "[\"fresh\"]") == 0;
    wb_shop_response_free(&r);
    CHECK_INT(rc, 0);
    CHECK_INT(attempts, 2);
    CHECK(fresh);
    CHECK_INT(calls("woo-slow", "woocommerce", "timeout"), 1);
}

TEST(deadline_stops_retrying) {
    script(1, reply(503, "{}"));
    wb_shop_opts o = fast_opts();
    o.deadline_ms = 600;
    o.max_attempts = 1000;
    o.backoff_base_ms = 100;
    o.backoff_max_ms = 200;
    wb_woo *w = wb_woo_new("woo-deadline", base, CKEY, CSECRET, &o);
    wb_shop_response r;
    int rc = wb_woo_request(w, "GET", "orders", NULL, NULL, &r);
    wb_woo_free(w);
    int attempts = r.attempts;
    long status = r.status;
    char error[256];
    snprintf(error, sizeof error, "%s", r.error);
    wb_shop_response_free(&r);
    CHECK_INT(rc, 0); /* an answer came: the last 503 */
    CHECK_INT(status, 503);
    CHECK(attempts >= 2 && attempts < 1000);
    CHECK_CONTAINS(error, "deadline");
}

TEST(connection_refused_is_retried_then_fails) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    socklen_t len = sizeof a;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd); /* nobody listens there now */
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", ntohs(a.sin_port));
    wb_shop_opts o = fast_opts();
    o.max_attempts = 3;
    wb_woo *w = wb_woo_new("woo-refused", url, CKEY, CSECRET, &o);
    wb_shop_response r;
    int rc = wb_woo_request(w, "GET", "orders", NULL, NULL, &r);
    wb_woo_free(w);
    int attempts = r.attempts;
    long status = r.status;
    bool has_error = r.error[0] != 0;
    wb_shop_response_free(&r);
    CHECK_INT(rc, -1);
    CHECK_INT(status, 0);
    CHECK_INT(attempts, 3);
    CHECK(has_error);
    CHECK_INT(calls("woo-refused", "woocommerce", "network"), 3);
}

/* ---------------------------------------------------------------- Shopify */

TEST(shopify_sends_token_in_header_and_reads_cost) {
    script(1, shopify_answer(200, false, 12, 2000, 1988, 100));
    wb_shop_opts o = fast_opts();
    wb_shopify *s = wb_shopify_new("shop-basic", base, TOKEN, &o);
    wb_log_clear_secrets();
    cJSON *vars = cJSON_Parse("{\"first\":5}");
    cJSON *resp = NULL;
    char err[256];
    int rc = wb_shopify_graphql(s, "query($first:Int!){shop{name}}", vars, 5, &resp, err,
                                sizeof err);
    wb_shopify_cost cost = wb_shopify_last_cost(s);
    wb_shopify_free(s);
    cJSON_Delete(vars);
    const cJSON *name = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(resp, "data"), "shop"), "name");
    bool name_ok = cJSON_IsString(name) && strcmp(name->valuestring, "Acme") == 0;
    cJSON_Delete(resp);
    CHECK_INT(rc, 0);
    CHECK(name_ok);
    seen *q = &srv.seen[0];
    CHECK_STR(q->method, "POST");
    CHECK_STR(q->path, "/admin/api/2026-07/graphql.json");
    CHECK_STR(q->token, TOKEN);
    CHECK_NOT_CONTAINS(q->uri, TOKEN);
    CHECK_CONTAINS(q->body, "\"query\":\"query($first:Int!){shop{name}}\"");
    CHECK_CONTAINS(q->body, "\"variables\":{\"first\":5}");
    CHECK(cost.requested == 12 && cost.actual == 2);
    CHECK(cost.maximum == 2000 && cost.available == 1988 && cost.restore_rate == 100);
    CHECK_INT(calls("shop-basic", "shopify", "ok"), 1);
}

TEST(shopify_retries_throttled_in_both_forms) {
    /* THROTTLED with HTTP 200, then as HTTP 429 (no Retry-After), then data.
     * The bucket refills fast, so the waits are short. */
    script(3, shopify_answer(200, true, 10, 1000, 0, 1000),
           shopify_answer(429, true, 10, 1000, 2, 1000),
           shopify_answer(200, false, 10, 1000, 990, 1000));
    wb_shop_opts o = fast_opts();
    o.max_attempts = 1; /* throttling must not use up the failure budget */
    wb_shopify *s = wb_shopify_new("shop-throttled", base, TOKEN, &o);
    cJSON *resp = NULL;
    char err[256] = "";
    int rc = wb_shopify_graphql(s, "{shop{name}}", NULL, 10, &resp, err, sizeof err);
    wb_shopify_cost cost = wb_shopify_last_cost(s);
    wb_shopify_free(s);
    bool has_data = cJSON_GetObjectItem(resp, "data") != NULL;
    cJSON_Delete(resp);
    if (rc != 0) FAILF("rc %d: %s", rc, err);
    CHECK(has_data);
    CHECK_INT(seen_count(), 3);
    CHECK(cost.available == 990);
    CHECK_INT(calls("shop-throttled", "shopify", "throttled"), 2);
    CHECK_INT(calls("shop-throttled", "shopify", "ok"), 1);
}

TEST(shopify_waits_for_bucket_before_sending) {
    /* The first answer leaves 0 points, restoring 50/s: a call expected to
     * cost 50 must wait about a second before it goes out. */
    script(2, shopify_answer(200, false, 50, 1000, 0, 50),
           shopify_answer(200, false, 50, 1000, 950, 50));
    wb_shop_opts o = fast_opts();
    wb_shopify *s = wb_shopify_new("shop-bucket", base, TOKEN, &o);
    cJSON *resp = NULL;
    char err[256];
    int rc1 = wb_shopify_graphql(s, "{a}", NULL, 50, &resp, err, sizeof err);
    cJSON_Delete(resp);
    int64_t t0 = wb_monotonic_ms();
    int rc2 = wb_shopify_graphql(s, "{b}", NULL, 50, &resp, err, sizeof err);
    int64_t waited = wb_monotonic_ms() - t0;
    cJSON_Delete(resp);
    wb_shopify_cost cost = wb_shopify_last_cost(s);
    wb_shopify_free(s);
    CHECK_INT(rc1, 0);
    CHECK_INT(rc2, 0);
    CHECK(waited >= 950);
    CHECK(cost.available == 950);
    CHECK_INT(seen_count(), 2);
}

TEST(shopify_expected_cost_zero_uses_last_requested) {
    script(2, shopify_answer(200, false, 40, 1000, 0, 40),
           shopify_answer(200, false, 40, 1000, 960, 40));
    wb_shop_opts o = fast_opts();
    wb_shopify *s = wb_shopify_new("shop-lastcost", base, TOKEN, &o);
    cJSON *resp = NULL;
    char err[256];
    int rc1 = wb_shopify_graphql(s, "{a}", NULL, 0, &resp, err, sizeof err);
    cJSON_Delete(resp);
    int64_t t0 = wb_monotonic_ms();
    int rc2 = wb_shopify_graphql(s, "{a}", NULL, 0, &resp, err, sizeof err);
    int64_t waited = wb_monotonic_ms() - t0;
    cJSON_Delete(resp);
    wb_shopify_free(s);
    CHECK_INT(rc1, 0);
    CHECK_INT(rc2, 0);
    CHECK(waited >= 950); /* 40 points at 40/s */
}

TEST(shopify_expected_cost_zero_remembers_each_document) {
    /* A 400-point read, a 10-point mutation, the read again: the second read
     * is paced by what that document asked (400 points at 400/s, about a
     * second), not by the mutation that came between (10 points, 25 ms). */
    script(3, shopify_answer(200, false, 400, 1000, 0, 400), shopify_answer(200, false, 10, 1000, 0, 400),
           shopify_answer(200, false, 400, 1000, 600, 400));
    wb_shop_opts o = fast_opts();
    wb_shopify *s = wb_shopify_new("shop-doccost", base, TOKEN, &o);
    cJSON *resp = NULL;
    char err[256];
    int rc1 = wb_shopify_graphql(s, "{read}", NULL, 0, &resp, err, sizeof err);
    cJSON_Delete(resp);
    int rc2 = wb_shopify_graphql(s, "mutation{m}", NULL, 10, &resp, err, sizeof err);
    cJSON_Delete(resp);
    int64_t t0 = wb_monotonic_ms();
    int rc3 = wb_shopify_graphql(s, "{read}", NULL, 0, &resp, err, sizeof err);
    int64_t waited = wb_monotonic_ms() - t0;
    cJSON_Delete(resp);
    wb_shopify_free(s);
    CHECK_INT(rc1, 0);
    CHECK_INT(rc2, 0);
    CHECK_INT(rc3, 0);
    CHECK(waited >= 950);
    CHECK_INT(seen_count(), 3);
}

TEST(shopify_deadline_while_throttled_fails) {
    /* Restoring 1 point a second, 500 points take far longer than the
     * deadline: the client gives up instead of sleeping past it. */
    script(1, shopify_answer(200, true, 500, 1000, 0, 1));
    wb_shop_opts o = fast_opts();
    o.deadline_ms = 2000;
    wb_shopify *s = wb_shopify_new("shop-deadline", base, TOKEN, &o);
    cJSON *resp = NULL;
    char err[256] = "";
    int rc = wb_shopify_graphql(s, "{a}", NULL, 500, &resp, err, sizeof err);
    wb_shopify_free(s);
    CHECK_INT(rc, -1);
    CHECK(resp == NULL);
    CHECK_CONTAINS(err, "throttled");
    CHECK_CONTAINS(err, "deadline");
    CHECK_INT(seen_count(), 1);
}

TEST(shopify_auth_failure_is_an_error) {
    script(1, reply(401, "{\"errors\":\"[API] Invalid API key or access token\"}"));
    wb_shop_opts o = fast_opts();
    wb_shopify *s = wb_shopify_new("shop-auth", base, TOKEN, &o);
    cJSON *resp = NULL;
    char err[256] = "";
    int rc = wb_shopify_graphql(s, "{a}", NULL, 1, &resp, err, sizeof err);
    wb_shopify_free(s);
    CHECK_INT(rc, -1);
    CHECK(resp == NULL);
    CHECK_CONTAINS(err, "auth");
    CHECK_INT(seen_count(), 1);
    CHECK_INT(calls("shop-auth", "shopify", "client_error"), 1);
}

TEST(shopify_graphql_errors_are_returned) {
    script(1, reply(200, "{\"errors\":[{\"message\":\"Field 'x' doesn't exist\","
                         "\"extensions\":{\"code\":\"undefinedField\"}}]}"));
    wb_shop_opts o = fast_opts();
    wb_shopify *s = wb_shopify_new("shop-gqlerr", base, TOKEN, &o);
    cJSON *resp = NULL;
    char err[256] = "";
    int rc = wb_shopify_graphql(s, "{x}", NULL, 1, &resp, err, sizeof err);
    wb_shopify_free(s);
    bool has_errors = cJSON_IsArray(cJSON_GetObjectItem(resp, "errors"));
    cJSON_Delete(resp);
    CHECK_INT(rc, 0);
    CHECK(has_errors);
    CHECK_INT(seen_count(), 1);
}

/* ---------------------------------------------------------------- stopping */

TEST(stop_request_cuts_retry_wait_short) {
    script(2, reply_h(503, "{}", "Retry-After", "30"), reply(200, "[]"));
    wb_shop_opts o = fast_opts();
    o.deadline_ms = 60000;
    wb_woo *w = wb_woo_new("woo-stop", base, CKEY, CSECRET, &o);
    wb_request_stop();
    wb_shop_response r;
    int rc = wb_woo_request(w, "GET", "orders", NULL, NULL, &r);
    wb_woo_free(w);
    int attempts = r.attempts;
    long status = r.status;
    char error[256];
    snprintf(error, sizeof error, "%s", r.error);
    wb_shop_response_free(&r);
    CHECK_INT(rc, 0); /* the in-flight attempt still finished */
    CHECK_INT(status, 503);
    CHECK_INT(attempts, 1);
    CHECK_CONTAINS(error, "stopping");
}

/* ---------------------------------------------------------------- logs */

static char *logbuf;
static size_t loglen;

/* The clients were made with their secrets registered for redaction, and the
 * list was cleared right after in the first tests; no line may hold a
 * credential, an OAuth query or even something the redactor had to hide. */
TEST(logs_never_hold_credentials) {
    CHECK_CONTAINS(logbuf, "retrying");
    CHECK_CONTAINS(logbuf, "/wp-json/wc/v3/orders");
    CHECK_NOT_CONTAINS(logbuf, TOKEN);
    CHECK_NOT_CONTAINS(logbuf, CSECRET);
    CHECK_NOT_CONTAINS(logbuf, "oauth_");
    CHECK_NOT_CONTAINS(logbuf, "status=processing"); /* no query at all */
    CHECK_NOT_CONTAINS(logbuf, "[REDACTED]");
}

int main(void) {
    FILE *logf = open_memstream(&logbuf, &loglen);
    wb_log_init("test_shopclient", WB_LOG_DEBUG);
    wb_log_set_output(logf);
    if (start_server() != 0) {
        printf("FAIL start_server: libmicrohttpd did not start\n");
        return 1;
    }
    RUN(woo_retries_5xx_then_returns_answer);
    RUN(woo_requests_paced_by_shared_budget);
    RUN(woo_oauth_over_http_signs_query_and_hides_secret);
    RUN(woo_absolute_path_and_json_body);
    RUN(retry_after_is_waited);
    RUN(client_error_is_not_retried);
    RUN(slow_answer_times_out_and_is_retried);
    RUN(deadline_stops_retrying);
    RUN(connection_refused_is_retried_then_fails);
    RUN(shopify_sends_token_in_header_and_reads_cost);
    RUN(shopify_retries_throttled_in_both_forms);
    RUN(shopify_waits_for_bucket_before_sending);
    RUN(shopify_expected_cost_zero_uses_last_requested);
    RUN(shopify_expected_cost_zero_remembers_each_document);
    RUN(shopify_deadline_while_throttled_fails);
    RUN(shopify_auth_failure_is_an_error);
    RUN(shopify_graphql_errors_are_returned);
    RUN(stop_request_cuts_retry_wait_short); /* last: the stop cannot be undone */
    MHD_stop_daemon(daemon_);
    wb_log_set_output(NULL);
    fclose(logf);
    RUN(logs_never_hold_credentials);
    free(logbuf);
    wb_log_clear_secrets();
    TEST_EXIT();
}
