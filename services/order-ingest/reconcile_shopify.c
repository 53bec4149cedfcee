/* The Shopify reconciler. Shopify retries a failed webhook for a while, then
 * gives up and, after repeated failures, deletes the subscription; so per
 * store it pages through the orders updated since the cursor minus an
 * overlap (the GraphQL `orders` query, sortKey UPDATED_AT, every page),
 * hands each to oi_ingest() exactly as a webhook would, and moves the cursor
 * only when every order of the pass was decided and, where sent,
 * acknowledged by Kafka. Then it lists the webhook subscriptions and, with
 * WB_ORDER_PUBLIC_URL set, re-creates the missing ones. Shopify has no
 * "disabled" state to undo: a subscription is there or it is not.
 *
 * Every call goes through the libshared Shopify client, which waits until
 * the store's cost bucket holds what the query is expected to cost. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "map_internal.h"
#include "reconcile.h"
#include "wb/log.h"
#include "wb/runloop.h"
#include "wb/shopclient.h"
#include "wb/shopify_documents.h"

#define LISTING "graphql:orders"

/* Runs one operation; *data is the response's `data` (to cJSON_Delete), or
 * -1 with a warning when the call or the operation failed. */
static int run(wb_shopify *sh, const wb_store *store, const char *doc, const cJSON *vars,
               const char *what, cJSON **data) {
    cJSON *resp = NULL;
    char err[256];
    *data = NULL;
    if (wb_shopify_graphql(sh, doc, vars, 0, &resp, err, sizeof err) != 0) {
        wb_warn(store->id, "reconcile: %s failed: %s", what, err);
        return -1;
    }
    const cJSON *errors = cJSON_GetObjectItemCaseSensitive(resp, "errors");
    if (cJSON_GetArraySize(errors) > 0) {
        const char *msg = oi_jstr(cJSON_GetArrayItem(errors, 0), "message");
        wb_warn(store->id, "reconcile: %s failed: %s", what, msg ? msg : "GraphQL error");
        cJSON_Delete(resp);
        return -1;
    }
    *data = cJSON_DetachItemFromObjectCaseSensitive(resp, "data");
    cJSON_Delete(resp);
    return cJSON_IsObject(*data) ? 0 : -1;
}

static const cJSON *page_info(const cJSON *conn, const char **end) {
    const cJSON *pi = cJSON_GetObjectItemCaseSensitive(conn, "pageInfo");
    *end = oi_jstr(pi, "endCursor");
    return cJSON_GetObjectItemCaseSensitive(pi, "hasNextPage");
}

/* The lines of an order past its first page, as a list of GraphQL line
 * nodes; NULL when they could not be read. */
static cJSON *more_lines(wb_shopify *sh, const wb_store *store, const cJSON *order) {
    const char *id = oi_jstr(order, "id"), *after;
    if (!cJSON_IsTrue(page_info(cJSON_GetObjectItemCaseSensitive(order, "lineItems"), &after)))
        return cJSON_CreateArray();
    cJSON *lines = cJSON_CreateArray();
    char *cursor = after ? strdup(after) : NULL;
    while (cursor && !wb_stopping()) {
        cJSON *vars = cJSON_CreateObject(), *data;
        cJSON_AddStringToObject(vars, "id", id ? id : "");
        cJSON_AddStringToObject(vars, "after", cursor);
        int rc = run(sh, store, wb_gql_reconcile_order_lines, vars, "reading an order's lines", &data);
        cJSON_Delete(vars);
        free(cursor);
        cursor = NULL;
        if (rc != 0) break;
        cJSON *conn = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(data, "order"), "lineItems");
        cJSON *n;
        cJSON *nodes = cJSON_GetObjectItemCaseSensitive(conn, "nodes");
        while (cJSON_GetArraySize(nodes) > 0) {
            n = cJSON_DetachItemFromArray(nodes, 0);
            cJSON_AddItemToArray(lines, n);
        }
        if (cJSON_IsTrue(page_info(conn, &after)) && after) cursor = strdup(after);
        else {
            cJSON_Delete(data);
            return lines;
        }
        cJSON_Delete(data);
    }
    free(cursor);
    cJSON_Delete(lines);
    return NULL;
}

/* One order of a page. Returns 0 when it was decided (sent, a duplicate,
 * filtered, dead-lettered), -1 when it must be seen again. */
