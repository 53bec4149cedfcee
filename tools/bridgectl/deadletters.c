/* bridgectl deadletters list|show|replay.
 *
 * bridge.deadletter.v1 stays the source of truth. Before it answers, every
 * command copies the dead letters it has not seen yet into the deadletters
 * table (deadletter_cursor: where it stopped per partition), so an operator
 * can filter them, address one by a short id and see its replays without a
 * consumer group that would have to be kept alive. Copying is idempotent
 * (unique partition/offset), so two bridgectl runs at once do no harm.
 *
 * A replay re-publishes the original bytes and key to the source topic with
 * the bridge's producer (idempotent, acks=all) and records who did it, when
 * and where the message landed. A second replay needs --force, because the
 * consumer may then see the same message twice. */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include <librdkafka/rdkafka.h>

#include "bridgectl.h"
#include "wb/config.h"
#include "wb/crypto.h"
#include "wb/kafka.h"
#include "wb/runloop.h"

const char *bctl_kafka_brokers(void) {
    wb_env env = {{0}};
    const char *brokers = wb_env_hostports(&env, "WB_KAFKA_BROKERS", NULL);
    wb_env_exit_if_bad(&env, "bridgectl");
    return brokers;
}

static int pg_fail(wb_pg *pg) {
    fprintf(stderr, "bridgectl: postgresql: %s\n", wb_pg_error(pg));
    return 1;
}

