/* Articles: names, decimals, the message and its content hash. Pure. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "wb/crypto.h"

void ci_article_free(ci_article *a) {
    if (!a) return;
    char **strs[] = {&a->product_id, &a->variant_id, &a->inventory_item_id, &a->sku, &a->barcode,
                     &a->title, &a->variant_title, &a->weight, &a->weight_unit, &a->length,
                     &a->width, &a->height, &a->dim_unit, &a->updated_at};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) free(*strs[i]);
    for (size_t i = 0; i < a->n_categories; i++) free(a->categories[i]);
    free(a->categories);
    memset(a, 0, sizeof *a);
}

ci_article *ci_articles_add(ci_articles *list) {
    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 64;
        ci_article *items = realloc(list->items, cap * sizeof *items);
        if (!items) abort();
        list->items = items;
        list->cap = cap;
    }
    ci_article *a = &list->items[list->count++];
    memset(a, 0, sizeof *a);
    return a;
}

void ci_articles_free(ci_articles *list) {
    for (size_t i = 0; i < list->count; i++) ci_article_free(&list->items[i]);
    free(list->items);
    memset(list, 0, sizeof *list);
}

/* Bytes of s that hold at most max code points. */
static size_t utf8_prefix(const char *s, size_t max) {
    size_t i = 0, cps = 0;
    while (s[i]) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (cps == max) break;
            cps++;
        }
        i++;
    }
    return i;
}

static bool blank(const char *s) {
    if (!s) return true;
    for (; *s; s++)
        if (*s != ' ' && *s != '\t') return false;
    return true;
}

char *ci_article_name(const char *title, const char *variant_title, const char *sku) {
    char *full = NULL;
    bool own_variant = !blank(variant_title) && strcmp(variant_title, "Default Title") != 0 &&
                       (!title || strcmp(variant_title, title) != 0);
    const char *t = blank(title) ? NULL : title;
    int rc;
    if (t && own_variant) rc = asprintf(&full, "%s - %s", t, variant_title);
    else if (t) rc = asprintf(&full, "%s", t);
    else if (own_variant) rc = asprintf(&full, "%s", variant_title);
    else rc = asprintf(&full, "%s", sku && *sku ? sku : "?");
    if (rc < 0) abort();
    full[utf8_prefix(full, 255)] = 0;
    return full;
}

/* Drops trailing zeros after the point (and the point). */
static void trim_decimal(char *s) {
    char *dot = strchr(s, '.');
    if (!dot) return;
    char *end = s + strlen(s) - 1;
    while (end > dot && *end == '0') *end-- = 0;
    if (end == dot) *end = 0;
}

static bool decimal_ok(const char *s) {
    const char *p = s;
    size_t ints = 0, fracs = 0;
    if (*p == '0' && p[1] && p[1] != '.') return false;
    while (*p >= '0' && *p <= '9') p++, ints++;
    if (ints == 0 || ints > 12) return false;
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9') p++, fracs++;
        if (fracs == 0 || fracs > 6) return false;
    }
    return *p == 0;
}

char *ci_decimal(double v) {
    if (!isfinite(v) || v < 0 || v >= 1e12) return NULL;
    char buf[64];
    snprintf(buf, sizeof buf, "%.6f", v);
    trim_decimal(buf);
    return decimal_ok(buf) ? strdup(buf) : NULL;
}

char *ci_decimal_text(const char *s) {
    if (blank(s)) return NULL;
    char buf[64];
    snprintf(buf, sizeof buf, "%s", s);
    const char *p = buf;
    while (*p == '0' && p[1] >= '0' && p[1] <= '9') p++; /* "05" -> "5" */
    char out[64];
    snprintf(out, sizeof out, "%s", p);
    if (out[0] == '.' && strlen(out) + 2 <= sizeof out) { /* ".5" -> "0.5"; a longer one fails below */
        memmove(out + 1, out, strlen(out) + 1);
        out[0] = '0';
    }
    trim_decimal(out);
    if (decimal_ok(out)) return strdup(out);
    char *end = NULL;
    double v = strtod(s, &end);
    if (end == s || *end) return NULL;
    return ci_decimal(v);
}

static const char *nonempty(const char *s) { return s && *s ? s : NULL; }

void ci_article_msg(const ci_article *a, const char *sku, const ci_article_opts *o,
                    wb_catalog_msg *m) {
    memset(m, 0, sizeof *m);
    m->store_id = (char *)o->store_id;
    m->platform = o->platform;
    m->sku = (char *)sku;
    m->name = ci_article_name(a->title, a->variant_title, sku);
    m->product_id = a->product_id;
    m->variant_id = (char *)nonempty(a->variant_id);
    m->barcode = (char *)(a->barcode && *a->barcode && strlen(a->barcode) <= 64 ? a->barcode : NULL);
    m->unit = (char *)nonempty(o->unit);
    if (o->categories && a->n_categories) {
        m->categories = calloc(a->n_categories, sizeof *m->categories);
        if (!m->categories) abort();
        for (size_t i = 0; i < a->n_categories && m->n_categories < 50; i++) {
            const char *c = a->categories[i];
            if (blank(c) || utf8_prefix(c, 255) != strlen(c)) continue;
            m->categories[m->n_categories++] = (char *)c;
        }
    }
    m->is_stock_article = !(a->is_virtual && o->virtual_as_non_stock);
    if (a->weight && a->weight_unit) {
        m->weight.value = a->weight;
        m->weight.unit = a->weight_unit;
    }
    if (a->length && a->width && a->height && a->dim_unit) {
        m->dimensions.length = a->length;
        m->dimensions.width = a->width;
        m->dimensions.height = a->height;
        m->dimensions.unit = a->dim_unit;
    }
    m->updated_at = a->updated_at;
}

void ci_msg_release(wb_catalog_msg *m) {
    free(m->name);
    free(m->categories);
    m->name = NULL;
    m->categories = NULL;
    m->n_categories = 0;
}

void ci_msg_hash(const wb_catalog_msg *m, char out[65]) {
    wb_catalog_msg copy = *m;
    copy.updated_at = "2000-01-01T00:00:00Z";
    char *json = wb_catalog_msg_encode(&copy);
    if (!json) { /* not a valid message: a hash nothing matches */
        snprintf(out, 65, "invalid");
        return;
    }
    wb_sha256_hex(json, strlen(json), out);
    free(json);
}
