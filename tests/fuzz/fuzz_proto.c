/* A topic decoder under libFuzzer (one target per topic, chosen by
 * WB_FUZZ_TOPIC_*): whatever arrives on the topic, the decoder must answer
 * with a message or a "path: why" error, never crash, leak or read out of
 * bounds. What it accepts must survive the round trip: encode -> decode ->
 * encode gives the same bytes, since a consumer re-encodes what it read
 * (dead letters, replays) and a message the bridge itself cannot write back
 * would be a decoder that accepts more than the schema. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb/proto.h"

#if defined(WB_FUZZ_TOPIC_STOCK)
#define MSG wb_stock_msg
#define DECODE wb_stock_msg_decode
#define ENCODE wb_stock_msg_encode_err
#define FREE wb_stock_msg_free
#elif defined(WB_FUZZ_TOPIC_FULFILMENT)
#define MSG wb_fulfilment_msg
#define DECODE wb_fulfilment_msg_decode
#define ENCODE wb_fulfilment_msg_encode_err
#define FREE wb_fulfilment_msg_free
#elif defined(WB_FUZZ_TOPIC_ORDERS)
#define MSG wb_order_msg
#define DECODE wb_order_msg_decode
#define ENCODE wb_order_msg_encode_err
#define FREE wb_order_msg_free
#elif defined(WB_FUZZ_TOPIC_CATALOG)
#define MSG wb_catalog_msg
#define DECODE wb_catalog_msg_decode
#define ENCODE wb_catalog_msg_encode_err
#define FREE wb_catalog_msg_free
#elif defined(WB_FUZZ_TOPIC_DEADLETTER)
#define MSG wb_deadletter_msg
#define DECODE wb_deadletter_msg_decode
#define ENCODE wb_deadletter_msg_encode_err
#define FREE wb_deadletter_msg_free
#else
#error "define one WB_FUZZ_TOPIC_*"
#endif

static void fail(const char *what, const char *detail) {
    fprintf(stderr, "fuzz_proto: %s: %s\n", what, detail);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    MSG m;
    char err[256];
    /* The decoder gets exactly len bytes: a Kafka value is not NUL-terminated.
     * A copy of just that size lets ASan see any read past the end. */
    char *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    int rc = DECODE(buf, size, &m, err, sizeof err);
    free(buf);
    if (rc != 0) {
        if (rc != -1) fail("decoder returned neither 0 nor -1", err);
        if (!err[0] || !strchr(err, ':')) fail("error without 'path: why'", err);
        return 0;
    }
    char why[256] = "";
    char *once = ENCODE(&m, why, sizeof why);
    FREE(&m);
    if (!once) fail("a decoded message does not encode", why);
    MSG again;
    if (DECODE(once, strlen(once), &again, err, sizeof err) != 0) fail("re-encoded message refused", err);
    char *twice = ENCODE(&again, why, sizeof why);
    FREE(&again);
    if (!twice) fail("second encode failed", why);
    if (strcmp(once, twice) != 0) fail("encode is not stable", once);
    free(once);
    free(twice);
    return 0;
}
