/* Producer, consumer and topic administration on librdkafka (see wb/kafka.h). */
#include "wb/kafka.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cjson/cJSON.h>

#include "wb/log.h"
#include "wb/metrics.h"

const wb_topic_spec wb_bridge_topics[] = {
    {WB_TOPIC_ORDERS, 12},
    {WB_TOPIC_CATALOG, 6},
    {WB_TOPIC_STOCK, 12},
    {WB_TOPIC_FULFILMENT, 6},
    {WB_TOPIC_DEADLETTER, 3},
};
const int wb_bridge_topic_count = sizeof wb_bridge_topics / sizeof wb_bridge_topics[0];

static wb_metric *kafka_errors(void) {
    return wb_counter("wb_kafka_errors_total", "Errors reported by librdkafka, by client kind and error.",
                      "client,error");
}

static bool set_conf(rd_kafka_conf_t *conf, const char *name, const char *value, char *err,
                     size_t err_size) {
    if (rd_kafka_conf_set(conf, name, value, err, err_size) == RD_KAFKA_CONF_OK) return true;
    return false;
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
    (void)opaque;
    const char *client = rd_kafka_type(rk) == RD_KAFKA_PRODUCER ? "producer" : "consumer";
    wb_counter_inc(kafka_errors(), client, rd_kafka_err2name((rd_kafka_resp_err_t)err));
    /* Transport errors repeat while a broker is down; they are warnings. A
     * fatal error (idempotence broken) needs a person. */
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char fatal[512];
        rd_kafka_fatal_error(rk, fatal, sizeof fatal);
        wb_error(NULL, "kafka %s fatal error: %s", client, fatal);
    } else {
        wb_warn(NULL, "kafka %s: %s: %s", client, rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
    }
}

/* librdkafka's own log lines go through ours (and so through redaction). */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    (void)rk;
    wb_log(level <= 3 ? WB_LOG_ERROR : level <= 4 ? WB_LOG_WARN : WB_LOG_DEBUG, NULL,
           "librdkafka %s: %s", fac, buf);
}

static rd_kafka_conf_t *base_conf(const char *brokers, const char *client_id, char *err,
                                  size_t err_size) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (!set_conf(conf, "bootstrap.servers", brokers, err, err_size) ||
        !set_conf(conf, "client.id", client_id, err, err_size) ||
        !set_conf(conf, "log.connection.close", "false", err, err_size)) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_log_cb(conf, on_log);
    return conf;
}

