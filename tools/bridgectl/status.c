/* bridgectl status: the bridge at a glance, from where each fact lives.
 *
 *   services  GET /healthz and /readyz of each service (URLs from
 *             WB_ORDER_INGEST_URL, WB_CATALOG_INGEST_URL,
 *             WB_STOCK_PUBLISHER_URL, WB_FULFILMENT_REPORTER_URL; defaults
 *             http://127.0.0.1:8081-8084)
 *   lag       per consumer group, topic and partition: the group's committed
 *             offset against the partition's high watermark, straight from
 *             Kafka (an OffsetFetch; bridgectl never joins the group). Groups:
 *             WB_STOCK_GROUP, WB_FULFIL_GROUP as the services read them.
 *   stores    last order (ingested_orders), last stock flush (stock_sent),
 *             pending stock windows and the oldest one's age (Redis
 *             wb:{sp:P}:win of every wms.stock.v1 partition, when
 *             WB_REDIS_URL is set), the rate budget (Redis
 *             wb:{STORE}:ratebucket and the store's rate_limit_rps), dead
 *             letters (bridge.deadletter.v1, indexed as `deadletters list`
 *             does).
 * A part that cannot be read is reported as such (a note), not fatal: the
 * command is most needed when something is down. Only PostgreSQL is
 * required. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include <librdkafka/rdkafka.h>

#include "bridgectl.h"
#include "wb/config.h"
#include "wb/kafka.h"
#include "wb/log.h"
#include "wb/redis.h"
#include "wb/runloop.h"
#include "wb/shopclient.h"

typedef struct service_def {
    const char *name, *env, *url;
} service_def;

static const service_def services[] = {
    {"order-ingest", "WB_ORDER_INGEST_URL", "http://127.0.0.1:8081"},
    {"catalog-ingest", "WB_CATALOG_INGEST_URL", "http://127.0.0.1:8082"},
    {"stock-publisher", "WB_STOCK_PUBLISHER_URL", "http://127.0.0.1:8083"},
    {"fulfilment-reporter", "WB_FULFILMENT_REPORTER_URL", "http://127.0.0.1:8084"},
};
#define SERVICE_COUNT (int)(sizeof services / sizeof services[0])

static void note(cJSON *report, const char *fmt, const char *a, const char *b) {
    char text[600];
    snprintf(text, sizeof text, fmt, a, b);
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(report, "notes"), cJSON_CreateString(text));
}

/* One GET, one attempt, two seconds: a probe, not a client. */
static long probe(wb_shop_http *http, const char *base, const char *path, char **body) {
    char url[600];
    snprintf(url, sizeof url, "%s%s", base, path);
    wb_shop_request req = {.method = "GET", .url = url};
    wb_shop_response res;
    wb_shop_http_do(http, &req, &res);
    long status = res.status;
    *body = res.body ? strdup(res.body) : NULL;
    wb_shop_response_free(&res);
    return status;
}

static void check_services(cJSON *report, const char *urls[]) {
    wb_shop_opts opts = {.connect_timeout_ms = 1000, .request_timeout_ms = 2000, .deadline_ms = 2500,
                         .max_attempts = 1};
    wb_shop_opts_defaults(&opts);
    cJSON *arr = cJSON_AddArrayToObject(report, "services");
    for (int i = 0; i < SERVICE_COUNT; i++) {
        wb_shop_http *http = wb_shop_http_new("bridgectl", "bridgectl", &opts);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", services[i].name);
        cJSON_AddStringToObject(o, "url", urls[i]);
        char *body = NULL;
        long live = probe(http, urls[i], "/healthz", &body);
        free(body);
        body = NULL;
        cJSON_AddStringToObject(o, "healthz", live == 200 ? "up" : live ? "stuck" : "down");
        long ready = live ? probe(http, urls[i], "/readyz", &body) : 0;
        cJSON_AddStringToObject(o, "readyz", ready == 200 ? "ready" : ready ? "not ready" : "down");
        if (ready && ready != 200) {
            /* /readyz names what is missing. */
            cJSON *doc = cJSON_Parse(body ? body : "");
            cJSON *checks = cJSON_DetachItemFromObjectCaseSensitive(doc, "checks");
            if (checks) cJSON_AddItemToObject(o, "checks", checks);
            cJSON_Delete(doc);
        }
        free(body);
        cJSON_AddItemToArray(arr, o);
        wb_shop_http_free(http);
    }
}

