/* bridge.deadletter.v1 (proto/bridge.deadletter.v1.schema.json): decoder,
 * encoder, free. wb_deadletter_json() (deadletter.c) writes these messages;
 * this reads them back, e.g. for a replay. */
#include "wb/proto.h"

#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

static const char *const kinds[] = {"kafka", "webhook", "poll", NULL};

static const wb_pv_rule topic_rule = {1, 249, NULL, NULL}; /* Kafka's topic name limit */
static const wb_pv_rule key_rule = {0, 2000, NULL, NULL};  /* a source key may be empty */

const char *wb_source_kind_name(wb_source_kind k) {
    return (unsigned)k < 3 ? kinds[k] : "?";
}

/* ---------------------------------------------------------------- decoding */

/* kafka carries topic/partition/offset and no path; webhook and poll the
 * other way round, so a reader never has to guess which one applies. */
static int check_kind_fields(wb_pv *v, const cJSON *o, const char *path, wb_source_kind kind) {
    static const char *const kafka_fields[] = {"topic", "partition", "offset", NULL};
    bool kafka = kind == WB_SOURCE_KAFKA;
    const char *why = kafka ? "when kind is kafka" : "when kind is webhook or poll";
    for (size_t i = 0; kafka_fields[i]; i++) {
        if (kafka ? wb_pv_needs(v, o, path, kafka_fields[i], why)
                  : wb_pv_forbids(v, o, path, kafka_fields[i], why))
            return -1;
    }
    return kafka ? wb_pv_forbids(v, o, path, "path", why) : wb_pv_needs(v, o, path, "path", why);
}

static int decode_source(wb_pv *v, const cJSON *o, const char *path, wb_deadletter_msg *m) {
    static const char *const fields[] = {"kind", "topic", "partition", "offset", "path", NULL};
    int kind = 0;
    int64_t partition = 0;
    if (wb_pv_object(v, o, path, fields) ||
        wb_pv_enum(v, o, path, "kind", WB_PV_REQUIRED, kinds, &kind) ||
        wb_pv_string(v, o, path, "topic", 0, &topic_rule, &m->source_topic) ||
        wb_pv_int(v, o, path, "partition", 0, 0, 2147483647, &partition) ||
        wb_pv_int(v, o, path, "offset", 0, 0, WB_PV_INT_MAX, &m->source_offset) ||
        wb_pv_string(v, o, path, "path", 0, &wb_pv_long, &m->source_path))
        return -1;
    m->source_kind = (wb_source_kind)kind;
    m->source_partition = (int32_t)partition;
    return check_kind_fields(v, o, path, m->source_kind);
}

static int decode_deadletter(wb_pv *v, const cJSON *root, void *out) {
    static const char *const fields[] = {"reason", "service", "store_id", "source", "key",
                                         "original_base64", "original_size", "dead_at", NULL};
    wb_deadletter_msg *m = out;
    char p[WB_PV_PATH];
    const cJSON *source;
    const int nullable = WB_PV_REQUIRED | WB_PV_NULLABLE;
    if (wb_pv_object(v, root, "", fields) ||
        wb_pv_string(v, root, "", "reason", WB_PV_REQUIRED, &wb_pv_long, &m->reason) ||
        wb_pv_string(v, root, "", "service", WB_PV_REQUIRED, &wb_pv_short, &m->service) ||
        wb_pv_string(v, root, "", "store_id", nullable, &wb_pv_short, &m->store_id) ||
        wb_pv_field(v, root, "", "source", WB_PV_REQUIRED, p, &source) ||
        decode_source(v, source, p, m) ||
        wb_pv_string(v, root, "", "key", nullable, &key_rule, &m->key) ||
        wb_pv_string(v, root, "", "original_base64", WB_PV_REQUIRED, &wb_pv_base64,
                     &m->original_base64) ||
        wb_pv_int(v, root, "", "original_size", WB_PV_REQUIRED, 0, WB_PV_INT_MAX,
                  &m->original_size) ||
        wb_pv_string(v, root, "", "dead_at", WB_PV_REQUIRED, &wb_pv_date_time, &m->dead_at))
        return -1;
    return 0;
}

void wb_deadletter_msg_free(wb_deadletter_msg *m) {
    if (!m)
        return;
    free(m->reason);
    free(m->service);
    free(m->store_id);
    free(m->source_topic);
    free(m->source_path);
    free(m->key);
    free(m->original_base64);
    free(m->dead_at);
    memset(m, 0, sizeof *m);
}

int wb_deadletter_msg_decode(const char *json, size_t len, wb_deadletter_msg *out, char *err,
                             size_t errlen) {
    memset(out, 0, sizeof *out);
    if (wb_pv_decode(json, len, decode_deadletter, out, err, errlen) == 0)
        return 0;
    wb_deadletter_msg_free(out);
    return -1;
}

/* ---------------------------------------------------------------- encoding */

static cJSON *encode_source(const wb_deadletter_msg *m) {
    cJSON *o = cJSON_CreateObject();
    bool kafka = m->source_kind == WB_SOURCE_KAFKA;
    if (!o || wb_pv_put_enum(o, "kind", kinds, 3, (int)m->source_kind) ||
        (kafka && (wb_pv_put_str(o, "topic", m->source_topic) ||
                   wb_pv_put_int(o, "partition", m->source_partition) ||
                   wb_pv_put_int(o, "offset", m->source_offset))) ||
        (!kafka && wb_pv_put_str(o, "path", m->source_path))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *encode_deadletter(const wb_deadletter_msg *m) {
    cJSON *o = cJSON_CreateObject();
    if (!o || wb_pv_put_str(o, "reason", m->reason) || wb_pv_put_str(o, "service", m->service) ||
        wb_pv_put_nullable(o, "store_id", m->store_id) ||
        wb_pv_put_child(o, "source", encode_source(m)) ||
        wb_pv_put_nullable(o, "key", m->key) ||
        wb_pv_put_str(o, "original_base64", m->original_base64) ||
        wb_pv_put_int(o, "original_size", m->original_size) ||
        wb_pv_put_str(o, "dead_at", m->dead_at)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static int check_deadletter(const char *json, size_t len, char *err, size_t errlen) {
    wb_deadletter_msg tmp;
    int rc = wb_deadletter_msg_decode(json, len, &tmp, err, errlen);
    wb_deadletter_msg_free(&tmp);
    return rc;
}

char *wb_deadletter_msg_encode_err(const wb_deadletter_msg *m, char *err, size_t errlen) {
    return wb_pv_encode(encode_deadletter(m), check_deadletter, err, errlen);
}

char *wb_deadletter_msg_encode(const wb_deadletter_msg *m) {
    return wb_deadletter_msg_encode_err(m, NULL, 0);
}
