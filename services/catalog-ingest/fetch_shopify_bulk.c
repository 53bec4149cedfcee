/* Shopify: a large store's full sync as one bulk operation.
 *
 * bulkOperationRunQuery(wb_gql_catalog_bulk_variants) starts it; the sync
 * records its cursor "bulk:<gid>:0" before anything else, then polls
 * bulkOperation(id:) every WB_CATALOG_BULK_POLL_MS until COMPLETED,
 * downloads the JSONL at `url` into a temporary file (streamed to disk, not
 * held in memory; no access token goes to that URL, it is signed storage)
 * and reads it WB_CATALOG_BULK_BATCH lines a page, one line at a time. Each
 * line is one variant with its product and inventory item inline, parsed
 * exactly as a node of a paged query, so both ways publish the same
 * articles with the same content hashes.
 *
 * After a kill -9 the next replica finds the cursor: a still-running
 * operation is polled again (not started anew: Shopify has already done
 * part of the work, and a second one would count against the app's
 * concurrent operations), a completed one is downloaded again (its URL
 * lives 7 days) and the lines already done are skipped.
 *
 * A FAILED (errorCode ACCESS_DENIED, INTERNAL_SERVER_ERROR, TIMEOUT),
 * CANCELED or EXPIRED operation, or a result that cannot be downloaded or
 * read, makes the caller page instead (return 1 with the reason). The
 * partialDataUrl of a failed operation is not used: paging reads it all
 * again anyway, and the content hashes keep what was sent from going out
 * twice. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <cjson/cJSON.h>

#include "catalog.h"
#include "wb/log.h"
#include "wb/runloop.h"
#include "wb/shopclient.h"

static const char *jstr(const cJSON *o, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int ci_bulk_cursor_parse(const char *cursor, char *gid, size_t size, long *lines) {
    size_t plen = strlen(CI_BULK_PREFIX);
    if (!cursor || strncmp(cursor, CI_BULK_PREFIX, plen) != 0) return -1;
    const char *start = cursor + plen, *colon = strrchr(start, ':');
    if (!colon || colon == start || (size_t)(colon - start) >= size) return -1;
    char *end = NULL;
    long n = strtol(colon + 1, &end, 10);
    if (!end || *end || end == colon + 1 || n < 0) return -1;
    memcpy(gid, start, (size_t)(colon - start));
    gid[colon - start] = 0;
    *lines = n;
    return 0;
}

static char *make_cursor(const char *gid, long lines) {
    char *c = NULL;
    if (asprintf(&c, CI_BULK_PREFIX "%s:%ld", gid, lines) < 0) abort();
    return c;
}

int ci_bulk_line(ci_fetch *f, const char *line, ci_articles *out) {
    cJSON *node = cJSON_Parse(line);
    if (!cJSON_IsObject(node) || !jstr(node, "id")) {
        cJSON_Delete(node);
        return -1;
    }
    const char *status = jstr(cJSON_GetObjectItemCaseSensitive(node, "product"), "status");
    f->nodes_seen++;
    if (status && strcmp(status, "ACTIVE") == 0) { /* drafts and archived ones stay out, as when paging */
        f->nodes_kept++;
        ci_article *a = ci_articles_add(out);
        if (ci_parse_shopify_variant(node, a)) out->count--;
    }
    cJSON_Delete(node);
    return 0;
}

/* The first userError's code and message, or NULL when there is none. */
static const cJSON *first_user_error(const cJSON *payload) {
    return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(payload, "userErrors"), 0);
}

/* Another of our operations running our query (a replica killed between
 * starting it and recording it): its gid, or 1. */
static int adopt_running(ci_fetch *f, char *gid, size_t size, char *err, size_t errlen) {
    cJSON *resp = NULL;
    if (wb_shopify_graphql(f->client, wb_gql_catalog_bulk_running, NULL, 0, &resp, err, errlen)) return -1;
    const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(resp, "data"), "bulkOperations"), "nodes");
    const cJSON *n;
    int rc = 1;
    cJSON_ArrayForEach(n, nodes) {
        const char *status = jstr(n, "status"), *query = jstr(n, "query"), *id = jstr(n, "id");
        bool live = status && (strcmp(status, "CREATED") == 0 || strcmp(status, "RUNNING") == 0);
        if (live && id && query && strcmp(query, wb_gql_catalog_bulk_variants) == 0) {
            snprintf(gid, size, "%s", id);
            rc = 0;
            break;
        }
    }
    cJSON_Delete(resp);
    return rc;
}

