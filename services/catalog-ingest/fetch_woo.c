/* WooCommerce: published products by page (oldest id first), and for each
 * variable product all its variations, page after page (not capped at 100;
 * the store's variations_limit, 0 = all). WooCommerce has no call that
 * lists several products' variations, so a page's variable products are
 * read on WB_CATALOG_WOO_WORKERS connections at once. Every connection
 * draws from the store's rate budget shared in Redis with the other services
 * (wb/ratebudget.h) and keeps half of it free: a sync is the one caller that
 * can wait, a stock value or a tracking number cannot. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

const char *ci_woo_weight_unit(const char *woo) {
    static const char *const units[][2] = {{"kg", "kg"}, {"g", "g"}, {"lbs", "lb"}, {"oz", "oz"}};
    for (size_t i = 0; woo && i < sizeof units / sizeof units[0]; i++)
        if (strcmp(woo, units[i][0]) == 0) return units[i][1];
    return NULL;
}

const char *ci_woo_dim_unit(const char *woo, double *factor) {
    *factor = 1;
    if (!woo) return NULL;
    if (strcmp(woo, "m") == 0 || strcmp(woo, "cm") == 0 || strcmp(woo, "mm") == 0 || strcmp(woo, "in") == 0)
        return strcmp(woo, "m") == 0 ? "m" : strcmp(woo, "cm") == 0 ? "cm" : strcmp(woo, "mm") == 0 ? "mm" : "in";
    if (strcmp(woo, "yd") == 0) { /* the contract has no yards */
        *factor = 36;
        return "in";
    }
    return NULL;
}

