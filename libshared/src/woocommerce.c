/* WooCommerce REST API v3 client and the OAuth 1.0a signing it needs (see
 * wb/shopclient.h).
 *
 * WooCommerce refuses Basic auth over plain HTTP, where the keys could be
 * read off the wire; there it wants a one-legged OAuth 1.0a signature in the
 * query instead, checked the way WC_REST_Authentication does it: parameters
 * from the query, names and values RFC 3986-encoded and sorted, base string
 * METHOD&enc(url)&enc(params), HMAC keyed with consumer_secret + "&". The
 * secret itself never leaves the process. Each attempt is signed afresh:
 * WooCommerce refuses a nonce it has seen, so a retry must not reuse one. */
#include "wb/shopclient.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "wb/crypto.h"
#include "wb/log.h"
#include "wb/runloop.h"

/* ---------------------------------------------------------------- OAuth 1.0a */

char *wb_oauth1_encode(const char *s) {
    static const char hex[] = "0123456789ABCDEF";
    char *out = malloc(strlen(s) * 3 + 1), *o = out;
    if (!out) return NULL;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (isalnum(*c) || *c == '-' || *c == '.' || *c == '_' || *c == '~') {
            *o++ = (char)*c;
        } else {
            *o++ = '%';
            *o++ = hex[*c >> 4];
            *o++ = hex[*c & 15];
        }
    }
    *o = 0;
    return out;
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Form-decodes s[0..n) into a new string ('+' is a space). NULL on a bad
 * escape: signing something other than what the server will decode would
 * only fail later and less clearly. */
static char *form_decode(const char *s, size_t n) {
    char *out = malloc(n + 1), *o = out;
    if (!out) return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            *o++ = ' ';
        } else if (s[i] == '%') {
            int hi = i + 1 < n ? hex_digit(s[i + 1]) : -1;
            int lo = i + 2 < n ? hex_digit(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                free(out);
                return NULL;
            }
            *o++ = (char)(hi * 16 + lo);
            i += 2;
        } else {
            *o++ = s[i];
        }
    }
    *o = 0;
    return out;
}

typedef struct {
    char *name, *value; /* encoded */
} param;

