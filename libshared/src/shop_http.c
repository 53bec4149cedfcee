/* The retrying libcurl core under the shop clients (see wb/shopclient.h).
 *
 * One loop: wait (the caller's bucket, then backoff or Retry-After), send,
 * judge the answer, count it. Retried: 5xx, 429, timeouts and connection
 * errors; a throttled answer does not use up max_attempts (throttling is the
 * shop asking us to slow down, not a failure), only the deadline bounds it.
 * Every wait is cut short by the deadline and by a stop request, so a
 * stopping service never sits in a backoff. */
#include "wb/shopclient.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "wb/log.h"
#include "wb/metrics.h"
#include "wb/runloop.h"

/* A shop answer larger than this is a fault, not data we want in memory. */
#define MAX_BODY_BYTES (64u * 1024 * 1024)

struct wb_shop_http {
    CURL *curl;
    char *store_id, *platform;
    wb_shop_opts opts;
    uint64_t rng;
    wb_metric *calls, *seconds;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

void wb_shop_opts_defaults(wb_shop_opts *o) {
    if (o->connect_timeout_ms <= 0) o->connect_timeout_ms = 3000;
    if (o->request_timeout_ms <= 0) o->request_timeout_ms = 15000;
    if (o->deadline_ms <= 0) o->deadline_ms = 60000;
    if (o->max_attempts <= 0) o->max_attempts = 6;
    if (o->backoff_base_ms <= 0) o->backoff_base_ms = 200;
    if (o->backoff_max_ms <= 0) o->backoff_max_ms = 10000;
}

void wb_shop_response_free(wb_shop_response *r) {
    if (!r) return;
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
}

wb_shop_http *wb_shop_http_new(const char *store_id, const char *platform,
                               const wb_shop_opts *opts) {
    pthread_once(&curl_once, curl_init_once);
    wb_shop_http *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    h->curl = curl_easy_init();
    h->store_id = strdup(store_id ? store_id : "");
    h->platform = strdup(platform ? platform : "");
    if (opts) h->opts = *opts;
    wb_shop_opts_defaults(&h->opts);
    /* Jitter only needs to differ between replicas and clients, not to be
     * unpredictable. */
    h->rng = (uint64_t)wb_wall_ms() * 6364136223846793005ULL ^ (uint64_t)(uintptr_t)h;
    if (!h->rng) h->rng = 1;
    h->calls = wb_counter("wb_shop_calls_total", "Shop API HTTP attempts by outcome",
                          "store,platform,outcome");
    h->seconds = wb_histogram("wb_shop_call_seconds", "Shop API HTTP attempt duration",
                              "store,platform", wb_latency_buckets, wb_latency_bucket_count);
    if (!h->curl || !h->store_id || !h->platform) {
        wb_shop_http_free(h);
        return NULL;
    }
    return h;
}

void wb_shop_http_free(wb_shop_http *h) {
    if (!h) return;
    if (h->curl) curl_easy_cleanup(h->curl);
    free(h->store_id);
    free(h->platform);
    free(h);
}

static uint64_t next_random(wb_shop_http *h) {
    h->rng ^= h->rng << 13;
    h->rng ^= h->rng >> 7;
    h->rng ^= h->rng << 17;
    return h->rng;
}

/* Full jitter: uniform in [0, min(max, base * 2^(n-1))]. Spreads the retries
 * of many replicas hit by the same outage instead of synchronising them. */
static int backoff_ms(wb_shop_http *h, int failures) {
    int64_t cap = h->opts.backoff_base_ms;
    for (int i = 1; i < failures && cap < h->opts.backoff_max_ms; i++) cap *= 2;
    if (cap > h->opts.backoff_max_ms) cap = h->opts.backoff_max_ms;
    return (int)(next_random(h) % (uint64_t)(cap + 1));
}

/* The URL as it may be logged: no query (it may hold an OAuth signature or
 * a caller's token) and no fragment. */
static void loggable_url(const char *url, char *out, size_t size) {
    size_t n = strcspn(url, "?#");
    snprintf(out, size, "%.*s", (int)n, url);
}

/* ---------------------------------------------------------------- one attempt */

typedef struct {
    wb_shop_response *r;
    size_t cap;
    bool too_big;
} sink;

static size_t on_body(char *data, size_t size, size_t n, void *arg) {
    sink *s = arg;
    size_t len = size * n;
    if (s->r->body_len + len > MAX_BODY_BYTES) {
        s->too_big = true;
        return 0; /* makes curl fail the transfer with CURLE_WRITE_ERROR */
    }
    if (s->r->body_len + len + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->r->body_len + len + 1) cap *= 2;
        char *grown = realloc(s->r->body, cap);
        if (!grown) return 0;
        s->r->body = grown;
        s->cap = cap;
    }
    memcpy(s->r->body + s->r->body_len, data, len);
    s->r->body_len += len;
    s->r->body[s->r->body_len] = 0;
    return len;
}

