/* Due windows out: claim them from Redis across the owned partitions, group
 * them by store, compute each value from the newest levels, skip what the shop
 * already holds, send the rest in the fewest calls, and record what the shop
 * accepted. A window that could not be sent opens again for a retry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobdb.h"
#include "plan.h"
#include "publisher.h"
#include "wb/log.h"
#include "wb/metrics.h"
#include "wb/runloop.h"
#include "windows.h"

typedef struct store_batch {
    const sp_store *store;
    sp_value *values;
    int count, cap;
    int64_t flush_ms, claimed_ms; /* the flush started; its claims were done (lagstats.h) */
} store_batch;

static wb_metric *flushed_total(void) {
    return wb_counter("wb_stock_windows_flushed_total",
                      "Windows flushed, by store and outcome (sent, unchanged, rejected, retry, removed, dropped).",
                      "store,outcome");
}

static void add_value(wb_strmap *batches, const sp_store *store, const sp_window *w, char *item,
                      char *location, int32_t partition) {
    wb_strmap_entry *e = wb_strmap_put(batches, store->id, NULL);
    if (!e->ptr) {
        store_batch *b = calloc(1, sizeof *b);
        b->store = store;
        e->ptr = b;
    }
    store_batch *b = e->ptr;
    if (b->count == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 64;
        b->values = realloc(b->values, sizeof *b->values * (size_t)b->cap);
    }
    b->values[b->count++] = (sp_value){
        .window = strdup(w->window), .item = strdup(item), .location = strdup(location),
        .change_from = -1, .first_offset = w->first_offset, .opened_ms = w->opened_ms,
        .deadline_ms = w->deadline_ms,
        .touches = w->touches, .partition = partition, .outcome = SP_PENDING};
}

/* One partition's claimed windows (the claimer's answer) into the
 * per-store batches; wins is freed. */
static void take_claimed(publisher *p, int32_t id, sp_window *wins, int n, wb_strmap *batches) {
    if (n <= 0) {
        sp_windows_free(wins, 0);
        return;
    }
    sp_tracker *t = &p->parts[id].tracker;
    for (int i = 0; i < n; i++) {
        if (sp_tracker_claim(t, wins[i].window) < 0) sp_tracker_hold(t, wins[i].first_offset);
        char *copy = strdup(wins[i].window), *store_id, *item, *location;
        const sp_store *store = NULL;
        if (sp_window_split(copy, &store_id, &item, &location))
            store = sp_routes_store(p->routes, store_id);
        if (store) {
            add_value(batches, store, &wins[i], item, location, id);
        } else {
            /* The store was disabled or removed since: nothing to send. */
            sp_tracker_release(t, wins[i].first_offset);
            wb_counter_inc(flushed_total(), "", "dropped");
        }
        free(copy);
    }
    sp_windows_free(wins, n);
}

/* The article left the shop (catalog-ingest set product_mappings.removed):
 * its stock is not sent. Counted per window, logged once per item. */
static bool skip_removed(publisher *p, const sp_store *s, sp_value *v) {
    const char *why = sp_routes_removed(p->routes, s->id, v->item);
    if (!why) return false;
    v->outcome = SP_REMOVED;
    wb_counter_inc(wb_counter("wb_stock_removed_skipped_total",
                              "Values not sent because the article left the shop (deleted or unpublished).",
                              "store"), s->id);
    char key[1024];
    snprintf(key, sizeof key, "%s|%s", s->id, v->item);
    bool first;
    wb_strmap_put(&p->removed_logged, key, &first);
    if (first)
        wb_warn(s->id, "item %s (sku %s) is %s in the shop: its stock is not sent", v->item,
                sp_routes_sku(p->routes, s->id, v->item) ? sp_routes_sku(p->routes, s->id, v->item) : "?", why);
    return true;
}

/* The main loop's part of each value: what the levels make available now
 * (only this thread may read them) and the sku; the in-flight orders and
 * the shop's last value are read on the sender thread (jobdb.c), so the
 * main loop claims the next stores while they are read. */
