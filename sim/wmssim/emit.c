/* Producing: every message goes through libshared's encoder, which runs the
 * contract's decoder over its own output, so wmssim cannot put an invalid
 * message on a topic. Produced synchronously: the scenario's order of events
 * is the order on the partition, and a failure is known at once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb/runloop.h"
#include "wmssim.h"

void ws_now(char *buf, size_t size) { wb_format_time(wb_wall_ms(), buf, size); }

static int produce(ws_emitter *em, const char *topic, const char *key, const char *json) {
    rd_kafka_resp_err_t e = wb_produce_sync(em->producer, topic, key, strlen(key), json, strlen(json),
                                            NULL, 0, 30000, NULL, NULL);
    if (e) {
        em->failed++;
        wb_error(NULL, "produce to %s (key %s) failed: %s", topic, key, rd_kafka_err2str(e));
        return -1;
    }
    return 0;
}

int ws_emit_stock(ws_emitter *em, const wb_stock_msg *m) {
    char err[512];
    char *json = wb_stock_msg_encode_err(m, err, sizeof err);
    if (!json) {
        em->failed++;
        wb_error(NULL, "stock event for %s/%s not produced: %s", m->goods_owner, m->sku, err);
        return -1;
    }
    size_t klen = strlen(m->goods_owner) + strlen(m->sku) + 2;
    char *key = malloc(klen);
    snprintf(key, klen, "%s/%s", m->goods_owner, m->sku);
    int rc = produce(em, WB_TOPIC_STOCK, key, json);
    if (rc == 0) {
        em->stock_sent++;
        wb_debug(NULL, "stock %s %s/%s on_hand=%lld reserved=%lld version=%lld", wb_movement_name(m->movement),
                 m->warehouse, m->sku, (long long)m->on_hand, (long long)m->reserved, (long long)m->version);
    }
    free(key);
    free(json);
    return rc;
}

int ws_emit_fulfilment(ws_emitter *em, const wb_fulfilment_msg *m) {
    char err[512];
    char *json = wb_fulfilment_msg_encode_err(m, err, sizeof err);
    if (!json) {
        em->failed++;
        wb_error(m->store_id, "fulfilment event for order %s not produced: %s", m->order_id, err);
        return -1;
    }
    size_t klen = strlen(m->store_id) + strlen(m->order_id) + 2;
    char *key = malloc(klen);
    snprintf(key, klen, "%s/%s", m->store_id, m->order_id);
    int rc = produce(em, WB_TOPIC_FULFILMENT, key, json);
    if (rc == 0) {
        em->fulfilment_sent++;
        wb_info(m->store_id, "order %s: %s", m->order_id, wb_fulfilment_type_name(m->type));
    }
    free(key);
    free(json);
    return rc;
}
