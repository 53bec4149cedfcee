/* The Kafka loop. Events of one order share a partition and are handled one
 * at a time, in order; an offset is committed once its event is reported,
 * recorded or dead-lettered. An event that must wait (the shop is down, a
 * WooCommerce refund before the order is completed) is retried in place: its
 * partition is paused and the event, with any already fetched behind it, is
 * held in memory and retried with a doubling backoff, while the other
 * partitions go on. Nothing past it is committed, so a crash or a rebalance
 * replays it from Kafka. An event still waiting after WB_FULFIL_HOLD_MAX_MS
 * goes to the dead-letter topic, so one that can never be reported does not
 * stop its partition for good. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reporter.h"
#include "wb/deadletter.h"
#include "wb/log.h"
#include "wb/metrics.h"
#include "wb/runloop.h"

void fr_config_read(wb_env *env, fr_config *cfg) {
    cfg->group = wb_env_string(env, "WB_FULFIL_GROUP", "fulfilment-reporter");
    cfg->retry_ms = (int)wb_env_int(env, "WB_FULFIL_RETRY_MS", 2000, 10, 3600000);
    cfg->retry_max_ms = (int)wb_env_int(env, "WB_FULFIL_RETRY_MAX_MS", 60000, 10, 3600000);
    /* A bound on waiting in place: an event that can never be reported (a
     * WooCommerce refund for an order whose dispatch was lost stays short
     * of `completed`) would otherwise stop its partition for good. */
    cfg->hold_max_ms = (int)wb_env_int(env, "WB_FULFIL_HOLD_MAX_MS", 900000, 1000, 604800000);
    cfg->die_after_send = (int)wb_env_int(env, "WB_FULFIL_TEST_DIE_AFTER_SEND", 0, 0, 1000);
}

static wb_metric *events_total(void) {
    return wb_counter("wb_fulfilment_events_total",
                      "wms.fulfilment.v1 events by type and outcome (done, retry, deadletter).",
                      "type,outcome");
}

void fr_after_send(reporter *r) {
    if (!r->cfg.die_after_send || ++r->cfg.sends < r->cfg.die_after_send) return;
    wb_warn(NULL, "WB_FULFIL_TEST_DIE_AFTER_SEND: killing myself between the shop call and its record");
    raise(SIGKILL);
}

static void held_clear(fr_held *h) {
    for (size_t i = 0; i < h->n; i++) rd_kafka_message_destroy(h->msgs[i]);
    free(h->msgs);
    memset(h, 0, sizeof *h);
}

static void set_paused(reporter *r, int32_t partition, bool pause) {
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, WB_TOPIC_FULFILMENT, partition);
    rd_kafka_t *rk = wb_consumer_handle(r->consumer);
    if (pause) rd_kafka_pause_partitions(rk, l);
    else rd_kafka_resume_partitions(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
}

static void on_assign(void *ctx, const rd_kafka_topic_partition_list_t *parts) {
    reporter *r = ctx;
    for (int i = 0; i < parts->cnt; i++) {
        int32_t id = parts->elems[i].partition;
        if (id < 0 || id >= FR_MAX_PARTITIONS) continue;
        r->owned[id] = true;
        r->seen[id] = -1;
        held_clear(&r->held[id]);
    }
    /* A partition paused by an earlier owner of ours must fetch again. */
    rd_kafka_resume_partitions(wb_consumer_handle(r->consumer),
                               (rd_kafka_topic_partition_list_t *)parts);
}

static void on_revoke(void *ctx, const rd_kafka_topic_partition_list_t *parts) {
    reporter *r = ctx;
    /* Everything handled is committed already; held events were not, and go
     * to the next owner through Kafka. */
    for (int i = 0; i < parts->cnt; i++) {
        int32_t id = parts->elems[i].partition;
        if (id < 0 || id >= FR_MAX_PARTITIONS) continue;
        if (r->held[id].n)
            wb_info(NULL, "partition %d handed over with %zu held events", id, r->held[id].n);
        held_clear(&r->held[id]);
        r->owned[id] = false;
    }
}