static void compute_levels(publisher *p, store_batch *b) {
    const sp_store *s = b->store;
    for (int i = 0; i < b->count; i++) {
        sp_value *v = &b->values[i];
        if (skip_removed(p, s, v)) continue;
        const char *sku = sp_routes_sku(p->routes, s->id, v->item);
        const sp_location *loc = sp_routes_location(s, v->location);
        if (!sku || !loc) {
            v->outcome = SP_REJECTED; /* mapping gone since the window opened */
            continue;
        }
        char article[600];
        snprintf(article, sizeof article, "%s/%s", s->goods_owner, sku);
        v->available = sp_levels_available(p->levels, article, (const char *const *)loc->warehouses,
                                           loc->warehouse_count);
        v->occurred_ms = sp_levels_occurred(p->levels, article, (const char *const *)loc->warehouses,
                                            loc->warehouse_count);
        v->sku = strdup(sku);
    }
}

/* A reconciliation's values, all on the main loop (its own connection). */
void sp_compute_values(publisher *p, const sp_store *store, sp_value *values, int count) {
    store_batch b = {.store = store, .values = values, .count = count, .cap = count};
    compute_levels(p, &b);
    wb_strmap flight = sp_read_in_flight(p->svc->pg, store->id, values, count),
              sent = sp_read_last_sent(p->svc->pg, store->id, values, count);
    sp_values_finish(values, count, store->safety_stock, &flight, &sent);
    wb_strmap_clear(&flight, NULL);
    wb_strmap_clear(&sent, NULL);
    for (int i = 0; i < count; i++) {
        free(values[i].sku);
        values[i].sku = NULL;
    }
}

static wb_metric *window_age(void) {
    static const double buckets[] = {0.5, 1, 2, 5, 10, 20, 30, 45, 60, 120, 300, 900};
    return wb_histogram("wb_stock_window_seconds",
                        "From a window's first event to the shop's acceptance of its value.",
                        "store", buckets, sizeof buckets / sizeof buckets[0]);
}

static wb_metric *flush_lag(void) {
    static const double buckets[] = {0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60};
    return wb_histogram("wb_stock_flush_lag_seconds",
                        "From a window's end to the shop's acceptance of its value.",
                        "store", buckets, sizeof buckets / sizeof buckets[0]);
}

static wb_metric *end_to_end(void) {
    static const double buckets[] = {0.5, 1, 2, 5, 10, 20, 30, 45, 60, 120, 300, 900, 3600};
    return wb_histogram("wb_stock_end_to_end_seconds",
                        "From the newest WMS event behind a value (its occurred_at) to the shop's acceptance.",
                        "store", buckets, sizeof buckets / sizeof buckets[0]);
}

/* How long a store's windows wait before the next try: retry_ms, doubling
 * with every job in a row that could not reach the shop, up to 5 minutes. */
static int64_t retry_delay(const publisher *p, int failures) {
    int64_t delay = p->cfg.retry_ms;
    for (int i = 1; i < failures && delay < 300000; i++) delay *= 2;
    return delay < 300000 ? delay : 300000;
}

