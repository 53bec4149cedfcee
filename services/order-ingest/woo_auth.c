/* POST /woocommerce/auth/callback: the keys WooCommerce posts once the
 * shop's owner approved {key_id, user_id, consumer_key, consumer_secret,
 * key_permissions}. user_id is the nonce bridgectl put in the authorize URL:
 * it must name a pending woo_installs row that has not received keys yet
 * and has not expired. The keys are sealed under WB_MASTER_KEY with the
 * store id as associated data and kept in that row; bridgectl, waiting for
 * them, checks them against the shop and registers the webhooks. A key
 * without read_write is refused (the bridge reads orders and writes stock),
 * and WooCommerce shows the owner that the app could not be connected. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "wb/crypto.h"
#include "wb/log.h"
#include "woo_auth.h"

static void reply(wb_http_response *res, int status, const char *message) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, status == 200 ? "status" : "error", message);
    res->status = status;
    res->body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
}

static const char *text(const cJSON *o, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void callback(const wb_http_request *req, wb_http_response *res, void *arg) {
    oi_ctx *ctx = arg;
    cJSON *doc = cJSON_ParseWithLength(req->body ? req->body : "", req->body_len);
    const char *nonce = text(doc, "user_id"), *ck = text(doc, "consumer_key"), *cs = text(doc, "consumer_secret");
    const char *perm = text(doc, "key_permissions");
    wb_pg *pg = NULL;
    PGresult *r = NULL;
    char err[512], *plain = NULL, *sealed = NULL;
    if (!nonce || !ck || !cs || !perm) {
        reply(res, 400, "expected {user_id, consumer_key, consumer_secret, key_permissions}");
        goto out;
    }
    if (!ctx->svc->has_master_key) {
        reply(res, 503, "WB_MASTER_KEY is not set: the keys cannot be stored sealed");
        goto out;
    }
    pg = oi_pool_get(&ctx->pool, err, sizeof err);
    if (!pg) {
        reply(res, 503, "database unavailable");
        goto out;
    }
    const char *p[] = {nonce};
    r = wb_pg_query(pg, "SELECT store_id FROM woo_installs WHERE nonce = $1 AND received_at IS NULL"
                        " AND expires_at > now()", 1, p);
    if (!r || PQntuples(r) != 1) {
        wb_warn(NULL, "woocommerce auth callback: unknown, used or expired user_id");
        reply(res, r ? 400 : 503, r ? "unknown, already used or expired user_id" : "database error");
        goto out;
    }
    const char *store_id = PQgetvalue(r, 0, 0);
    /* Only now: an unknown caller must not fill the redaction list. */
    wb_log_add_secret(cs);
    if (strcmp(perm, "read_write") != 0) {
        const char *q[] = {nonce, perm};
        wb_pg_exec(pg, "UPDATE woo_installs SET received_at = now(), outcome = 'key permissions ' || $2"
                       " WHERE nonce = $1", 2, q);
        reply(res, 400, "the bridge needs read_write keys");
        goto out;
    }
    cJSON *keys = cJSON_CreateObject();
    cJSON_AddStringToObject(keys, "consumer_key", ck);
    cJSON_AddStringToObject(keys, "consumer_secret", cs);
    plain = cJSON_PrintUnformatted(keys);
    cJSON_Delete(keys);
    sealed = wb_seal(ctx->svc->master_key, plain, strlen(plain), store_id);
    const char *u[] = {nonce, sealed};
    PGresult *done = sealed ? wb_pg_query(pg, "UPDATE woo_installs SET keys_sealed = $2, received_at = now(),"
                                              " outcome = 'keys received' WHERE nonce = $1"
                                              " AND received_at IS NULL RETURNING 1", 2, u)
                            : NULL;
    bool ok = done && PQntuples(done) == 1;
    if (done) PQclear(done);
    if (ok) wb_info(store_id, "woocommerce keys received; bridgectl finishes the connect");
    reply(res, ok ? 200 : 400, ok ? "keys received" : "unknown, already used or expired user_id");
out:
    if (plain) memset(plain, 0, strlen(plain));
    free(plain);
    free(sealed);
    if (r) PQclear(r);
    if (pg) oi_pool_put(&ctx->pool, pg, false);
    cJSON_Delete(doc);
}

void oi_woo_auth_add_routes(wb_http_server *http, oi_ctx *ctx) {
    wb_http_route(http, "POST", "/woocommerce/auth/callback", callback, ctx);
}
