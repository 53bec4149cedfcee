/* The HTTP server's async routes over real sockets: a handler that keeps
 * its request and answers later from another thread; many requests waiting
 * at once (no thread each); an answer after the client hung up; a server
 * stopped while requests are kept, and their answers after it. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "testlib.h"
#include "wb/http.h"
#include "wb/runloop.h"

#define MANY 64

static wb_http_server *srv;
static char base[64];

/* What the /hold handler keeps: the pending and a copy of the body. */
typedef struct {
    wb_http_pending *pending;
    char *body;
} kept;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static kept held[MANY];
static int n_held;

static void hold(const wb_http_request *req, wb_http_pending *pending, void *ctx) {
    (void)ctx;
    pthread_mutex_lock(&mu);
    held[n_held++] = (kept){pending, strndup(req->body, req->body_len)};
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

/* Answers before it returns, like a 401. */
static void at_once(const wb_http_request *req, wb_http_pending *pending, void *ctx) {
    (void)ctx;
    char *body = NULL;
    if (asprintf(&body, "{\"now\":\"%s\"}", req->path) < 0) body = NULL;
    wb_http_complete(pending, 401, body);
}

static void sync_route(const wb_http_request *req, wb_http_response *res, void *ctx) {
    (void)req, (void)ctx;
    wb_http_reply(res, 200, "{\"sync\":true}");
}

/* Waits until n requests are held (or 10 s). */
static int wait_held(int n) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    pthread_mutex_lock(&mu);
    while (n_held < n && pthread_cond_timedwait(&cv, &mu, &until) == 0) {
    }
    int got = n_held;
    pthread_mutex_unlock(&mu);
    return got;
}

/* Takes every held request: the caller answers them. */
static int take_held(kept *out) {
    pthread_mutex_lock(&mu);
    int n = n_held;
    memcpy(out, held, (size_t)n * sizeof *out);
    n_held = 0;
    pthread_mutex_unlock(&mu);
    return n;
}

/* Answers each held request with its own body back, from this thread. */
static void *answer_all(void *arg) {
    (void)arg;
    kept k[MANY];
    int n = take_held(k);
    for (int i = n - 1; i >= 0; i--) { /* not in arrival order */
        char *body = NULL;
        if (asprintf(&body, "{\"echo\":\"%s\"}", k[i].body) < 0) body = NULL;
        wb_http_complete(k[i].pending, 200, body);
        free(k[i].body);
    }
    return NULL;
}

typedef struct {
    long status;
    char body[256];
    size_t len;
} reply;

static size_t collect(char *data, size_t size, size_t n, void *arg) {
    reply *r = arg;
    size_t take = size * n;
    if (r->len + take >= sizeof r->body) take = sizeof r->body - 1 - r->len;
    memcpy(r->body + r->len, data, take);
    r->len += take;
    r->body[r->len] = 0;
    return size * n;
}

static CURL *easy(const char *path, const char *body, reply *r) {
    char url[256];
    snprintf(url, sizeof url, "%s%s", base, path);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 15L);
    if (body) curl_easy_setopt(c, CURLOPT_COPYPOSTFIELDS, body);
    return c;
}

static reply request(const char *path, const char *body) {
    reply r = {0};
    CURL *c = easy(path, body, &r);
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_easy_cleanup(c);
    return r;
}

typedef struct {
    const char *path, *body;
    reply r;
    pthread_t t;
} background;

static void *request_main(void *arg) {
    background *b = arg;
    b->r = request(b->path, b->body);
    return NULL;
}

static void start_server(int grace_ms) {
    srv = wb_http_new("127.0.0.1", 0, 4096);
    wb_http_set_workers(srv, 2);
    wb_http_set_stop_grace(srv, grace_ms);
    wb_http_route_async(srv, "POST", "/hold", hold, NULL);
    wb_http_route_async(srv, "POST", "/now", at_once, NULL);
    wb_http_route(srv, "POST", "/sync", sync_route, NULL);
    char err[256];
    if (wb_http_start(srv, err, sizeof err) != 0) {
        fprintf(stderr, "start: %s\n", err);
        exit(1);
    }
    snprintf(base, sizeof base, "http://127.0.0.1:%d", wb_http_port(srv));
}

TEST(answer_from_another_thread) {
    background b = {.path = "/hold", .body = "one"};
    pthread_create(&b.t, NULL, request_main, &b);
    CHECK_INT(wait_held(1), 1);
    /* Held: the client has no answer yet, and others are served meanwhile. */
    reply h = request("/healthz", NULL);
    CHECK_INT(h.status, 200);
    reply s = request("/sync", "{}");
    CHECK_INT(s.status, 200);
    CHECK_STR(s.body, "{\"sync\":true}");
    pthread_t t;
    pthread_create(&t, NULL, answer_all, NULL);
    pthread_join(t, NULL);
    pthread_join(b.t, NULL);
    CHECK_INT(b.r.status, 200);
    CHECK_STR(b.r.body, "{\"echo\":\"one\"}");
}

TEST(answer_inside_the_handler) {
    reply r = request("/now/x", "{}");
    CHECK_INT(r.status, 401);
    CHECK_STR(r.body, "{\"now\":\"/now/x\"}");
    r = request("/hold", NULL); /* GET: 405, never reaches the handler */
    CHECK_INT(r.status, 405);
}