/* Releases, retries or records each value by its outcome. */
static void settle(publisher *p, const char *store_id, sp_value *values, int count, int64_t delay_ms) {
    static const char *names[] = {"pending", "sent", "unchanged", "rejected", "retry", "removed"};
    int64_t now = wb_wall_ms();
    /* Counted per outcome, added once per job: a label lookup per value
     * cost the main loop several percent when 86,000 values came back. */
    int64_t outcomes[6] = {0}, touches = 0;
    for (int i = 0; i < count; i++) {
        sp_value *v = &values[i];
        sp_partition *part = &p->parts[v->partition];
        if (v->outcome == SP_PENDING) v->outcome = SP_RETRY;
        outcomes[v->outcome]++;
        touches += v->touches;
        if (v->outcome == SP_SENT) {
            /* Timed at the shop's answer (send.c), not here: settling waits
             * for the main loop, the shop does not. */
            int64_t at = v->accepted_ms > 0 ? v->accepted_ms : now;
            wb_histogram_observe(window_age(), (double)(at - v->opened_ms) / 1000.0, store_id);
            int64_t lag = at > v->deadline_ms ? at - v->deadline_ms : 0;
            wb_histogram_observe(flush_lag(), (double)lag / 1000.0, store_id);
            /* A WMS clock ahead of ours would give a negative latency. */
            if (v->occurred_ms > 0)
                wb_histogram_observe(end_to_end(), at > v->occurred_ms ? (double)(at - v->occurred_ms) / 1000.0 : 0,
                                     store_id);
        }
        /* Per process, since start: events behind each flushed window. */
        p->coalesced_events += v->touches;
        p->flushed_windows++;
        if (v->outcome != SP_RETRY || !part->owned) {
            if (part->owned) sp_tracker_release(&part->tracker, v->first_offset);
            continue;
        }
        /* Open again, due after the retry delay. Should Redis be away, the
         * tracker still holds it open and the periodic resync (commit.c)
         * writes it back. */
        sp_touch t = {v->window, delay_ms, v->first_offset, v->touches};
        sp_windows_touch(p->svc->redis, v->partition, p->token, now, &t, 1);
        sp_tracker_requeue(&part->tracker, v->window, v->first_offset);
    }
    for (int o = 1; o < 6; o++)
        if (outcomes[o]) wb_counter_add(flushed_total(), (double)outcomes[o], store_id, names[o]);
    if (touches)
        wb_counter_add(wb_counter("wb_stock_events_coalesced_total",
                                  "Events behind the flushed windows (divide by windows flushed: the coalescing ratio).",
                                  "store"), (double)touches, store_id);
    if (count > 0 && p->flushed_windows > 0)
        wb_gauge_set(wb_gauge("wb_stock_coalescing_ratio",
                              "Events per flushed window since this replica started (higher: more coalesced).", ""),
                     (double)p->coalesced_events / (double)p->flushed_windows);
}

static void free_batch(void *arg) {
    store_batch *b = arg;
    for (int i = 0; i < b->count; i++) {
        free(b->values[i].window);
        free(b->values[i].item);
        free(b->values[i].location);
        free(b->values[i].sku);
    }
    free(b->values);
    free(b);
}

/* Values that need no call are settled at once; the rest go to a sender as
 * one job, which owns them from here. */
static void dispatch(publisher *p, store_batch *b) {
    int pending = 0;
    for (int i = 0; i < b->count; i++) pending += b->values[i].outcome == SP_PENDING;
    sp_client *c = pending ? sp_client_for(p, b->store) : NULL;
    if (!c) {
        settle(p, b->store->id, b->values, b->count, retry_delay(p, 1)); /* pending ones retry */
        return;
    }
    sp_job *job = calloc(1, sizeof *job);
    job->store_id = strdup(b->store->id);
    job->platform = strdup(b->store->platform);
    job->delta = strcmp(b->store->stock_mode, "delta") == 0;
    job->values = malloc(sizeof *job->values * (size_t)pending);
    job->client = c;
    job->prepare = true;
    job->safety_stock = b->store->safety_stock;
    job->rate_rps = (double)b->store->rate_limit_rps;
    job->budget_wait_ms = p->cfg.budget_wait_ms;
    job->flush_ms = b->flush_ms, job->claimed_ms = b->claimed_ms;
    int left = 0;
    for (int i = 0; i < b->count; i++) {
        if (b->values[i].outcome == SP_PENDING) {
            job->values[job->count++] = b->values[i]; /* the strings move to the job */
            continue;
        }
        b->values[left++] = b->values[i];
    }
    settle(p, b->store->id, b->values, left, retry_delay(p, 0));
    b->count = left;
    c->busy = true;
    job->submitted_ms = wb_wall_ms();
    sp_senders_submit(&p->senders, job);
}

/* The stores with a window due now, each with how far ahead its other
 * windows may be taken along. By default that is the store's whole window:
 * every open window of the store leaves in this batch, so a store makes at
 * most one batch (the fewest calls for its distinct items) per window
 * length, however long the burst took to arrive; every item still waits at
 * most its window, and the next window of an item opens after the batch. */
