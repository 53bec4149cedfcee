/* Load generator for bench/order_ingest.py: signed Shopify orders/create
 * webhooks, each a different order, over CONNS keep-alive connections, as
 * fast as the service answers. Prints one JSON line:
 *   {"sent":N,"ok":N,"other":N,"errors":N,"seconds":S,"p50_ms":X,"p99_ms":Y,"max_ms":Z}
 *
 *   webhookload PORT STORE SECRET COUNT CONNS FIRST_ORDER_ID SKU_PREFIX [RATE]
 *
 * Without RATE (closed loop) each of CONNS connections sends its next
 * webhook as soon as the previous one is answered: the rate is then CONNS
 * divided by the latency. With RATE (open loop, webhooks per second) request
 * i is due at start + i / RATE whatever the answers, as shops send them:
 * it goes out on an idle connection, on a new one while fewer than CONNS
 * are open, or waits for one; its latency counts from when it was due, so
 * a service that falls behind shows it in the latency (no coordinated
 * omission), and "seconds" is the time until the last answer. "rate" is
 * then the answers per second while requests were being offered (the
 * first second, or quarter, left out): the offered rate when the service
 * keeps up, less when answers fall behind. Closed loop: answers / seconds.
 *
 * It shares two cores with the service, Kafka and PostgreSQL, so it should
 * cost as little as it can: every request is built and signed before the
 * clock starts (a shop signs on its own servers), and one thread drives all
 * connections with epoll (a thread per connection cost a context switch per
 * request, CPU the service under test then did not get). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "wb/crypto.h"

typedef struct {
    char *text;
    int len;
} prepared;

/* One keep-alive connection and the request it carries. */
typedef struct {
    int fd;
    int req;        /* index of the request in flight, -1 when idle */
    int written;    /* bytes of it sent */
    int attempts;   /* a request is tried on a new connection once more */
    double t0;
    char resp[8192];
    size_t got;
} conn;

static int port, count, max_conns, opened;
static double rate; /* webhooks per second; 0: closed loop */
static double t_start;
static prepared *reqs;
static double *lat_ms, *done_at_ms; /* done_at: since the start */
static int next_req, done_n, ok_n, other_n, err_n;
static conn *conns;
static conn **idle; /* open connections without a request (open loop) */
static int n_idle;

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static prepared build_request(const char *store, const char *secret, const char *prefix, long long id,
                              int i) {
    char body[8192];
    int blen = snprintf(body, sizeof body,
        "{\"id\":%lld,\"admin_graphql_api_id\":\"gid://shopify/Order/%lld\",\"name\":\"#B%lld\","
        "\"email\":\"anna@example.se\",\"phone\":\"+46701234567\",\"created_at\":\"2026-11-20T14:03:11+01:00\","
        "\"updated_at\":\"2026-11-20T14:03:12+01:00\",\"cancelled_at\":null,\"currency\":\"SEK\","
        "\"financial_status\":\"paid\",\"fulfillment_status\":null,\"taxes_included\":true,\"note\":\"Gate 3\","
        "\"customer\":{\"email\":\"anna@example.se\",\"first_name\":\"Anna\",\"last_name\":\"Lind\"},"
        "\"billing_address\":{\"first_name\":\"Anna\",\"last_name\":\"Lind\",\"company\":\"Cykelverkstan AB\","
        "\"address1\":\"Box 4455\",\"city\":\"Malm\\u00f6\",\"zip\":\"203 15\",\"country_code\":\"SE\"},"
        "\"shipping_address\":{\"first_name\":\"Anna\",\"last_name\":\"Lind\",\"company\":\"Cykelverkstan AB\","
        "\"address1\":\"Industrigatan 12\",\"address2\":\"Port 3\",\"city\":\"Malm\\u00f6\",\"zip\":\"211 19\","
        "\"country_code\":\"SE\",\"phone\":\"+46701234567\"},"
        "\"shipping_lines\":[{\"id\":1,\"code\":\"pn-home\",\"title\":\"PostNord MyPack Home\",\"price\":\"99.00\"}],"
        "\"line_items\":[{\"id\":%lld1,\"name\":\"Road tyre 700x28\",\"sku\":\"%s-%d\",\"quantity\":4,"
        "\"current_quantity\":4,\"price\":\"449.00\",\"discount_allocations\":[],\"tax_lines\":[]},"
        "{\"id\":%lld2,\"name\":\"Inner tube 700c\",\"sku\":\"%s-%d\",\"quantity\":2,\"current_quantity\":2,"
        "\"price\":\"89.00\",\"discount_allocations\":[{\"amount\":\"10.00\"}],\"tax_lines\":[]}]}",
        id, id, id, id, prefix, i % 100, id, prefix, (i + 1) % 100);
    unsigned char mac[WB_SHA256_LEN];
    char sig[64];
    wb_hmac_sha256(secret, strlen(secret), body, (size_t)blen, mac);
    wb_base64_encode(mac, sizeof mac, sig, sizeof sig);
    prepared p = {malloc(16384), 0};
    p.len = snprintf(p.text, 16384,
        "POST /webhooks/shopify/%s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Content-Length: %d\r\nX-Shopify-Topic: orders/create\r\nX-Shopify-Hmac-Sha256: %s\r\n"
        "X-Shopify-Webhook-Id: bench-%lld\r\n\r\n%s", store, blen, sig, id, body);
    return p;
}

