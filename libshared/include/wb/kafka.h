/* Kafka through librdkafka.
 *
 * Producer: idempotent, acks=all. wb_produce_sync() returns only once the
 * broker acknowledged the message (or it failed for good), so a caller that
 * answers a webhook or moves a cursor after it has the message durable.
 * A background thread serves delivery reports, so any thread may produce.
 *
 * Consumer: a consumer group with auto-commit off: the service commits the
 * offsets it has finished with. Rebalance hooks run on the polling thread
 * before partitions are given up (commit there) and after they are received.
 * librdkafka's statistics feed the gauge wb_kafka_consumer_lag{group,topic,partition}. */
#ifndef WB_KAFKA_H
#define WB_KAFKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <librdkafka/rdkafka.h>

/* The bridge's topics. */
#define WB_TOPIC_ORDERS     "shop.orders.v1"
#define WB_TOPIC_CATALOG    "shop.catalog.v1"
#define WB_TOPIC_STOCK      "wms.stock.v1"
#define WB_TOPIC_FULFILMENT "wms.fulfilment.v1"
#define WB_TOPIC_DEADLETTER "bridge.deadletter.v1"

typedef struct wb_topic_spec {
    const char *name;
    int partitions;
} wb_topic_spec;

/* The bridge's topics with the partition counts it chooses. */
extern const wb_topic_spec wb_bridge_topics[];
extern const int wb_bridge_topic_count;

/* Creates the topics that do not exist yet (existing ones are left alone),
 * with the broker's default.replication.factor and min.insync.replicas.
 * Returns 0, or -1 with err filled. */
int wb_kafka_ensure_topics(const char *brokers, const wb_topic_spec *specs, int count,
                           int timeout_ms, char *err, size_t err_size);

/* The same with a replication factor (-1: the broker's default) and, when
 * min_insync > 0, min.insync.replicas for the new topics. With acks=all the
 * two decide how many broker losses an acknowledged message survives, so a
 * production cluster sets them (bridgectl topics ensure reads
 * WB_KAFKA_REPLICATION_FACTOR and WB_KAFKA_MIN_INSYNC_REPLICAS). */
int wb_kafka_ensure_topics_replicated(const char *brokers, const wb_topic_spec *specs, int count,
                                      int replication_factor, int min_insync, int timeout_ms,
                                      char *err, size_t err_size);

/* Live reachability check: a metadata request answered within timeout_ms. */
int wb_kafka_ping(rd_kafka_t *rk, int timeout_ms, char *reason, size_t reason_size);

typedef struct wb_kafka_header {
    const char *name;
    const void *value;
    size_t len;
} wb_kafka_header;

typedef struct wb_producer wb_producer;

wb_producer *wb_producer_new(const char *brokers, const char *client_id, char *err,
                             size_t err_size);
/* Waits for the broker's acknowledgement. partition/offset (either may be
 * NULL) receive where the message landed. */
rd_kafka_resp_err_t wb_produce_sync(wb_producer *p, const char *topic, const void *key,
                                    size_t key_len, const void *value, size_t value_len,
                                    const wb_kafka_header *headers, int header_count,
                                    int timeout_ms, int32_t *partition, int64_t *offset);
typedef void (*wb_delivery_cb)(rd_kafka_resp_err_t err, int32_t partition, int64_t offset,
                               void *opaque);
/* Queues the message; cb runs on the producer's delivery thread. */
rd_kafka_resp_err_t wb_produce_async(wb_producer *p, const char *topic, const void *key,
                                     size_t key_len, const void *value, size_t value_len,
                                     const wb_kafka_header *headers, int header_count,
                                     wb_delivery_cb cb, void *opaque);
/* Returns 0 when everything queued was delivered within timeout_ms. */
int wb_producer_flush(wb_producer *p, int timeout_ms);
rd_kafka_t *wb_producer_handle(wb_producer *p);
/* Flushes (up to timeout_ms) and frees. */
void wb_producer_destroy(wb_producer *p, int timeout_ms);

typedef struct wb_rebalance_hooks {
    /* After the partitions were assigned. */
    void (*on_assign)(void *ctx, const rd_kafka_topic_partition_list_t *partitions);
    /* Before the partitions are taken away: finish and commit them here. */
    void (*on_revoke)(void *ctx, const rd_kafka_topic_partition_list_t *partitions);
    void *ctx;
} wb_rebalance_hooks;

typedef struct wb_consumer wb_consumer;

wb_consumer *wb_consumer_new(const char *brokers, const char *group_id,
                             const char *const *topics, int topic_count,
                             const wb_rebalance_hooks *hooks, char *err, size_t err_size);
/* The next message, or NULL on timeout. Transport errors are logged and
 * counted, and give NULL; the caller destroys messages it receives. */
rd_kafka_message_t *wb_consumer_poll(wb_consumer *c, int timeout_ms);
/* Commits next_offset (the offset of the next message to read) synchronously. */
rd_kafka_resp_err_t wb_consumer_commit(wb_consumer *c, const char *topic, int32_t partition,
                                       int64_t next_offset);
/* The committed next offset of a partition, or -1001 (RD_KAFKA_OFFSET_INVALID). */
int64_t wb_consumer_committed(wb_consumer *c, const char *topic, int32_t partition,
                              int timeout_ms);
rd_kafka_t *wb_consumer_handle(wb_consumer *c);
/* Leaves the group (running on_revoke) and frees. */
void wb_consumer_close(wb_consumer *c);

#endif