/* Lag of one group on one topic; appends rows, or a note on failure. */
static void group_lag(cJSON *report, const char *brokers, const char *group, const char *topic) {
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof err) ||
        rd_kafka_conf_set(conf, "group.id", group, err, sizeof err) ||
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err) ||
        rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err)) {
        rd_kafka_conf_destroy(conf);
        note(report, "consumer lag: %s: %s", group, err);
        return;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) {
        note(report, "consumer lag: %s: %s", group, err);
        return;
    }
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 5000);
    if (e || md->topic_cnt != 1 || md->topics[0].err) {
        char what[300];
        snprintf(what, sizeof what, "%s on %s", group, topic);
        note(report, "consumer lag: %s: %s", what,
             rd_kafka_err2str(e ? e : md->topic_cnt ? md->topics[0].err : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC));
        goto out;
    }
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
    for (int i = 0; i < md->topics[0].partition_cnt; i++)
        rd_kafka_topic_partition_list_add(parts, topic, md->topics[0].partitions[i].id);
    rd_kafka_topic_partition_list_sort(parts, NULL, NULL);
    e = rd_kafka_committed(rk, parts, 10000);
    if (e) {
        note(report, "consumer lag: %s: %s", group, rd_kafka_err2str(e));
    } else {
        cJSON *rows = cJSON_GetObjectItemCaseSensitive(report, "consumer_lag");
        for (int i = 0; i < parts->cnt; i++) {
            int64_t low = 0, high = 0;
            if (rd_kafka_query_watermark_offsets(rk, topic, parts->elems[i].partition, &low, &high, 5000)) continue;
            int64_t committed = parts->elems[i].offset;
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "group", group);
            cJSON_AddStringToObject(o, "topic", topic);
            cJSON_AddNumberToObject(o, "partition", parts->elems[i].partition);
            if (committed >= 0) cJSON_AddNumberToObject(o, "committed", (double)committed);
            else cJSON_AddNullToObject(o, "committed");
            cJSON_AddNumberToObject(o, "end", (double)high);
            /* Nothing committed yet: everything still there is unread. */
            cJSON_AddNumberToObject(o, "lag", (double)(high - (committed >= 0 ? committed : low)));
            cJSON_AddItemToArray(rows, o);
        }
    }
    rd_kafka_topic_partition_list_destroy(parts);
out:
    if (md) rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
}

typedef struct store_row {
    char *id;
    int pending;
    int64_t oldest_opened_ms;
    cJSON *budget;
} store_row;

static store_row *find_row(store_row *rows, int n, const char *id, size_t len) {
    for (int i = 0; i < n; i++)
        if (strlen(rows[i].id) == len && strncmp(rows[i].id, id, len) == 0) return &rows[i];
    return NULL;
}

/* Pending windows per store and each store's rate bucket. */
static void read_redis(cJSON *report, const char *url, store_row *rows, int n) {
    char err[512];
    wb_redis *r = wb_redis_connect(url, err, sizeof err);
    if (!r) {
        note(report, "redis: %s%s", err, "");
        return;
    }
    int partitions = 0;
    for (int i = 0; i < wb_bridge_topic_count; i++)
        if (strcmp(wb_bridge_topics[i].name, WB_TOPIC_STOCK) == 0) partitions = wb_bridge_topics[i].partitions;
    for (int p = 0; p < partitions; p++) {
        char key[64];
        snprintf(key, sizeof key, "wb:{sp:%d}:win", p);
        redisReply *rep = wb_redis_command(r, "HGETALL %s", key);
        if (!rep) {
            note(report, "redis: %s%s", wb_redis_error(r), "");
            break;
        }
        /* field "store|item|location", value "opened_ms deadline_ms first touches" */
        for (size_t i = 0; rep->type == REDIS_REPLY_ARRAY && i + 1 < rep->elements; i += 2) {
            const char *field = rep->element[i]->str, *bar = field ? strchr(field, '|') : NULL;
            store_row *row = bar ? find_row(rows, n, field, (size_t)(bar - field)) : NULL;
            if (!row) continue;
            long long opened = atoll(rep->element[i + 1]->str ? rep->element[i + 1]->str : "0");
            row->pending++;
            if (!row->oldest_opened_ms || opened < row->oldest_opened_ms) row->oldest_opened_ms = opened;
        }
        freeReplyObject(rep);
    }
    for (int i = 0; i < n; i++) {
        char key[160];
        if (wb_redis_key(key, sizeof key, rows[i].id, "ratebucket", NULL) < 0) continue;
        redisReply *rep = wb_redis_command(r, "HMGET %s tokens ts cap rate", key);
        if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 4 && rep->element[0]->str &&
            rep->element[1]->str) {
            double tokens = atof(rep->element[0]->str), ts = atof(rep->element[1]->str);
            double cap = rep->element[2]->str ? atof(rep->element[2]->str) : 0;
            double rate = rep->element[3]->str ? atof(rep->element[3]->str) : 0;
            /* As the bucket's script refills it: what it holds now. */
            double now = (double)wb_wall_ms();
            if (rate > 0 && now > ts) tokens += (now - ts) * rate / 1000;
            if (cap > 0 && tokens > cap) tokens = cap;
            rows[i].budget = cJSON_CreateObject();
            cJSON_AddNumberToObject(rows[i].budget, "available", (double)(long long)tokens);
            if (cap > 0) cJSON_AddNumberToObject(rows[i].budget, "capacity", cap);
            if (rate > 0) cJSON_AddNumberToObject(rows[i].budget, "per_second", rate);
        }
        if (rep) freeReplyObject(rep);
    }
    wb_redis_close(r);
}