int wb_kafka_ping(rd_kafka_t *rk, int timeout_ms, char *reason, size_t reason_size) {
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, NULL, &md, timeout_ms);
    if (err) {
        snprintf(reason, reason_size, "kafka metadata request failed: %s", rd_kafka_err2str(err));
        return -1;
    }
    int brokers = md->broker_cnt;
    rd_kafka_metadata_destroy(md);
    if (brokers == 0) {
        snprintf(reason, reason_size, "kafka: no brokers known");
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- topics */

int wb_kafka_ensure_topics(const char *brokers, const wb_topic_spec *specs, int count,
                           int timeout_ms, char *err, size_t err_size) {
    return wb_kafka_ensure_topics_replicated(brokers, specs, count, -1, 0, timeout_ms, err, err_size);
}

static rd_kafka_NewTopic_t *new_topic(const wb_topic_spec *spec, int replication_factor,
                                      int min_insync, char *err, size_t err_size) {
    rd_kafka_NewTopic_t *t = rd_kafka_NewTopic_new(spec->name, spec->partitions, replication_factor,
                                                   err, err_size);
    if (t && min_insync > 0) {
        char value[16];
        snprintf(value, sizeof value, "%d", min_insync);
        rd_kafka_resp_err_t e = rd_kafka_NewTopic_set_config(t, "min.insync.replicas", value);
        if (e) {
            snprintf(err, err_size, "topic %s: min.insync.replicas: %s", spec->name, rd_kafka_err2str(e));
            rd_kafka_NewTopic_destroy(t);
            return NULL;
        }
    }
    return t;
}

int wb_kafka_ensure_topics_replicated(const char *brokers, const wb_topic_spec *specs, int count,
                                      int replication_factor, int min_insync, int timeout_ms,
                                      char *err, size_t err_size) {
    rd_kafka_conf_t *conf = base_conf(brokers, "wmsbridge-admin", err, err_size);
    if (!conf) return -1;
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, err_size);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    rd_kafka_NewTopic_t **topics = calloc((size_t)count, sizeof *topics);
    for (int i = 0; i < count; i++) {
        topics[i] = new_topic(&specs[i], replication_factor, min_insync, err, err_size);
        if (!topics[i]) {
            for (int j = 0; j < i; j++) rd_kafka_NewTopic_destroy(topics[j]);
            free(topics);
            rd_kafka_destroy(rk);
            return -1;
        }
    }
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, NULL, 0);
    rd_kafka_AdminOptions_set_operation_timeout(opts, timeout_ms, NULL, 0);
    rd_kafka_queue_t *queue = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, topics, (size_t)count, opts, queue);

    int rc = 0;
    rd_kafka_event_t *ev = rd_kafka_queue_poll(queue, timeout_ms + 2000);
    const rd_kafka_CreateTopics_result_t *res = ev ? rd_kafka_event_CreateTopics_result(ev) : NULL;
    if (!res) {
        snprintf(err, err_size, "no answer to CreateTopics within %d ms%s%s", timeout_ms,
                 ev ? ": " : "", ev ? rd_kafka_event_error_string(ev) : "");
        rc = -1;
    } else if (rd_kafka_event_error(ev)) {
        snprintf(err, err_size, "CreateTopics failed: %s", rd_kafka_event_error_string(ev));
        rc = -1;
    } else {
        size_t n;
        const rd_kafka_topic_result_t **results = rd_kafka_CreateTopics_result_topics(res, &n);
        for (size_t i = 0; i < n && rc == 0; i++) {
            rd_kafka_resp_err_t e = rd_kafka_topic_result_error(results[i]);
            if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                snprintf(err, err_size, "creating topic %s failed: %s",
                         rd_kafka_topic_result_name(results[i]), rd_kafka_err2str(e));
                rc = -1;
            }
        }
    }
    if (ev) rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(queue);
    rd_kafka_AdminOptions_destroy(opts);
    for (int i = 0; i < count; i++) rd_kafka_NewTopic_destroy(topics[i]);
    free(topics);
    rd_kafka_destroy(rk);
    return rc;
}

/* ---------------------------------------------------------------- producer */

struct wb_producer {
    rd_kafka_t *rk;
    pthread_t poller;
    atomic_bool stop;
};

/* What rides along with each message to its delivery report. A synchronous
 * waiter may give up before the report arrives, so the record is shared by
 * reference count between the waiter and the report. */
typedef struct delivery {
    pthread_mutex_t lock;
    pthread_cond_t done_cond;
    int refs;
    bool done;
    rd_kafka_resp_err_t err;
    int32_t partition;
    int64_t offset;
    wb_delivery_cb cb; /* async only */
    void *opaque;
} delivery;

static void delivery_release(delivery *d) {
    pthread_mutex_lock(&d->lock);
    int refs = --d->refs;
    pthread_mutex_unlock(&d->lock);
    if (refs) return;
    pthread_mutex_destroy(&d->lock);
    pthread_cond_destroy(&d->done_cond);
    free(d);
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque) {
    (void)rk, (void)opaque;
    delivery *d = msg->_private;
    if (!d) return;
    if (d->cb) d->cb(msg->err, msg->partition, msg->offset, d->opaque);
    pthread_mutex_lock(&d->lock);
    d->done = true;
    d->err = msg->err;
    d->partition = msg->partition;
    d->offset = msg->offset;
    pthread_cond_broadcast(&d->done_cond);
    pthread_mutex_unlock(&d->lock);
    delivery_release(d);
}

static void *poll_loop(void *arg) {
    wb_producer *p = arg;
    while (!atomic_load(&p->stop)) rd_kafka_poll(p->rk, 100);
    return NULL;
}

