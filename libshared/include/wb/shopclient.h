/* Shop API clients (libcurl), used by every service that talks to a shop.
 *
 * Common to both: connect and total timeouts; retries with exponential
 * backoff and full jitter on 5xx, timeouts and connection errors; Retry-After
 * honoured on 429 (and 503); a request never outlives its deadline, and waits
 * end early when the process is stopping. Each HTTP attempt counts
 * wb_shop_calls_total{store,platform,outcome} (outcome: ok, client_error,
 * server_error, throttled, timeout, network) and observes
 * wb_shop_call_seconds{store,platform}. Credentials travel only in headers
 * (Shopify, WooCommerce over HTTPS) or in an OAuth signature, and never appear
 * in a log line: URLs are logged without their query, and the clients
 * register their credentials with wb_log_add_secret().
 *
 * Threads: a client object (and its libcurl handle, which keeps the
 * connection alive between calls) is used by one thread at a time; give each
 * thread its own. Creating clients is thread-safe (curl_global_init runs once).
 *
 * Retried methods: every method is retried, POST included. Shopify mutations
 * are made safe by their @idempotent key; a WooCommerce write that is not
 * idempotent (an order note, a tracking entry) may apply twice after a
 * timeout, so such callers read before resending or set max_attempts 1. */
#ifndef WB_SHOPCLIENT_H
#define WB_SHOPCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>
#include "wb/ratebudget.h"

typedef struct wb_shop_opts {
    int connect_timeout_ms; /* default 3000 */
    int request_timeout_ms; /* one attempt; default 15000 */
    int deadline_ms;        /* all attempts and waits together; default 60000 */
    int max_attempts;       /* default 6; throttled answers do not count */
    int backoff_base_ms;    /* default 200; doubles per attempt, full jitter */
    int backoff_max_ms;     /* default 10000 */
} wb_shop_opts;

/* Zero fields take the defaults above. */
void wb_shop_opts_defaults(wb_shop_opts *opts);

typedef struct wb_shop_response {
    long status;       /* final HTTP status, 0 when no answer came */
    char *body;        /* malloc'd, NUL-terminated; NULL when none */
    size_t body_len;
    int attempts;
    long total_pages;  /* WooCommerce X-WP-TotalPages, -1 when absent */
    long total_items;  /* WooCommerce X-WP-Total, -1 when absent */
    char error[256];   /* why it failed, when it did */
} wb_shop_response;

void wb_shop_response_free(wb_shop_response *r);

/* ---------------------------------------------------------------- Shopify */

/* Shopify Admin GraphQL, API version 2026-07, at
 * {base_url}/admin/api/2026-07/graphql.json with X-Shopify-Access-Token.
 * The client keeps the store's last throttleStatus and, before each request,
 * waits until the bucket can pay the request's expected cost (restore rate
 * times the time since the last answer). THROTTLED answers (HTTP 429 or 200
 * with errors[].extensions.code = THROTTLED) wait and retry within the
 * deadline. */
typedef struct wb_shopify wb_shopify;

typedef struct wb_shopify_cost {
    double requested, actual;
    double maximum, available, restore_rate; /* throttleStatus */
} wb_shopify_cost;

#define WB_SHOPIFY_API_VERSION "2026-07"

wb_shopify *wb_shopify_new(const char *store_id, const char *base_url, const char *access_token,
                           const wb_shop_opts *opts);
void wb_shopify_free(wb_shopify *s);

/* Runs one operation. expected_cost: what the caller expects it to cost (a
 * mutation 10, a query per Shopify's calculated cost); 0 = the
 * requestedQueryCost the same document had last time on this client, else
 * the last one seen. On 0 the whole response document (data, errors,
 * extensions) is in *response, to cJSON_Delete(); GraphQL errors other than
 * THROTTLED are returned there too, with rc 0, for the caller to judge.
 * Returns -1 with err on transport failure, auth failure or a deadline
 * passed while throttled. */
int wb_shopify_graphql(wb_shopify *s, const char *document, const cJSON *variables,
                       double expected_cost, cJSON **response, char *err, size_t err_size);

/* The throttle status of the last answer (all zero before the first). */
wb_shopify_cost wb_shopify_last_cost(const wb_shopify *s);

/* ---------------------------------------------------------------- WooCommerce */

/* WooCommerce REST API v3 under {base_url}/wp-json/wc/v3/. Over https:
 * HTTP Basic auth with the consumer key and secret. Over plain http: OAuth
 * 1.0a one-legged, HMAC-SHA256 signature in the query, as WooCommerce
 * requires (it refuses Basic auth without TLS). */
typedef struct wb_woo wb_woo;

wb_woo *wb_woo_new(const char *store_id, const char *base_url, const char *consumer_key,
                   const char *consumer_secret, const wb_shop_opts *opts);
void wb_woo_free(wb_woo *w);

