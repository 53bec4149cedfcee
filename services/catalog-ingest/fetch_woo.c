/* WooCommerce: published products by page (oldest id first), and for each
 * variable product all its variations, page after page (not capped at 100;
 * the store's variations_limit, 0 = all). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "catalog.h"
#include "wb/runloop.h"
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

/* An id (number or string) as text, or NULL. */
static const char *jid(const cJSON *o, const char *name, char *buf, size_t size) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (cJSON_IsNumber(v) && v->valuedouble >= 1) {
        snprintf(buf, size, "%.0f", v->valuedouble);
        return buf;
    }
    if (cJSON_IsString(v) && *v->valuestring) return v->valuestring;
    return NULL;
}

char *ci_gmt_time(const char *s) {
    if (!s || !*s) return NULL;
    size_t n = strlen(s);
    bool zoned = s[n - 1] == 'Z' || s[n - 1] == 'z' ||
                 (n > 6 && (s[n - 6] == '+' || s[n - 6] == '-') && s[n - 3] == ':');
    char *out = NULL;
    if (asprintf(&out, zoned ? "%s" : "%sZ", s) < 0) abort();
    return out;
}

static void common(const cJSON *product, const cJSON *own, ci_article *a) {
    a->title = dup(jstr(product, "name"));
    a->barcode = dup(jstr(own, "global_unique_id"));
    a->sku = dup(jstr(own, "sku"));
    a->inventory_item_id = dup("");
    const cJSON *cats = cJSON_GetObjectItemCaseSensitive(product, "categories"), *c;
    int n = cJSON_GetArraySize(cats);
    if (n > 0) {
        a->categories = calloc((size_t)n, sizeof *a->categories);
        if (!a->categories) abort();
        cJSON_ArrayForEach(c, cats) {
            const char *name = jstr(c, "name");
            if (name && *name) a->categories[a->n_categories++] = dup(name);
        }
    }
    a->is_virtual = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(own, "virtual"));
    /* A variation without its own weight or dimensions has its parent's. */
    const char *w = jstr(own, "weight");
    if (!w || !*w) w = jstr(product, "weight");
    a->weight = ci_decimal_text(w);
    if (a->weight) a->weight_unit = dup("kg");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(own, "dimensions");
    char *l = ci_decimal_text(jstr(d, "length")), *wi = ci_decimal_text(jstr(d, "width")),
         *h = ci_decimal_text(jstr(d, "height"));
    if (!(l && wi && h) && own != product) {
        free(l), free(wi), free(h);
        d = cJSON_GetObjectItemCaseSensitive(product, "dimensions");
        l = ci_decimal_text(jstr(d, "length")), wi = ci_decimal_text(jstr(d, "width")),
        h = ci_decimal_text(jstr(d, "height"));
    }
    if (l && wi && h) {
        a->length = l, a->width = wi, a->height = h;
        a->dim_unit = dup("cm");
    } else {
        free(l), free(wi), free(h);
    }
    const char *t = jstr(own, "date_modified_gmt");
    a->updated_at = ci_gmt_time(t ? t : jstr(product, "date_modified_gmt"));
}

int ci_parse_woo_simple(const cJSON *product, ci_article *a) {
    char buf[32];
    const char *id = jid(product, "id", buf, sizeof buf);
    if (!id) return -1;
    memset(a, 0, sizeof *a);
    a->product_id = dup(id);
    a->variant_id = dup("");
    a->variant_title = dup("");
    common(product, product, a);
    return 0;
}

int ci_parse_woo_variation(const cJSON *product, const cJSON *variation, ci_article *a) {
    char pbuf[32], vbuf[32];
    const char *pid = jid(product, "id", pbuf, sizeof pbuf), *vid = jid(variation, "id", vbuf, sizeof vbuf);
    if (!pid || !vid) return -1;
    memset(a, 0, sizeof *a);
    a->product_id = dup(pid);
    a->variant_id = dup(vid);
    /* The variant name: its attribute options, "Red, XL". */
    char name[512] = "";
    const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(variation, "attributes"), *at;
    cJSON_ArrayForEach(at, attrs) {
        const char *opt = jstr(at, "option");
        if (!opt || !*opt) continue;
        size_t len = strlen(name);
        snprintf(name + len, sizeof name - len, "%s%s", len ? ", " : "", opt);
    }
    a->variant_title = dup(name);
    common(product, variation, a);
    return 0;
}

