/* bridgectl articles load|list: the WMS's articles (wms_articles), which
 * catalog-ingest maps shop items to by barcode when the shop's SKU is not a
 * WMS sku (docs/catalog-path.md). The contracts have no topic on which the
 * WMS publishes its articles, so the operator loads them from the WMS's
 * export.
 *
 * `articles load GOODS_OWNER FILE.csv|-` reads a CSV (RFC 4180: a header
 * naming the columns sku and barcode in any order, quoted fields with ""
 * inside, CRLF or LF) and upserts every row in one transaction. The whole
 * file is checked first: a bad row stops the load with its line number and
 * nothing is written, so a half-loaded file never decides a mapping. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cjson/cJSON.h>

#include "bridgectl.h"

#define ARTICLES_BATCH 5000 /* rows per statement: one JSON parameter each */
#define FIELD_MAX 255       /* a sku or barcode longer than this is not one */

typedef struct article_row {
    char *sku, *barcode; /* barcode NULL when the row has none */
    long line;
} article_row;

typedef struct article_file {
    article_row *rows;
    size_t count, cap;
    int sku_col, barcode_col, columns;
} article_file;

static void rows_free(article_file *f) {
    for (size_t i = 0; i < f->count; i++) free(f->rows[i].sku), free(f->rows[i].barcode);
    free(f->rows);
}

/* One CSV record from *pos: its fields (malloc'd, in fields[], at most max),
 * *pos moved past its line end; *lines counts the physical lines it took (a
 * quoted field may hold a newline). Returns the number of fields, -1 with
 * err on a malformed record, -2 when more than max fields. */
static int csv_record(const char **pos, const char *end, char **fields, int max, long *lines, char *err,
                      size_t errlen) {
    const char *p = *pos;
    int n = 0;
    *lines = 1;
    for (;;) {
        size_t cap = 64, len = 0;
        char *field = malloc(cap);
        if (!field) abort();
        bool quoted = p < end && *p == '"';
        if (quoted) p++;
        for (;;) {
            if (p >= end) {
                if (quoted) {
                    free(field);
                    snprintf(err, errlen, "a quoted field is not closed");
                    goto fail;
                }
                break;
            }
            char c = *p;
            if (quoted && c == '"') {
                if (p + 1 < end && p[1] == '"') {
                    c = '"', p++;
                } else {
                    p++;
                    if (p < end && *p != ',' && *p != '\n' && *p != '\r') {
                        free(field);
                        snprintf(err, errlen, "text after a closing quote");
                        goto fail;
                    }
                    quoted = false;
                    break;
                }
            } else if (!quoted && (c == ',' || c == '\n' || c == '\r')) {
                break;
            } else if (!quoted && c == '"') {
                free(field);
                snprintf(err, errlen, "a quote inside an unquoted field (quote the whole field, \"\" for a quote)");
                goto fail;
            } else if (c == '\n') {
                (*lines)++;
            }
            if (c == 0) {
                free(field);
                snprintf(err, errlen, "a NUL byte");
                goto fail;
            }
            if (len + 2 > cap) {
                field = realloc(field, cap *= 2);
                if (!field) abort();
            }
            field[len++] = c;
            p++;
        }
        field[len] = 0;
        if (n == max) {
            free(field);
            for (int i = 0; i < n; i++) free(fields[i]);
            return -2;
        }
        fields[n++] = field;
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        if (p < end && *p == '\r') p++;
        if (p < end && *p == '\n') p++;
        *pos = p;
        return n;
    }
fail:
    for (int i = 0; i < n; i++) free(fields[i]);
    return -1;
}

static bool utf8_valid(const char *s) {
    const unsigned char *u = (const unsigned char *)s;
    while (*u) {
        int extra = *u < 0x80 ? 0 : (*u & 0xE0) == 0xC0 ? 1 : (*u & 0xF0) == 0xE0 ? 2 : (*u & 0xF8) == 0xF0 ? 3 : -1;
        if (extra < 0 || (extra == 1 && *u < 0xC2)) return false;
        u++;
        for (int i = 0; i < extra; i++, u++)
            if ((*u & 0xC0) != 0x80) return false;
    }
    return true;
}