/* Paces every request of this client, retries too, by the store's rate
 * budget shared in Redis (wb/ratebudget.h): per_second requests a second
 * (the store's rate_limit_rps; 0 = unpaced), taking only while floor tokens
 * stay for callers of higher priority. budget stays the caller's, one per
 * thread, and must outlive the client's use. */
void wb_woo_set_budget(wb_woo *w, wb_rate_budget *budget, double per_second, double floor);

/* method GET|POST|PUT|DELETE; path relative to /wp-json/wc/v3/ ("orders",
 * "products/12/variations/batch") or absolute from the site root when it
 * starts with "/" (e.g. "/wp-json/wc-shipment-tracking/v3/orders/5/shipment-trackings");
 * query "a=b&c=d" (values already URL-encoded) or NULL; body JSON or NULL.
 * Returns 0 when an answer came (any status: check response->status), -1 when
 * none came within the deadline (response->error says why). Free *response
 * with wb_shop_response_free either way. */
int wb_woo_request(wb_woo *w, const char *method, const char *path, const char *query,
                   const cJSON *body, wb_shop_response *response);

/* ---------------------------------------------------------------- OAuth 1.0a
 * One-legged, HMAC-SHA256, as WooCommerce checks it (RFC 5849 section 3.4):
 * base string = METHOD "&" enc(base URL) "&" enc(normalized parameters),
 * key = consumer_secret "&". Exposed for tests. All results are malloc'd. */

/* RFC 3986 percent-encoding: everything but ALPHA DIGIT - . _ ~ as %XX. */
char *wb_oauth1_encode(const char *s);

/* A query ("b=2&a=x+y&a=%41") as normalized parameters: every name and value
 * decoded (a '+' is a space, as a form decoder reads it), re-encoded with
 * wb_oauth1_encode, sorted by name then value, joined with '&'. NULL when a
 * pair has a bad %-escape. */
char *wb_oauth1_normalize(const char *query);

/* The base64 HMAC-SHA256 signature. url: scheme, host and path (a query or
 * fragment is ignored; scheme and host are lowercased and a default port is
 * dropped); sorted_params: as wb_oauth1_normalize returns. */
char *wb_oauth1_signature(const char *method, const char *url, const char *sorted_params,
                          const char *consumer_secret);

/* query (may be NULL) followed by the oauth_* parameters, the signature last:
 * what goes after the '?' of the request. timestamp in seconds since the epoch;
 * nonce unique per request (WooCommerce refuses a nonce seen before). */
char *wb_oauth1_signed_query(const char *method, const char *url, const char *query,
                             const char *consumer_key, const char *consumer_secret,
                             long long timestamp, const char *nonce);

/* ---------------------------------------------------------------- the shared core
 * The retrying libcurl loop under both clients (shop_http.c), usable for any
 * other shop endpoint. One wb_shop_http per client: one thread at a time. */
typedef struct wb_shop_http wb_shop_http;

/* platform is the metric label ("shopify", "woocommerce"). */
wb_shop_http *wb_shop_http_new(const char *store_id, const char *platform,
                               const wb_shop_opts *opts);
void wb_shop_http_free(wb_shop_http *h);

typedef struct wb_shop_request {
    const char *method;          /* GET POST PUT DELETE */
    const char *url;             /* with its query; logged without it */
    const char *const *headers;  /* "Name: value", NULL-terminated, or NULL */
    const char *body;            /* or NULL */
    size_t body_len;
    const char *userpwd;         /* HTTP Basic "user:password", or NULL */
    void *ctx;                   /* for the hooks below */
    /* Before each attempt, may be NULL: how long to wait first (ms, e.g. for
     * Shopify's bucket) and, when *url is set to a malloc'd URL, the URL for
     * this attempt (e.g. a fresh OAuth nonce). Returns 0, or -1 to give up
     * with the reason in err. */
    int (*before_attempt)(void *ctx, int attempt, int *wait_ms, char **url, char *err,
                          size_t err_size);
    /* After every answer, may be NULL. For a 2xx: 0 to accept it, or 1 when
     * the body says "throttled" (Shopify's THROTTLED with HTTP 200). *retry_ms
     * (preset -1: the usual backoff) is the wait before a retry when the shop
     * sent no Retry-After, for a 429 or 5xx too (e.g. what Shopify's bucket
     * needs); for those the return value is ignored. */
    int (*after_answer)(void *ctx, const wb_shop_response *r, int *retry_ms);
} wb_shop_request;

/* Runs the request with retries. Returns 0 when a final answer came (any
 * status, in *out: 2xx, a 4xx that is not retried, or the last retryable
 * answer when attempts ran out), -1 when none came (out->error says why:
 * network, timeout, deadline, stopping). *out is always initialised; free it
 * with wb_shop_response_free. */
int wb_shop_http_do(wb_shop_http *h, const wb_shop_request *req, wb_shop_response *out);

#endif
