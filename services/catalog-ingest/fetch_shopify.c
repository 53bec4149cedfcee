/* Shopify: productVariants by cursor (wb_gql_catalog_variants), active
 * products only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "catalog.h"
#include "wb/log.h"
#include "wb/shopclient.h"

static const char *jstr(const cJSON *o, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static char *dup(const char *s) {
    char *d = strdup(s ? s : "");
    if (!d) abort();
    return d;
}

static const char *weight_unit(const char *shopify) {
    if (!shopify) return NULL;
    if (strcmp(shopify, "GRAMS") == 0) return "g";
    if (strcmp(shopify, "KILOGRAMS") == 0) return "kg";
    if (strcmp(shopify, "OUNCES") == 0) return "oz";
    if (strcmp(shopify, "POUNDS") == 0) return "lb";
    return NULL;
}

int ci_parse_shopify_variant(const cJSON *node, ci_article *a) {
    const cJSON *product = cJSON_GetObjectItemCaseSensitive(node, "product");
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(node, "inventoryItem");
    const char *id = jstr(node, "id"), *pid = jstr(product, "id");
    if (!id || !pid) return -1;
    memset(a, 0, sizeof *a);
    a->product_id = dup(pid);
    a->variant_id = dup(id);
    a->inventory_item_id = dup(jstr(item, "id"));
    a->sku = dup(jstr(node, "sku"));
    a->barcode = dup(jstr(node, "barcode"));
    a->title = dup(jstr(product, "title"));
    a->variant_title = dup(jstr(node, "title"));
    const char *type = jstr(product, "productType");
    if (type && *type) {
        a->categories = malloc(sizeof *a->categories);
        if (!a->categories) abort();
        a->categories[0] = dup(type);
        a->n_categories = 1;
    }
    const cJSON *ship = cJSON_GetObjectItemCaseSensitive(item, "requiresShipping");
    a->is_virtual = cJSON_IsFalse(ship);
    const cJSON *weight = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(item, "measurement"), "weight");
    const cJSON *wv = cJSON_GetObjectItemCaseSensitive(weight, "value");
    const char *wu = weight_unit(jstr(weight, "unit"));
    if (cJSON_IsNumber(wv) && wv->valuedouble > 0 && wu) {
        a->weight = ci_decimal(wv->valuedouble);
        if (a->weight) a->weight_unit = dup(wu);
    }
    const char *vt = jstr(node, "updatedAt"), *pt = jstr(product, "updatedAt");
    const char *t = vt && pt ? (strcmp(vt, pt) >= 0 ? vt : pt) : vt ? vt : pt;
    a->updated_at = t ? dup(t) : NULL;
    return 0;
}

/* The numeric id of "gid://shopify/Product/12" or "12". */
static const char *numeric_id(const char *id) {
    const char *slash = strrchr(id, '/');
    return slash ? slash + 1 : id;
}

static int one_call(ci_fetch *f, const char *after, const char *query, ci_articles *out,
                    char **next, char *err, size_t errlen) {
    cJSON *vars = cJSON_CreateObject();
    cJSON_AddNumberToObject(vars, "first", f->cfg->shopify_page);
    if (after && *after) cJSON_AddStringToObject(vars, "after", after);
    else cJSON_AddNullToObject(vars, "after");
    cJSON_AddStringToObject(vars, "query", query);
    cJSON *resp = NULL;
    int rc = wb_shopify_graphql(f->client, wb_gql_catalog_variants, vars, 0, &resp, err, errlen);
    cJSON_Delete(vars);
    if (rc) return -1;
    const cJSON *errors = cJSON_GetObjectItemCaseSensitive(resp, "errors");
    if (cJSON_GetArraySize(errors) > 0) {
        const char *msg = jstr(cJSON_GetArrayItem(errors, 0), "message");
        snprintf(err, errlen, "productVariants: %s", msg ? msg : "error");
        cJSON_Delete(resp);
        return -1;
    }
    const cJSON *conn = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(resp, "data"),
                                                         "productVariants");
    const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(conn, "nodes");
    if (!cJSON_IsArray(nodes)) {
        snprintf(err, errlen, "productVariants: no nodes in the answer");
        cJSON_Delete(resp);
        return -1;
    }
    const cJSON *node;
    cJSON_ArrayForEach(node, nodes) {
        const char *status = jstr(cJSON_GetObjectItemCaseSensitive(node, "product"), "status");
        f->nodes_seen++;
        if (!status || strcmp(status, "ACTIVE") != 0) continue; /* drafts and archived ones */
        f->nodes_kept++;
        ci_article *a = ci_articles_add(out);
        if (ci_parse_shopify_variant(node, a)) out->count--;
    }
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(conn, "pageInfo");
    const char *end = jstr(info, "endCursor");
    *next = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(info, "hasNextPage")) && end ? dup(end) : NULL;
    cJSON_Delete(resp);
    return 0;
}

