/* Webhook checks shared by the services that receive them (see wb/webhook.h). */
#include "wb/webhook.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "wb/crypto.h"

bool wb_webhook_store_id_ok(const char *id) {
    size_t n = strlen(id);
    if (n == 0 || n > 63) return false;
    for (const char *p = id; *p; p++)
        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_' || *p == '-'))
            return false;
    return true;
}

bool wb_webhook_is_ping(const char *body, size_t len) {
    if (len < 12 || strncmp(body, "webhook_id=", 11) != 0) return false;
    for (size_t i = 11; i < len; i++)
        if (!isdigit((unsigned char)body[i])) return false;
    return true;
}

static bool is_shopify(const wb_store *s) { return strcmp(s->platform, "shopify") == 0; }

char *wb_webhook_secret(const wb_store *s) {
    cJSON *c = s->credentials ? cJSON_Parse(s->credentials) : NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, is_shopify(s) ? "api_secret" : "webhook_secret");
    char *out = cJSON_IsString(v) && *v->valuestring ? strdup(v->valuestring) : NULL;
    cJSON_Delete(c);
    return out;
}

const char *wb_webhook_signature(const wb_store *s, const wb_http_request *req) {
    return wb_http_header(req, is_shopify(s) ? "X-Shopify-Hmac-Sha256" : "X-WC-Webhook-Signature");
}

bool wb_webhook_signed_ok(const wb_store *s, const wb_http_request *req) {
    const char *sig = wb_webhook_signature(s, req);
    char *secret = wb_webhook_secret(s);
    bool ok = secret && sig && wb_webhook_signature_ok(secret, req->body, req->body_len, sig);
    if (secret) {
        memset(secret, 0, strlen(secret));
        free(secret);
    }
    return ok;
}