static const char *json_text(const cJSON *o, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* One message of the topic into the table. A message that is not a dead
 * letter is kept too (kind "unreadable", its bytes as the original), so the
 * operator sees it instead of bridgectl skipping it. */
static int index_message(wb_pg *pg, const rd_kafka_message_t *m) {
    char part[16], off[24], size[24], src_part[16] = "", src_off[24] = "";
    snprintf(part, sizeof part, "%d", m->partition);
    snprintf(off, sizeof off, "%lld", (long long)m->offset);
    cJSON *doc = cJSON_ParseWithLength(m->payload, m->len);
    const cJSON *src = doc ? cJSON_GetObjectItemCaseSensitive(doc, "source") : NULL;
    const char *reason = json_text(doc, "reason"), *kind = json_text(src, "kind");
    const char *b64 = json_text(doc, "original_base64"), *dead_at = json_text(doc, "dead_at");
    char *raw_b64 = NULL;
    const char *p[15] = {part, off};
    if (reason && kind && b64 && dead_at && json_text(doc, "service")) {
        const cJSON *sp = cJSON_GetObjectItemCaseSensitive(src, "partition");
        const cJSON *so = cJSON_GetObjectItemCaseSensitive(src, "offset");
        const cJSON *sz = cJSON_GetObjectItemCaseSensitive(doc, "original_size");
        if (cJSON_IsNumber(sp)) snprintf(src_part, sizeof src_part, "%d", sp->valueint);
        if (cJSON_IsNumber(so)) snprintf(src_off, sizeof src_off, "%.0f", so->valuedouble);
        snprintf(size, sizeof size, "%.0f", cJSON_IsNumber(sz) ? sz->valuedouble : 0.0);
        p[2] = reason, p[3] = json_text(doc, "service"), p[4] = json_text(doc, "store_id");
        p[5] = kind, p[6] = json_text(src, "topic"), p[7] = *src_part ? src_part : NULL;
        p[8] = *src_off ? src_off : NULL, p[9] = json_text(src, "path");
        p[10] = json_text(doc, "key"), p[11] = b64, p[12] = size, p[13] = dead_at;
    } else {
        raw_b64 = malloc(m->len * 4 / 3 + 8);
        wb_base64_encode(m->payload, m->len, raw_b64, m->len * 4 / 3 + 8);
        snprintf(size, sizeof size, "%zu", m->len);
        p[2] = "not a bridge.deadletter.v1 message", p[3] = "unknown", p[4] = NULL;
        p[5] = "unreadable", p[6] = p[7] = p[8] = p[9] = p[10] = NULL;
        p[11] = raw_b64, p[12] = size, p[13] = NULL;
    }
    int rc = wb_pg_exec(pg,
                        "INSERT INTO deadletters (dl_partition, dl_offset, reason, service, store_id,"
                        " source_kind, source_topic, source_partition, source_offset, source_path,"
                        " msg_key, original_base64, original_size, dead_at)"
                        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,"
                        " coalesce($14::timestamptz, now()))"
                        " ON CONFLICT (dl_partition, dl_offset) DO NOTHING",
                        14, p);
    if (rc == 0)
        rc = wb_pg_exec(pg,
                        "INSERT INTO deadletter_cursor (dl_partition, next_offset) VALUES ($1, $2::bigint + 1)"
                        " ON CONFLICT (dl_partition) DO UPDATE SET next_offset ="
                        " greatest(deadletter_cursor.next_offset, excluded.next_offset)",
                        2, p);
    free(raw_b64);
    cJSON_Delete(doc);
    return rc;
}

static int64_t cursor_of(wb_pg *pg, int32_t partition) {
    char part[16];
    snprintf(part, sizeof part, "%d", partition);
    const char *p[] = {part};
    PGresult *r = wb_pg_query(pg, "SELECT next_offset FROM deadletter_cursor WHERE dl_partition = $1", 1, p);
    int64_t next = r && PQntuples(r) ? atoll(PQgetvalue(r, 0, 0)) : 0;
    if (r) PQclear(r);
    return next;
}

/* Copies what the topic holds beyond the cursor. Returns 0, or 1 after
 * printing why. */
int bctl_deadletters_index(wb_pg *pg, bool report) {
    const char *brokers = bctl_kafka_brokers();
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof err) ||
        rd_kafka_conf_set(conf, "group.id", "bridgectl-deadletters", err, sizeof err) ||
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err) ||
        rd_kafka_conf_set(conf, "enable.partition.eof", "true", err, sizeof err) ||
        rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err)) {
        rd_kafka_conf_destroy(conf);
        if (report) fprintf(stderr, "bridgectl: kafka: %s\n", err);
        return 1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) {
        if (report) fprintf(stderr, "bridgectl: kafka: %s\n", err);
        return 1;
    }
    int rc = 1;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, WB_TOPIC_DEADLETTER, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 15000);
    if (e || md->topic_cnt != 1 || md->topics[0].err) {
        if (report) fprintf(stderr, "bridgectl: kafka: cannot read %s: %s\n", WB_TOPIC_DEADLETTER,
                rd_kafka_err2str(e ? e : md->topic_cnt ? md->topics[0].err : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC));
        goto out;
    }
    rd_kafka_topic_partition_list_t *assign = rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
    int pending = 0;
    for (int i = 0; i < md->topics[0].partition_cnt; i++) {
        int32_t id = md->topics[0].partitions[i].id;
        int64_t low, high;
        e = rd_kafka_query_watermark_offsets(rk, WB_TOPIC_DEADLETTER, id, &low, &high, 15000);
        if (e) {
            if (report) fprintf(stderr, "bridgectl: kafka: %s partition %d: %s\n", WB_TOPIC_DEADLETTER, id,
                    rd_kafka_err2str(e));
            rd_kafka_topic_partition_list_destroy(assign);
            goto out;
        }
        int64_t from = cursor_of(pg, id);
        if (from < low) from = low;
        if (from >= high) continue;
        rd_kafka_topic_partition_list_add(assign, WB_TOPIC_DEADLETTER, id)->offset = from;
        pending++;
    }
    if (pending) rd_kafka_assign(rk, assign);
    rd_kafka_topic_partition_list_destroy(assign);
    int64_t deadline = wb_monotonic_ms() + 60000;
    while (pending > 0) {
        if (wb_monotonic_ms() > deadline) {
            if (report) fprintf(stderr, "bridgectl: kafka: reading %s took longer than 60 s\n", WB_TOPIC_DEADLETTER);
            goto out;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 500);
        if (!m) continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            pending--;
        } else if (m->err) {
            if (report) fprintf(stderr, "bridgectl: kafka: %s\n", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            goto out;
        } else if (index_message(pg, m) != 0) {
            rd_kafka_message_destroy(m);
            if (report) pg_fail(pg);
            goto out;
        }
        rd_kafka_message_destroy(m);
    }
    rc = 0;
out:
    if (md) rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return rc;
}