/* Answers held by their thread go out at the release, all of them. */
TEST(held_answers_go_out_at_release) {
    background b[2] = {{.path = "/hold", .body = "h0"}, {.path = "/hold", .body = "h1"}};
    for (int i = 0; i < 2; i++) pthread_create(&b[i].t, NULL, request_main, &b[i]);
    CHECK_INT(wait_held(2), 2);
    kept k[MANY];
    CHECK_INT(take_held(k), 2);
    wb_http_hold_answers();
    for (int i = 0; i < 2; i++) {
        wb_http_complete(k[i].pending, 200, strdup("{\"held\":true}"));
        free(k[i].body);
    }
    usleep(200 * 1000);
    /* b[i].r is written by its thread only when its request ends */
    int done = __atomic_load_n(&b[0].r.status, __ATOMIC_SEQ_CST) + __atomic_load_n(&b[1].r.status, __ATOMIC_SEQ_CST);
    wb_http_release_answers();
    for (int i = 0; i < 2; i++) pthread_join(b[i].t, NULL);
    CHECK_INT(done, 0);
    CHECK_INT(b[0].r.status, 200);
    CHECK_INT(b[1].r.status, 200);
    CHECK_STR(b[1].r.body, "{\"held\":true}");
}

/* 64 requests held at once by 2 workers: none has a thread of its own. */
TEST(many_pending_answered_together) {
    CURLM *m = curl_multi_init();
    CURL *c[MANY];
    reply r[MANY];
    char bodies[MANY][16];
    memset(r, 0, sizeof r);
    for (int i = 0; i < MANY; i++) {
        snprintf(bodies[i], sizeof bodies[i], "req%d", i);
        c[i] = easy("/hold", bodies[i], &r[i]);
        curl_multi_add_handle(m, c[i]);
    }
    int running = 1;
    while (running) {
        curl_multi_perform(m, &running);
        curl_multi_poll(m, NULL, 0, 50, NULL);
        pthread_mutex_lock(&mu);
        int n = n_held;
        pthread_mutex_unlock(&mu);
        if (n == MANY) break;
    }
    CHECK_INT(wait_held(MANY), MANY);
    pthread_t t;
    pthread_create(&t, NULL, answer_all, NULL);
    while (running) {
        curl_multi_perform(m, &running);
        curl_multi_poll(m, NULL, 0, 50, NULL);
    }
    pthread_join(t, NULL);
    int ok = 0;
    for (int i = 0; i < MANY; i++) {
        long code = 0;
        curl_easy_getinfo(c[i], CURLINFO_RESPONSE_CODE, &code);
        char want[64];
        snprintf(want, sizeof want, "{\"echo\":\"req%d\"}", i);
        if (code == 200 && strcmp(r[i].body, want) == 0) ok++;
        curl_multi_remove_handle(m, c[i]);
        curl_easy_cleanup(c[i]);
    }
    curl_multi_cleanup(m);
    CHECK_INT(ok, MANY);
}

TEST(answer_after_client_hung_up) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)wb_http_port(srv))};
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    CHECK(connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0);
    const char *req = "POST /hold HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\ngone";
    CHECK(write(fd, req, strlen(req)) == (ssize_t)strlen(req));
    CHECK_INT(wait_held(1), 1);
    close(fd);
    pthread_t t;
    pthread_create(&t, NULL, answer_all, NULL);
    pthread_join(t, NULL);
    reply r = request("/sync", "{}"); /* still serving */
    CHECK_INT(r.status, 200);
}

/* A kept request is answered 503 by the stop (after its grace); its own
 * answer, coming later, only frees (ASan: no use after free, no leak). */
TEST(stop_with_pending_requests) {
    wb_http_stop(srv);
    start_server(100);
    background b = {.path = "/hold", .body = "late"};
    pthread_create(&b.t, NULL, request_main, &b);
    CHECK_INT(wait_held(1), 1);
    wb_http_stop(srv);
    srv = NULL;
    pthread_join(b.t, NULL);
    CHECK_INT(b.r.status, 503);
    CHECK_CONTAINS(b.r.body, "stopping");
    pthread_t t;
    pthread_create(&t, NULL, answer_all, NULL);
    pthread_join(t, NULL);
}

/* Within the grace, a request being answered gets its own answer. */
TEST(stop_waits_for_answers_within_grace) {
    start_server(5000);
    background b = {.path = "/hold", .body = "soon"};
    pthread_create(&b.t, NULL, request_main, &b);
    CHECK_INT(wait_held(1), 1);
    pthread_t t;
    pthread_create(&t, NULL, answer_all, NULL); /* races the stop: answered either way */
    wb_http_stop(srv);
    srv = NULL;
    pthread_join(t, NULL);
    pthread_join(b.t, NULL);
    CHECK_INT(b.r.status, 200);
    CHECK_STR(b.r.body, "{\"echo\":\"soon\"}");
}

int main(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    wb_runloop_init();
    start_server(5000);
    RUN(answer_from_another_thread);
    RUN(answer_inside_the_handler);
    RUN(held_answers_go_out_at_release);
    RUN(many_pending_answered_together);
    RUN(answer_after_client_hung_up);
    RUN(stop_with_pending_requests);
    RUN(stop_waits_for_answers_within_grace);
    if (srv) wb_http_stop(srv);
    curl_global_cleanup();
    TEST_EXIT();
}