int ci_bulk_start(ci_fetch *f, long variants, char **next, long *pages_total, char *err, size_t errlen) {
    cJSON *vars = cJSON_CreateObject(), *resp = NULL;
    cJSON_AddStringToObject(vars, "query", wb_gql_catalog_bulk_variants);
    int rc = wb_shopify_graphql(f->client, wb_gql_catalog_bulk_start, vars, 10, &resp, err, errlen);
    cJSON_Delete(vars);
    if (rc) return 1; /* the pages may still get through */
    const cJSON *payload = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(resp, "data"),
                                                            "bulkOperationRunQuery");
    const cJSON *ue = first_user_error(payload);
    const char *gid = jstr(cJSON_GetObjectItemCaseSensitive(payload, "bulkOperation"), "id");
    char id[160] = "";
    if (gid && !ue) {
        snprintf(id, sizeof id, "%s", gid);
    } else {
        const char *code = jstr(ue, "code"), *msg = jstr(ue, "message");
        const cJSON *gerr = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(resp, "errors"), 0);
        snprintf(err, errlen, "bulkOperationRunQuery: %s%s%s", code ? code : "", code ? ": " : "",
                 msg ? msg : jstr(gerr, "message") ? jstr(gerr, "message") : "no operation in the answer");
        /* Over the app's concurrent operations: one of them may be ours. */
        bool busy = code && (strcmp(code, "LIMIT_REACHED") == 0 || strcmp(code, "OPERATION_IN_PROGRESS") == 0);
        char why[256];
        snprintf(why, sizeof why, "%s", err);
        if (!busy || adopt_running(f, id, sizeof id, err, errlen) != 0) {
            snprintf(err, errlen, "%s", why);
            cJSON_Delete(resp);
            return 1;
        }
        wb_info(f->store->id, "catalog: adopting bulk operation %s already running our query", id);
    }
    cJSON_Delete(resp);
    *next = make_cursor(id, 0);
    /* The start is a page of its own (it records the cursor), then a page
     * per batch of lines. */
    *pages_total = 1 + (variants + f->cfg->bulk_batch - 1) / f->cfg->bulk_batch;
    wb_info(f->store->id, "catalog: bulk operation %s started for %ld variants", id, variants);
    return 0;
}

/* Polls until the operation is COMPLETED: its url in url. 0, 1 unusable,
 * 2 stopping, -1 transport. */
static int await_completed(ci_fetch *f, const char *gid, char *url, size_t size, char *err, size_t errlen) {
    for (;;) {
        wb_heartbeat();
        cJSON *vars = cJSON_CreateObject(), *resp = NULL;
        cJSON_AddStringToObject(vars, "id", gid);
        int rc = wb_shopify_graphql(f->client, wb_gql_catalog_bulk_status, vars, 1, &resp, err, errlen);
        cJSON_Delete(vars);
        if (rc) return -1;
        const cJSON *op = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(resp, "data"),
                                                           "bulkOperation");
        const char *status = jstr(op, "status"), *code = jstr(op, "errorCode"), *u = jstr(op, "url");
        int out = -3;
        if (!cJSON_IsObject(op) || !status) {
            snprintf(err, errlen, "bulk operation %s not found", gid);
            out = 1;
        } else if (strcmp(status, "COMPLETED") == 0 && u) {
            snprintf(url, size, "%s", u);
            out = 0;
        } else if (strcmp(status, "COMPLETED") == 0) { /* no url: nothing matched */
            url[0] = 0;
            out = 0;
        } else if (strcmp(status, "CREATED") != 0 && strcmp(status, "RUNNING") != 0) {
            snprintf(err, errlen, "bulk operation %s %s%s%s", gid, status, code ? " " : "", code ? code : "");
            out = 1;
        }
        cJSON_Delete(resp);
        if (out != -3) return out;
        if (!wb_sleep_ms(f->cfg->bulk_poll_ms)) return 2;
    }
}

static size_t to_file(char *data, size_t size, size_t n, void *file) {
    return fwrite(data, size, n, file) * size;
}