/* --since: a duration back from now (90s, 30m, 2h, 7d) or a timestamp
 * PostgreSQL reads. Writes the timestamptz text to out; -1 when neither. */
static int parse_since(wb_pg *pg, const char *since, char *out, size_t out_size) {
    char *end;
    long long n = strtoll(since, &end, 10);
    const char *unit = NULL;
    if (end != since && n >= 0 && end[0] && !end[1])
        unit = *end == 's' ? "seconds" : *end == 'm' ? "minutes" : *end == 'h' ? "hours" : *end == 'd' ? "days" : NULL;
    char interval[64];
    PGresult *r;
    if (unit) {
        snprintf(interval, sizeof interval, "%lld %s", n, unit);
        const char *p[] = {interval};
        r = wb_pg_query(pg, "SELECT (now() - $1::interval)::text", 1, p);
    } else {
        const char *p[] = {since};
        r = wb_pg_query(pg, "SELECT $1::timestamptz::text", 1, p);
    }
    if (!r || PQntuples(r) != 1) {
        if (r) PQclear(r);
        return -1;
    }
    snprintf(out, out_size, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return 0;
}

#define DL_COLUMNS                                                                              \
    "d.id, to_char(d.dead_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), d.service," \
    " d.store_id, d.source_kind, d.source_topic, d.source_partition, d.source_offset,"          \
    " d.source_path, d.msg_key, d.reason, d.original_base64, d.original_size,"                  \
    " (SELECT count(*) FROM deadletter_replays r WHERE r.deadletter_id = d.id),"                \
    " d.dl_partition, d.dl_offset"

static cJSON *null_or_string(PGresult *r, int row, int col) {
    return PQgetisnull(r, row, col) ? cJSON_CreateNull() : cJSON_CreateString(PQgetvalue(r, row, col));
}

static cJSON *null_or_number(PGresult *r, int row, int col) {
    return PQgetisnull(r, row, col) ? cJSON_CreateNull() : cJSON_CreateNumber(atof(PQgetvalue(r, row, col)));
}

static cJSON *row_json(PGresult *r, int i, bool full) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", atof(PQgetvalue(r, i, 0)));
    cJSON_AddStringToObject(o, "dead_at", PQgetvalue(r, i, 1));
    cJSON_AddStringToObject(o, "service", PQgetvalue(r, i, 2));
    cJSON_AddItemToObject(o, "store_id", null_or_string(r, i, 3));
    cJSON *src = cJSON_AddObjectToObject(o, "source");
    cJSON_AddStringToObject(src, "kind", PQgetvalue(r, i, 4));
    if (!PQgetisnull(r, i, 5)) {
        cJSON_AddItemToObject(src, "topic", null_or_string(r, i, 5));
        cJSON_AddItemToObject(src, "partition", null_or_number(r, i, 6));
        cJSON_AddItemToObject(src, "offset", null_or_number(r, i, 7));
    }
    if (!PQgetisnull(r, i, 8)) cJSON_AddItemToObject(src, "path", null_or_string(r, i, 8));
    cJSON_AddItemToObject(o, "key", null_or_string(r, i, 9));
    cJSON_AddStringToObject(o, "reason", PQgetvalue(r, i, 10));
    cJSON_AddNumberToObject(o, "replays", atof(PQgetvalue(r, i, 13)));
    if (full) {
        cJSON_AddStringToObject(o, "original_base64", PQgetvalue(r, i, 11));
        cJSON_AddNumberToObject(o, "original_size", atof(PQgetvalue(r, i, 12)));
        cJSON *at = cJSON_AddObjectToObject(o, "deadletter_position");
        cJSON_AddNumberToObject(at, "partition", atof(PQgetvalue(r, i, 14)));
        cJSON_AddNumberToObject(at, "offset", atof(PQgetvalue(r, i, 15)));
    }
    return o;
}

static void print_json(cJSON *doc) {
    bctl_print_json(doc);
}