/* Why a sku or barcode is not acceptable, or NULL. */
static const char *value_problem(const char *v) {
    if (strlen(v) > FIELD_MAX) return "longer than 255 bytes";
    if (!utf8_valid(v)) return "not UTF-8";
    for (const unsigned char *u = (const unsigned char *)v; *u; u++)
        if (*u < 0x20 || *u == 0x7f) return "holds a control character";
    size_t n = strlen(v);
    if (n && (v[0] == ' ' || v[n - 1] == ' ')) return "starts or ends with a space";
    return NULL;
}

static int header(article_file *f, char **fields, int n, long line, char *err, size_t errlen) {
    f->sku_col = f->barcode_col = -1;
    f->columns = n;
    for (int i = 0; i < n; i++) {
        char *name = fields[i];
        if (strcasecmp(name, "sku") == 0 && f->sku_col < 0) f->sku_col = i;
        else if (strcasecmp(name, "barcode") == 0 && f->barcode_col < 0) f->barcode_col = i;
        else {
            snprintf(err, errlen, "line %ld: column '%.64s' unknown or repeated (the header must be sku,barcode)", line, name);
            return -1;
        }
    }
    if (f->sku_col < 0 || f->barcode_col < 0) {
        snprintf(err, errlen, "line %ld: the header must name the columns sku and barcode", line);
        return -1;
    }
    return 0;
}

static int add_row(article_file *f, char **fields, int n, long line, char *err, size_t errlen) {
    if (n != f->columns) {
        snprintf(err, errlen, "line %ld: %d fields, the header has %d", line, n, f->columns);
        return -1;
    }
    const char *sku = fields[f->sku_col], *barcode = fields[f->barcode_col];
    if (!*sku) {
        snprintf(err, errlen, "line %ld: sku is empty", line);
        return -1;
    }
    const char *why = value_problem(sku);
    if (why) {
        snprintf(err, errlen, "line %ld: sku %s", line, why);
        return -1;
    }
    if ((why = value_problem(barcode))) {
        snprintf(err, errlen, "line %ld: barcode %s", line, why);
        return -1;
    }
    if (f->count == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 256;
        f->rows = realloc(f->rows, f->cap * sizeof *f->rows);
        if (!f->rows) abort();
    }
    article_row *r = &f->rows[f->count++];
    r->sku = strdup(sku);
    r->barcode = *barcode ? strdup(barcode) : NULL;
    r->line = line;
    if (!r->sku || (*barcode && !r->barcode)) abort();
    return 0;
}

static int by_sku(const void *a, const void *b) {
    const article_row *x = a, *y = b;
    int c = strcmp(x->sku, y->sku);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* The same sku twice in one file: which barcode wins would be an accident. */
static int no_duplicates(article_file *f, char *err, size_t errlen) {
    qsort(f->rows, f->count, sizeof *f->rows, by_sku);
    for (size_t i = 1; i < f->count; i++)
        if (strcmp(f->rows[i].sku, f->rows[i - 1].sku) == 0) {
            snprintf(err, errlen, "line %ld: sku %.255s already on line %ld", f->rows[i].line, f->rows[i].sku,
                     f->rows[i - 1].line);
            return -1;
        }
    return 0;
}

/* Parses the whole text; 0, or -1 with err naming the line. */
static int parse_articles(const char *text, size_t len, article_file *f, char *err, size_t errlen) {
    const char *p = text, *end = text + len;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3; /* a spreadsheet's byte order mark */
    long line = 1;
    bool have_header = false;
    char *fields[8];
    while (p < end) {
        long lines;
        char e[200] = "";
        if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')) { /* a blank line */
            p += *p == '\r' ? 2 : 1;
            line++;
            continue;
        }
        int n = csv_record(&p, end, fields, 8, &lines, e, sizeof e);
        if (n == -2) snprintf(e, sizeof e, "more than 8 fields");
        if (n < 0) {
            snprintf(err, errlen, "line %ld: %s", line, e);
            return -1;
        }
        int rc = have_header ? add_row(f, fields, n, line, err, errlen) : header(f, fields, n, line, err, errlen);
        for (int i = 0; i < n; i++) free(fields[i]);
        if (rc) return -1;
        have_header = true;
        line += lines;
    }
    if (!have_header) {
        snprintf(err, errlen, "the file is empty (expected a header sku,barcode)");
        return -1;
    }
    return no_duplicates(f, err, errlen);
}