static int connect_once(int ep, conn *c) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    c->fd = fd;
    return 0;
}

static void drop_connection(conn *c) {
    if (c->fd >= 0) close(c->fd); /* closing removes it from the epoll set */
    c->fd = -1;
}

static void finish(conn *c, int status) {
    double now = now_ms();
    lat_ms[c->req] = now - c->t0;
    done_at_ms[c->req] = now - t_start;
    if (status == 200) ok_n++;
    else if (status > 0) other_n++;
    else err_n++;
    done_n++;
    c->req = -1;
}

/* Sends what is left of the request; the blocking write of ~1.6 KB into an
 * empty socket buffer completes at once. Returns -1 when the connection broke. */
static int send_rest(conn *c) {
    const prepared *p = &reqs[c->req];
    while (c->written < p->len) {
        ssize_t n = write(c->fd, p->text + c->written, (size_t)(p->len - c->written));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        c->written += (int)n;
    }
    return 0;
}

/* When request i is due: at once in a closed loop. */
static double due_ms(int i) { return rate > 0 ? t_start + i * 1e3 / rate : now_ms(); }

static bool next_is_due(void) { return next_req < count && (rate <= 0 || due_ms(next_req) <= now_ms()); }

/* Puts the next request on c (or a retry of the current one). */
static void start(int ep, conn *c) {
    for (;;) {
        if (c->req < 0) {
            if (!next_is_due()) return;
            c->req = next_req;
            c->t0 = due_ms(next_req++);
            c->attempts = 0;
        }
        c->written = 0;
        c->got = 0;
        if ((c->fd >= 0 || connect_once(ep, c) == 0) && send_rest(c) == 0) return;
        drop_connection(c);
        if (++c->attempts >= 2) finish(c, -1);
    }
}

/* The status once a whole response is in c->resp, 0 while it is not, -1 when
 * it cannot be read. */
static int parse_response(conn *c) {
    c->resp[c->got] = 0;
    char *end = strstr(c->resp, "\r\n\r\n");
    if (!end) return c->got + 1 >= sizeof c->resp ? -1 : 0;
    const char *cl = strcasestr(c->resp, "content-length:");
    size_t body = cl ? (size_t)atol(cl + 15) : 0;
    size_t head = (size_t)(end + 4 - c->resp);
    if (head + body >= sizeof c->resp) return -1;
    if (c->got < head + body) return 0;
    int status = atoi(c->resp + 9);
    return status > 0 ? status : -1;
}

static void on_readable(int ep, conn *c) {
    ssize_t n = read(c->fd, c->resp + c->got, sizeof c->resp - 1 - c->got);
    int status = -1;
    if (n > 0) {
        c->got += (size_t)n;
        status = parse_response(c);
        if (status == 0) return;
    } else if (n < 0 && errno == EINTR) {
        return;
    }
    if (c->req < 0) { /* the server closed an idle connection */
        drop_connection(c);
        return;
    }
    if (status < 0) {
        drop_connection(c);
        if (++c->attempts >= 2) finish(c, -1);
    } else {
        finish(c, status);
    }
    start(ep, c);
    if (c->req < 0 && c->fd >= 0) idle[n_idle++] = c;
}