/* "topic[partition]@offset" or the path of a webhook/poll. */
static void source_text(PGresult *r, int i, char *out, size_t n) {
    if (!PQgetisnull(r, i, 5))
        snprintf(out, n, "%s[%s]@%s", PQgetvalue(r, i, 5), PQgetvalue(r, i, 6), PQgetvalue(r, i, 7));
    else if (!PQgetisnull(r, i, 8))
        snprintf(out, n, "%s %s", PQgetvalue(r, i, 4), PQgetvalue(r, i, 8));
    else
        snprintf(out, n, "%s", PQgetvalue(r, i, 4));
}

int bctl_deadletters_list(int argc, char **argv) {
    bctl_option opts[] = {{"store", .is_flag = false}, {"source", .is_flag = false}, {"since", .is_flag = false}, {"json", .is_flag = true}, {0}};
    const char *usage = "deadletters list [--store ID] [--source TOPIC] [--since 30m|2h|7d|TIMESTAMP] [--json]";
    if (bctl_parse(argc, argv, opts, NULL, 0, usage)) return 2;
    wb_pg *pg = bctl_pg();
    char since[64];
    if (opts[2].value && parse_since(pg, opts[2].value, since, sizeof since) != 0) {
        fprintf(stderr, "bridgectl: --since '%s': expected a duration (90s, 30m, 2h, 7d) or a timestamp\n",
                opts[2].value);
        fprintf(stderr, "usage: bridgectl %s\n", usage);
        wb_pg_close(pg);
        return 2;
    }
    if (bctl_deadletters_index(pg, true) != 0) {
        wb_pg_close(pg);
        return 1;
    }
    const char *p[] = {opts[0].value, opts[1].value, opts[2].value ? since : NULL};
    PGresult *r = wb_pg_query(pg,
                              "SELECT " DL_COLUMNS " FROM deadletters d"
                              " WHERE ($1::text IS NULL OR d.store_id = $1)"
                              " AND ($2::text IS NULL OR d.source_topic = $2)"
                              " AND ($3::timestamptz IS NULL OR d.dead_at >= $3)"
                              " ORDER BY d.id",
                              3, p);
    if (!r) {
        int rc = pg_fail(pg);
        wb_pg_close(pg);
        return rc;
    }
    int n = PQntuples(r);
    if (opts[3].flag) {
        cJSON *arr = cJSON_CreateArray();
        for (int i = 0; i < n; i++) cJSON_AddItemToArray(arr, row_json(r, i, false));
        print_json(arr);
    } else {
        printf("%-6s %-24s %-20s %-16s %-30s %-7s %s\n", "ID", "DEAD AT", "SERVICE", "STORE", "SOURCE",
               "REPLAYS", "REASON");
        for (int i = 0; i < n; i++) {
            char src[512];
            source_text(r, i, src, sizeof src);
            printf("%-6s %-24s %-20s %-16s %-30s %-7s %.200s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
                   PQgetvalue(r, i, 2), PQgetisnull(r, i, 3) ? "-" : PQgetvalue(r, i, 3), src,
                   PQgetvalue(r, i, 13), PQgetvalue(r, i, 10));
        }
    }
    PQclear(r);
    wb_pg_close(pg);
    return 0;
}

/* The dead letter's row, or NULL after printing why (*rc set). */
static PGresult *load(wb_pg *pg, const char *id, bool lock, int *rc) {
    char *end;
    long long n = strtoll(id, &end, 10);
    if (end == id || *end || n <= 0) {
        fprintf(stderr, "bridgectl: dead letter id '%s': expected a number from `deadletters list`\n", id);
        *rc = 2;
        return NULL;
    }
    const char *p[] = {id};
    PGresult *r = wb_pg_query(pg, lock ? "SELECT " DL_COLUMNS " FROM deadletters d WHERE d.id = $1 FOR UPDATE"
                                       : "SELECT " DL_COLUMNS " FROM deadletters d WHERE d.id = $1",
                              1, p);
    if (!r) {
        *rc = pg_fail(pg);
        return NULL;
    }
    if (PQntuples(r) != 1) {
        fprintf(stderr, "bridgectl: no dead letter %s\n", id);
        PQclear(r);
        *rc = 1;
        return NULL;
    }
    return r;
}