static int read_stores(cJSON *report, wb_pg *pg, bool redis_ok, const char *redis_url) {
    PGresult *res = wb_pg_query(pg,
        "SELECT s.id, s.platform, s.enabled,"
        " (SELECT to_char(max(o.created_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
        "  FROM ingested_orders o WHERE o.store_id = s.id),"
        " (SELECT to_char(max(t.sent_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
        "  FROM stock_sent t WHERE t.store_id = s.id),"
        " (SELECT count(*) FROM deadletters d WHERE d.store_id = s.id),"
        " (SELECT count(*) FROM deadletters d WHERE d.store_id = s.id"
        "  AND NOT EXISTS (SELECT 1 FROM deadletter_replays r WHERE r.deadletter_id = d.id)),"
        /* rate_limit_rps exists once the stock path's budget migration ran. */
        " to_jsonb(s) ->> 'rate_limit_rps'"
        " FROM stores s ORDER BY s.id", 0, NULL);
    if (!res) {
        fprintf(stderr, "bridgectl: postgresql: %s\n", wb_pg_error(pg));
        return 1;
    }
    int n = PQntuples(res);
    store_row *rows = calloc((size_t)n + 1, sizeof *rows);
    for (int i = 0; i < n; i++) rows[i].id = PQgetvalue(res, i, 0);
    if (redis_ok) read_redis(report, redis_url, rows, n);
    cJSON *arr = cJSON_AddArrayToObject(report, "stores");
    int64_t now = wb_wall_ms();
    for (int i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", rows[i].id);
        cJSON_AddStringToObject(o, "platform", PQgetvalue(res, i, 1));
        cJSON_AddBoolToObject(o, "enabled", PQgetvalue(res, i, 2)[0] == 't');
        for (int c = 3; c <= 4; c++) {
            const char *name = c == 3 ? "last_order_at" : "last_stock_flush_at";
            if (PQgetisnull(res, i, c)) cJSON_AddNullToObject(o, name);
            else cJSON_AddStringToObject(o, name, PQgetvalue(res, i, c));
        }
        if (redis_ok) {
            cJSON_AddNumberToObject(o, "pending_windows", rows[i].pending);
            if (rows[i].oldest_opened_ms)
                cJSON_AddNumberToObject(o, "oldest_window_age_s", (double)((now - rows[i].oldest_opened_ms) / 1000));
            else
                cJSON_AddNullToObject(o, "oldest_window_age_s");
        }
        if (rows[i].budget) cJSON_AddItemToObject(o, "rate_budget", rows[i].budget);
        else cJSON_AddNullToObject(o, "rate_budget");
        if (!PQgetisnull(res, i, 7)) cJSON_AddNumberToObject(o, "rate_limit_rps", atof(PQgetvalue(res, i, 7)));
        cJSON_AddNumberToObject(o, "dead_letters", atof(PQgetvalue(res, i, 5)));
        cJSON_AddNumberToObject(o, "dead_letters_not_replayed", atof(PQgetvalue(res, i, 6)));
        cJSON_AddItemToArray(arr, o);
    }
    free(rows);
    PQclear(res);
    return 0;
}

static const char *jtext(const cJSON *o, const char *name, const char *dflt) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : dflt;
}