wb_producer *wb_producer_new(const char *brokers, const char *client_id, char *err,
                             size_t err_size) {
    rd_kafka_conf_t *conf = base_conf(brokers, client_id, err, err_size);
    if (!conf) return NULL;
    /* Idempotence gives acks=all and no duplicates or reordering from
     * retries; message.timeout.ms bounds how long a message may wait for a
     * broker before it is reported failed. */
    /* WB_KAFKA_MESSAGE_TIMEOUT_MS overrides it (the chaos run gives wmssim
     * longer than a broker restart takes). */
    const char *timeout_ms = getenv("WB_KAFKA_MESSAGE_TIMEOUT_MS");
    if (!timeout_ms || !*timeout_ms || strspn(timeout_ms, "0123456789") != strlen(timeout_ms) ||
        strlen(timeout_ms) > 9)
        timeout_ms = "30000";
    if (!set_conf(conf, "enable.idempotence", "true", err, err_size) ||
        !set_conf(conf, "acks", "all", err, err_size) ||
        !set_conf(conf, "linger.ms", "2", err, err_size) ||
        !set_conf(conf, "message.timeout.ms", timeout_ms, err, err_size) ||
        !set_conf(conf, "compression.type", "lz4", err, err_size) ||
        /* The Java client's partitioner: a key lands on the same partition
         * whether the WMS (often Java) or the bridge produced it, so a
         * dead-letter replay keeps its key's order. */
        !set_conf(conf, "partitioner", "murmur2_random", err, err_size)) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, err_size);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    wb_producer *p = calloc(1, sizeof *p);
    p->rk = rk;
    pthread_create(&p->poller, NULL, poll_loop, p);
    return p;
}

static rd_kafka_headers_t *make_headers(const wb_kafka_header *headers, int count) {
    if (count <= 0) return NULL;
    rd_kafka_headers_t *hdrs = rd_kafka_headers_new((size_t)count);
    for (int i = 0; i < count; i++)
        rd_kafka_header_add(hdrs, headers[i].name, -1, headers[i].value, (ssize_t)headers[i].len);
    return hdrs;
}

static rd_kafka_resp_err_t produce(wb_producer *p, const char *topic, const void *key,
                                   size_t key_len, const void *value, size_t value_len,
                                   const wb_kafka_header *headers, int header_count,
                                   delivery *d) {
    rd_kafka_headers_t *hdrs = make_headers(headers, header_count);
    rd_kafka_resp_err_t err = rd_kafka_producev(
        p->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, key_len),
        RD_KAFKA_V_VALUE((void *)value, value_len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(d), RD_KAFKA_V_END);
    if (err && hdrs) rd_kafka_headers_destroy(hdrs); /* ownership passes only on success */
    return err;
}

static delivery *delivery_new(int refs, wb_delivery_cb cb, void *opaque) {
    delivery *d = calloc(1, sizeof *d);
    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->done_cond, NULL);
    d->refs = refs;
    d->cb = cb;
    d->opaque = opaque;
    return d;
}

rd_kafka_resp_err_t wb_produce_sync(wb_producer *p, const char *topic, const void *key,
                                    size_t key_len, const void *value, size_t value_len,
                                    const wb_kafka_header *headers, int header_count,
                                    int timeout_ms, int32_t *partition, int64_t *offset) {
    delivery *d = delivery_new(2, NULL, NULL);
    rd_kafka_resp_err_t err =
        produce(p, topic, key, key_len, value, value_len, headers, header_count, d);
    if (err) {
        d->refs = 1;
        delivery_release(d);
        return err;
    }
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) deadline.tv_sec++, deadline.tv_nsec -= 1000000000L;

    pthread_mutex_lock(&d->lock);
    while (!d->done)
        if (pthread_cond_timedwait(&d->done_cond, &d->lock, &deadline) != 0) break;
    err = d->done ? d->err : RD_KAFKA_RESP_ERR__TIMED_OUT;
    if (partition) *partition = d->partition;
    if (offset) *offset = d->offset;
    pthread_mutex_unlock(&d->lock);
    delivery_release(d);
    return err;
}