static int take_order(oi_ctx *ctx, wb_pg *pg, wb_shopify *sh, const wb_store *store, const cJSON *node,
                      int64_t *max_ms, int *sent) {
    cJSON *extra = more_lines(sh, store, node);
    if (!extra) return -1;
    oi_order order;
    char *order_id = NULL, err[512];
    int mrc = oi_map_shopify_gql(store->id, node, extra, &order, &order_id, err, sizeof err);
    if (mrc != OI_MAP_OK) {
        char reason[700];
        snprintf(reason, sizeof reason, "order %s: %s", order_id ? order_id : "?", err);
        oi_count(store->id, store->platform, "poll", "unmappable");
        cJSON *rest = oi_shopify_gql_to_rest(node, extra);
        int rc = oi_poll_dead_letter(ctx, pg, store, rest, order_id, oi_jstr(node, "updatedAt"), LISTING, reason);
        cJSON_Delete(rest);
        cJSON_Delete(extra);
        free(order_id);
        return rc;
    }
    free(order_id);
    oi_action action;
    oi_status st = oi_ingest(ctx, pg, store, &order, NULL, &action, err, sizeof err);
    int rc = 0;
    if (st == OI_UNMAPPED) {
        oi_count(store->id, store->platform, "poll", "unmappable");
        cJSON *rest = oi_shopify_gql_to_rest(node, extra);
        rc = oi_poll_dead_letter(ctx, pg, store, rest, order.msg.order_id, oi_jstr(node, "updatedAt"), LISTING, err);
        cJSON_Delete(rest);
    } else if (st != OI_OK) {
        wb_warn(store->id, "reconcile: order %s not taken: %s", order.msg.order_id, err);
        oi_count(store->id, store->platform, "poll", oi_status_outcome(st));
        rc = -1;
    } else {
        oi_count(store->id, store->platform, "poll", oi_action_name(action));
        if (oi_action_sends(action)) {
            (*sent)++;
            wb_warn(store->id, "reconcile: order %s version %" PRId64 " was missing, sent as %s",
                    order.msg.order_id, order.msg.version, oi_action_name(action));
        }
        if (order.msg.version > *max_ms) *max_ms = order.msg.version;
    }
    oi_order_free(&order);
    cJSON_Delete(extra);
    return rc;
}

/* Every page of orders updated at or after since. Returns 0, or -1 when an
 * order was not taken or a page not read (the cursor must then stay). */
static int reconcile_orders(oi_ctx *ctx, wb_pg *pg, wb_shopify *sh, const wb_store *store,
                            const char *since, int64_t *max_ms, int *sent) {
    char query[96];
    snprintf(query, sizeof query, "updated_at:>='%s'", since);
    char *after = NULL;
    int failed = 0;
    for (;;) {
        if (wb_stopping()) {
            failed++;
            break;
        }
        cJSON *vars = cJSON_CreateObject(), *data;
        cJSON_AddNumberToObject(vars, "first", WB_GQL_RECONCILE_ORDERS_PAGE);
        if (after) cJSON_AddStringToObject(vars, "after", after);
        else cJSON_AddNullToObject(vars, "after");
        cJSON_AddStringToObject(vars, "query", query);
        int rc = run(sh, store, wb_gql_reconcile_orders, vars, "listing orders", &data);
        cJSON_Delete(vars);
        free(after);
        after = NULL;
        if (rc != 0) {
            cJSON_Delete(data);
            failed++;
            break;
        }
        const cJSON *conn = cJSON_GetObjectItemCaseSensitive(data, "orders");
        const cJSON *node;
        cJSON_ArrayForEach(node, cJSON_GetObjectItemCaseSensitive(conn, "nodes")) {
            if (take_order(ctx, pg, sh, store, node, max_ms, sent) != 0) failed++;
        }
        const char *end;
        bool more = cJSON_IsTrue(page_info(conn, &end)) && end;
        if (more) after = strdup(end);
        cJSON_Delete(data);
        wb_heartbeat();
        if (!more || failed) break;
    }
    free(after);
    return failed ? -1 : 0;
}

static const char *const topics[] = {"ORDERS_CREATE", "ORDERS_UPDATED", "ORDERS_CANCELLED", "APP_UNINSTALLED"};
#define N_TOPICS (sizeof topics / sizeof topics[0])

