/* Incremental polls: the products a shop changed since a time, page by
 * page. sync.c then reads each one as a product sync (as after a webhook),
 * which also reports a variant gone from it and a product unpublished since.
 * A product deleted since is listed by neither platform: only its delete
 * webhook or the next full sync finds it.
 *
 * Shopify: products(query: "updated_at:>'T'", sortKey: UPDATED_AT), ids
 * only, 250 a page, drafts and archived ones included. WooCommerce:
 * products?modified_after=T&dates_are_gmt=true&status=any, oldest id first
 * (a product changed again during the poll stays in the set, so no page
 * skips one). WooCommerce saves a variable product (its modification time)
 * whenever one of its variations is saved, so its variations are read when
 * it is listed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "catalog.h"
#include "wb/shopclient.h"

#define SHOPIFY_CHANGED_PAGE 250

static void add_id(ci_changed *out, const char *id) {
    if (out->count == out->cap) {
        out->cap = out->cap ? out->cap * 2 : 64;
        out->ids = realloc(out->ids, out->cap * sizeof *out->ids);
        if (!out->ids) abort();
    }
    out->ids[out->count] = strdup(id);
    if (!out->ids[out->count]) abort();
    out->count++;
}

void ci_changed_free(ci_changed *c) {
    for (size_t i = 0; i < c->count; i++) free(c->ids[i]);
    free(c->ids);
    memset(c, 0, sizeof *c);
}

static int shopify_changed(ci_fetch *f, const char *since, const char *cursor, ci_changed *out, char **next,
                           char *err, size_t errlen) {
    char query[96];
    snprintf(query, sizeof query, "updated_at:>'%sZ'", since);
    cJSON *vars = cJSON_CreateObject();
    cJSON_AddNumberToObject(vars, "first", SHOPIFY_CHANGED_PAGE);
    if (cursor && *cursor) cJSON_AddStringToObject(vars, "after", cursor);
    else cJSON_AddNullToObject(vars, "after");
    cJSON_AddStringToObject(vars, "query", query);
    cJSON *resp = NULL;
    int rc = wb_shopify_graphql(f->client, wb_gql_catalog_changed_products, vars, 0, &resp, err, errlen);
    cJSON_Delete(vars);
    if (rc) return -1;
    const cJSON *errors = cJSON_GetObjectItemCaseSensitive(resp, "errors");
    if (cJSON_GetArraySize(errors) > 0) {
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(errors, 0), "message");
        snprintf(err, errlen, "products: %s", cJSON_IsString(msg) ? msg->valuestring : "error");
        cJSON_Delete(resp);
        return -1;
    }
    const cJSON *conn =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(resp, "data"), "products");
    const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(conn, "nodes"), *node;
    if (!cJSON_IsArray(nodes)) {
        snprintf(err, errlen, "products: no nodes in the answer");
        cJSON_Delete(resp);
        return -1;
    }
    cJSON_ArrayForEach(node, nodes) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(node, "id");
        if (cJSON_IsString(id) && *id->valuestring) add_id(out, id->valuestring);
    }
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(conn, "pageInfo");
    const cJSON *end = cJSON_GetObjectItemCaseSensitive(info, "endCursor");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(info, "hasNextPage")) && cJSON_IsString(end)) {
        *next = strdup(end->valuestring);
        if (!*next) abort();
    }
    cJSON_Delete(resp);
    return 0;
}

static int woo_changed(ci_fetch *f, const char *since, const char *cursor, ci_changed *out, char **next,
                       char *err, size_t errlen) {
    long page = cursor && *cursor ? atol(cursor) : 1;
    if (page < 1) page = 1;
    /* since is "YYYY-MM-DDTHH:MM:SS" UTC, ':' percent-encoded for the query. */
    char when[48] = "";
    for (size_t i = 0, o = 0; since[i] && o + 4 < sizeof when; i++) {
        if (since[i] == ':') memcpy(when + o, "%3A", 3), o += 3;
        else when[o++] = since[i];
        when[o] = 0;
    }
    char query[256];
    snprintf(query, sizeof query,
             "modified_after=%s&dates_are_gmt=true&status=any&per_page=%d&page=%ld&orderby=id&order=asc", when,
             f->cfg->woo_page, page);
    wb_shop_response r;
    int rc = wb_woo_request(f->client, "GET", "products", query, NULL, &r);
    if (rc || r.status != 200) {
        if (rc) snprintf(err, errlen, "GET products (changed): %s", r.error);
        else snprintf(err, errlen, "GET products (changed): HTTP %ld", r.status);
        wb_shop_response_free(&r);
        return -1;
    }
    cJSON *doc = r.body ? cJSON_ParseWithLength(r.body, r.body_len) : NULL;
    long pages = r.total_pages;
    wb_shop_response_free(&r);
    if (!cJSON_IsArray(doc)) {
        snprintf(err, errlen, "GET products (changed): the answer is not a JSON list");
        cJSON_Delete(doc);
        return -1;
    }
    const cJSON *p;
    int n = 0;
    cJSON_ArrayForEach(p, doc) {
        n++;
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(p, "id");
        char buf[32];
        if (cJSON_IsNumber(id) && id->valuedouble >= 1) {
            snprintf(buf, sizeof buf, "%.0f", id->valuedouble);
            add_id(out, buf);
        }
    }
    cJSON_Delete(doc);
    bool more = pages >= 0 ? page < pages : n == f->cfg->woo_page;
    if (more && asprintf(next, "%ld", page + 1) < 0) abort();
    return 0;
}

int ci_list_changed(ci_fetch *f, const char *since, const char *cursor, ci_changed *out, char **next,
                    char *err, size_t errlen) {
    *next = NULL;
    return strcmp(f->store->platform, "shopify") == 0 ? shopify_changed(f, since, cursor, out, next, err, errlen)
                                                      : woo_changed(f, since, cursor, out, next, err, errlen);
}