static int due_horizons(publisher *p, int64_t now, sp_horizon **out) {
    wb_strmap stores;
    wb_strmap_init(&stores);
    for (int32_t i = 0; i < SP_MAX_PARTITIONS; i++)
        if (p->parts[i].owned) sp_windows_due_stores(p->svc->redis, i, now, &stores);
    *out = calloc(stores.count + 1, sizeof **out);
    int n = 0;
    for (size_t i = 0; i < stores.cap; i++) {
        if (!wb_strmap_live(&stores.slots[i])) continue;
        const char *id = stores.slots[i].key;
        wb_strmap_entry *client = wb_strmap_get(&p->clients, id);
        if (client && ((sp_client *)client->ptr)->busy) continue; /* its job is still out */
        const sp_store *s = sp_routes_store(p->routes, id);
        /* A store no longer routed (disabled, removed) is claimed too, so its
         * windows are dropped instead of holding the commit back. */
        int64_t slack = !s ? 0 : p->cfg.batch_slack_ms < s->window_ms ? p->cfg.batch_slack_ms : s->window_ms;
        (*out)[n].store = strdup(id);
        (*out)[n++].horizon_ms = now + slack;
    }
    wb_strmap_clear(&stores, NULL);
    return n;
}

/* Due stores go in groups of SP_FLUSH_GROUP: a group's windows are claimed
 * on every partition (one script call per partition, no limit inside it, so
 * a store is never split between two flushes), its stores' values computed
 * and their jobs handed to the senders. The claims run on the claimer's
 * thread (claimer.h) one group ahead: the next group is claimed in Redis
 * while this one is computed. WB_STOCK_CLAIM_LIMIT ends the flush between
 * groups; the stores left are claimed at the next one. */
#define SP_FLUSH_GROUP 8

/* The claimer's answer into batches, computed and handed out. Returns the
 * windows claimed. */
static int send_group(publisher *p, const int32_t *parts, sp_window **wins, const int *counts, int part_count,
                      int64_t flush_ms, int64_t claimed_ms) {
    wb_strmap batches;
    wb_strmap_init(&batches);
    for (int i = 0; i < part_count; i++) take_claimed(p, parts[i], wins[i], counts[i], &batches);
    int windows = 0;
    for (size_t i = 0; i < batches.cap; i++) {
        if (!wb_strmap_live(&batches.slots[i])) continue;
        store_batch *b = batches.slots[i].ptr;
        b->flush_ms = flush_ms, b->claimed_ms = claimed_ms;
        windows += b->count;
        compute_levels(p, b);
        dispatch(p, b);
    }
    wb_strmap_clear(&batches, free_batch);
    return windows;
}

static int group_size(int h, int horizon_count) {
    return horizon_count - h < SP_FLUSH_GROUP ? horizon_count - h : SP_FLUSH_GROUP;
}

bool sp_flush(publisher *p) {
    sp_touches_wait(p); /* a claim never runs beside a write of its windows */
    int64_t now = wb_wall_ms();
    sp_horizon *horizons;
    int horizon_count = due_horizons(p, now, &horizons);
    static int32_t parts[SP_CLAIM_PARTS];
    static sp_window *wins[SP_CLAIM_PARTS];
    static int counts[SP_CLAIM_PARTS];
    int part_count = 0;
    for (int32_t i = 0; i < SP_MAX_PARTITIONS && part_count < SP_CLAIM_PARTS; i++)
        if (p->parts[i].owned) parts[part_count++] = i;
    sp_claimer *c = &p->claimer;
    int claimed = 0, h = 0;
    if (horizon_count && part_count) sp_claimer_submit(c, p->token, now, horizons, group_size(0, horizon_count), parts, part_count);
    else h = horizon_count; /* nothing owned: nothing to claim */
    while (h < horizon_count) {
        sp_claimer_wait(c);
        int64_t claimed_ms = wb_wall_ms(), flush_ms = now;
        for (int i = 0; i < part_count; i++) {
            wins[i] = c->windows[i], counts[i] = c->counts[i];
            claimed += counts[i] > 0 ? counts[i] : 0;
        }
        h += group_size(h, horizon_count);
        bool more = h < horizon_count && claimed < p->cfg.claim_limit;
        if (more) {
            now = wb_wall_ms(); /* the next group's claim starts now */
            sp_claimer_submit(c, p->token, now, &horizons[h], group_size(h, horizon_count), parts, part_count);
        }
        send_group(p, parts, wins, counts, part_count, flush_ms, claimed_ms);
        if (!more) break;
    }
    for (int i = 0; i < horizon_count; i++) free((char *)horizons[i].store);
    free(horizons);
    return h < horizon_count;
}

static void settle_send_job(publisher *p, sp_job *job);

