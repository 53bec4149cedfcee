/* The dead-letter publisher. A message that can never be processed goes to
 * bridge.deadletter.v1 with the reason, where it came from and its original
 * bytes, so nothing is dropped silently and `bridgectl deadletters replay` can
 * send it back once the cause is fixed. The value is JSON
 * (proto/bridge.deadletter.v1.schema.json):
 *   {"reason":"...","service":"stock-publisher","store_id":null,
 *    "source":{"kind":"kafka","topic":"wms.stock.v1","partition":3,"offset":42},
 *    "key":"wh1/SKU-1","original_base64":"...","original_size":123,
 *    "dead_at":"2026-11-25T10:00:00.000Z"}
 * source.kind is "kafka" (topic, partition, offset), "webhook" (path) or
 * "poll" (path). The key is the source key, so a replay keeps its ordering. */
#ifndef WB_DEADLETTER_H
#define WB_DEADLETTER_H

#include "wb/kafka.h"

typedef struct wb_deadletter {
    const char *reason;
    const char *store_id;      /* or NULL */
    const char *source_kind;   /* "kafka", "webhook" or "poll" */
    const char *source_topic;  /* kafka */
    int32_t source_partition;  /* kafka */
    int64_t source_offset;     /* kafka */
    const char *source_path;   /* webhook or poll: the path or URL path */
    const void *key;
    size_t key_len;
    const void *value;
    size_t value_len;
} wb_deadletter;

/* malloc'd JSON of the dead letter; caller frees. */
char *wb_deadletter_json(const char *service, const wb_deadletter *dl);
/* Publishes and waits for the acknowledgement. Counts
 * wb_deadletters_total{service,reason_kind}. */
rd_kafka_resp_err_t wb_deadletter_publish(wb_producer *p, const char *service,
                                          const wb_deadletter *dl, int timeout_ms);

#endif