rd_kafka_resp_err_t wb_produce_async(wb_producer *p, const char *topic, const void *key,
                                     size_t key_len, const void *value, size_t value_len,
                                     const wb_kafka_header *headers, int header_count,
                                     wb_delivery_cb cb, void *opaque) {
    delivery *d = delivery_new(1, cb, opaque);
    rd_kafka_resp_err_t err =
        produce(p, topic, key, key_len, value, value_len, headers, header_count, d);
    if (err) delivery_release(d);
    return err;
}

int wb_producer_flush(wb_producer *p, int timeout_ms) {
    return rd_kafka_flush(p->rk, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : -1;
}

rd_kafka_t *wb_producer_handle(wb_producer *p) { return p->rk; }

void wb_producer_destroy(wb_producer *p, int timeout_ms) {
    if (!p) return;
    if (rd_kafka_flush(p->rk, timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR)
        wb_warn(NULL, "kafka producer: %d messages not delivered at shutdown",
                rd_kafka_outq_len(p->rk));
    atomic_store(&p->stop, true);
    pthread_join(p->poller, NULL);
    /* Reports still queued (undelivered messages) release their records. */
    rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(p->rk, 0);
    rd_kafka_destroy(p->rk);
    free(p);
}

/* ---------------------------------------------------------------- consumer */

struct wb_consumer {
    rd_kafka_t *rk;
    wb_rebalance_hooks hooks;
    char *group;
};

static wb_metric *lag_gauge(void) {
    return wb_gauge("wb_kafka_consumer_lag",
                    "Messages between the committed offset and the end of the partition.",
                    "group,topic,partition");
}

static void zero_lag(wb_consumer *c, const rd_kafka_topic_partition_list_t *parts) {
    for (int i = 0; i < parts->cnt; i++) {
        char partition[16];
        snprintf(partition, sizeof partition, "%d", parts->elems[i].partition);
        wb_gauge_set(lag_gauge(), 0, c->group, parts->elems[i].topic, partition);
    }
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque) {
    wb_consumer *c = opaque;
    bool cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        rd_kafka_error_t *e = NULL;
        if (cooperative) e = rd_kafka_incremental_assign(rk, parts);
        else rd_kafka_assign(rk, parts);
        if (e) {
            wb_error(NULL, "kafka assign failed: %s", rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
        }
        wb_info(NULL, "kafka group %s: %d partitions assigned", c->group, parts->cnt);
        if (c->hooks.on_assign) c->hooks.on_assign(c->hooks.ctx, parts);
        return;
    }
    /* Revoked (or lost): the service finishes and commits before they go. */
    if (c->hooks.on_revoke) c->hooks.on_revoke(c->hooks.ctx, parts);
    zero_lag(c, parts);
    wb_info(NULL, "kafka group %s: %d partitions revoked", c->group, parts->cnt);
    if (cooperative) {
        rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, parts);
        if (e) rd_kafka_error_destroy(e);
    } else {
        rd_kafka_assign(rk, NULL);
    }
}

/* librdkafka statistics -> wb_kafka_consumer_lag{group,topic,partition}. */
static int on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque) {
    (void)rk;
    wb_consumer *c = opaque;
    cJSON *doc = cJSON_ParseWithLength(json, len);
    cJSON *topics = cJSON_GetObjectItemCaseSensitive(doc, "topics"), *topic;
    cJSON_ArrayForEach(topic, topics) {
        cJSON *partitions = cJSON_GetObjectItemCaseSensitive(topic, "partitions"), *part;
        cJSON_ArrayForEach(part, partitions) {
            if (strcmp(part->string, "-1") == 0) continue; /* librdkafka's internal UA partition */
            cJSON *lag = cJSON_GetObjectItemCaseSensitive(part, "consumer_lag");
            cJSON *state = cJSON_GetObjectItemCaseSensitive(part, "fetch_state");
            if (!cJSON_IsNumber(lag) || lag->valuedouble < 0) continue;
            if (cJSON_IsString(state) && strcmp(state->valuestring, "none") == 0) continue;
            wb_gauge_set(lag_gauge(), lag->valuedouble, c->group, topic->string, part->string);
        }
    }
    cJSON_Delete(doc);
    return 0; /* librdkafka frees json */
}