/* A GET on the given connection (the sync's own, or a worker's). */
static int woo_get_on(void *client, const char *path, const char *query, cJSON **doc, long *pages,
                      char *err, size_t errlen) {
    wb_shop_response r;
    int rc = wb_woo_request(client, "GET", path, query, NULL, &r);
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

static int woo_get(ci_fetch *f, const char *path, const char *query, cJSON **doc, long *pages,
                   char *err, size_t errlen) {
    return woo_get_on(f->client, path, query, doc, pages, err, errlen);
}

/* The store's units, once a sync. A store whose settings cannot be read
 * (an older WooCommerce, a key without that right) keeps WooCommerce's
 * defaults, kg and cm, with a warning; so does an unknown unit. */
static void read_units(ci_fetch *f) {
    if (f->units_read) return;
    f->units_read = true;
    f->weight_unit = "kg", f->dim_unit = "cm", f->dim_factor = 1;
    cJSON *doc = NULL;
    char err[256];
    if (woo_get(f, "settings/products", NULL, &doc, NULL, err, sizeof err)) {
        wb_warn(f->store->id, "store units not read (%s): kg and cm assumed", err);
        return;
    }
    const cJSON *o;
    cJSON_ArrayForEach(o, doc) {
        const char *id = jstr(o, "id"), *value = jstr(o, "value");
        if (!id || !value) continue;
        if (strcmp(id, "woocommerce_weight_unit") == 0) {
            const char *u = ci_woo_weight_unit(value);
            if (u) f->weight_unit = u;
            else wb_warn(f->store->id, "weight unit %s unknown: kg assumed", value);
        } else if (strcmp(id, "woocommerce_dimension_unit") == 0) {
            double factor;
            const char *u = ci_woo_dim_unit(value, &factor);
            if (u) f->dim_unit = u, f->dim_factor = factor;
            else wb_warn(f->store->id, "dimension unit %s unknown: cm assumed", value);
        }
    }
    cJSON_Delete(doc);
}

static void set_str(char **dst, const char *value) {
    free(*dst);
    *dst = dup(value);
}

static void scaled(char **value, double factor) {
    if (!*value || factor == 1) return;
    char *v = ci_decimal(strtod(*value, NULL) * factor);
    free(*value);
    *value = v;
}

/* The articles from index `from` on in the store's units. */
static void apply_units(ci_fetch *f, ci_articles *out, size_t from) {
    for (size_t i = from; i < out->count; i++) {
        ci_article *a = &out->items[i];
        if (a->weight) set_str(&a->weight_unit, f->weight_unit);
        if (a->length) {
            set_str(&a->dim_unit, f->dim_unit);
            scaled(&a->length, f->dim_factor), scaled(&a->width, f->dim_factor), scaled(&a->height, f->dim_factor);
            if (!a->length || !a->width || !a->height) { /* too large once scaled: no dimensions */
                free(a->length), free(a->width), free(a->height), free(a->dim_unit);
                a->length = a->width = a->height = a->dim_unit = NULL;
            }
        }
    }
}

/* All (published) variations of one variable product. */
static int variations(ci_fetch *f, void *client, const cJSON *product, ci_articles *out, char *err,
                      size_t errlen) {
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
        int rc = woo_get_on(client, path, query, &doc, &pages, err, errlen);
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
    if (type && strcmp(type, "variable") == 0) return variations(f, f->client, p, out, err, errlen);
    if (type && (strcmp(type, "grouped") == 0 || strcmp(type, "external") == 0)) return 0; /* not stocked */
    ci_article *a = ci_articles_add(out);
    if (ci_parse_woo_simple(p, a)) out->count--;
    return 0;
}

/* One variable product of a page: its variations, read by whichever
 * connection takes it. */
typedef struct var_job {
    const cJSON *product;
    ci_articles list;
    int rc;
    char err[256];
} var_job;

typedef struct var_pool {
    ci_fetch *f;
    var_job *jobs;
    size_t count;
    atomic_size_t next;
    atomic_bool failed; /* one failed: the others take no more */
} var_pool;

typedef struct var_worker {
    var_pool *pool;
    void *client;
    wb_rate_budget *budget; /* the thread's own handle on the store's budget */
    pthread_t thread;
} var_worker;

static void take_jobs(var_pool *pool, void *client) {
    while (!atomic_load(&pool->failed)) {
        size_t i = atomic_fetch_add(&pool->next, 1);
        if (i >= pool->count) return;
        var_job *j = &pool->jobs[i];
        j->rc = variations(pool->f, client, j->product, &j->list, j->err, sizeof j->err);
        if (j->rc) atomic_store(&pool->failed, true);
    }
}

static void *worker_main(void *arg) {
    var_worker *w = arg;
    take_jobs(w->pool, w->client);
    return NULL;
}

void ci_woo_pace(void *client, wb_rate_budget *budget, const wb_store *store) {
    double rps = (double)store->rate_limit_rps;
    wb_woo_set_budget(client, budget, rps, rps / 2);
}

static const char *cred(const cJSON *c, const char *name) {
    const char *v = jstr(c, name);
    return v ? v : "";
}

/* The variations of every job, on the sync's connection and up to
 * woo_workers - 1 more (made for the page and closed after it). A worker
 * that cannot be started leaves its share to the others. */
static void run_jobs(ci_fetch *f, var_job *jobs, size_t count) {
    var_pool pool = {.f = f, .jobs = jobs, .count = count};
    atomic_init(&pool.next, 0);
    atomic_init(&pool.failed, false);
    size_t extra = (size_t)f->cfg->woo_workers - 1;
    if (extra > count - 1) extra = count - 1;
    var_worker *workers = calloc(extra + 1, sizeof *workers);
    if (!workers) abort();
    cJSON *c = extra ? cJSON_Parse(f->store->credentials ? f->store->credentials : "") : NULL;
    size_t started = 0;
    for (size_t i = 0; i < extra && c; i++) {
        var_worker *w = &workers[started];
        w->pool = &pool;
        w->client = wb_woo_new(f->store->id, f->store->base_url, cred(c, "consumer_key"), cred(c, "consumer_secret"),
                               NULL);
        if (!w->client) break;
        w->budget = wb_rate_budget_open(f->redis_url);
        ci_woo_pace(w->client, w->budget, f->store);
        if (pthread_create(&w->thread, NULL, worker_main, w)) {
            wb_woo_free(w->client);
            wb_rate_budget_close(w->budget);
            break;
        }
        started++;
    }
    cJSON_Delete(c);
    take_jobs(&pool, f->client);
    for (size_t i = 0; i < started; i++) {
        pthread_join(workers[i].thread, NULL);
        wb_woo_free(workers[i].client);
        wb_rate_budget_close(workers[i].budget);
    }
    free(workers);
}

static bool variable_published(const cJSON *p) {
    const char *type = jstr(p, "type"), *status = jstr(p, "status");
    return type && strcmp(type, "variable") == 0 && !(status && strcmp(status, "publish") != 0);
}

/* Moves a job's articles to the end of out. */
static void take_list(ci_articles *out, ci_articles *from) {
    for (size_t i = 0; i < from->count; i++) *ci_articles_add(out) = from->items[i];
    free(from->items);
    *from = (ci_articles){0};
}

/* A page of products as articles, in the page's order: the variable
 * products' variations read concurrently first. */
static int page_articles(ci_fetch *f, const cJSON *doc, ci_articles *out, char *err, size_t errlen) {
    size_t n = (size_t)cJSON_GetArraySize(doc), count = 0;
    var_job *jobs = calloc(n + 1, sizeof *jobs);
    if (!jobs) abort();
    const cJSON *p;
    cJSON_ArrayForEach(p, doc) if (variable_published(p)) jobs[count++].product = p;
    if (count) run_jobs(f, jobs, count);
    int rc = 0;
    for (size_t j = 0; j < count && rc == 0; j++)
        if (jobs[j].rc) {
            snprintf(err, errlen, "%s", jobs[j].err);
            rc = -1;
        }
    size_t j = 0;
    cJSON_ArrayForEach(p, doc) {
        if (rc) break;
        if (j < count && jobs[j].product == p) take_list(out, &jobs[j++].list);
        else rc = product_articles(f, p, out, err, errlen); /* no call: not a variable product */
    }
    for (size_t k = 0; k < count; k++) ci_articles_free(&jobs[k].list);
    free(jobs);
    return rc;
}

static int ci_fetch_woo_page(ci_fetch *f, const char *cursor, const char *product_id, ci_articles *out,
                             char **next, long *pages_total, char *err, size_t errlen);

int ci_fetch_woo(ci_fetch *f, const char *cursor, const char *product_id, ci_articles *out,
                 char **next, long *pages_total, char *err, size_t errlen) {
    *next = NULL;
    *pages_total = -1;
    read_units(f);
    size_t from = out->count;
    int rc = ci_fetch_woo_page(f, cursor, product_id, out, next, pages_total, err, errlen);
    if (rc == 0) apply_units(f, out, from);
    return rc;
}

static int ci_fetch_woo_page(ci_fetch *f, const char *cursor, const char *product_id, ci_articles *out,
                             char **next, long *pages_total, char *err, size_t errlen) {
    cJSON *doc = NULL;
    if (product_id) {
        char path[96];
        snprintf(path, sizeof path, "products/%s", product_id);
        f->product_state = CI_PRODUCT_PUBLISHED;
        int rc = woo_get(f, path, NULL, &doc, NULL, err, errlen);
        if (rc > 0) { /* deleted: nothing to import */
            f->product_state = CI_PRODUCT_GONE;
            err[0] = 0;
            return 0;
        }
        if (rc < 0) return -1;
        const char *status = jstr(doc, "status");
        if (status && strcmp(status, "trash") == 0) f->product_state = CI_PRODUCT_GONE;
        else if (status && strcmp(status, "publish") != 0) f->product_state = CI_PRODUCT_UNPUBLISHED;
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
    int n = cJSON_GetArraySize(doc);
    if (page_articles(f, doc, out, err, errlen)) {
        cJSON_Delete(doc);
        return -1;
    }
    cJSON_Delete(doc);
    *pages_total = pages;
    bool more = pages >= 0 ? page < pages : n == f->cfg->woo_page;
    if (more && asprintf(next, "%ld", page + 1) < 0) abort();
    return 0;
}