int fr_reporter_init(reporter *r, wb_service *svc, const fr_config *cfg) {
    memset(r, 0, sizeof *r);
    r->svc = svc;
    r->cfg = *cfg;
    wb_strmap_init(&r->clients);
    if (!svc->has_master_key)
        wb_warn(NULL, "WB_MASTER_KEY is not set: events that need a shop wait until it is");
    const char *topics[] = {WB_TOPIC_FULFILMENT};
    wb_rebalance_hooks hooks = {.on_assign = on_assign, .on_revoke = on_revoke, .ctx = r};
    char err[512];
    r->consumer = wb_consumer_new(svc->cfg.kafka_brokers, cfg->group, topics, 1, &hooks, err, sizeof err);
    if (!r->consumer) {
        wb_error(NULL, "kafka consumer: %s", err);
        return -1;
    }
    return 0;
}

void fr_reporter_close(reporter *r) {
    if (r->consumer) wb_consumer_close(r->consumer); /* runs on_revoke: frees held events */
    r->consumer = NULL;
    for (int i = 0; i < FR_MAX_PARTITIONS; i++) held_clear(&r->held[i]);
    fr_clients_close(r);
}

static void dead_letter(reporter *r, const rd_kafka_message_t *m, const char *store,
                        const char *reason) {
    wb_deadletter dl = {
        .reason = reason, .store_id = store, .source_kind = "kafka",
        .source_topic = rd_kafka_topic_name(m->rkt), .source_partition = m->partition,
        .source_offset = m->offset, .key = m->key, .key_len = m->key_len,
        .value = m->payload, .value_len = m->len,
    };
    rd_kafka_resp_err_t e;
    /* Until the dead letter is acknowledged the offset stays where it is. */
    while ((e = wb_deadletter_publish(r->svc->producer, FR_SERVICE, &dl, 10000)) != 0 &&
           !wb_stopping()) {
        wb_warn(store, "dead letter not acknowledged (%s); trying again", rd_kafka_err2str(e));
        wb_sleep_ms(1000);
    }
}

/* An event that waited in place past WB_FULFIL_HOLD_MAX_MS: to the dead-letter
 * topic with what it waited for, so the events behind it go on; `bridgectl
 * deadletters replay` sends it back once the cause is mended. FR_RETRY when
 * stopping before the dead letter was acknowledged. */
static fr_outcome give_up(reporter *r, const rd_kafka_message_t *m, const wb_fulfilment_msg *ev,
                          int64_t waited_ms, const char *why) {
    const char *type = wb_fulfilment_type_name(ev->type);
    char reason[768];
    snprintf(reason, sizeof reason, "order %s %s: gave up after waiting %lld s in place for: %s", ev->order_id,
             type, (long long)(waited_ms / 1000), why);
    wb_warn(ev->store_id, "%s: to the dead-letter topic", reason);
    dead_letter(r, m, ev->store_id, reason);
    if (wb_stopping()) return FR_RETRY;
    wb_counter_inc(events_total(), type, "deadletter");
    return FR_DONE;
}

/* FR_DONE and FR_FAIL (after its dead letter) free the offset; FR_RETRY
 * keeps it. waited_ms: how long the event has waited in place so far. */