static unsigned char *decode_original(PGresult *r, size_t *len) {
    const char *b64 = PQgetvalue(r, 0, 11);
    size_t cap = strlen(b64) * 3 / 4 + 4;
    unsigned char *buf = malloc(cap + 1);
    if (wb_base64_decode(b64, strlen(b64), buf, cap, len) != 0) {
        free(buf);
        return NULL;
    }
    buf[*len] = 0;
    return buf;
}

static bool printable(const unsigned char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 && s[i] != '\n' && s[i] != '\t' && s[i] != '\r') return false;
    return true;
}

int bctl_deadletters_show(int argc, char **argv) {
    bctl_option opts[] = {{"json", .is_flag = true}, {0}};
    const char *id;
    if (bctl_parse(argc, argv, opts, &id, 1, "deadletters show ID [--json]")) return 2;
    wb_pg *pg = bctl_pg();
    int rc = 0;
    if (bctl_deadletters_index(pg, true) != 0) {
        wb_pg_close(pg);
        return 1;
    }
    PGresult *r = load(pg, id, false, &rc);
    if (!r) {
        wb_pg_close(pg);
        return rc;
    }
    const char *p[] = {id};
    PGresult *rp = wb_pg_query(pg,
                               "SELECT to_char(replayed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
                               " replayed_by, target_topic, target_partition, target_offset"
                               " FROM deadletter_replays WHERE deadletter_id = $1 ORDER BY replayed_at",
                               1, p);
    if (!rp) {
        PQclear(r);
        rc = pg_fail(pg);
        wb_pg_close(pg);
        return rc;
    }
    size_t len = 0;
    unsigned char *payload = decode_original(r, &len);
    cJSON *doc = row_json(r, 0, true);
    if (payload && printable(payload, len)) cJSON_AddStringToObject(doc, "payload", (const char *)payload);
    cJSON *replays = cJSON_AddArrayToObject(doc, "replay_history");
    for (int i = 0; i < PQntuples(rp); i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "at", PQgetvalue(rp, i, 0));
        cJSON_AddStringToObject(o, "by", PQgetvalue(rp, i, 1));
        cJSON_AddStringToObject(o, "topic", PQgetvalue(rp, i, 2));
        cJSON_AddNumberToObject(o, "partition", atof(PQgetvalue(rp, i, 3)));
        cJSON_AddNumberToObject(o, "offset", atof(PQgetvalue(rp, i, 4)));
        cJSON_AddItemToArray(replays, o);
    }
    if (opts[0].flag) {
        print_json(doc);
    } else {
        char src[512];
        source_text(r, 0, src, sizeof src);
        printf("id          %s\ndead at     %s\nservice     %s\nstore       %s\nsource      %s\n"
               "key         %s\nreason      %s\nsize        %s bytes\n",
               id, PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2), PQgetisnull(r, 0, 3) ? "-" : PQgetvalue(r, 0, 3),
               src, PQgetisnull(r, 0, 9) ? "-" : PQgetvalue(r, 0, 9), PQgetvalue(r, 0, 10),
               PQgetvalue(r, 0, 12));
        for (int i = 0; i < PQntuples(rp); i++)
            printf("replayed    %s by %s to %s[%s]@%s\n", PQgetvalue(rp, i, 0), PQgetvalue(rp, i, 1),
                   PQgetvalue(rp, i, 2), PQgetvalue(rp, i, 3), PQgetvalue(rp, i, 4));
        if (payload && printable(payload, len)) printf("payload\n%s\n", payload);
        else printf("payload (base64)\n%s\n", PQgetvalue(r, 0, 11));
        cJSON_Delete(doc);
    }
    free(payload);
    PQclear(rp);
    PQclear(r);
    wb_pg_close(pg);
    return 0;
}

static const char *operator_name(const char *given) {
    if (given && *given) return given;
    const char *user = getenv("USER");
    if (user && *user) return user;
    struct passwd *pw = getpwuid(getuid());
    return pw && pw->pw_name ? pw->pw_name : "unknown";
}

