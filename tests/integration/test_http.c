/* The service HTTP server over real sockets: built-in endpoints, routes, and
 * the body limit enforced before a large body is read. */
#include <curl/curl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "testlib.h"
#include "wb/http.h"
#include "wb/metrics.h"
#include "wb/runloop.h"

static wb_http_server *srv;
static char base[64];
static int fail_check = 0;

typedef struct {
    long status;
    char *body;
    size_t len;
    char content_type[128];
} reply;

static size_t collect(char *data, size_t size, size_t n, void *arg) {
    reply *r = arg;
    r->body = realloc(r->body, r->len + size * n + 1);
    memcpy(r->body + r->len, data, size * n);
    r->len += size * n;
    r->body[r->len] = 0;
    return size * n;
}

/* method NULL = GET; body NULL = none. extra_header may be NULL. */
static reply request(const char *method, const char *path, const char *body, long body_len,
                     const char *extra_header) {
    reply r = {0};
    char url[256];
    snprintf(url, sizeof url, "%s%s", base, path);
    CURL *c = curl_easy_init();
    struct curl_slist *headers = NULL;
    if (extra_header) headers = curl_slist_append(headers, extra_header);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    if (method) curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, body_len);
    }
    if (curl_easy_perform(c) == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
        char *ct = NULL;
        curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
        if (ct) snprintf(r.content_type, sizeof r.content_type, "%s", ct);
    }
    if (!r.body) r.body = strdup("");
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    return r;
}

static int check_always_ok(void *ctx, char *reason, size_t size) {
    (void)ctx, (void)reason, (void)size;
    return 0;
}

static int check_sometimes(void *ctx, char *reason, size_t size) {
    (void)ctx;
    if (!fail_check) return 0;
    snprintf(reason, size, "postgresql unreachable: connection refused (password=hunter22)");
    return -1;
}

/* Echoes the body length and one header, to prove what the handler saw. */
static void echo(const wb_http_request *req, wb_http_response *res, void *ctx) {
    (void)ctx;
    char buf[256];
    const char *sig = wb_http_header(req, "x-test-signature");
    snprintf(buf, sizeof buf, "{\"len\":%zu,\"sig\":\"%s\",\"path\":\"%s\",\"q\":\"%s\"}",
             req->body_len, sig ? sig : "", req->path,
             wb_http_query(req, "a") ? wb_http_query(req, "a") : "");
    wb_http_reply(res, 200, buf);
}

static void specific(const wb_http_request *req, wb_http_response *res, void *ctx) {
    (void)req, (void)ctx;
    wb_http_reply(res, 202, "{\"route\":\"specific\"}");
}

TEST(server_starts_on_ephemeral_port) {
    srv = wb_http_new("127.0.0.1", 0, 1024);
    wb_http_add_ready_check(srv, "kafka", check_always_ok, NULL);
    wb_http_add_ready_check(srv, "postgresql", check_sometimes, NULL);
    wb_http_route(srv, "POST", "/webhooks/", echo, NULL);
    wb_http_route(srv, "POST", "/webhooks/special", specific, NULL);
    char err[256];
    CHECK(wb_http_start(srv, err, sizeof err) == 0);
    CHECK(wb_http_port(srv) > 0);
    snprintf(base, sizeof base, "http://127.0.0.1:%d", wb_http_port(srv));
}

TEST(healthz_follows_heartbeat) {
    wb_heartbeat();
    reply r = request(NULL, "/healthz", NULL, 0, NULL);
    CHECK_INT(r.status, 200);
    CHECK_CONTAINS(r.body, "\"status\":\"alive\"");
    free(r.body);
    wb_http_set_liveness_timeout(srv, 0);
    usleep(20000);
    r = request(NULL, "/healthz", NULL, 0, NULL);
    wb_http_set_liveness_timeout(srv, 60);
    CHECK_INT(r.status, 503);
    CHECK_CONTAINS(r.body, "\"status\":\"stuck\"");
    free(r.body);
}

