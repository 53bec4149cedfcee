/* What is done gets committed; partitions come and go. Before any offset is
 * committed the levels are checkpointed, so the new owner of a partition
 * starts from levels at least as new as the committed offset implies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "publisher.h"
#include "wb/log.h"
#include "wb/metrics.h"
#include "wb/runloop.h"
#include "windows.h"

void sp_refresh_routes(publisher *p, bool force) {
    int64_t now = wb_monotonic_ms();
    if (!force && p->routes && now - p->routes_loaded_ms < p->cfg.routes_refresh_ms) return;
    char err[512];
    sp_routes *r = sp_routes_load(p->svc->pg, err, sizeof err);
    if (!r) {
        wb_warn(NULL, "%s (keeping the previous routes)", err);
        if (!p->routes) p->routes = sp_routes_empty();
        return;
    }
    sp_routes_free(p->routes);
    p->routes = r;
    p->routes_loaded_ms = now;
    sp_clients_refresh(p); /* credentials or URLs may have changed */
    wb_gauge_set(wb_gauge("wb_stock_mapped_items", "Product mappings the stock publisher routes to.", ""),
                 r->mapping_count);
    /* The alert on overdue windows compares against this: a window more than
     * the longest window past its end is older than twice its own window. */
    int64_t longest = 0;
    for (size_t i = 0; i < r->stores.cap; i++) {
        if (!wb_strmap_live(&r->stores.slots[i])) continue;
        const sp_store *s = r->stores.slots[i].ptr;
        if (s->window_ms > longest) longest = s->window_ms;
    }
    wb_gauge_set(wb_gauge("wb_stock_window_longest_seconds",
                          "Longest window_seconds of the stores this replica routes stock to.", ""),
                 (double)longest / 1000.0);
}

/* Writes every window the tracker holds open back to Redis (touching an
 * existing window changes nothing but its first offset, which is the same). */
static void resync_partition(publisher *p, int32_t id) {
    sp_tracker *t = &p->parts[id].tracker;
    sp_touch *touches = malloc(sizeof *touches * (t->open.count + 1));
    int n = 0;
    for (size_t i = 0; i < t->open.cap; i++) {
        wb_strmap_entry *e = &t->open.slots[i];
        if (!wb_strmap_live(e) || e->key[0] == '!') continue;
        touches[n++] = (sp_touch){e->key, 0, e->num, 0};
        if (n == 1000) {
            sp_windows_touch(p->svc->redis, id, p->token, wb_wall_ms(), touches, n);
            n = 0;
        }
    }
    sp_windows_touch(p->svc->redis, id, p->token, wb_wall_ms(), touches, n);
    free(touches);
}

/* A Redis that restarted empty or was flushed has lost the windows and the
 * owner keys; the trackers still know every open window, so write them back.
 * An owner key naming another replica for a partition Kafka assigned here
 * (a stale replica re-owned it after such a loss) is taken back after a
 * second look, since Kafka's assignment is what decides. */
static void watch_redis(publisher *p, int32_t id) {
    sp_partition *part = &p->parts[id];
    sp_owner_state st = sp_windows_check(p->svc->redis, id, p->token);
    part->foreign_checks = st == SP_OWNED_BY_OTHER ? part->foreign_checks + 1 : 0;
    if (st == SP_OWNER_LOST) {
        wb_warn(NULL, "partition %d: Redis lost its windows; re-opening %d from the offsets tracker", id,
                sp_tracker_open_count(&part->tracker));
        wb_counter_inc(wb_counter("wb_stock_redis_resyncs_total", "Windows re-written after Redis lost data.", ""));
        if (sp_windows_own_if_free(p->svc->redis, id, p->token) == 0) resync_partition(p, id);
    } else if (part->foreign_checks >= 2) {
        wb_warn(NULL, "partition %d is assigned here but its windows name another owner; taking them back", id);
        part->foreign_checks = 0;
        if (sp_windows_own(p->svc->redis, id, p->token) == 0) resync_partition(p, id);
    }
}

static void commit_partition(publisher *p, int32_t id) {
    sp_partition *part = &p->parts[id];
    int64_t offset = sp_tracker_committable(&part->tracker);
    if (offset < 0 || offset <= part->committed) return;
    rd_kafka_resp_err_t err = wb_consumer_commit(p->consumer, WB_TOPIC_STOCK, id, offset);
    if (err) {
        wb_warn(NULL, "commit of partition %d at %lld failed: %s", id, (long long)offset, rd_kafka_err2str(err));
        return;
    }
    part->committed = offset;
}