/* A whole file or stdin, any size. */
static char *read_file(const char *path, size_t *len, char *err, size_t errlen) {
    FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!in) {
        snprintf(err, errlen, "cannot open %s", path);
        return NULL;
    }
    size_t cap = 65536, n = 0, got;
    char *buf = malloc(cap);
    if (!buf) abort();
    while ((got = fread(buf + n, 1, cap - n, in)) > 0) {
        n += got;
        if (n == cap) {
            buf = realloc(buf, cap *= 2);
            if (!buf) abort();
        }
    }
    bool failed = ferror(in);
    if (in != stdin) fclose(in);
    if (failed) {
        free(buf);
        snprintf(err, errlen, "reading %s failed", path);
        return NULL;
    }
    *len = n;
    return buf;
}

static int query_fail(wb_pg *pg) {
    fprintf(stderr, "bridgectl: postgresql: %s\n", wb_pg_error(pg));
    wb_pg_exec(pg, "ROLLBACK", 0, NULL);
    wb_pg_close(pg);
    return 1;
}

/* Upserts rows [from, to): counts the inserted and the changed ones (an
 * unchanged row is not touched, so its updated_at says when it last
 * changed). */
static int upsert(wb_pg *pg, const char *owner, const article_file *f, size_t from, size_t to, long *inserted,
                  long *updated) {
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = from; i < to; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "sku", f->rows[i].sku);
        if (f->rows[i].barcode) cJSON_AddStringToObject(o, "barcode", f->rows[i].barcode);
        else cJSON_AddNullToObject(o, "barcode");
        cJSON_AddItemToArray(arr, o);
    }
    char *json = cJSON_PrintUnformatted(arr);
    cJSON_Delete(arr);
    if (!json) abort();
    const char *p[] = {owner, json};
    PGresult *r = wb_pg_query(pg,
        "INSERT INTO wms_articles AS a (goods_owner, sku, barcode) "
        "SELECT $1, x.sku, x.barcode FROM jsonb_to_recordset($2::jsonb) AS x (sku text, barcode text) "
        "ON CONFLICT (goods_owner, sku) DO UPDATE SET barcode = EXCLUDED.barcode, updated_at = now() "
        "WHERE a.barcode IS DISTINCT FROM EXCLUDED.barcode "
        "RETURNING (xmax = 0)", 2, p);
    free(json);
    if (!r) return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        if (strcmp(PQgetvalue(r, i, 0), "t") == 0) (*inserted)++;
        else (*updated)++;
    }
    PQclear(r);
    return 0;
}

