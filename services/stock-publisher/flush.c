/* Due windows out: claim them from Redis across the owned partitions, group
 * them by store, compute each value from the newest levels, skip what the shop
 * already holds, send the rest in the fewest calls, and record what the shop
 * accepted. A window that could not be sent opens again for a retry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Claims the due windows of one partition into the per-store batches. */
static void claim_partition(publisher *p, int32_t id, int64_t now, const sp_horizon *horizons,
                            int horizon_count, wb_strmap *batches) {
    sp_window *wins;
    /* No limit inside a call: a store claimed on one partition and left on
     * another would go out in two batches (sp_flush limits between groups). */
    int n = sp_windows_claim(p->svc->redis, id, p->token, now, 1 << 30, horizons, horizon_count, &wins);
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

/* In-flight order quantities per sku for one store: orders in the shop that
 * the WMS has not accepted yet, read now. (Not inflight.c's last read: a
 * new order since that read would be missing from the value sent, too high
 * for up to WB_STOCK_INFLIGHT_MS plus the window.) */
static wb_strmap in_flight(publisher *p, const store_batch *b) {
    wb_strmap out;
    wb_strmap_init(&out);
    const char **skus = malloc(sizeof(char *) * (size_t)b->count);
    int n = 0;
    for (int i = 0; i < b->count; i++) {
        const char *sku = sp_routes_sku(p->routes, b->store->id, b->values[i].item);
        if (sku) skus[n++] = sku;
    }
    char *array = wb_pg_array(skus, n);
    const char *params[] = {b->store->id, array};
    PGresult *res = wb_pg_query(p->svc->pg,
        "SELECT q.key, sum(q.value::bigint) FROM ingested_orders o "
        "CROSS JOIN LATERAL jsonb_each_text(o.open_quantities) q "
        "WHERE o.store_id = $1 AND o.state = 'sent' AND q.key = ANY($2::text[]) GROUP BY q.key",
        2, params);
    for (int i = 0; res && i < PQntuples(res); i++)
        wb_strmap_put(&out, PQgetvalue(res, i, 0), NULL)->num = atoll(PQgetvalue(res, i, 1));
    if (!res) wb_warn(b->store->id, "in-flight orders not read: %s", wb_pg_error(p->svc->pg));
    PQclear(res);
    free(array);
    free(skus);
    return out;
}

/* What the shop holds as far as the bridge knows: the last value it accepted. */
static wb_strmap last_sent(publisher *p, const store_batch *b) {
    wb_strmap out;
    wb_strmap_init(&out);
    const char **items = malloc(sizeof(char *) * (size_t)b->count);
    for (int i = 0; i < b->count; i++) items[i] = b->values[i].item;
    char *array = wb_pg_array(items, b->count);
    const char *params[] = {b->store->id, array};
    PGresult *res = wb_pg_query(p->svc->pg,
        "SELECT inventory_item_id || '|' || shop_location_id, quantity FROM stock_sent "
        "WHERE store_id = $1 AND inventory_item_id = ANY($2::text[])", 2, params);
    for (int i = 0; res && i < PQntuples(res); i++)
        wb_strmap_put(&out, PQgetvalue(res, i, 0), NULL)->num = atoll(PQgetvalue(res, i, 1));
    PQclear(res);
    free(array);
    free(items);
    return out;
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

static void compute_values(publisher *p, store_batch *b) {
    wb_strmap flight = in_flight(p, b), sent = last_sent(p, b);
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
        char article[600], key[1024];
        snprintf(article, sizeof article, "%s/%s", s->goods_owner, sku);
        int64_t available = sp_levels_available(p->levels, article, (const char *const *)loc->warehouses,
                                                loc->warehouse_count);
        wb_strmap_entry *f = wb_strmap_get(&flight, sku);
        v->in_flight = f ? f->num : 0;
        v->quantity = sp_sellable(available, s->safety_stock, v->in_flight);
        v->occurred_ms = sp_levels_occurred(p->levels, article, (const char *const *)loc->warehouses,
                                            loc->warehouse_count);
        snprintf(key, sizeof key, "%s|%s", v->item, v->location);
        wb_strmap_entry *last = wb_strmap_get(&sent, key);
        v->change_from = last ? last->num : -1;
        if (v->change_from == v->quantity) v->outcome = SP_UNCHANGED;
    }
    wb_strmap_clear(&flight, NULL);
    wb_strmap_clear(&sent, NULL);
}

void sp_compute_values(publisher *p, const sp_store *store, sp_value *values, int count) {
    store_batch b = {.store = store, .values = values, .count = count, .cap = count};
    compute_values(p, &b);
}

/* Records the accepted values (stock_sent), one statement per store. */
static void record_sent(publisher *p, const char *store_id, const sp_value *values, int count) {
    if (count <= 0) return;
    size_t size = (size_t)count;
    const char **locs = malloc(sizeof(char *) * size), **items = malloc(sizeof(char *) * size),
               **qtys = malloc(sizeof(char *) * size), **wins = malloc(sizeof(char *) * size),
               **flights = malloc(sizeof(char *) * size);
    char (*nums)[24] = malloc(24 * size), (*flight_nums)[24] = malloc(24 * size);
    int n = 0;
    for (int i = 0; i < count; i++) {
        if (values[i].outcome != SP_SENT) continue;
        snprintf(nums[n], 24, "%lld", (long long)values[i].quantity);
        snprintf(flight_nums[n], 24, "%lld", (long long)values[i].in_flight);
        locs[n] = values[i].location, items[n] = values[i].item, qtys[n] = nums[n];
        flights[n] = flight_nums[n];
        wins[n] = values[i].window;
        n++;
    }
    if (n) {
        char *a1 = wb_pg_array(locs, n), *a2 = wb_pg_array(items, n), *a3 = wb_pg_array(qtys, n),
             *a4 = wb_pg_array(wins, n), *a5 = wb_pg_array(flights, n);
        const char *params[] = {store_id, a1, a2, a3, a4, a5};
        if (wb_pg_exec(p->svc->pg,
                "INSERT INTO stock_sent (store_id, shop_location_id, inventory_item_id, quantity, window_id, in_flight) "
                "SELECT $1, * FROM unnest($2::text[], $3::text[], $4::int[], $5::text[], $6::int[]) "
                "ON CONFLICT (store_id, shop_location_id, inventory_item_id) DO UPDATE SET "
                "quantity = EXCLUDED.quantity, window_id = EXCLUDED.window_id, in_flight = EXCLUDED.in_flight, "
                "sent_at = now()",
                6, params) != 0)
            wb_error(store_id, "recording sent stock failed: %s", wb_pg_error(p->svc->pg));
        free(a1), free(a2), free(a3), free(a4), free(a5);
    }
    free(locs), free(items), free(qtys), free(wins), free(nums), free(flights), free(flight_nums);
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
    for (int i = 0; i < count; i++) {
        sp_value *v = &values[i];
        sp_partition *part = &p->parts[v->partition];
        if (v->outcome == SP_PENDING) v->outcome = SP_RETRY;
        wb_counter_inc(flushed_total(), store_id, names[v->outcome]);
        wb_counter_add(wb_counter("wb_stock_events_coalesced_total",
                                  "Events behind the flushed windows (divide by windows flushed: the coalescing ratio).",
                                  "store"), (double)v->touches, store_id);
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
    }
    free(b->values);
    free(b);
}

/* Before a call that may change the shop, the recorded values of its items
 * become unknown (-1): a crash between the shop's acceptance and
 * record_sent, or a record that fails, then leaves "unknown" behind instead
 * of the value before, which a later window whose value came back to it
 * would take for what the shop holds and skip as unchanged (chaos run
 * 81792877: two WooCommerce stores left 5 low that way). 0, or -1 when
 * PostgreSQL failed (nothing is sent then). */
static int forget_sent(publisher *p, const char *store_id, const sp_value *values, int count) {
    const char **items = malloc(sizeof(char *) * (size_t)count), **locs = malloc(sizeof(char *) * (size_t)count);
    int n = 0;
    for (int i = 0; i < count; i++) {
        if (values[i].outcome != SP_PENDING || values[i].change_from < 0) continue;
        items[n] = values[i].item, locs[n++] = values[i].location;
    }
    int rc = 0;
    if (n) {
        char *a1 = wb_pg_array(items, n), *a2 = wb_pg_array(locs, n);
        const char *params[] = {store_id, a1, a2};
        rc = wb_pg_exec(p->svc->pg,
            "UPDATE stock_sent s SET quantity = -1 FROM unnest($2::text[], $3::text[]) AS u(item, loc) "
            "WHERE s.store_id = $1 AND s.inventory_item_id = u.item AND s.shop_location_id = u.loc",
            3, params);
        if (rc != 0) wb_warn(store_id, "stock not sent: marking it in doubt failed: %s", wb_pg_error(p->svc->pg));
        free(a1), free(a2);
    }
    free(items), free(locs);
    return rc;
}

/* Values that need no call are settled at once; the rest go to a sender as
 * one job, which owns them from here. */
static void dispatch(publisher *p, store_batch *b) {
    int pending = 0;
    for (int i = 0; i < b->count; i++) pending += b->values[i].outcome == SP_PENDING;
    sp_client *c = pending ? sp_client_for(p, b->store) : NULL;
    if (!c || forget_sent(p, b->store->id, b->values, b->count) != 0) {
        settle(p, b->store->id, b->values, b->count, retry_delay(p, 1)); /* pending ones retry */
        return;
    }
    sp_job *job = calloc(1, sizeof *job);
    job->store_id = strdup(b->store->id);
    job->platform = strdup(b->store->platform);
    job->delta = strcmp(b->store->stock_mode, "delta") == 0;
    job->values = malloc(sizeof *job->values * (size_t)pending);
    job->client = c;
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
 * and their jobs handed to the senders, before the next group is claimed.
 * The first stores' calls are out while the others are still being read
 * (claiming every store first held all of them back by the whole claim and
 * compute time), with a round trip per group and partition rather than per
 * store. WB_STOCK_CLAIM_LIMIT ends the flush between groups; the stores left
 * are claimed at the next one. */
#define SP_FLUSH_GROUP 8

static int claim_group(publisher *p, int64_t now, const sp_horizon *horizons, int count) {
    wb_strmap batches;
    wb_strmap_init(&batches);
    for (int32_t i = 0; i < SP_MAX_PARTITIONS; i++)
        if (p->parts[i].owned) claim_partition(p, i, now, horizons, count, &batches);
    int64_t claimed = wb_wall_ms();
    int windows = 0;
    for (size_t i = 0; i < batches.cap; i++) {
        if (!wb_strmap_live(&batches.slots[i])) continue;
        store_batch *b = batches.slots[i].ptr;
        b->flush_ms = now, b->claimed_ms = claimed;
        windows += b->count;
        compute_values(p, b);
        dispatch(p, b);
    }
    wb_strmap_clear(&batches, free_batch);
    return windows;
}

void sp_flush(publisher *p) {
    int64_t now = wb_wall_ms();
    sp_horizon *horizons;
    int horizon_count = due_horizons(p, now, &horizons);
    int claimed = 0;
    for (int h = 0; h < horizon_count && claimed < p->cfg.claim_limit; h += SP_FLUSH_GROUP) {
        int count = horizon_count - h < SP_FLUSH_GROUP ? horizon_count - h : SP_FLUSH_GROUP;
        claimed += claim_group(p, now, &horizons[h], count);
        now = wb_wall_ms(); /* the next group's claim starts now */
    }
    for (int i = 0; i < horizon_count; i++) free((char *)horizons[i].store);
    free(horizons);
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
    for (int i = 0; i < job->count; i++) {
        const sp_value *v = &job->values[i];
        if (v->outcome != SP_SENT) continue;
        sent++;
        sp_lag_record(&p->lag[SP_STAGE_LAG], v->accepted_ms - v->deadline_ms, 1);
        sp_lag_record(&p->lag[SP_STAGE_TICK], job->flush_ms - v->deadline_ms, 1);
        sp_lag_record(&p->lag[SP_STAGE_SEND], v->accepted_ms - job->started_ms - job->budget_waited_ms, 1);
    }
    int64_t stage[SP_STAGE_COUNT] = {0};
    stage[SP_STAGE_CLAIM] = job->claimed_ms - job->flush_ms;
    stage[SP_STAGE_COMPUTE] = job->submitted_ms - job->claimed_ms;
    stage[SP_STAGE_QUEUE] = job->started_ms - job->submitted_ms;
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
    record_sent(p, job->store_id, job->values, job->count);
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
