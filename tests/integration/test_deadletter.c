/* Dead letters land on bridge.deadletter.v1 with the reason, the source and
 * the original bytes, keyed like the source message. */
#include <stdlib.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "testlib.h"
#include "wb/crypto.h"
#include "wb/deadletter.h"
#include "wb/log.h"
#include "wb/metrics.h"
#include "wb/runloop.h"

static const char *brokers;
static wb_producer *producer;
static char run_id[64];

/* Reads bridge.deadletter.v1 from the start until the message with key shows up. */
static cJSON *find_deadletter(const char *key) {
    char group[128], err[256];
    snprintf(group, sizeof group, "wbtest.%s.dl.%s", run_id, key);
    const char *topics[] = {WB_TOPIC_DEADLETTER};
    wb_consumer *c = wb_consumer_new(brokers, group, topics, 1, NULL, err, sizeof err);
    if (!c) return NULL;
    cJSON *found = NULL;
    int64_t deadline = wb_monotonic_ms() + 30000;
    while (!found && wb_monotonic_ms() < deadline) {
        rd_kafka_message_t *m = wb_consumer_poll(c, 200);
        if (!m) continue;
        if (m->key_len == strlen(key) && memcmp(m->key, key, m->key_len) == 0)
            found = cJSON_ParseWithLength(m->payload, m->len);
        rd_kafka_message_destroy(m);
    }
    wb_consumer_close(c);
    return found;
}

static const char *str(cJSON *obj, const char *field) {
    cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, field);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

TEST(kafka_source_with_original_bytes) {
    char key[96];
    snprintf(key, sizeof key, "wh-%s/SKU-1", run_id);
    /* Original bytes that are not valid JSON nor UTF-8 must survive exactly. */
    const unsigned char original[] = {'{', '"', 's', 0xff, 0x00, 0xfe, '}'};
    wb_deadletter dl = {
        .reason = "sku SKU-1 is not mapped for any store",
        .source_kind = "kafka",
        .source_topic = WB_TOPIC_STOCK,
        .source_partition = 7,
        .source_offset = 123456,
        .key = key,
        .key_len = strlen(key),
        .value = original,
        .value_len = sizeof original,
    };
    CHECK_INT(wb_deadletter_publish(producer, "stock-publisher", &dl, 10000), 0);
    cJSON *doc = find_deadletter(key);
    CHECK(doc != NULL);
    CHECK_STR(str(doc, "reason"), "sku SKU-1 is not mapped for any store");
    CHECK_STR(str(doc, "service"), "stock-publisher");
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(doc, "store_id")));
    CHECK_STR(str(doc, "key"), key);
    cJSON *src = cJSON_GetObjectItem(doc, "source");
    CHECK_STR(str(src, "kind"), "kafka");
    CHECK_STR(str(src, "topic"), WB_TOPIC_STOCK);
    CHECK_INT(cJSON_GetObjectItem(src, "partition")->valuedouble, 7);
    CHECK_INT(cJSON_GetObjectItem(src, "offset")->valuedouble, 123456);
    const char *b64 = str(doc, "original_base64");
    unsigned char back[32];
    size_t n = 0;
    CHECK(b64 && wb_base64_decode(b64, strlen(b64), back, sizeof back, &n) == 0);
    CHECK_INT(n, sizeof original);
    CHECK(memcmp(back, original, n) == 0);
    CHECK_INT(cJSON_GetObjectItem(doc, "original_size")->valuedouble, sizeof original);
    const char *dead_at = str(doc, "dead_at");
    CHECK(dead_at && strlen(dead_at) == 24 && dead_at[23] == 'Z');
    cJSON_Delete(doc);
}

TEST(webhook_source_with_store) {
    char key[96];
    snprintf(key, sizeof key, "acme-%s/5001", run_id);
    const char *body = "{\"id\":5001, broken";
    wb_deadletter dl = {
        .reason = "malformed JSON after a valid signature",
        .store_id = "acme",
        .source_kind = "webhook",
        .source_path = "/webhooks/shopify/acme",
        .key = key,
        .key_len = strlen(key),
        .value = body,
        .value_len = strlen(body),
    };
    CHECK_INT(wb_deadletter_publish(producer, "order-ingest", &dl, 10000), 0);
    cJSON *doc = find_deadletter(key);
    CHECK(doc != NULL);
    CHECK_STR(str(doc, "store_id"), "acme");
    cJSON *src = cJSON_GetObjectItem(doc, "source");
    CHECK_STR(str(src, "kind"), "webhook");
    CHECK_STR(str(src, "path"), "/webhooks/shopify/acme");
    CHECK(cJSON_GetObjectItem(src, "offset") == NULL);
    cJSON_Delete(doc);
    wb_metric *m = wb_counter("wb_deadletters_total", "", "service,source,outcome");
    CHECK(wb_metric_value(m, "order-ingest", "webhook", "published") == 1);
}

int main(void) {
    brokers = wb_test_env("WB_KAFKA_BROKERS");
    wb_log_init("test_deadletter", WB_LOG_ERROR);
    wb_log_set_output(stderr);
    snprintf(run_id, sizeof run_id, "%d-%lld", (int)getpid(), (long long)wb_wall_ms());
    char err[256];
    producer = wb_producer_new(brokers, "test_deadletter", err, sizeof err);
    if (!producer) {
        printf("FAIL setup: %s\n", err);
        return 1;
    }
    RUN(kafka_source_with_original_bytes);
    RUN(webhook_source_with_store);
    wb_producer_destroy(producer, 10000);
    TEST_EXIT();
}
