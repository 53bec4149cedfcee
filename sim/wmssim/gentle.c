/* The gentle scenario's loop: read shop.orders.v1, run the order steps that
 * are due, move some stock now and then, until SIGTERM. An order's offset
 * is committed once it is taken in; what it still has to go through lives
 * in memory (a restart forgets orders in flight, see docs/wmssim.md). */
#include <stdlib.h>
#include <string.h>

#include "wb/runloop.h"
#include "wmssim.h"

static void take(ws_wms *w, wb_consumer *c, rd_kafka_message_t *m) {
    if (m->err) {
        rd_kafka_message_destroy(m);
        return;
    }
    wb_order_msg order;
    char err[512];
    if (wb_order_msg_decode(m->payload, m->len, &order, err, sizeof err) == 0) {
        ws_wms_on_order(w, &order);
        wb_order_msg_free(&order);
    } else {
        wb_warn(NULL, "shop.orders.v1 [%d] offset %lld: not an order: %s", m->partition,
                (long long)m->offset, err);
    }
    wb_consumer_commit(c, rd_kafka_topic_name(m->rkt), m->partition, m->offset + 1);
    rd_kafka_message_destroy(m);
}

int ws_run_gentle(const ws_config *cfg, ws_emitter *em) {
    char err[512];
    const char *topics[] = {WB_TOPIC_ORDERS};
    wb_consumer *c = wb_consumer_new(cfg->brokers, cfg->group, topics, 1, NULL, err, sizeof err);
    if (!c) {
        wb_error(NULL, "consumer: %s", err);
        return 1;
    }
    ws_wms w = {.cfg = cfg, .em = em, .rng = cfg->seed};
    ws_levels_init(&w.levels, cfg->initial);
    ws_orders_init(&w.orders);
    wb_info(NULL, "gentle scenario: goods owner %s, warehouse %s, %d skus, group %s, speed %g", cfg->owner,
            cfg->warehouses.items[0], cfg->skus.count, cfg->group, cfg->speed);
    if (cfg->snapshot) ws_movers_snapshot(&w);
    int64_t every = cfg->stock_every_ms ? (int64_t)(cfg->stock_every_ms / cfg->speed) + 1 : 0;
    int64_t next_move = wb_monotonic_ms() + every;
    while (!wb_stopping()) {
        wb_heartbeat();
        rd_kafka_message_t *m = wb_consumer_poll(c, 100);
        if (m) take(&w, c, m);
        int64_t now = wb_monotonic_ms();
        ws_wms_tick(&w, now);
        if (every && now >= next_move && !wb_stopping()) {
            ws_movers_step(&w);
            next_move = now + every;
        }
    }
    wb_info(NULL, "stopping: %lld orders seen, %zu in flight, %lld stock and %lld fulfilment events produced",
            (long long)w.orders.seen, w.orders.n_pending, (long long)em->stock_sent,
            (long long)em->fulfilment_sent);
    wb_consumer_close(c);
    ws_orders_free(&w.orders);
    ws_levels_free(&w.levels);
    return 0;
}
