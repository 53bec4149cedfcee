/* Events in: decode, apply the level, touch the windows of every store,
 * item and location the change affects. Touches are gathered per partition
 * and written to Redis once per batch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "publisher.h"
#include "wb/deadletter.h"
#include "wb/log.h"
#include "wb/metrics.h"
#include "wb/proto.h"
#include "wb/runloop.h"
#include "occurred.h"
#include "windows.h"

typedef struct sp_pending {
    int64_t window_ms, touches;
} sp_pending;

static wb_metric *events_total(void) {
    return wb_counter("wb_stock_events_total",
                      "wms.stock.v1 events by outcome (applied, replayed, stale, unrouted, invalid).",
                      "outcome");
}

typedef struct {
    publisher *p;
    sp_partition *part;
    int64_t offset;
} touch_ctx;

static void add_touch(void *arg, const sp_store *store, const char *item, const sp_location *location) {
    touch_ctx *c = arg;
    char window[1024];
    snprintf(window, sizeof window, "%s|%s|%s", store->id, item, location->id);
    bool created;
    wb_strmap_entry *e = wb_strmap_put(&c->part->pending, window, &created);
    if (created) {
        sp_pending *pd = calloc(1, sizeof *pd);
        pd->window_ms = store->window_ms;
        e->ptr = pd;
        e->num = c->offset;
    }
    ((sp_pending *)e->ptr)->touches++;
    if (c->offset < e->num) e->num = c->offset;
    sp_tracker_touch(&c->part->tracker, window, c->offset);
}

void sp_touch_window(publisher *p, int32_t partition, const char *window, int64_t window_ms) {
    sp_partition *part = &p->parts[partition];
    /* No event stands behind it: it holds the commit at the position
     * already reached, so a crash before it is sent loses only this touch,
     * which the next reconciliation finds again. */
    int64_t offset = part->tracker.next_to_read >= 0 ? part->tracker.next_to_read : part->tracker.start;
    if (offset < 0) return; /* no position known yet: the next run corrects it */
    bool created;
    wb_strmap_entry *e = wb_strmap_put(&part->pending, window, &created);
    if (created) {
        sp_pending *pd = calloc(1, sizeof *pd);
        pd->window_ms = window_ms;
        e->ptr = pd;
        e->num = offset;
    }
    if (offset < e->num) e->num = offset;
    sp_tracker_touch(&part->tracker, window, offset);
}

void sp_touch_now(publisher *p, int32_t partition, const char *window) {
    sp_touch_window(p, partition, window, 0); /* window 0: due at once */
}

/* A message that can never be processed goes to the dead-letter topic. Until
 * that is acknowledged its offset stays uncommitted. */
static void dead_letter(publisher *p, sp_partition *part, const rd_kafka_message_t *m,
                        const char *reason) {
    wb_deadletter dl = {
        .reason = reason, .source_kind = "kafka", .source_topic = rd_kafka_topic_name(m->rkt),
        .source_partition = m->partition, .source_offset = m->offset,
        .key = m->key, .key_len = m->key_len, .value = m->payload, .value_len = m->len,
    };
    if (wb_deadletter_publish(p->svc->producer, "stock-publisher", &dl, 10000) != 0) {
        char hold[64];
        snprintf(hold, sizeof hold, "!deadletter@%lld", (long long)m->offset);
        sp_tracker_touch(&part->tracker, hold, m->offset); /* keeps the commit below it */
    }
    wb_counter_inc(events_total(), "invalid");
}

static void on_message(publisher *p, const rd_kafka_message_t *m) {
    if (m->partition < 0 || m->partition >= SP_MAX_PARTITIONS) return;
    sp_partition *part = &p->parts[m->partition];
    wb_stock_msg ev;
    char err[256];
    if (wb_stock_msg_decode(m->payload, m->len, &ev, err, sizeof err) != 0) {
        dead_letter(p, part, m, err);
        sp_tracker_consumed(&part->tracker, m->offset);
        return;
    }
    char article[600];
    snprintf(article, sizeof article, "%s/%s", ev.goods_owner, ev.sku);
    sp_level_result r = sp_levels_apply_at(p->levels, ev.warehouse, article, ev.on_hand, ev.reserved,
                                           ev.version, m->partition, sp_occurred_ms(ev.occurred_at));
    if (r == SP_LEVEL_STALE) {
        wb_counter_inc(events_total(), "stale");
    } else {
        /* A replay of the same version still touches its windows: the level
         * may have been checkpointed while its window was lost with Redis. */
        touch_ctx c = {p, part, m->offset};
        int routed = sp_routes_each(p->routes, article, ev.warehouse, add_touch, &c);
        wb_counter_inc(events_total(), !routed ? "unrouted" : r == SP_LEVEL_SAME ? "replayed" : "applied");
    }
    sp_tracker_consumed(&part->tracker, m->offset);
    wb_stock_msg_free(&ev);
}

int sp_consume(publisher *p) {
    int n = 0;
    int timeout = 100;
    while (n < p->cfg.batch_messages && !wb_stopping()) {
        rd_kafka_message_t *m = wb_consumer_poll(p->consumer, timeout);
        if (!m) break;
        timeout = 0; /* take what is already here, then go and write it */
        on_message(p, m);
        rd_kafka_message_destroy(m);
        n++;
    }
    return n;
}

static void write_partition(publisher *p, int32_t id) {
    sp_partition *part = &p->parts[id];
    if (part->pending.count == 0) return;
    sp_touch *touches = malloc(sizeof *touches * part->pending.count);
    int n = 0;
    for (size_t i = 0; i < part->pending.cap; i++) {
        wb_strmap_entry *e = &part->pending.slots[i];
        if (!wb_strmap_live(e)) continue;
        sp_pending *pd = e->ptr;
        touches[n++] = (sp_touch){e->key, pd->window_ms, e->num, pd->touches};
    }
    int opened = sp_windows_touch(p->svc->redis, id, p->token, wb_wall_ms(), touches, n);
    free(touches);
    if (opened == SP_NOT_OWNER) {
        wb_warn(NULL, "partition %d: another replica owns its windows; waiting for the rebalance", id);
        return;
    }
    if (opened < 0) return; /* Redis away: keep them and try again next turn */
    wb_counter_add(wb_counter("wb_stock_windows_opened_total", "Debounce windows opened.", ""), opened);
    wb_strmap_clear(&part->pending, free);
    wb_strmap_init(&part->pending);
}

void sp_write_touches(publisher *p) {
    for (int32_t i = 0; i < SP_MAX_PARTITIONS; i++)
        if (p->parts[i].owned) write_partition(p, i);
}
