/* Load generator for bench/order_ingest.py: signed Shopify orders/create
 * webhooks, each a different order, over CONNS keep-alive connections (one
 * thread each), as fast as the service answers. Signing happens before a
 * request's clock starts. Prints one JSON line:
 *   {"sent":N,"ok":N,"other":N,"errors":N,"seconds":S,"p50_ms":X,"p99_ms":Y,"max_ms":Z}
 *
 *   webhookload PORT STORE SECRET COUNT CONNS FIRST_ORDER_ID SKU_PREFIX */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "wb/crypto.h"

static int port, count, conns;
static long long first_id;
static const char *store, *secret, *prefix;
static double *lat_ms;
static int ok_n, other_n, err_n;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int connect_once(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* Reads one response; returns its status, or -1. */
static int read_response(int fd, char *buf, size_t size) {
    size_t got = 0;
    char *end = NULL;
    while (!end) {
        if (got + 1 >= size) return -1;
        ssize_t n = read(fd, buf + got, size - 1 - got);
        if (n <= 0) return -1;
        got += (size_t)n;
        buf[got] = 0;
        end = strstr(buf, "\r\n\r\n");
    }
    const char *cl = strcasestr(buf, "content-length:");
    size_t body = cl ? (size_t)atol(cl + 15) : 0;
    size_t have = got - (size_t)(end + 4 - buf);
    while (have < body) {
        char tmp[4096];
        size_t want = body - have < sizeof tmp ? body - have : sizeof tmp;
        ssize_t n = read(fd, tmp, want);
        if (n <= 0) return -1;
        have += (size_t)n;
    }
    return atoi(buf + 9);
}

static void *worker(void *arg) {
    int w = (int)(long)arg;
    int fd = connect_once();
    char *body = malloc(8192), *req = malloc(16384), resp[8192];
    for (int i = w; i < count; i += conns) {
        long long id = first_id + i;
        int blen = snprintf(body, 8192,
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
        int rlen = snprintf(req, 16384,
            "POST /webhooks/shopify/%s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            "Content-Length: %d\r\nX-Shopify-Topic: orders/create\r\nX-Shopify-Hmac-Sha256: %s\r\n"
            "X-Shopify-Webhook-Id: bench-%lld\r\n\r\n%s", store, blen, sig, id, body);
        double t0 = now_ms();
        int status = -1;
        for (int attempt = 0; attempt < 2 && status < 0; attempt++) {
            if (fd < 0) fd = connect_once();
            if (fd >= 0 && write(fd, req, (size_t)rlen) == rlen) status = read_response(fd, resp, sizeof resp);
            if (status < 0 && fd >= 0) {
                close(fd);
                fd = -1;
            }
        }
        lat_ms[i] = now_ms() - t0;
        pthread_mutex_lock(&mu);
        if (status == 200) ok_n++;
        else if (status > 0) other_n++;
        else err_n++;
        pthread_mutex_unlock(&mu);
    }
    if (fd >= 0) close(fd);
    free(body);
    free(req);
    return NULL;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc != 8) {
        fprintf(stderr, "usage: webhookload PORT STORE SECRET COUNT CONNS FIRST_ORDER_ID SKU_PREFIX\n");
        return 2;
    }
    port = atoi(argv[1]);
    store = argv[2];
    secret = argv[3];
    count = atoi(argv[4]);
    conns = atoi(argv[5]);
    first_id = atoll(argv[6]);
    prefix = argv[7];
    if (count < 1 || conns < 1) return 2;
    lat_ms = calloc((size_t)count, sizeof *lat_ms);
    pthread_t *t = calloc((size_t)conns, sizeof *t);
    double start = now_ms();
    for (long i = 0; i < conns; i++) pthread_create(&t[i], NULL, worker, (void *)i);
    for (int i = 0; i < conns; i++) pthread_join(t[i], NULL);
    double secs = (now_ms() - start) / 1e3;
    qsort(lat_ms, (size_t)count, sizeof *lat_ms, cmp);
    printf("{\"sent\":%d,\"ok\":%d,\"other\":%d,\"errors\":%d,\"seconds\":%.3f,\"p50_ms\":%.3f,"
           "\"p99_ms\":%.3f,\"max_ms\":%.3f}\n",
           count, ok_n, other_n, err_n, secs, lat_ms[count / 2], lat_ms[(int)(count * 0.99)],
           lat_ms[count - 1]);
    free(lat_ms);
    free(t);
    return 0;
}