void sp_commit(publisher *p) {
    int64_t now = wb_monotonic_ms();
    if (now - p->last_commit_ms < p->cfg.commit_interval_ms) return;
    p->last_commit_ms = now;
    if (sp_levels_checkpoint(p->levels, p->svc->pg) < 0) {
        wb_warn(NULL, "levels checkpoint failed (%s); not committing", wb_pg_error(p->svc->pg));
        return;
    }
    int open = 0;
    int64_t earliest = -1;
    for (int32_t i = 0; i < SP_MAX_PARTITIONS; i++) {
        if (!p->parts[i].owned) continue;
        watch_redis(p, i);
        commit_partition(p, i);
        open += sp_tracker_open_count(&p->parts[i].tracker);
        int64_t d = sp_windows_earliest_deadline(p->svc->redis, i);
        if (d >= 0 && (earliest < 0 || d < earliest)) earliest = d;
    }
    wb_gauge_set(wb_gauge("wb_stock_windows_open", "Debounce windows open on this replica.", ""), open);
    /* How far past its end the most overdue open window is: 0 while every
     * window is still inside its time, growing when sending falls behind. */
    int64_t overdue = earliest >= 0 && wb_wall_ms() > earliest ? wb_wall_ms() - earliest : 0;
    wb_gauge_set(wb_gauge("wb_stock_oldest_window_overdue_seconds",
                          "Seconds the most overdue open window is past its end.", ""),
                 (double)overdue / 1000.0);
}

/* ---------------------------------------------------------------- rebalance */

static void take_partition(publisher *p, int32_t id, int64_t committed) {
    sp_partition *part = &p->parts[id];
    sp_tracker_init(&part->tracker, committed < 0 ? 0 : committed);
    wb_strmap_init(&part->pending);
    part->committed = committed;
    part->foreign_checks = 0;
    part->owned = true;
    p->in_flight_checked[id] = false; /* inflight.c: what moved while nobody watched */
    if (sp_levels_load_partition(p->levels, p->svc->pg, id) < 0)
        wb_error(NULL, "partition %d: loading levels failed: %s", id, wb_pg_error(p->svc->pg));
    sp_windows_own(p->svc->redis, id, p->token);
    sp_windows_index(p->svc->redis, id);
    /* Windows the previous owner left open are ours now: track them so the
     * commit waits for them too. */
    sp_window *wins;
    int n = sp_windows_list(p->svc->redis, id, &wins);
    for (int i = 0; i < n; i++) sp_tracker_touch(&part->tracker, wins[i].window, wins[i].first_offset);
    sp_windows_free(wins, n > 0 ? n : 0);
    wb_info(NULL, "partition %d taken at offset %lld with %d open windows", id, (long long)committed,
            n > 0 ? n : 0);
}

void sp_on_assign(void *ctx, const rd_kafka_topic_partition_list_t *parts) {
    publisher *p = ctx;
    rd_kafka_topic_partition_list_t *copy = rd_kafka_topic_partition_list_copy(parts);
    rd_kafka_committed(wb_consumer_handle(p->consumer), copy, 10000);
    for (int i = 0; i < copy->cnt; i++) {
        int32_t id = copy->elems[i].partition;
        if (id < 0 || id >= SP_MAX_PARTITIONS) continue;
        take_partition(p, id, copy->elems[i].offset >= 0 ? copy->elems[i].offset : -1);
    }
    rd_kafka_topic_partition_list_destroy(copy);
}

void sp_on_revoke(void *ctx, const rd_kafka_topic_partition_list_t *parts) {
    publisher *p = ctx;
    sp_drain_all(p); /* the jobs out may hold windows of these partitions */
    /* Finish what is ours before it goes: touches into Redis, levels into
     * PostgreSQL, the committable offset into Kafka. The open windows stay in
     * Redis for the next owner. */
    sp_write_touches(p);
    sp_levels_checkpoint(p->levels, p->svc->pg);
    for (int i = 0; i < parts->cnt; i++) {
        int32_t id = parts->elems[i].partition;
        if (id < 0 || id >= SP_MAX_PARTITIONS || !p->parts[id].owned) continue;
        commit_partition(p, id);
        sp_partition *part = &p->parts[id];
        part->owned = false;
        sp_tracker_free(&part->tracker);
        wb_strmap_clear(&part->pending, free);
        sp_levels_drop_partition(p->levels, id);
        wb_info(NULL, "partition %d handed over at offset %lld", id, (long long)part->committed);
    }
}