static double jnum(const cJSON *o, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static void print_table(const cJSON *report) {
    const cJSON *x;
    printf("%-20s %-32s %-8s %s\n", "SERVICE", "URL", "HEALTHZ", "READYZ");
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(report, "services")) {
        printf("%-20s %-32s %-8s %s", jtext(x, "name", ""), jtext(x, "url", ""), jtext(x, "healthz", ""),
               jtext(x, "readyz", ""));
        const cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(x, "checks"))
            if (cJSON_IsString(c) && strcmp(c->valuestring, "ok") != 0) printf("  %s: %s", c->string, c->valuestring);
        printf("\n");
    }
    printf("\n%-28s %-20s %9s %12s %12s %8s\n", "GROUP", "TOPIC", "PARTITION", "COMMITTED", "END", "LAG");
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(report, "consumer_lag")) {
        char committed[24] = "-";
        if (jnum(x, "committed") >= 0) snprintf(committed, sizeof committed, "%.0f", jnum(x, "committed"));
        printf("%-28s %-20s %9.0f %12s %12.0f %8.0f\n", jtext(x, "group", ""), jtext(x, "topic", ""),
               jnum(x, "partition"), committed, jnum(x, "end"), jnum(x, "lag"));
    }
    printf("\n%-20s %-12s %-7s %-21s %-21s %-8s %-10s %-14s %s\n", "STORE", "PLATFORM", "ENABLED", "LAST ORDER",
           "LAST STOCK FLUSH", "WINDOWS", "OLDEST", "RATE BUDGET", "DEAD LETTERS");
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(report, "stores")) {
        char windows[16] = "?", oldest[24] = "-", budget[48] = "-";
        if (jnum(x, "pending_windows") >= 0) snprintf(windows, sizeof windows, "%.0f", jnum(x, "pending_windows"));
        if (jnum(x, "oldest_window_age_s") >= 0) snprintf(oldest, sizeof oldest, "%.0fs", jnum(x, "oldest_window_age_s"));
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(x, "rate_budget");
        if (cJSON_IsObject(b)) {
            if (jnum(b, "capacity") >= 0) snprintf(budget, sizeof budget, "%.0f/%.0f", jnum(b, "available"), jnum(b, "capacity"));
            else snprintf(budget, sizeof budget, "%.0f", jnum(b, "available"));
        } else if (jnum(x, "rate_limit_rps") >= 0) {
            snprintf(budget, sizeof budget, "%.0f/s", jnum(x, "rate_limit_rps"));
        }
        printf("%-20s %-12s %-7s %-21s %-21s %-8s %-10s %-14s %.0f (%.0f not replayed)\n", jtext(x, "id", ""),
               jtext(x, "platform", ""), cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(x, "enabled")) ? "yes" : "no",
               jtext(x, "last_order_at", "-"), jtext(x, "last_stock_flush_at", "-"), windows, oldest, budget,
               jnum(x, "dead_letters"), jnum(x, "dead_letters_not_replayed"));
    }
    const cJSON *notes = cJSON_GetObjectItemCaseSensitive(report, "notes");
    if (cJSON_GetArraySize(notes)) printf("\n");
    cJSON_ArrayForEach(x, notes) printf("note: %s\n", x->valuestring);
}

int bctl_status(int argc, char **argv) {
    bctl_option opts[] = {{"json", .is_flag = true}, {0}};
    if (bctl_parse(argc, argv, opts, NULL, 0, "status [--json]")) return 2;
    static const char *const http_schemes[] = {"http", "https", NULL};
    static const char *const redis_schemes[] = {"redis", "rediss", NULL};
    wb_env env = {{0}};
    const char *urls[SERVICE_COUNT];
    for (int i = 0; i < SERVICE_COUNT; i++) urls[i] = wb_env_url(&env, services[i].env, services[i].url, http_schemes);
    /* Optional here: unset leaves that part out, set must be right. */
    const char *b = getenv("WB_KAFKA_BROKERS"), *r = getenv("WB_REDIS_URL");
    const char *brokers = b && *b ? wb_env_hostports(&env, "WB_KAFKA_BROKERS", NULL) : "";
    const char *redis_url = r && *r ? wb_env_url(&env, "WB_REDIS_URL", NULL, redis_schemes) : "";
    const char *stock_group = wb_env_string(&env, "WB_STOCK_GROUP", "wmsbridge-stock-publisher");
    const char *fulfil_group = wb_env_string(&env, "WB_FULFIL_GROUP", "fulfilment-reporter");
    wb_env_exit_if_bad(&env, "bridgectl");
    /* The probes' own warnings would only repeat the table. */
    wb_log_init("bridgectl", WB_LOG_ERROR);
    wb_pg *pg = bctl_pg();
    cJSON *report = cJSON_CreateObject();
    cJSON_AddArrayToObject(report, "notes");
    check_services(report, urls);
    cJSON_AddArrayToObject(report, "consumer_lag");
    if (*brokers) {
        group_lag(report, brokers, stock_group, WB_TOPIC_STOCK);
        group_lag(report, brokers, fulfil_group, WB_TOPIC_FULFILMENT);
        if (bctl_deadletters_index(pg, false) != 0)
            note(report, "dead letters: %s%s", "bridge.deadletter.v1 could not be read; counts are as last indexed",
                 "");
    } else {
        note(report, "%s%s", "WB_KAFKA_BROKERS is not set: no consumer lag, dead letters as last indexed", "");
    }
    if (!*redis_url) note(report, "%s%s", "WB_REDIS_URL is not set: no pending windows or rate budgets", "");
    int rc = read_stores(report, pg, *redis_url != 0, redis_url);
    wb_pg_close(pg);
    if (rc == 0) {
        if (opts[0].flag) {
            char *text = cJSON_Print(report);
            printf("%s\n", text);
            cJSON_free(text);
        } else {
            print_table(report);
        }
    }
    cJSON_Delete(report);
    return rc;
}