/* A long download keeps the service's liveness, and ends on shutdown. */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
    (void)arg, (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    wb_heartbeat();
    return wb_stopping() ? 1 : 0;
}

/* The result into a temporary file (deleted when closed). 0, 1 with err. */
static int download(ci_fetch *f, const char *url, FILE **out, char *err, size_t errlen) {
    FILE *file = tmpfile();
    CURL *curl = curl_easy_init();
    if (!file || !curl) {
        snprintf(err, errlen, "bulk result: no temporary file or curl handle");
        if (file) fclose(file);
        if (curl) curl_easy_cleanup(curl);
        return 1;
    }
    char curl_err[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L); /* a stalled download fails, a long one does not */
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, to_file);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, file);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    /* A bound on what a shop's answer can put on our disk: about 40 times
     * the result of 100,000 variants (45 MB). */
    curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)2 << 30);
    CURLcode cc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    if (cc != CURLE_OK || status != 200 || fflush(file) != 0) {
        /* The URL's query is a signature: never logged. */
        const char *why = cc == CURLE_OK ? "refused" : *curl_err ? curl_err : curl_easy_strerror(cc);
        snprintf(err, errlen, "bulk result download: %s (HTTP %ld)", why, status);
        fclose(file);
        return 1;
    }
    rewind(file);
    wb_debug(f->store->id, "catalog: bulk result downloaded (%ld bytes)", ftell(file) >= 0 ? (long)ftell(file) : -1L);
    *out = file;
    return 0;
}

void ci_bulk_close(ci_fetch *f) {
    if (f->bulk_file) fclose(f->bulk_file);
    f->bulk_file = NULL;
    f->bulk_line = 0;
}

/* Opens the result of the cursor's operation at the cursor's line. */
static int open_result(ci_fetch *f, const char *gid, long lines, char *err, size_t errlen) {
    char url[4096];
    int rc = await_completed(f, gid, url, sizeof url, err, errlen);
    if (rc) return rc;
    FILE *file = NULL;
    if (!*url) file = tmpfile(); /* an empty result */
    else if ((rc = download(f, url, &file, err, errlen))) return rc;
    if (!file) {
        snprintf(err, errlen, "bulk result: no temporary file");
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    long skipped = 0;
    while (skipped < lines && getline(&line, &cap, file) > 0) skipped++;
    free(line);
    if (skipped < lines) {
        snprintf(err, errlen, "bulk result of %s has %ld lines, the sync had done %ld", gid, skipped, lines);
        fclose(file);
        return 1;
    }
    f->bulk_file = file;
    f->bulk_line = lines;
    return 0;
}

int ci_bulk_page(ci_fetch *f, const char *cursor, ci_articles *out, char **next, char *err, size_t errlen) {
    char gid[160];
    long lines;
    *next = NULL;
    if (ci_bulk_cursor_parse(cursor, gid, sizeof gid, &lines)) {
        snprintf(err, errlen, "malformed bulk cursor");
        return 1;
    }
    if (!f->bulk_file || f->bulk_line != lines) {
        ci_bulk_close(f);
        int rc = open_result(f, gid, lines, err, errlen);
        /* Stopping (a poll's wait or the download cut short): the same
         * cursor again, and the sync ends between pages; not a failure of
         * the operation, which the next start polls again. */
        if (rc == 2 || (rc == 1 && wb_stopping())) {
            *next = strdup(cursor);
            if (!*next) abort();
            return 0;
        }
        if (rc) return rc;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len = 0;
    int done = 0;
    while (done < f->cfg->bulk_batch && (len = getline(&line, &cap, f->bulk_file)) > 0) {
        done++;
        if (ci_bulk_line(f, line, out)) {
            snprintf(err, errlen, "bulk result of %s: line %ld is not a variant", gid, f->bulk_line + done);
            free(line);
            ci_bulk_close(f);
            return 1;
        }
    }
    free(line);
    f->bulk_line += done;
    int more = len > 0 ? fgetc(f->bulk_file) : EOF; /* so the last page is not followed by an empty one */
    if (more != EOF && ungetc(more, f->bulk_file) != EOF) *next = make_cursor(gid, f->bulk_line);
    else ci_bulk_close(f); /* the end of the result */
    return 0;
}
