/* Dead letters: the reason, the source and the original bytes, on
 * bridge.deadletter.v1 (see wb/deadletter.h for the shape). */
#include "wb/deadletter.h"

#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "wb/crypto.h"
#include "wb/log.h"
#include "wb/metrics.h"
#include "wb/runloop.h"

static cJSON *source_json(const wb_deadletter *dl) {
    cJSON *src = cJSON_CreateObject();
    const char *kind = dl->source_kind ? dl->source_kind : "kafka";
    cJSON_AddStringToObject(src, "kind", kind);
    if (strcmp(kind, "kafka") == 0) {
        cJSON_AddStringToObject(src, "topic", dl->source_topic ? dl->source_topic : "");
        cJSON_AddNumberToObject(src, "partition", dl->source_partition);
        cJSON_AddNumberToObject(src, "offset", (double)dl->source_offset);
    } else {
        cJSON_AddStringToObject(src, "path", dl->source_path ? dl->source_path : "");
    }
    return src;
}

char *wb_deadletter_json(const char *service, const wb_deadletter *dl) {
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "reason", dl->reason ? dl->reason : "unspecified");
    cJSON_AddStringToObject(doc, "service", service);
    if (dl->store_id) cJSON_AddStringToObject(doc, "store_id", dl->store_id);
    else cJSON_AddNullToObject(doc, "store_id");
    cJSON_AddItemToObject(doc, "source", source_json(dl));
    if (dl->key) {
        char *key = strndup(dl->key, dl->key_len);
        cJSON_AddStringToObject(doc, "key", key);
        free(key);
    } else {
        cJSON_AddNullToObject(doc, "key");
    }
    size_t b64_size = 4 * ((dl->value_len + 2) / 3) + 1;
    char *b64 = malloc(b64_size);
    wb_base64_encode(dl->value ? dl->value : "", dl->value_len, b64, b64_size);
    cJSON_AddStringToObject(doc, "original_base64", b64);
    free(b64);
    cJSON_AddNumberToObject(doc, "original_size", (double)dl->value_len);
    char now[40];
    wb_format_time(wb_wall_ms(), now, sizeof now);
    cJSON_AddStringToObject(doc, "dead_at", now);
    char *json = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    return json;
}

rd_kafka_resp_err_t wb_deadletter_publish(wb_producer *p, const char *service,
                                          const wb_deadletter *dl, int timeout_ms) {
    char *json = wb_deadletter_json(service, dl);
    wb_kafka_header headers[] = {
        {"wb-reason", dl->reason ? dl->reason : "", dl->reason ? strlen(dl->reason) : 0},
        {"wb-service", service, strlen(service)},
    };
    rd_kafka_resp_err_t err =
        wb_produce_sync(p, WB_TOPIC_DEADLETTER, dl->key, dl->key ? dl->key_len : 0, json,
                        strlen(json), headers, 2, timeout_ms, NULL, NULL);
    free(json);
    wb_counter_inc(wb_counter("wb_deadletters_total",
                              "Messages sent to bridge.deadletter.v1, by service and source kind.",
                              "service,source,outcome"),
                   service, dl->source_kind ? dl->source_kind : "kafka", err ? "failed" : "published");
    if (err)
        wb_error(dl->store_id, "dead letter could not be published (%s): %s", rd_kafka_err2str(err),
                 dl->reason);
    else
        wb_warn(dl->store_id, "dead letter published: %s", dl->reason);
    return err;
}