/* Lists the subscriptions and re-creates the missing ones that point here. */
static void repair_webhooks(oi_ctx *ctx, wb_shopify *sh, const wb_store *store) {
    if (!ctx->cfg.public_url || !*ctx->cfg.public_url) return; /* nothing to compare against */
    char address[512];
    snprintf(address, sizeof address, "%s/webhooks/shopify/%s", ctx->cfg.public_url, store->id);
    bool have[N_TOPICS] = {false};
    char *after = NULL;
    for (;;) {
        cJSON *vars = cJSON_CreateObject(), *data;
        cJSON_AddNumberToObject(vars, "first", 100);
        if (after) cJSON_AddStringToObject(vars, "after", after);
        else cJSON_AddNullToObject(vars, "after");
        int rc = run(sh, store, wb_gql_webhook_subscriptions, vars, "listing webhook subscriptions", &data);
        cJSON_Delete(vars);
        free(after);
        after = NULL;
        if (rc != 0) {
            cJSON_Delete(data);
            return; /* without the full list, creating could duplicate */
        }
        const cJSON *conn = cJSON_GetObjectItemCaseSensitive(data, "webhookSubscriptions");
        const cJSON *w;
        cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(conn, "nodes")) {
            const char *topic = oi_jstr(w, "topic"), *uri = oi_jstr(w, "uri");
            if (!topic || !uri || strcmp(uri, address) != 0) continue;
            for (size_t i = 0; i < N_TOPICS; i++)
                if (!strcmp(topic, topics[i])) have[i] = true;
        }
        const char *end;
        if (cJSON_IsTrue(page_info(conn, &end)) && end) after = strdup(end);
        cJSON_Delete(data);
        if (!after) break;
    }
    for (size_t i = 0; i < N_TOPICS && !wb_stopping(); i++) {
        if (have[i]) continue;
        cJSON *vars = cJSON_CreateObject(), *data;
        cJSON_AddStringToObject(vars, "topic", topics[i]);
        cJSON *sub = cJSON_AddObjectToObject(vars, "webhookSubscription");
        cJSON_AddStringToObject(sub, "uri", address);
        cJSON_AddStringToObject(sub, "format", "JSON");
        int rc = run(sh, store, wb_gql_webhook_subscription_create, vars, "creating a webhook subscription", &data);
        cJSON_Delete(vars);
        const cJSON *res = cJSON_GetObjectItemCaseSensitive(data, "webhookSubscriptionCreate");
        const cJSON *errors = cJSON_GetObjectItemCaseSensitive(res, "userErrors");
        if (rc == 0 && cJSON_GetArraySize(errors) == 0 &&
            cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(res, "webhookSubscription"))) {
            oi_count_repair(store->id, "created");
            wb_warn(store->id, "reconcile: webhook subscription %s was missing: created", topics[i]);
        } else if (rc == 0) {
            const char *msg = oi_jstr(cJSON_GetArrayItem(errors, 0), "message");
            wb_warn(store->id, "reconcile: webhook subscription %s could not be created: %s", topics[i],
                    msg ? msg : "no subscription in the answer");
        }
        cJSON_Delete(data);
    }
}

void oi_reconcile_shopify(oi_ctx *ctx, wb_pg *pg, const wb_store *store) {
    cJSON *cred = cJSON_Parse(store->credentials ? store->credentials : "");
    const char *token = oi_jstr(cred, "access_token");
    if (!token) {
        wb_warn(store->id, "reconcile: the store has no access token");
        cJSON_Delete(cred);
        return;
    }
    wb_shop_opts opts = {.deadline_ms = 30000, .request_timeout_ms = 10000};
    wb_shopify *sh = wb_shopify_new(store->id, store->base_url, token, &opts);
    bool found;
    int64_t cursor = oi_cursor_read(pg, store->id, &found);
    if (cursor < 0) {
        wb_warn(store->id, "reconcile: cursor not read: %s", wb_pg_error(pg));
    } else {
        if (!found) cursor = wb_wall_ms();
        char since[40];
        wb_format_time(cursor - ctx->cfg.reconcile_overlap_ms, since, sizeof since);
        since[19] = 0; /* whole seconds, UTC: Shopify's search takes them */
        strcat(since, "Z");
        int64_t max_ms = cursor;
        int sent = 0;
        if (reconcile_orders(ctx, pg, sh, store, since, &max_ms, &sent) == 0 &&
            oi_cursor_write(pg, store->id, max_ms) != 0)
            wb_warn(store->id, "reconcile: cursor not saved: %s", wb_pg_error(pg));
        if (sent) wb_info(store->id, "reconcile: %d order version(s) the webhooks missed were sent", sent);
    }
    repair_webhooks(ctx, sh, store);
    wb_shopify_free(sh);
    cJSON_Delete(cred);
}