static long header_number(const char *line, size_t len, const char *name) {
    size_t nl = strlen(name);
    if (len <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':') return -2;
    char buf[32];
    size_t vl = len - nl - 1;
    if (vl >= sizeof buf) vl = sizeof buf - 1;
    memcpy(buf, line + nl + 1, vl);
    buf[vl] = 0;
    char *end;
    long v = strtol(buf, &end, 10);
    return end == buf ? -2 : v;
}

static size_t on_header(char *line, size_t size, size_t n, void *arg) {
    wb_shop_response *r = arg;
    size_t len = size * n;
    long v;
    if ((v = header_number(line, len, "X-WP-TotalPages")) != -2) r->total_pages = v;
    if ((v = header_number(line, len, "X-WP-Total")) != -2) r->total_items = v;
    return len;
}

/* Clears what one attempt fills in, keeping attempts. */
static void reset_answer(wb_shop_response *r) {
    wb_shop_response_free(r);
    r->status = 0;
    r->total_pages = r->total_items = -1;
    r->error[0] = 0;
}

typedef enum { OUT_OK, OUT_CLIENT, OUT_SERVER, OUT_THROTTLED, OUT_TIMEOUT, OUT_NETWORK } outcome;

static const char *outcome_names[] = {"ok", "client_error", "server_error",
                                      "throttled", "timeout", "network"};

/* Connection-level failures worth another try; anything else (a bad URL, a
 * certificate problem, a body over the limit) will fail the same way again. */
static bool curl_retryable(CURLcode rc) {
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
        return true;
    default:
        return false;
    }
}

static void set_method(CURL *c, const wb_shop_request *req) {
    const char *m = req->method ? req->method : "GET";
    if (req->body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        if (strcmp(m, "POST") != 0) curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);
    } else if (strcmp(m, "GET") == 0) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else {
        if (strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
        }
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);
    }
}

/* Sends once within timeout_ms. Returns the outcome; *retry_after_s is the
 * Retry-After header in seconds, -1 when absent; *fatal is set when another
 * try would fail the same way. */
static outcome perform(wb_shop_http *h, const wb_shop_request *req, const char *url,
                       int timeout_ms, wb_shop_response *out, long *retry_after_s,
                       bool *fatal) {
    CURL *c = h->curl;
    curl_easy_reset(c); /* keeps the connection cache: keep-alive across calls */
    struct curl_slist *hdrs = curl_slist_append(NULL, "Expect:");
    for (const char *const *p = req->headers; p && *p; p++) hdrs = curl_slist_append(hdrs, *p);
    sink s = {out, 0, false};
    char curl_err[CURL_ERROR_SIZE] = "";
    int connect_ms = h->opts.connect_timeout_ms < timeout_ms ? h->opts.connect_timeout_ms
                                                              : timeout_ms;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L); /* never carry credentials elsewhere */
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)connect_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "wmsbridge/1");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
    if (req->userpwd) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERPWD, req->userpwd);
    }
    set_method(c, req);

    CURLcode rc = curl_easy_perform(c);
    *retry_after_s = -1;
    *fatal = false;
    outcome o;
    if (rc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
        curl_off_t ra = 0;
        if (curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
            *retry_after_s = (long)ra;
        o = out->status == 429  ? OUT_THROTTLED
            : out->status >= 500 ? OUT_SERVER
            : out->status >= 400 ? OUT_CLIENT
                                 : OUT_OK;
        if (o != OUT_OK) snprintf(out->error, sizeof out->error, "HTTP %ld", out->status);
    } else {
        o = rc == CURLE_OPERATION_TIMEDOUT ? OUT_TIMEOUT : OUT_NETWORK;
        snprintf(out->error, sizeof out->error, "%s",
                 s.too_big ? "answer larger than the limit"
                           : curl_err[0] ? curl_err : curl_easy_strerror(rc));
        out->status = 0;
        wb_shop_response_free(out); /* a partial body is no answer */
        *fatal = !curl_retryable(rc);
    }
    curl_slist_free_all(hdrs);
    /* libcurl keeps pointers to our stack; drop them now. */
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    return o;
}

/* ---------------------------------------------------------------- the loop */

typedef struct {
    wb_shop_http *h;
    const wb_shop_request *req;
    wb_shop_response *out;
    int64_t deadline;
    outcome last; /* of the last attempt, after the caller's judgement */
    char logurl[512];
} call_state;

