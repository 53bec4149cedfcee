/* Script mode: emit the events of a JSON file, in order, then exit. For
 * tests that need exact messages (partial shipments, returns, a level that
 * goes negative) without driving a whole scenario.
 *
 *   [ {"stock": {"goods_owner":"acme","warehouse":"WH1","sku":"A-1","on_hand":7,
 *                "movement":"receiving"}},
 *     {"after_ms": 500, "fulfilment": {"type":"dispatched","store_id":"s1","order_id":"1001",
 *                "shipments":[...]}} ]
 *
 * The objects are the contracts' messages; occurred_at may be left out (now),
 * and for stock reserved (0) and version (the next version of that
 * goods_owner/warehouse/sku, growing). Every event is checked by the
 * contract's decoder before the first one is produced: a bad script
 * produces nothing and says which event and field is wrong (exit 2). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "wb/runloop.h"
#include "wmssim.h"

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 65536, len = 0, n;
    char *buf = malloc(cap);
    while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len + 1 == cap) buf = realloc(buf, cap *= 2);
    }
    buf[len] = 0;
    fclose(f);
    return buf;
}

/* The item's message with the defaults filled in, as JSON (malloc'd). */
static char *complete(const cJSON *item, bool stock, ws_levels *versions, const char *now) {
    cJSON *m = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(item, stock ? "stock" : "fulfilment"), 1);
    if (cJSON_IsObject(m)) {
        if (!cJSON_HasObjectItem(m, "occurred_at")) cJSON_AddStringToObject(m, "occurred_at", now);
        if (stock && !cJSON_HasObjectItem(m, "reserved")) cJSON_AddNumberToObject(m, "reserved", 0);
        if (stock && !cJSON_HasObjectItem(m, "version")) {
            const cJSON *o = cJSON_GetObjectItemCaseSensitive(m, "goods_owner"),
                        *w = cJSON_GetObjectItemCaseSensitive(m, "warehouse"),
                        *s = cJSON_GetObjectItemCaseSensitive(m, "sku");
            int64_t v = 1;
            if (versions && cJSON_IsString(o) && cJSON_IsString(w) && cJSON_IsString(s))
                v = ws_next_version(ws_level_get(versions, o->valuestring, w->valuestring, s->valuestring)->version);
            cJSON_AddNumberToObject(m, "version", (double)v);
        }
    }
    char *json = cJSON_PrintUnformatted(m);
    cJSON_Delete(m);
    return json;
}

/* Checks (emit == NULL) or emits one item. Returns 0 or -1 with err. */
static int run_item(const cJSON *item, int index, ws_emitter *em, ws_levels *versions, char *err, size_t errlen) {
    char where[64], why[512];
    snprintf(where, sizeof where, "script[%d]", index);
    if (!cJSON_IsObject(item)) {
        snprintf(err, errlen, "%s: must be an object", where);
        return -1;
    }
    const cJSON *after = cJSON_GetObjectItemCaseSensitive(item, "after_ms"), *field;
    if (after && (!cJSON_IsNumber(after) || after->valuedouble < 0 || after->valuedouble > 3600000)) {
        snprintf(err, errlen, "%s.after_ms: must be a number of milliseconds from 0 to 3600000", where);
        return -1;
    }
    bool stock = cJSON_HasObjectItem(item, "stock"), fulfilment = cJSON_HasObjectItem(item, "fulfilment");
    cJSON_ArrayForEach(field, item) {
        if (strcmp(field->string, "after_ms") && strcmp(field->string, "stock") && strcmp(field->string, "fulfilment")) {
            snprintf(err, errlen, "%s.%s: unknown field (after_ms, stock, fulfilment)", where, field->string);
            return -1;
        }
    }
    if (stock == fulfilment) {
        snprintf(err, errlen, "%s: needs exactly one of stock and fulfilment", where);
        return -1;
    }
    if (em && after && after->valuedouble > 0 && !wb_sleep_ms((int)after->valuedouble)) return 0;
    char now[40];
    ws_now(now, sizeof now);
    char *json = complete(item, stock, em ? versions : NULL, now);
    int rc = 0;
    if (stock) {
        wb_stock_msg m;
        if (!json || wb_stock_msg_decode(json, strlen(json), &m, why, sizeof why)) {
            snprintf(err, errlen, "%s.stock.%s", where, json ? why : "out of memory");
            rc = -1;
        } else {
            if (em) {
                ws_level *lv = ws_level_get(versions, m.goods_owner, m.warehouse, m.sku);
                if (m.version > lv->version) lv->version = m.version;
                if (ws_emit_stock(em, &m)) snprintf(err, errlen, "%s: not produced", where), rc = -1;
            }
            wb_stock_msg_free(&m);
        }
    } else {
        wb_fulfilment_msg m;
        if (!json || wb_fulfilment_msg_decode(json, strlen(json), &m, why, sizeof why)) {
            snprintf(err, errlen, "%s.fulfilment.%s", where, json ? why : "out of memory");
            rc = -1;
        } else {
            if (em && ws_emit_fulfilment(em, &m)) snprintf(err, errlen, "%s: not produced", where), rc = -1;
            wb_fulfilment_msg_free(&m);
        }
    }
    cJSON_free(json);
    return rc;
}

int ws_run_script(const ws_config *cfg, ws_emitter *em) {
    char *text = slurp(cfg->script);
    if (!text) {
        wb_error(NULL, "script %s: cannot read it", cfg->script);
        fprintf(stderr, "wmssim: cannot read %s\n", cfg->script);
        return 2;
    }
    cJSON *doc = cJSON_Parse(text);
    free(text);
    if (!cJSON_IsArray(doc)) {
        wb_error(NULL, "script %s: not a JSON array", cfg->script);
        fprintf(stderr, "wmssim: %s: not a JSON array of events\n", cfg->script);
        cJSON_Delete(doc);
        return 2;
    }
    char err[700];
    int i = 0, rc = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, doc) {
        if (run_item(item, i++, NULL, NULL, err, sizeof err)) {
            wb_error(NULL, "script %s: %s", cfg->script, err);
            fprintf(stderr, "wmssim: %s: %s\n", cfg->script, err);
            cJSON_Delete(doc);
            return 2;
        }
    }
    ws_levels versions;
    ws_levels_init(&versions, 0);
    i = 0;
    cJSON_ArrayForEach(item, doc) {
        if (wb_stopping()) break;
        if (run_item(item, i++, em, &versions, err, sizeof err)) {
            wb_error(NULL, "%s", err);
            rc = 1;
            break;
        }
    }
    wb_info(NULL, "script %s done: %lld stock and %lld fulfilment events produced", cfg->script,
            (long long)em->stock_sent, (long long)em->fulfilment_sent);
    ws_levels_free(&versions);
    cJSON_Delete(doc);
    return rc;
}