/* Open loop: every request due now goes out on an idle connection or a new
 * one; the rest wait for a connection to come free. */
static void send_due(int ep) {
    while (next_is_due()) {
        conn *c;
        if (n_idle) c = idle[--n_idle];
        else if (opened < max_conns) c = &conns[opened++];
        else return;
        start(ep, c);
        if (c->req < 0 && c->fd >= 0) idle[n_idle++] = c;
    }
}

/* How long epoll may sleep: until the next request is due (open loop). */
static int wait_ms(void) {
    /* nothing more to send, or due requests waiting for a connection: only
     * an answer can move things on */
    if (rate <= 0 || next_is_due() || next_req >= count) return 60000;
    /* Whole milliseconds, rounded up: at 5,000/s the requests then go out
     * in bursts of about five, without spinning on a zero timeout. */
    double ms = due_ms(next_req) - now_ms();
    return ms <= 0 ? 0 : ms >= 59999 ? 59999 : (int)ms + 1;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc != 8 && argc != 9) {
        fprintf(stderr, "usage: webhookload PORT STORE SECRET COUNT CONNS FIRST_ORDER_ID SKU_PREFIX [RATE]\n");
        return 2;
    }
    port = atoi(argv[1]);
    count = atoi(argv[4]);
    max_conns = atoi(argv[5]);
    long long first_id = atoll(argv[6]);
    rate = argc == 9 ? atof(argv[8]) : 0;
    if (count < 1 || max_conns < 1 || rate < 0) return 2;
    reqs = calloc((size_t)count, sizeof *reqs);
    lat_ms = calloc((size_t)count, sizeof *lat_ms);
    done_at_ms = calloc((size_t)count, sizeof *done_at_ms);
    for (int i = 0; i < count; i++) reqs[i] = build_request(argv[2], argv[3], argv[7], first_id + i, i);
    conns = calloc((size_t)max_conns, sizeof *conns);
    idle = calloc((size_t)max_conns, sizeof *idle);
    for (int i = 0; i < max_conns; i++) conns[i] = (conn){.fd = -1, .req = -1};
    int ep = epoll_create1(0);
    t_start = now_ms();
    if (rate <= 0) /* closed loop: every connection at once */
        for (opened = 0; opened < max_conns; opened++) start(ep, &conns[opened]);
    struct epoll_event evs[256];
    while (done_n < count) {
        if (rate > 0) send_due(ep);
        int timeout = wait_ms();
        int n = epoll_wait(ep, evs, 256, timeout);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 || (n == 0 && timeout == 60000)) {
            fprintf(stderr, "webhookload: no answer for 60 s (%d of %d done)\n", done_n, count);
            return 1;
        }
        for (int i = 0; i < n; i++) on_readable(ep, evs[i].data.ptr);
    }
    double secs = (now_ms() - t_start) / 1e3;
    double answered_rate = ok_n / secs;
    if (rate > 0) {
        double offered_ms = count * 1e3 / rate, from_ms = offered_ms / 4 < 1000 ? offered_ms / 4 : 1000;
        int in_window = 0;
        for (int i = 0; i < count; i++) in_window += done_at_ms[i] >= from_ms && done_at_ms[i] <= offered_ms;
        answered_rate = in_window / ((offered_ms - from_ms) / 1e3);
    }
    qsort(lat_ms, (size_t)count, sizeof *lat_ms, cmp);
    printf("{\"sent\":%d,\"ok\":%d,\"other\":%d,\"errors\":%d,\"seconds\":%.3f,\"p50_ms\":%.3f,"
           "\"p99_ms\":%.3f,\"max_ms\":%.3f,\"connections\":%d,\"rate\":%.1f}\n",
           count, ok_n, other_n, err_n, secs, lat_ms[count / 2], lat_ms[(int)(count * 0.99)],
           lat_ms[count - 1], opened, answered_rate);
    for (int i = 0; i < count; i++) free(reqs[i].text);
    for (int i = 0; i < opened; i++) drop_connection(&conns[i]);
    close(ep);
    free(conns);
    free(idle);
    free(reqs);
    free(lat_ms);
    free(done_at_ms);
    return 0;
}
