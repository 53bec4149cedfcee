/* The webhook path under libFuzzer: what a shop (or anyone on the internet)
 * sends to POST /webhooks/{shopify,woocommerce}/{store}, headers and body,
 * through the same steps as services/order-ingest/webhook.c and
 * services/catalog-ingest/webhook.c without the database and Kafka: the store
 * id in the path, the HMAC of the raw body, WooCommerce's ping, then the
 * order mapping of the platform (oi_map_*) with the store's filter, and the
 * reconciler's Shopify GraphQL order mapper (oi_map_shopify_gql) and the
 * catalog item parsers (ci_parse_*) on the same body.
 *
 * Input (see corpus/fuzz_webhook/): header lines "Name: value" up to an empty
 * line, then the raw body. Two pseudo-headers steer it: ":path: /webhooks/..."
 * (default /webhooks/shopify/s1) and ":sign: good" which replaces the
 * signature header with the body's real HMAC, so the fuzzer reaches the
 * parsers behind the check; without it the check must refuse. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cjson/cJSON.h>

#include "catalog.h"
#include "map.h"
#include "rules.h"
#include "wb/crypto.h"
#include "wb/http.h"
#include "wb/log.h"
#include "wb/webhook.h"

#define SECRET "fuzz-webhook-secret"
#define MAX_HEADERS 32

typedef struct {
    const char *name[MAX_HEADERS], *value[MAX_HEADERS];
    int n;
} headers;

/* libmicrohttpd's header lookup, replaced: req->connection is our list. The
 * real one (libshared/src/http.c) is not linked into this program. */
const char *wb_http_header(const wb_http_request *req, const char *name) {
    const headers *h = req->connection;
    for (int i = 0; i < h->n; i++)
        if (strcasecmp(h->name[i], name) == 0) return h->value[i];
    return NULL;
}

static void fail(const char *why) {
    fprintf(stderr, "fuzz_webhook: %s\n", why);
    abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    wb_log_init("fuzz", WB_LOG_ERROR);
    return 0;
}

/* The same body as the reconciler's pages would give it: a Shopify GraphQL
 * order node (lines past the first page in "extraLines"), mapped through the
 * REST shape; what maps must encode, as for a webhook. */
static void reconcile_mapper(const char *store_id, const cJSON *root) {
    oi_order order;
    char *order_id = NULL, err[512];
    const cJSON *extra = cJSON_GetObjectItemCaseSensitive(root, "extraLines");
    if (oi_map_shopify_gql(store_id, root, cJSON_IsArray(extra) ? extra : NULL, &order, &order_id, err,
                           sizeof err) == OI_MAP_OK) {
        char why[256];
        char *json = wb_order_msg_encode_err(&order.msg, why, sizeof why);
        if (!json) fail(why);
        free(json);
        oi_order_free(&order);
    }
    free(order_id);
}

static void catalog_parsers(const char *store_id, const char *body, size_t len) {
    cJSON *root = cJSON_ParseWithLength(body, len);
    if (!root) return;
    reconcile_mapper(store_id, root);
    ci_article a;
    if (ci_parse_shopify_variant(root, &a) == 0) ci_article_free(&a);
    if (ci_parse_woo_simple(root, &a) == 0) ci_article_free(&a);
    const cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(root, "variations"))
        if (ci_parse_woo_variation(root, v, &a) == 0) ci_article_free(&a);
    cJSON_Delete(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* headers | "\n\n" | body; a header block that never ends is all body. */
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    headers h = {.n = 0};
    const char *path = "/webhooks/shopify/s1";
    bool sign = false;
    char *body = text;
    size_t body_len = size;
    char *end = memmem(text, size, "\n\n", 2);
    if (end) {
        *end = 0;
        body = end + 2;
        body_len = size - (size_t)(body - text);
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
            char *colon = strchr(line + (line[0] == ':'), ':');
            if (!colon) continue;
            *colon = 0;
            char *value = colon + 1;
            while (*value == ' ') value++;
            if (strcmp(line, ":path") == 0) path = value;
            else if (strcmp(line, ":sign") == 0) sign = strcmp(value, "good") == 0;
            else if (h.n < MAX_HEADERS - 1) h.name[h.n] = line, h.value[h.n++] = value;
        }
    }
    /* The body as the server hands it over: exactly body_len bytes in a
     * buffer of their own (NUL after them), so ASan sees any over-read. */
    char *raw = malloc(body_len + 1);
    memcpy(raw, body, body_len);
    raw[body_len] = 0;

    bool shopify = strncmp(path, "/webhooks/shopify/", 18) == 0;
    bool woo = strncmp(path, "/webhooks/woocommerce/", 22) == 0;
    const char *store_id = path + (shopify ? 18 : 22);
    if ((!shopify && !woo) || !wb_webhook_store_id_ok(store_id)) goto done;

    char good[64];
    unsigned char mac[WB_SHA256_LEN];
    wb_hmac_sha256(SECRET, strlen(SECRET), raw, body_len, mac);
    wb_base64_encode(mac, sizeof mac, good, sizeof good);
    const char *sig_name = shopify ? "X-Shopify-Hmac-Sha256" : "X-WC-Webhook-Signature";
    if (sign) {
        int i = 0;
        while (i < h.n && strcasecmp(h.name[i], sig_name) != 0) i++;
        h.name[i] = sig_name, h.value[i] = good;
        if (i == h.n) h.n++;
    }
    wb_store store = {.id = (char *)store_id, .goods_owner = "owner", .base_url = "https://s1.example",
                      .enabled = true, .platform = shopify ? "shopify" : "woocommerce",
                      .credentials = shopify ? "{\"access_token\":\"t\",\"api_secret\":\"" SECRET "\"}"
                                             : "{\"consumer_key\":\"k\",\"consumer_secret\":\"s\","
                                               "\"webhook_secret\":\"" SECRET "\"}",
                      .order_statuses = "processing,on-hold", .financial_statuses = "paid",
                      .fulfillment_statuses = "unfulfilled"};
    wb_http_request req = {"POST", path, raw, body_len, &h};
    const char *sig = wb_webhook_signature(&store, &req);
    bool ok = wb_webhook_signed_ok(&store, &req);
    /* The check is the HMAC and nothing else: a header that is not the
     * body's HMAC (in base64, exactly) must never pass. */
    if (ok != (sig && strcmp(sig, good) == 0)) fail("signature check disagrees with the HMAC");
    if (woo && wb_webhook_is_ping(raw, body_len) && (!sig || ok)) goto done;
    if (!ok) goto done;

    oi_order order;
    char *order_id = NULL, err[512];
    int rc = shopify ? oi_map_shopify(store_id, raw, body_len, &order, &order_id, err, sizeof err)
                     : oi_map_woocommerce(store_id, raw, body_len, &order, &order_id, err, sizeof err);
    if (rc == OI_MAP_OK) {
        /* A mapped order is what goes to shop.orders.v1: it must encode. */
        char why[256];
        char *json = wb_order_msg_encode_err(&order.msg, why, sizeof why);
        if (!json) fail(why);
        free(json);
        oi_prior prior = {.exists = true, .version = order.msg.version - 1, .state = "sent"};
        (void)oi_decide(&prior, order.cancelled, order.msg.version, oi_filter_pass(&store, &order));
        oi_order_free(&order);
    } else if (rc != OI_MAP_UNMAPPABLE && rc != OI_MAP_MALFORMED) {
        fail("mapper returned an unknown code");
    } else if (!err[0]) {
        fail("refused without a reason");
    }
    free(order_id);
    catalog_parsers(store_id, raw, body_len);
done:
    free(raw);
    free(text);
    return 0;
}