static fr_outcome process(reporter *r, const rd_kafka_message_t *m, int64_t waited_ms) {
    wb_fulfilment_msg ev;
    char err[512];
    if (wb_fulfilment_msg_decode(m->payload, m->len, &ev, err, sizeof err) != 0) {
        wb_warn(NULL, "partition %d offset %lld: undecodable: %s", m->partition, (long long)m->offset, err);
        dead_letter(r, m, NULL, err);
        if (wb_stopping()) return FR_RETRY;
        wb_counter_inc(events_total(), "invalid", "deadletter");
        return FR_DONE;
    }
    char why[512] = "";
    fr_outcome o = fr_handle(r, &ev, why, sizeof why);
    const char *type = wb_fulfilment_type_name(ev.type);
    if (o == FR_FAIL) {
        wb_warn(ev.store_id, "order %s %s: %s: to the dead-letter topic", ev.order_id, type, why);
        dead_letter(r, m, ev.store_id, why);
        if (wb_stopping()) o = FR_RETRY;
        else wb_counter_inc(events_total(), type, "deadletter");
    } else if (o == FR_RETRY && waited_ms >= r->cfg.hold_max_ms) {
        o = give_up(r, m, &ev, waited_ms, why);
    } else if (o == FR_RETRY) {
        wb_info(ev.store_id, "order %s %s waits: %s", ev.order_id, type, why);
        wb_counter_inc(events_total(), type, "retry");
    } else {
        wb_counter_inc(events_total(), type, "done");
    }
    wb_fulfilment_msg_free(&ev);
    return o == FR_RETRY ? FR_RETRY : FR_DONE;
}

static void commit(reporter *r, const rd_kafka_message_t *m) {
    rd_kafka_resp_err_t e = wb_consumer_commit(r->consumer, WB_TOPIC_FULFILMENT, m->partition, m->offset + 1);
    if (e) wb_warn(NULL, "commit of partition %d at %lld failed: %s", m->partition,
                   (long long)m->offset + 1, rd_kafka_err2str(e));
}

static void hold(reporter *r, rd_kafka_message_t *m) {
    fr_held *h = &r->held[m->partition];
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 8;
        h->msgs = realloc(h->msgs, sizeof *h->msgs * h->cap);
    }
    h->msgs[h->n++] = m;
}

/* Works through a partition's held events from the front. */
static void retry_held(reporter *r, int32_t id) {
    fr_held *h = &r->held[id];
    while (h->n && !wb_stopping()) {
        rd_kafka_message_t *m = h->msgs[0];
        if (process(r, m, wb_monotonic_ms() - h->since_ms) == FR_RETRY) {
            h->backoff_ms = h->backoff_ms * 2 > r->cfg.retry_max_ms ? r->cfg.retry_max_ms : h->backoff_ms * 2;
            h->next_try_ms = wb_monotonic_ms() + h->backoff_ms;
            return;
        }
        commit(r, m);
        rd_kafka_message_destroy(m);
        memmove(h->msgs, h->msgs + 1, sizeof *h->msgs * (h->n - 1));
        h->n--;
        h->since_ms = wb_monotonic_ms(); /* the next one's wait starts now */
    }
    if (h->n == 0) {
        held_clear(h);
        set_paused(r, id, false);
    }
}

void fr_turn(reporter *r) {
    int64_t now = wb_monotonic_ms();
    for (int32_t i = 0; i < FR_MAX_PARTITIONS; i++)
        if (r->owned[i] && r->held[i].n && now >= r->held[i].next_try_ms) retry_held(r, i);
    rd_kafka_message_t *m = wb_consumer_poll(r->consumer, 200);
    if (!m) return;
    int32_t id = m->partition;
    if (id < 0 || id >= FR_MAX_PARTITIONS || m->offset <= r->seen[id] || !r->owned[id]) {
        /* A refetch after the pause of what is held already. */
        rd_kafka_message_destroy(m);
        return;
    }
    r->seen[id] = m->offset;
    if (r->held[id].n) { /* in order: behind the one that waits */
        hold(r, m);
        return;
    }
    if (process(r, m, 0) == FR_RETRY) {
        hold(r, m);
        r->held[id].since_ms = wb_monotonic_ms();
        r->held[id].backoff_ms = r->cfg.retry_ms;
        r->held[id].next_try_ms = wb_monotonic_ms() + r->cfg.retry_ms;
        set_paused(r, id, true);
        return;
    }
    commit(r, m);
    rd_kafka_message_destroy(m);
}