/* One count of wb_gql_catalog_counts' answer, -1 unless exact. */
static long exact_count(const cJSON *data, const char *name) {
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(data, name);
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(c, "count");
    const char *precision = jstr(c, "precision");
    if (!cJSON_IsNumber(n) || n->valuedouble < 0 || !precision || strcmp(precision, "EXACT") != 0) return -1;
    return (long)n->valuedouble;
}

/* The pages a full sync will take, for the progress bar: Shopify's count of
 * variants (drafts' included, so the bar may end a little short) over the
 * page size. -1 when not known; a failure here only costs the total. */
static long pages_expected(ci_fetch *f, long *variants_out) {
    cJSON *vars = cJSON_CreateObject(), *resp = NULL;
    cJSON_AddStringToObject(vars, "query", "status:active");
    char err[256];
    int rc = wb_shopify_graphql(f->client, wb_gql_catalog_counts, vars, 2, &resp, err, sizeof err);
    cJSON_Delete(vars);
    if (rc) {
        wb_warn(f->store->id, "catalog counts not read (%s): no total for the progress", err);
        return -1;
    }
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(resp, "data");
    long variants = exact_count(data, "productVariantsCount"), products = exact_count(data, "productsCount");
    cJSON_Delete(resp);
    wb_info(f->store->id, "catalog: %ld active products, %ld variants in the shop (-1: not known)", products,
            variants);
    *variants_out = variants;
    return variants < 0 ? -1 : (variants + f->cfg->shopify_page - 1) / f->cfg->shopify_page;
}

/* A full sync's page when the store is large: the bulk operation's start,
 * or a batch of its result. 0 done, 1 paging instead (the reason logged),
 * -1 with err. */
static int bulk_page(ci_fetch *f, const char *cursor, long variants, ci_articles *out, char **next,
                     long *pages_total, char *err, size_t errlen) {
    char why[512] = "";
    int rc = cursor ? ci_bulk_page(f, cursor, out, next, why, sizeof why)
                    : ci_bulk_start(f, variants, next, pages_total, why, sizeof why);
    if (rc < 0) snprintf(err, errlen, "%s", why);
    if (rc != 1) return rc;
    ci_bulk_close(f);
    ci_articles_free(out);
    wb_warn(f->store->id, "catalog: bulk operation not used (%s): reading the catalog by pages instead", why);
    f->restart_progress = cursor != NULL;
    if (cursor) { /* the sync's total was the bulk one: the pages' now */
        long v = -1;
        *pages_total = pages_expected(f, &v);
    }
    return 1;
}

int ci_fetch_shopify(ci_fetch *f, const char *cursor, const char *product_id, ci_articles *out,
                     char **next, long *pages_total, char *err, size_t errlen) {
    *next = NULL;
    *pages_total = -1;
    long variants = -1;
    if (!product_id && !(cursor && *cursor)) *pages_total = pages_expected(f, &variants);
    bool bulk_cursor = cursor && strncmp(cursor, CI_BULK_PREFIX, strlen(CI_BULK_PREFIX)) == 0;
    bool large = f->cfg->bulk_min_variants > 0 && variants >= f->cfg->bulk_min_variants;
    if (!product_id && (bulk_cursor || large)) {
        int rc = bulk_page(f, bulk_cursor ? cursor : NULL, variants, out, next, pages_total, err, errlen);
        if (rc != 1) return rc;
        cursor = NULL; /* paging, from the first page */
    }
    if (!product_id) return one_call(f, cursor, "product_status:active", out, next, err, errlen);
    char query[128];
    snprintf(query, sizeof query, "product_id:%s", numeric_id(product_id));
    char *after = NULL;
    f->nodes_seen = f->nodes_kept = 0;
    do { /* one product: all its variants now */
        char *more = NULL;
        int rc = one_call(f, after, query, out, &more, err, errlen);
        free(after);
        if (rc) return -1;
        after = more;
    } while (after);
    f->product_state = f->nodes_seen == 0   ? CI_PRODUCT_GONE
                       : f->nodes_kept == 0 ? CI_PRODUCT_UNPUBLISHED
                                            : CI_PRODUCT_PUBLISHED;
    return 0;
}