/* Settles one finished job on the main thread. */
static void settle_job(publisher *p, sp_job *job) {
    sp_client *c = job->client;
    if (job->kind == SP_JOB_READ) sp_reconcile_settle(p, job);
    else settle_send_job(p, job);
    c->busy = false;
    if (c->stale) {
        wb_strmap_del(&p->clients, job->store_id);
        sp_client_free(c);
    }
    sp_job_free(job);
}

/* Where each accepted value's time went, from its window's end to the
 * shop's answer (lagstats.h). A value taken along before its end has a lag
 * of 0 and a tick of 0; its other stages are counted all the same. Settling
 * (the job back until the main loop records it) is not part of the lag. */
static void record_lag(publisher *p, const sp_job *job, int64_t settled_ms) {
    int sent = 0;
    int64_t sent_from = job->prepared_ms ? job->prepared_ms : job->started_ms;
    for (int i = 0; i < job->count; i++) {
        const sp_value *v = &job->values[i];
        if (v->outcome != SP_SENT) continue;
        sent++;
        sp_lag_record(&p->lag[SP_STAGE_LAG], v->accepted_ms - v->deadline_ms, 1);
        sp_lag_record(&p->lag[SP_STAGE_TICK], job->flush_ms - v->deadline_ms, 1);
        sp_lag_record(&p->lag[SP_STAGE_SEND], v->accepted_ms - sent_from - job->budget_waited_ms, 1);
    }
    int64_t stage[SP_STAGE_COUNT] = {0};
    stage[SP_STAGE_CLAIM] = job->claimed_ms - job->flush_ms;
    stage[SP_STAGE_COMPUTE] = job->submitted_ms - job->claimed_ms;
    stage[SP_STAGE_QUEUE] = job->started_ms - job->submitted_ms;
    stage[SP_STAGE_READ] = sent_from - job->started_ms;
    stage[SP_STAGE_BUDGET] = job->budget_waited_ms;
    stage[SP_STAGE_SETTLE] = settled_ms - job->finished_ms;
    for (int s = SP_STAGE_CLAIM; s < SP_STAGE_COUNT; s++)
        if (s != SP_STAGE_SEND) sp_lag_record(&p->lag[s], stage[s], sent);
    if (sent) p->lag_dirty = true;
}

void sp_publish_lag(publisher *p) {
    int64_t now = wb_monotonic_ms();
    if (!p->lag_dirty || now - p->lag_published_ms < 500) return;
    p->lag_published_ms = now, p->lag_dirty = false;
    wb_metric *g = wb_gauge("wb_stock_flush_stage_ms",
                            "Since start, per accepted value: quantiles (ms, exact) of the time from its window's "
                            "end to the shop's acceptance (stage lag) and of the stages it is made of.",
                            "stage,quantile");
    static const double qs[] = {0.5, 0.99, 1.0};
    static const char *qnames[] = {"0.5", "0.99", "1"};
    for (int s = 0; s < SP_STAGE_COUNT; s++)
        for (int q = 0; q < 3; q++)
            wb_gauge_set(g, (double)sp_lag_quantile(&p->lag[s], qs[q]), sp_stage_names[s], qnames[q]);
}

static void settle_send_job(publisher *p, sp_job *job) {
    sp_client *c = job->client;
    record_lag(p, job, wb_wall_ms());
    bool reached = false, failed = false;
    for (int i = 0; i < job->count; i++) {
        if (job->values[i].outcome == SP_RETRY || job->values[i].outcome == SP_PENDING) failed = true;
        else reached = true;
    }
    /* A job that stopped for the store's rate budget did not fail: its
     * values are due again when the budget allows, without a growing delay. */
    if (!job->throttled_ms) c->failures = failed && !reached ? c->failures + 1 : 0;
    /* What the shop accepted is in stock_sent already (the worker recorded it, jobdb.c). */
    int64_t delay = job->throttled_ms ? job->throttled_ms : retry_delay(p, c->failures);
    settle(p, job->store_id, job->values, job->count, delay);
}

void sp_drain(publisher *p) {
    sp_job *job;
    while ((job = sp_senders_take(&p->senders))) settle_job(p, job);
}

void sp_drain_all(publisher *p) {
    if (!p->senders.thread_count) return;
    sp_senders_wait(&p->senders);
    sp_drain(p);
}