/* Waits ms within the deadline. Returns 0, or -1 with out->error set. */
static int wait_within(call_state *cs, int ms, const char *why) {
    if (ms <= 0) return 0;
    if (wb_monotonic_ms() + ms >= cs->deadline) {
        snprintf(cs->out->error, sizeof cs->out->error,
                 "deadline: %s would wait %d ms past it", why, ms);
        return -1;
    }
    if (!wb_sleep_ms(ms)) {
        snprintf(cs->out->error, sizeof cs->out->error, "stopping: %s wait cut short", why);
        return -1;
    }
    return 0;
}

/* What to do after an attempt: 0 done, 1 retry after *wait_ms. */
static int judge(call_state *cs, outcome o, bool fatal, long retry_after_s, int failures,
                 int *wait_ms) {
    wb_shop_http *h = cs->h;
    int hook_ms = -1, throttled = 0;
    if (cs->out->status && cs->req->after_answer)
        throttled = cs->req->after_answer(cs->req->ctx, cs->out, &hook_ms);
    if (o == OUT_OK && throttled) {
        o = OUT_THROTTLED;
        snprintf(cs->out->error, sizeof cs->out->error, "throttled");
    }
    cs->last = o;
    wb_counter_inc(h->calls, h->store_id, h->platform, outcome_names[o]);
    if (o == OUT_OK || o == OUT_CLIENT || fatal) return 0;
    if (o != OUT_THROTTLED && failures >= h->opts.max_attempts) return 0;
    /* The shop's own word first, then the caller's (Shopify's bucket), then
     * our backoff. */
    if (retry_after_s >= 0)
        *wait_ms = retry_after_s > 86400 ? 86400000 : (int)(retry_after_s * 1000);
    else if (hook_ms >= 0)
        *wait_ms = hook_ms;
    else
        *wait_ms = backoff_ms(h, failures);
    return 1;
}

/* gave_up: a retryable failure that we stop retrying (attempts, deadline,
 * stop) or one that cannot be retried; a 4xx is the caller's to judge. */
static int finish(call_state *cs, bool gave_up) {
    wb_shop_response *out = cs->out;
    if (gave_up)
        wb_warn(cs->h->store_id, "shop %s %s %s: giving up after %d attempt(s): %s",
                cs->h->platform, cs->req->method ? cs->req->method : "GET", cs->logurl,
                out->attempts, out->error);
    return out->status ? 0 : -1;
}

int wb_shop_http_do(wb_shop_http *h, const wb_shop_request *req, wb_shop_response *out) {
    memset(out, 0, sizeof *out);
    out->total_pages = out->total_items = -1;
    call_state cs = {h, req, out, wb_monotonic_ms() + h->opts.deadline_ms, OUT_OK, ""};
    loggable_url(req->url, cs.logurl, sizeof cs.logurl);
    int failures = 0;
    for (;;) {
        int wait = 0;
        char *url = NULL;
        if (req->before_attempt &&
            req->before_attempt(req->ctx, out->attempts + 1, &wait, &url, out->error,
                                sizeof out->error) != 0) {
            free(url);
            return finish(&cs, true);
        }
        if (wait_within(&cs, wait, "rate limit") != 0) {
            free(url);
            return finish(&cs, true);
        }
        int64_t left = cs.deadline - wb_monotonic_ms();
        if (left <= 0) {
            free(url);
            snprintf(out->error, sizeof out->error, "deadline passed");
            return finish(&cs, true);
        }
        int timeout = left < h->opts.request_timeout_ms ? (int)left : h->opts.request_timeout_ms;
        reset_answer(out);
        out->attempts++;
        long retry_after_s;
        bool fatal;
        int64_t t0 = wb_monotonic_ms();
        outcome o = perform(h, req, url ? url : req->url, timeout, out, &retry_after_s, &fatal);
        free(url);
        wb_histogram_observe(h->seconds, (double)(wb_monotonic_ms() - t0) / 1000.0,
                             h->store_id, h->platform);
        if (o != OUT_THROTTLED) failures++;
        int retry_ms = 0;
        if (!judge(&cs, o, fatal, retry_after_s, failures, &retry_ms)) {
            bool answered = cs.last == OUT_OK || cs.last == OUT_CLIENT;
            if (cs.last == OUT_OK) out->error[0] = 0;
            return finish(&cs, !answered);
        }
        wb_info(h->store_id, "shop %s %s %s: %s (attempt %d), retrying in %d ms", h->platform,
                req->method ? req->method : "GET", cs.logurl, out->error, out->attempts,
                retry_ms);
        if (wait_within(&cs, retry_ms, "retry") != 0) return finish(&cs, true);
    }
}