static int cmp_param(const void *a, const void *b) {
    const param *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

static void free_params(param *ps, int n) {
    for (int i = 0; i < n; i++) free(ps[i].name), free(ps[i].value);
    free(ps);
}

/* One "name=value" (or "name") of length len as an encoded pair. */
static int add_param(param **ps, int n, const char *p, size_t len) {
    const char *eq = memchr(p, '=', len);
    size_t nl = eq ? (size_t)(eq - p) : len;
    char *name = form_decode(p, nl);
    char *value = eq ? form_decode(eq + 1, len - nl - 1) : strdup("");
    param *grown = realloc(*ps, (size_t)(n + 1) * sizeof **ps);
    if (grown) *ps = grown;
    int rc = -1;
    if (name && value && grown) {
        grown[n].name = wb_oauth1_encode(name);
        grown[n].value = wb_oauth1_encode(value);
        rc = grown[n].name && grown[n].value ? 0 : -1;
        if (rc) free(grown[n].name), free(grown[n].value);
    }
    free(name), free(value);
    return rc;
}

/* Splits a query into encoded pairs. Returns the count, -1 on a bad escape. */
static int parse_params(const char *query, param **out) {
    int n = 0;
    param *ps = NULL;
    for (const char *p = query; p && *p;) {
        size_t len = strcspn(p, "&");
        if (len && add_param(&ps, n++, p, len) != 0) {
            free_params(ps, n - 1);
            return -1;
        }
        p += len;
        if (*p == '&') p++;
    }
    *out = ps;
    return n;
}

char *wb_oauth1_normalize(const char *query) {
    param *ps = NULL;
    int n = parse_params(query, &ps);
    if (n < 0) return NULL;
    if (n > 1) qsort(ps, (size_t)n, sizeof *ps, cmp_param);
    size_t size = 1;
    for (int i = 0; i < n; i++) size += strlen(ps[i].name) + strlen(ps[i].value) + 2;
    char *out = malloc(size), *o = out;
    if (out) *o = 0;
    for (int i = 0; i < n; i++) {
        if (out) o += sprintf(o, "%s%s=%s", i ? "&" : "", ps[i].name, ps[i].value);
    }
    free_params(ps, n);
    return out;
}

/* scheme://host[:port]/path with scheme and host lowercased, a default port
 * dropped and the query and fragment cut (RFC 5849 3.4.1.2). */
static char *base_url(const char *url) {
    const char *sep = strstr(url, "://");
    if (!sep) return NULL;
    size_t scheme_len = (size_t)(sep - url);
    const char *host = sep + 3;
    size_t auth_len = strcspn(host, "/?#");
    size_t path_len = strcspn(host + auth_len, "?#");
    char *out = malloc(strlen(url) + 2);
    if (!out) return NULL;
    char *o = out;
    for (size_t i = 0; i < scheme_len; i++) *o++ = (char)tolower((unsigned char)url[i]);
    o = stpcpy(o, "://");
    size_t host_len = auth_len;
    const char *colon = memchr(host, ':', auth_len);
    if (colon) {
        const char *port = colon + 1;
        size_t port_len = auth_len - (size_t)(port - host);
        bool is_default = (port_len == 2 && !strncmp(port, "80", 2) && scheme_len == 4) ||
                          (port_len == 3 && !strncmp(port, "443", 3) && scheme_len == 5);
        if (is_default) host_len = (size_t)(colon - host);
    }
    for (size_t i = 0; i < host_len; i++) *o++ = (char)tolower((unsigned char)host[i]);
    memcpy(o, host + auth_len, path_len);
    o += path_len;
    if (!path_len) *o++ = '/';
    *o = 0;
    return out;
}

char *wb_oauth1_signature(const char *method, const char *url, const char *sorted_params,
                          const char *consumer_secret) {
    char *base = base_url(url);
    char *enc_url = base ? wb_oauth1_encode(base) : NULL;
    char *enc_params = wb_oauth1_encode(sorted_params ? sorted_params : "");
    char *text = NULL, *key = NULL, *sig = NULL;
    if (!enc_url || !enc_params || asprintf(&text, "%s&%s&%s", method, enc_url, enc_params) < 0 ||
        asprintf(&key, "%s&", consumer_secret) < 0) {
        text = key = NULL;
        goto done;
    }
    unsigned char mac[WB_SHA256_LEN];
    wb_hmac_sha256(key, strlen(key), text, strlen(text), mac);
    sig = malloc(64);
    if (sig && !wb_base64_encode(mac, sizeof mac, sig, 64)) {
        free(sig);
        sig = NULL;
    }
done:
    if (key) memset(key, 0, strlen(key));
    free(key);
    free(text);
    free(base);
    free(enc_url);
    free(enc_params);
    return sig;
}

char *wb_oauth1_signed_query(const char *method, const char *url, const char *query,
                             const char *consumer_key, const char *consumer_secret,
                             long long timestamp, const char *nonce) {
    char *ck = wb_oauth1_encode(consumer_key), *nc = wb_oauth1_encode(nonce);
    char *unsigned_q = NULL, *params = NULL, *sig = NULL, *enc_sig = NULL, *out = NULL;
    if (!ck || !nc) goto done;
    bool has_query = query && *query;
    if (asprintf(&unsigned_q,
                 "%s%soauth_consumer_key=%s&oauth_nonce=%s&oauth_signature_method=HMAC-SHA256"
                 "&oauth_timestamp=%lld",
                 has_query ? query : "", has_query ? "&" : "", ck, nc, timestamp) < 0) {
        unsigned_q = NULL;
        goto done;
    }
    params = wb_oauth1_normalize(unsigned_q);
    sig = params ? wb_oauth1_signature(method, url, params, consumer_secret) : NULL;
    enc_sig = sig ? wb_oauth1_encode(sig) : NULL;
    if (enc_sig && asprintf(&out, "%s&oauth_signature=%s", unsigned_q, enc_sig) < 0) out = NULL;
done:
    free(ck), free(nc), free(unsigned_q), free(params), free(sig), free(enc_sig);
    return out;
}

/* ---------------------------------------------------------------- the client */

/* The longest a request waits for the shared budget before it fails (and
 * the caller retries it as it would a shop that did not answer). */
#define WB_WOO_BUDGET_WAIT_MS 60000

struct wb_woo {
    char *store_id, *base, *key, *secret, *userpwd;
    bool https;
    wb_shop_http *http;
    wb_rate_budget *budget; /* the caller's; NULL = unpaced */
    double budget_rps, budget_floor;
    bool budget_warned;     /* Redis did not answer: said once */
};

void wb_woo_set_budget(wb_woo *w, wb_rate_budget *budget, double per_second, double floor) {
    if (!w) return;
    w->budget = per_second > 0 ? budget : NULL;
    w->budget_rps = per_second;
    w->budget_floor = floor;
}

wb_woo *wb_woo_new(const char *store_id, const char *base_url, const char *consumer_key,
                   const char *consumer_secret, const wb_shop_opts *opts) {
    if (!store_id || !base_url || !consumer_key || !consumer_secret) return NULL;
    wb_woo *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    size_t blen = strlen(base_url);
    while (blen && base_url[blen - 1] == '/') blen--;
    w->store_id = strdup(store_id);
    w->base = strndup(base_url, blen);
    w->key = strdup(consumer_key);
    w->secret = strdup(consumer_secret);
    w->https = strncasecmp(base_url, "https://", 8) == 0;
    if (w->https && asprintf(&w->userpwd, "%s:%s", consumer_key, consumer_secret) < 0)
        w->userpwd = NULL;
    w->http = wb_shop_http_new(store_id, "woocommerce", opts);
    wb_log_add_secret(consumer_secret);
    if (!w->store_id || !w->base || !w->key || !w->secret || !w->http ||
        (w->https && !w->userpwd)) {
        wb_woo_free(w);
        return NULL;
    }
    return w;
}

static void free_secret(char *s) {
    if (s) memset(s, 0, strlen(s));
    free(s);
}

void wb_woo_free(wb_woo *w) {
    if (!w) return;
    wb_shop_http_free(w->http);
    free_secret(w->secret);
    free_secret(w->userpwd);
    free(w->key);
    free(w->base);
    free(w->store_id);
    free(w);
}

typedef struct {
    wb_woo *w;
    const char *method, *url, *query; /* url without the query */
} sign_ctx;

/* Every attempt, a retry too, is a request the shop's host counts. */
static int pace_attempt(wb_woo *w, char *err, size_t err_size) {
    if (!w->budget) return 0;
    int rc = wb_rate_budget_wait(w->budget, w->store_id, w->budget_rps, 1, w->budget_floor, WB_WOO_BUDGET_WAIT_MS);
    if (rc == 1) {
        snprintf(err, err_size, "rate budget: no request within %d ms at %.6g/s%s", WB_WOO_BUDGET_WAIT_MS,
                 w->budget_rps, wb_stopping() ? " (stopping)" : "");
        return -1;
    }
    if (rc < 0 && !w->budget_warned) {
        w->budget_warned = true;
        wb_warn(w->store_id, "rate budget: Redis did not answer; requests go out unpaced by the shared budget");
    }
    return 0;
}

/* A fresh timestamp and nonce per attempt. */
static int sign_attempt(void *arg, int attempt, int *wait_ms, char **url, char *err,
                        size_t err_size) {
    (void)attempt, (void)wait_ms;
    sign_ctx *c = arg;
    if (pace_attempt(c->w, err, err_size) != 0) return -1;
    unsigned char raw[16];
    char nonce[33];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
        snprintf(err, err_size, "no random bytes for the OAuth nonce");
        return -1;
    }
    for (int i = 0; i < 16; i++) sprintf(nonce + 2 * i, "%02x", raw[i]);
    char *q = wb_oauth1_signed_query(c->method, c->url, c->query, c->w->key, c->w->secret,
                                     (long long)(wb_wall_ms() / 1000), nonce);
    if (!q || asprintf(url, "%s?%s", c->url, q) < 0) {
        *url = NULL;
        free(q);
        snprintf(err, err_size, "cannot sign the request (bad %%-escape in the query?)");
        return -1;
    }
    free(q);
    return 0;
}

