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
    int timeout = p->consume_wait_ms;
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

/* One partition's pending touches, written by a pool thread (rpool.h).
 * The touches move out of the partition into the task (consuming goes on
 * into a fresh map meanwhile) and go back when the write failed. */
typedef struct touch_task {
    const char *token;
    int32_t id;
    wb_strmap pending;
    sp_touch *touches;
    int count, opened;
    int64_t now;
} touch_task;

static touch_task tasks[SP_MAX_PARTITIONS];
static void *task_ptrs[SP_MAX_PARTITIONS];
static int task_count; /* tasks of the write out, 0 when none */

static void write_task(wb_redis *r, void *arg) {
    touch_task *t = arg;
    t->opened = sp_windows_touch(r, t->id, t->token, t->now, t->touches, t->count);
}

static void task_for(publisher *p, int32_t id, touch_task *t) {
    sp_partition *part = &p->parts[id];
    t->token = p->token, t->id = id, t->now = wb_wall_ms(), t->count = 0;
    t->pending = part->pending;
    wb_strmap_init(&part->pending);
    t->touches = malloc(sizeof *t->touches * (t->pending.count + 1));
    for (size_t i = 0; i < t->pending.cap; i++) {
        wb_strmap_entry *e = &t->pending.slots[i];
        if (!wb_strmap_live(e)) continue;
        sp_pending *pd = e->ptr;
        t->touches[t->count++] = (sp_touch){e->key, pd->window_ms, e->num, pd->touches};
    }
}

/* A write that failed: its touches join what was consumed since (the
 * smaller first offset, the events of both). */
static void put_back(sp_partition *part, wb_strmap *written) {
    for (size_t i = 0; i < written->cap; i++) {
        wb_strmap_entry *e = &written->slots[i];
        if (!wb_strmap_live(e)) continue;
        bool created;
        wb_strmap_entry *now = wb_strmap_put(&part->pending, e->key, &created);
        if (created) {
            now->ptr = e->ptr, now->num = e->num;
        } else {
            ((sp_pending *)now->ptr)->touches += ((sp_pending *)e->ptr)->touches;
            if (e->num < now->num) now->num = e->num;
            free(e->ptr);
        }
        e->ptr = NULL;
    }
    wb_strmap_clear(written, NULL);
}

static void task_done(publisher *p, touch_task *t) {
    sp_partition *part = &p->parts[t->id];
    free(t->touches);
    t->touches = NULL;
    if (t->opened == SP_NOT_OWNER)
        wb_warn(NULL, "partition %d: another replica owns its windows; waiting for the rebalance", t->id);
    if (t->opened < 0) { /* Redis away or not ours: keep them and try again next turn */
        put_back(part, &t->pending);
        return;
    }
    wb_counter_add(wb_counter("wb_stock_windows_opened_total", "Debounce windows opened.", ""), t->opened);
    wb_strmap_clear(&t->pending, free);
}

void sp_touches_wait(publisher *p) {
    if (!task_count) return;
    sp_rpool_finish(&p->rpool, p->svc->redis);
    for (int i = 0; i < task_count; i++) task_done(p, &tasks[i]);
    task_count = 0;
}

/* Every owned partition's touches, one script call each, side by side on
 * the pool's connections. */
void sp_write_touches_async(publisher *p) {
    sp_touches_wait(p);
    for (int32_t i = 0; i < SP_MAX_PARTITIONS; i++) {
        if (!p->parts[i].owned || p->parts[i].pending.count == 0) continue;
        task_for(p, i, &tasks[task_count]);
        task_ptrs[task_count] = &tasks[task_count];
        task_count++;
    }
    if (task_count == 0) return;
    sp_windows_load_scripts(p->svc->redis); /* before the threads share them */
    sp_rpool_begin(&p->rpool, write_task, task_ptrs, task_count);
}

void sp_write_touches(publisher *p) {
    sp_write_touches_async(p);
    sp_touches_wait(p);
}