TEST(readyz_reports_each_check_with_reason) {
    fail_check = 0;
    reply r = request(NULL, "/readyz", NULL, 0, NULL);
    CHECK_INT(r.status, 200);
    CHECK_STR(r.body, "{\"status\":\"ready\",\"checks\":{\"kafka\":\"ok\",\"postgresql\":\"ok\"}}");
    free(r.body);
    fail_check = 1;
    r = request(NULL, "/readyz", NULL, 0, NULL);
    fail_check = 0;
    CHECK_INT(r.status, 503);
    cJSON *doc = cJSON_Parse(r.body);
    CHECK(doc != NULL);
    CHECK_STR(cJSON_GetObjectItem(doc, "status")->valuestring, "unavailable");
    cJSON *checks = cJSON_GetObjectItem(doc, "checks");
    CHECK_STR(cJSON_GetObjectItem(checks, "kafka")->valuestring, "ok");
    CHECK_CONTAINS(cJSON_GetObjectItem(checks, "postgresql")->valuestring,
                   "postgresql unreachable: connection refused");
    CHECK_NOT_CONTAINS(r.body, "hunter22"); /* reasons are redacted too */
    cJSON_Delete(doc);
    free(r.body);
}

TEST(metrics_in_prometheus_text) {
    reply r = request(NULL, "/metrics", NULL, 0, NULL);
    CHECK_INT(r.status, 200);
    CHECK_CONTAINS(r.content_type, "text/plain; version=0.0.4");
    CHECK_CONTAINS(r.body, "# TYPE wb_http_requests_total counter");
    CHECK_CONTAINS(r.body, "wb_http_requests_total{route=\"/readyz\",code=\"503\"} 1");
    free(r.body);
}

TEST(routes_by_longest_prefix_with_body_and_headers) {
    reply r = request("POST", "/webhooks/shopify/acme?a=b", "{\"x\":1}", 7, "X-Test-Signature: abc=");
    CHECK_INT(r.status, 200);
    CHECK_STR(r.body, "{\"len\":7,\"sig\":\"abc=\",\"path\":\"/webhooks/shopify/acme\",\"q\":\"b\"}");
    free(r.body);
    r = request("POST", "/webhooks/special", "{}", 2, NULL);
    CHECK_INT(r.status, 202);
    free(r.body);
    r = request("GET", "/webhooks/shopify/acme", NULL, 0, NULL); /* wrong method */
    CHECK_INT(r.status, 405);
    free(r.body);
    r = request("POST", "/healthz", "{}", 2, NULL);
    CHECK_INT(r.status, 405);
    free(r.body);
    r = request(NULL, "/nothing-here", NULL, 0, NULL);
    CHECK_INT(r.status, 404);
    free(r.body);
}

TEST(body_at_limit_accepted) {
    char *body = malloc(1024);
    memset(body, 'a', 1024);
    reply r = request("POST", "/webhooks/x", body, 1024, NULL);
    free(body);
    CHECK_INT(r.status, 200);
    CHECK_CONTAINS(r.body, "\"len\":1024");
    free(r.body);
}

TEST(body_over_limit_refused_413) {
    char *body = malloc(1025);
    memset(body, 'a', 1025);
    reply r = request("POST", "/webhooks/x", body, 1025, NULL);
    CHECK_INT(r.status, 413);
    free(r.body);
    /* Without Content-Length (chunked), the limit applies while reading. */
    r = request("POST", "/webhooks/x", body, 1025, "Transfer-Encoding: chunked");
    CHECK_INT(r.status, 413);
    free(r.body);
    free(body);
}

/* A client that announces 100 MB is answered 413 at once: the server does not
 * wait for the body, so it never reads it. */
TEST(huge_announced_body_answered_before_upload) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)wb_http_port(srv))};
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    CHECK(connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0);
    const char *head = "POST /webhooks/x HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n";
    CHECK(write(fd, head, strlen(head)) == (ssize_t)strlen(head));
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[512] = {0};
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    CHECK(n > 0);
    CHECK_CONTAINS(buf, "HTTP/1.1 413");
}

TEST(server_keeps_serving_after_bad_requests) {
    reply r = request(NULL, "/healthz", NULL, 0, NULL);
    CHECK_INT(r.status, 200);
    free(r.body);
    wb_http_stop(srv);
    srv = NULL;
}

int main(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    wb_runloop_init();
    RUN(server_starts_on_ephemeral_port);
    RUN(healthz_follows_heartbeat);
    RUN(readyz_reports_each_check_with_reason);
    RUN(metrics_in_prometheus_text);
    RUN(routes_by_longest_prefix_with_body_and_headers);
    RUN(body_at_limit_accepted);
    RUN(body_over_limit_refused_413);
    RUN(huge_announced_body_answered_before_upload);
    RUN(server_keeps_serving_after_bad_requests);
    if (srv) wb_http_stop(srv);
    curl_global_cleanup();
    TEST_EXIT();
}