/* Over https the credentials go as Basic auth: only the pacing per attempt. */
static int paced_attempt(void *arg, int attempt, int *wait_ms, char **url, char *err, size_t err_size) {
    (void)attempt, (void)wait_ms, (void)url;
    return pace_attempt(((sign_ctx *)arg)->w, err, err_size);
}

int wb_woo_request(wb_woo *w, const char *method, const char *path, const char *query,
                   const cJSON *body, wb_shop_response *response) {
    char *url = NULL, *full = NULL, *text = body ? cJSON_PrintUnformatted(body) : NULL;
    const char *prefix = path[0] == '/' ? "" : "/wp-json/wc/v3/";
    bool has_query = query && *query;
    if (asprintf(&url, "%s%s%s", w->base, prefix, path) < 0) url = NULL;
    if (url && asprintf(&full, "%s%s%s", url, has_query ? "?" : "", has_query ? query : "") < 0)
        full = NULL;
    if (!url || !full || (body && !text)) {
        memset(response, 0, sizeof *response);
        response->total_pages = response->total_items = -1;
        snprintf(response->error, sizeof response->error, "out of memory");
        free(url), free(full), cJSON_free(text);
        return -1;
    }
    const char *headers[] = {"Accept: application/json",
                             text ? "Content-Type: application/json" : NULL, NULL};
    sign_ctx sc = {w, method, url, query};
    wb_shop_request req = {.method = method, .url = full, .headers = headers, .body = text,
                           .body_len = text ? strlen(text) : 0};
    req.ctx = &sc;
    if (w->https) {
        req.userpwd = w->userpwd;
        req.before_attempt = paced_attempt;
    } else {
        req.before_attempt = sign_attempt;
    }
    int rc = wb_shop_http_do(w->http, &req, response);
    free(url), free(full), cJSON_free(text);
    return rc;
}