int bctl_deadletters_replay(int argc, char **argv) {
    bctl_option opts[] = {{"force", .is_flag = true}, {"by", .is_flag = false}, {0}};
    const char *id;
    if (bctl_parse(argc, argv, opts, &id, 1, "deadletters replay ID [--force] [--by NAME]")) return 2;
    const char *brokers = bctl_kafka_brokers();
    wb_pg *pg = bctl_pg();
    int rc = 0;
    if (bctl_deadletters_index(pg, true) != 0) {
        wb_pg_close(pg);
        return 1;
    }
    /* The row stays locked from the check to the record, so two operators
     * replaying at once do not both pass the "already replayed" check. */
    if (wb_pg_exec(pg, "BEGIN", 0, NULL) != 0) {
        rc = pg_fail(pg);
        wb_pg_close(pg);
        return rc;
    }
    PGresult *r = load(pg, id, true, &rc);
    PGresult *last = NULL;
    unsigned char *payload = NULL;
    wb_producer *producer = NULL;
    if (!r) goto done;
    rc = 1;
    if (strcmp(PQgetvalue(r, 0, 4), "kafka") != 0 || PQgetisnull(r, 0, 5)) {
        char src[512];
        source_text(r, 0, src, sizeof src);
        fprintf(stderr, "bridgectl: dead letter %s came from %s, not from a topic: there is nothing to replay it to\n",
                id, src);
        goto done;
    }
    const char *p[] = {id};
    last = wb_pg_query(pg,
                       "SELECT to_char(replayed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), replayed_by"
                       " FROM deadletter_replays WHERE deadletter_id = $1 ORDER BY replayed_at DESC LIMIT 1",
                       1, p);
    if (!last) {
        rc = pg_fail(pg);
        goto done;
    }
    if (PQntuples(last) && !opts[0].flag) {
        fprintf(stderr, "bridgectl: dead letter %s was already replayed at %s by %s; --force sends it again\n", id,
                PQgetvalue(last, 0, 0), PQgetvalue(last, 0, 1));
        goto done;
    }
    size_t len = 0;
    payload = decode_original(r, &len);
    if (!payload) {
        fprintf(stderr, "bridgectl: dead letter %s: its original_base64 is not base64\n", id);
        goto done;
    }
    char err[512];
    producer = wb_producer_new(brokers, "bridgectl", err, sizeof err);
    if (!producer) {
        fprintf(stderr, "bridgectl: kafka: %s\n", err);
        goto done;
    }
    const char *topic = PQgetvalue(r, 0, 5);
    const char *key = PQgetisnull(r, 0, 9) ? NULL : PQgetvalue(r, 0, 9);
    char origin[64];
    snprintf(origin, sizeof origin, "%s", id);
    wb_kafka_header header = {"wb-replay-of-deadletter", origin, strlen(origin)};
    int32_t partition = -1;
    int64_t offset = -1;
    rd_kafka_resp_err_t e = wb_produce_sync(producer, topic, key, key ? strlen(key) : 0, payload, len, &header,
                                            1, 30000, &partition, &offset);
    if (e) {
        fprintf(stderr, "bridgectl: kafka: replaying dead letter %s to %s: %s\n", id, topic, rd_kafka_err2str(e));
        goto done;
    }
    char part[16], off[24];
    snprintf(part, sizeof part, "%d", partition);
    snprintf(off, sizeof off, "%lld", (long long)offset);
    const char *who = operator_name(opts[1].value);
    const char *rec[] = {id, who, topic, part, off};
    if (wb_pg_exec(pg,
                   "INSERT INTO deadletter_replays (deadletter_id, replayed_by, target_topic, target_partition,"
                   " target_offset) VALUES ($1, $2, $3, $4, $5)",
                   5, rec) != 0 ||
        wb_pg_exec(pg, "COMMIT", 0, NULL) != 0) {
        fprintf(stderr, "bridgectl: dead letter %s WAS replayed to %s[%d]@%lld but recording it failed: %s\n", id,
                topic, partition, (long long)offset, wb_pg_error(pg));
        goto done;
    }
    printf("dead letter %s replayed to %s partition %d offset %lld by %s\n", id, topic, partition,
           (long long)offset, who);
    rc = 0;
done:
    if (rc) wb_pg_exec(pg, "ROLLBACK", 0, NULL);
    if (producer) wb_producer_destroy(producer, 5000);
    free(payload);
    if (last) PQclear(last);
    if (r) PQclear(r);
    wb_pg_close(pg);
    return rc;
}