int bctl_articles_load(int argc, char **argv) {
    bctl_option opts[] = {{"json", .is_flag = true}, {0}};
    const char *pos[2];
    if (bctl_parse(argc, argv, opts, pos, 2, "articles load GOODS_OWNER FILE.csv|- [--json]")) return 2;
    const char *owner = pos[0], *path = pos[1];
    if (!*owner) {
        fprintf(stderr, "bridgectl: GOODS_OWNER must not be empty\n");
        return 2;
    }
    char err[512];
    size_t len = 0;
    char *text = read_file(path, &len, err, sizeof err);
    if (!text) {
        fprintf(stderr, "bridgectl: %s\n", err);
        return 1;
    }
    article_file f = {0};
    int bad = parse_articles(text, len, &f, err, sizeof err);
    free(text);
    if (bad) {
        fprintf(stderr, "bridgectl: %s: %s; nothing loaded\n", strcmp(path, "-") == 0 ? "stdin" : path, err);
        rows_free(&f);
        return 1;
    }
    wb_pg *pg = bctl_pg();
    long inserted = 0, updated = 0;
    if (wb_pg_exec(pg, "BEGIN", 0, NULL)) {
        rows_free(&f);
        return query_fail(pg);
    }
    for (size_t from = 0; from < f.count; from += ARTICLES_BATCH) {
        size_t to = from + ARTICLES_BATCH < f.count ? from + ARTICLES_BATCH : f.count;
        if (upsert(pg, owner, &f, from, to, &inserted, &updated)) {
            rows_free(&f);
            return query_fail(pg);
        }
    }
    if (wb_pg_exec(pg, "COMMIT", 0, NULL)) {
        rows_free(&f);
        return query_fail(pg);
    }
    /* A goods owner no store has is allowed (its store may come later), but
     * more likely a typing error: said, not refused. */
    const char *p[] = {owner};
    PGresult *r = wb_pg_query(pg, "SELECT count(*) FROM stores WHERE goods_owner = $1", 1, p);
    bool no_store = r && strcmp(PQgetvalue(r, 0, 0), "0") == 0;
    if (r) PQclear(r);
    wb_pg_close(pg);
    long unchanged = (long)f.count - inserted - updated;
    if (opts[0].flag) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "goods_owner", owner);
        cJSON_AddNumberToObject(o, "rows", (double)f.count);
        cJSON_AddNumberToObject(o, "inserted", (double)inserted);
        cJSON_AddNumberToObject(o, "updated", (double)updated);
        cJSON_AddNumberToObject(o, "unchanged", (double)unchanged);
        char *out = cJSON_PrintUnformatted(o);
        printf("%s\n", out);
        cJSON_free(out);
        cJSON_Delete(o);
    } else
        printf("goods owner %s: %zu articles read, %ld inserted, %ld updated, %ld unchanged\n", owner, f.count,
               inserted, updated, unchanged);
    if (no_store) fprintf(stderr, "bridgectl: note: no store has goods owner %s yet\n", owner);
    rows_free(&f);
    return 0;
}

int bctl_articles_list(int argc, char **argv) {
    bctl_option opts[] = {{"sku", .is_flag = false}, {"barcode", .is_flag = false}, {"json", .is_flag = true}, {0}};
    const char *owner;
    if (bctl_parse(argc, argv, opts, &owner, 1, "articles list GOODS_OWNER [--sku SKU] [--barcode CODE] [--json]"))
        return 2;
    wb_pg *pg = bctl_pg();
    const char *p[] = {owner, opts[0].value, opts[1].value};
    PGresult *r = wb_pg_query(pg,
        "SELECT sku, barcode, to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
        "FROM wms_articles WHERE goods_owner = $1 AND ($2::text IS NULL OR sku = $2) "
        "AND ($3::text IS NULL OR barcode = $3) ORDER BY sku", 3, p);
    if (!r) return query_fail(pg);
    if (opts[2].flag) {
        cJSON *arr = cJSON_CreateArray();
        for (int i = 0; i < PQntuples(r); i++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "sku", PQgetvalue(r, i, 0));
            if (!PQgetisnull(r, i, 1)) cJSON_AddStringToObject(o, "barcode", PQgetvalue(r, i, 1));
            cJSON_AddStringToObject(o, "updated_at", PQgetvalue(r, i, 2));
            cJSON_AddItemToArray(arr, o);
        }
        bctl_print_json(arr);
    } else if (PQntuples(r) == 0) {
        printf("goods owner %s: no WMS articles%s\n", owner, opts[0].value || opts[1].value ? " match" : "");
    } else {
        printf("%-32s %-24s %s\n", "SKU", "BARCODE", "UPDATED");
        for (int i = 0; i < PQntuples(r); i++)
            printf("%-32s %-24s %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2));
    }
    PQclear(r);
    wb_pg_close(pg);
    return 0;
}