wb_consumer *wb_consumer_new(const char *brokers, const char *group_id,
                             const char *const *topics, int topic_count,
                             const wb_rebalance_hooks *hooks, char *err, size_t err_size) {
    rd_kafka_conf_t *conf = base_conf(brokers, group_id, err, err_size);
    if (!conf) return NULL;
    const char *stats_ms = getenv("WB_KAFKA_STATS_INTERVAL_MS");
    if (!set_conf(conf, "group.id", group_id, err, err_size) ||
        !set_conf(conf, "enable.auto.commit", "false", err, err_size) ||
        !set_conf(conf, "enable.auto.offset.store", "false", err, err_size) ||
        !set_conf(conf, "auto.offset.reset", "earliest", err, err_size) ||
        !set_conf(conf, "enable.partition.eof", "false", err, err_size) ||
        !set_conf(conf, "partition.assignment.strategy", "cooperative-sticky", err, err_size) ||
        !set_conf(conf, "statistics.interval.ms", stats_ms ? stats_ms : "5000", err, err_size)) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    wb_consumer *c = calloc(1, sizeof *c);
    if (hooks) c->hooks = *hooks;
    c->group = strdup(group_id);
    rd_kafka_conf_set_opaque(conf, c);
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_stats_cb(conf, on_stats);
    c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, err_size);
    if (!c->rk) {
        rd_kafka_conf_destroy(conf);
        free(c->group);
        free(c);
        return NULL;
    }
    rd_kafka_poll_set_consumer(c->rk);
    rd_kafka_topic_partition_list_t *subs = rd_kafka_topic_partition_list_new(topic_count);
    for (int i = 0; i < topic_count; i++)
        rd_kafka_topic_partition_list_add(subs, topics[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(c->rk, subs);
    rd_kafka_topic_partition_list_destroy(subs);
    if (e) {
        snprintf(err, err_size, "subscribe failed: %s", rd_kafka_err2str(e));
        wb_consumer_close(c);
        return NULL;
    }
    return c;
}

rd_kafka_message_t *wb_consumer_poll(wb_consumer *c, int timeout_ms) {
    rd_kafka_message_t *msg = rd_kafka_consumer_poll(c->rk, timeout_ms);
    if (!msg || !msg->err) return msg;
    if (msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        wb_counter_inc(kafka_errors(), "consumer", rd_kafka_err2name(msg->err));
        wb_warn(NULL, "kafka consume error: %s", rd_kafka_message_errstr(msg));
    }
    rd_kafka_message_destroy(msg);
    return NULL;
}

rd_kafka_resp_err_t wb_consumer_commit(wb_consumer *c, const char *topic, int32_t partition,
                                       int64_t next_offset) {
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, topic, partition)->offset = next_offset;
    rd_kafka_resp_err_t err = rd_kafka_commit(c->rk, list, 0);
    if (!err && list->elems[0].err) err = list->elems[0].err;
    rd_kafka_topic_partition_list_destroy(list);
    return err;
}

int64_t wb_consumer_committed(wb_consumer *c, const char *topic, int32_t partition,
                              int timeout_ms) {
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, topic, partition);
    int64_t offset = RD_KAFKA_OFFSET_INVALID;
    if (rd_kafka_committed(c->rk, list, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        !list->elems[0].err)
        offset = list->elems[0].offset;
    rd_kafka_topic_partition_list_destroy(list);
    return offset;
}

rd_kafka_t *wb_consumer_handle(wb_consumer *c) { return c->rk; }

void wb_consumer_close(wb_consumer *c) {
    if (!c) return;
    rd_kafka_consumer_close(c->rk);
    rd_kafka_destroy(c->rk);
    free(c->group);
    free(c);
}
