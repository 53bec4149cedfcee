/* testkafka: Kafka from the command line, for the Python end-to-end tests
 * (Python's standard library has no Kafka client).
 *
 *   testkafka produce TOPIC          lines "key<TAB>value" from stdin; exits 0
 *                                    once every message is acknowledged
 *   testkafka seek-end TOPIC GROUP   commits GROUP's offsets at the end of every
 *                                    partition, so it starts with what comes next
 *   testkafka consume TOPIC SECONDS [KEY_PREFIX]
 *                                    every message from the beginning (or of
 *                                    keys starting with KEY_PREFIX) as
 *                                    "partition<TAB>offset<TAB>key<TAB>value",
 *                                    until SECONDS pass without a new one
 * WB_KAFKA_BROKERS names the broker. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wb/kafka.h"
#include "wb/log.h"
#include "wb/runloop.h"

static long failed;

static void on_delivery(rd_kafka_resp_err_t err, int32_t partition, int64_t offset, void *opaque) {
    (void)partition, (void)offset, (void)opaque;
    if (err) {
        if (!failed) fprintf(stderr, "testkafka: delivery failed: %s\n", rd_kafka_err2str(err));
        failed++;
    }
}

static int produce(const char *brokers, const char *topic) {
    char err[512];
    wb_producer *p = wb_producer_new(brokers, "testkafka", err, sizeof err);
    if (!p) {
        fprintf(stderr, "testkafka: %s\n", err);
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long n = 0;
    while ((len = getline(&line, &cap, stdin)) > 0) {
        if (line[len - 1] == '\n') line[--len] = 0;
        char *tab = strchr(line, '\t');
        if (!tab) continue;
        rd_kafka_resp_err_t e;
        while ((e = wb_produce_async(p, topic, line, (size_t)(tab - line), tab + 1, strlen(tab + 1), NULL, 0,
                                     on_delivery, NULL)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(wb_producer_handle(p), 10);
        if (e) {
            fprintf(stderr, "testkafka: produce: %s\n", rd_kafka_err2str(e));
            break;
        }
        n++;
    }
    free(line);
    int rc = wb_producer_flush(p, 60000) || failed;
    wb_producer_destroy(p, 1000);
    if (rc) fprintf(stderr, "testkafka: not every message was acknowledged\n");
    else fprintf(stderr, "testkafka: %ld messages acknowledged\n", n);
    return rc ? 1 : 0;
}

static int consume(const char *brokers, const char *topic, int idle_seconds, const char *prefix) {
    char err[512], group[96];
    snprintf(group, sizeof group, "testkafka-%d-%lld", (int)getpid(), (long long)wb_wall_ms());
    const char *topics[] = {topic};
    wb_consumer *c = wb_consumer_new(brokers, group, topics, 1, NULL, err, sizeof err);
    if (!c) {
        fprintf(stderr, "testkafka: %s\n", err);
        return 1;
    }
    int64_t last = wb_monotonic_ms();
    while (wb_monotonic_ms() - last < (int64_t)idle_seconds * 1000) {
        rd_kafka_message_t *m = wb_consumer_poll(c, 200);
        if (!m) continue;
        last = wb_monotonic_ms();
        if (!prefix || !*prefix || (m->key && m->key_len >= strlen(prefix) &&
                                    memcmp(m->key, prefix, strlen(prefix)) == 0))
            printf("%d\t%lld\t%.*s\t%.*s\n", m->partition, (long long)m->offset, (int)m->key_len,
                   (const char *)m->key, (int)m->len, (const char *)m->payload);
        rd_kafka_message_destroy(m);
    }
    fflush(stdout);
    wb_consumer_close(c);
    return 0;
}

static int seek_end(const char *brokers, const char *topic, const char *group) {
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof err) ||
        rd_kafka_conf_set(conf, "group.id", group, err, sizeof err)) {
        fprintf(stderr, "testkafka: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "testkafka: %s\n", err);
        return 1;
    }
    const struct rd_kafka_metadata *md;
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    int rc = 1;
    if (rd_kafka_metadata(rk, 0, t, &md, 10000) == 0 && md->topic_cnt == 1) {
        rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
        for (int i = 0; i < md->topics[0].partition_cnt; i++) {
            int64_t lo, hi;
            if (rd_kafka_query_watermark_offsets(rk, topic, i, &lo, &hi, 10000)) continue;
            rd_kafka_topic_partition_list_add(list, topic, i)->offset = hi;
        }
        rc = rd_kafka_commit(rk, list, 0) ? 1 : 0;
        rd_kafka_topic_partition_list_destroy(list);
        rd_kafka_metadata_destroy(md);
    }
    rd_kafka_topic_destroy(t);
    rd_kafka_destroy(rk);
    if (rc) fprintf(stderr, "testkafka: seek-end failed\n");
    return rc;
}

int main(int argc, char **argv) {
    const char *brokers = getenv("WB_KAFKA_BROKERS");
    wb_log_init("testkafka", WB_LOG_ERROR);
    wb_log_set_output(stderr);
    if (!brokers || argc < 3) {
        fprintf(stderr, "usage: testkafka produce TOPIC | consume TOPIC SECONDS [KEY_PREFIX] (WB_KAFKA_BROKERS)\n");
        return 2;
    }
    if (strcmp(argv[1], "produce") == 0) return produce(brokers, argv[2]);
    if (strcmp(argv[1], "seek-end") == 0 && argc >= 4) return seek_end(brokers, argv[2], argv[3]);
    if (strcmp(argv[1], "consume") == 0 && argc >= 4)
        return consume(brokers, argv[2], atoi(argv[3]), argc > 4 ? argv[4] : NULL);
    fprintf(stderr, "testkafka: unknown command\n");
    return 2;
}