static int woo_get(ci_fetch *f, const char *path, const char *query, cJSON **doc, long *pages,
                   char *err, size_t errlen) {
    wb_shop_response r;
    int rc = wb_woo_request(f->client, "GET", path, query, NULL, &r);
    if (rc || r.status != 200) {
        if (rc) snprintf(err, errlen, "GET %s: %s", path, r.error);
        else snprintf(err, errlen, "GET %s: HTTP %ld", path, r.status);
        long status = r.status;
        wb_shop_response_free(&r);
        return status == 404 ? 1 : -1;
    }
    *doc = r.body ? cJSON_ParseWithLength(r.body, r.body_len) : NULL;
    if (pages) *pages = r.total_pages;
    wb_shop_response_free(&r);
    if (!*doc) {
        snprintf(err, errlen, "GET %s: the answer is not JSON", path);
        return -1;
    }
    return 0;
}

/* All (published) variations of one variable product. */
static int variations(ci_fetch *f, const cJSON *product, ci_articles *out, char *err, size_t errlen) {
    char buf[32];
    const char *pid = jid(product, "id", buf, sizeof buf);
    if (!pid) return 0;
    char path[96];
    snprintf(path, sizeof path, "products/%s/variations", pid);
    int limit = f->store->variations_limit, taken = 0;
    for (long page = 1;; page++) {
        wb_heartbeat(); /* a product with many variations takes many calls */
        char query[128];
        snprintf(query, sizeof query, "per_page=%d&page=%ld&orderby=id&order=asc", f->cfg->woo_page, page);
        cJSON *doc = NULL;
        long pages = -1;
        int rc = woo_get(f, path, query, &doc, &pages, err, errlen);
        if (rc > 0) return 0; /* the product is gone meanwhile */
        if (rc < 0) return -1;
        const cJSON *v;
        int n = 0;
        cJSON_ArrayForEach(v, doc) {
            n++;
            const char *status = jstr(v, "status");
            if (status && strcmp(status, "publish") != 0) continue;
            if (limit > 0 && taken >= limit) break;
            ci_article *a = ci_articles_add(out);
            if (ci_parse_woo_variation(product, v, a)) out->count--;
            else taken++;
        }
        cJSON_Delete(doc);
        if (n == 0 || (limit > 0 && taken >= limit)) break;
        if (pages >= 0 ? page >= pages : n < f->cfg->woo_page) break;
    }
    return 0;
}

static int product_articles(ci_fetch *f, const cJSON *p, ci_articles *out, char *err, size_t errlen) {
    const char *type = jstr(p, "type"), *status = jstr(p, "status");
    if (status && strcmp(status, "publish") != 0) return 0;
    if (type && strcmp(type, "variable") == 0) return variations(f, p, out, err, errlen);
    if (type && (strcmp(type, "grouped") == 0 || strcmp(type, "external") == 0)) return 0; /* not stocked */
    ci_article *a = ci_articles_add(out);
    if (ci_parse_woo_simple(p, a)) out->count--;
    return 0;
}

int ci_fetch_woo(ci_fetch *f, const char *cursor, const char *product_id, ci_articles *out,
                 char **next, long *pages_total, char *err, size_t errlen) {
    *next = NULL;
    *pages_total = -1;
    cJSON *doc = NULL;
    if (product_id) {
        char path[96];
        snprintf(path, sizeof path, "products/%s", product_id);
        int rc = woo_get(f, path, NULL, &doc, NULL, err, errlen);
        if (rc > 0) return 0; /* deleted: nothing to import */
        if (rc < 0) return -1;
        rc = product_articles(f, doc, out, err, errlen);
        cJSON_Delete(doc);
        return rc;
    }
    long page = cursor && *cursor ? atol(cursor) : 1;
    if (page < 1) page = 1;
    char query[160];
    snprintf(query, sizeof query, "status=publish&per_page=%d&page=%ld&orderby=id&order=asc",
             f->cfg->woo_page, page);
    long pages = -1;
    int rc = woo_get(f, "products", query, &doc, &pages, err, errlen);
    if (rc) return -1;
    const cJSON *p;
    int n = 0;
    cJSON_ArrayForEach(p, doc) {
        n++;
        if (product_articles(f, p, out, err, errlen)) {
            cJSON_Delete(doc);
            return -1;
        }
    }
    cJSON_Delete(doc);
    *pages_total = pages;
    bool more = pages >= 0 ? page < pages : n == f->cfg->woo_page;
    if (more && asprintf(next, "%ld", page + 1) < 0) abort();
    return 0;
}
