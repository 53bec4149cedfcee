/* Reconciliation: the shop's stock against what the WMS says it should be.
 * Requested through PostgreSQL (stock_reconciliations: `bridgectl stock
 * reconcile STORE`, or this schedule), it runs here for the items whose
 * partition this replica owns, since only the owner holds their levels and
 * may open their windows. A read job on the sender pool reads the shop's
 * values (the store's client, so it never overlaps a send to the same
 * store); back on the main thread each value is compared with the sellable
 * value and a drift is corrected through the same windows and send path: the
 * shop's value becomes the known last value (the compare of the next set)
 * and the window opens due at once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "publisher.h"
#include "wb/log.h"
#include "wb/metrics.h"
#include "wb/runloop.h"

typedef struct run_ctx {
    char id[32];
    int32_t *parts; /* the partitions this part of the run covers */
    int part_count;
} run_ctx;

static bool has_part(const int32_t *parts, int n, int32_t p) {
    for (int i = 0; i < n; i++)
        if (parts[i] == p) return true;
    return false;
}

/* "1,4,5" -> array. */
static int parse_parts(const char *text, int32_t **out) {
    int n = 0, cap = 8;
    *out = malloc(sizeof **out * (size_t)cap);
    for (const char *s = text; *s;) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s) break;
        if (n == cap) *out = realloc(*out, sizeof **out * (size_t)(cap *= 2));
        (*out)[n++] = (int32_t)v;
        s = *end == ',' ? end + 1 : end;
    }
    return n;
}

static void fail_run(publisher *p, const char *id, const char *why) {
    const char *params[] = {id, why};
    wb_pg_exec(p->svc->pg, "UPDATE stock_reconciliations SET state = 'failed', error = $2, finished_at = now(), "
                           "updated_at = now() WHERE id = $1 AND state IN ('requested', 'running')", 2, params);
    wb_warn(NULL, "stock reconciliation %s failed: %s", id, why);
}

/* Done once every partition carrying a level of the store's mapped skus
 * has been checked by its owner. */
static void finish_if_complete(publisher *p, const char *id) {
    const char *params[] = {id};
    PGresult *res = wb_pg_query(p->svc->pg,
        "UPDATE stock_reconciliations r SET state = 'done', finished_at = now(), updated_at = now() "
        "WHERE r.id = $1 AND r.state IN ('requested', 'running') AND NOT EXISTS ("
        "  SELECT 1 FROM stock_levels l JOIN stores s ON s.id = r.store_id AND s.goods_owner = l.goods_owner "
        "  JOIN product_mappings m ON m.store_id = r.store_id AND m.sku = l.sku "
        "  WHERE l.partition <> ALL (r.partitions_done)) "
        "RETURNING store_id, items_checked, corrections, drift_total", 1, params);
    if (res && PQntuples(res) == 1) {
        wb_info(PQgetvalue(res, 0, 0), "stock reconciliation %s done: %s items checked, %s corrections, drift %s",
                id, PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3));
        wb_counter_inc(wb_counter("wb_stock_reconciliations_total", "Stock reconciliations finished.", "store"),
                       PQgetvalue(res, 0, 0));
    }
    PQclear(res);
}

/* Every store gets a scheduled run once per period, whichever replica asks
 * first; the unique index on open runs keeps it single. */
static void schedule(publisher *p) {
    char period[48];
    snprintf(period, sizeof period, "%lld milliseconds", (long long)p->cfg.reconcile_ms);
    for (size_t i = 0; i < p->routes->stores.cap; i++) {
        if (!wb_strmap_live(&p->routes->stores.slots[i])) continue;
        const char *params[] = {p->routes->stores.slots[i].key, period};
        if (wb_pg_exec(p->svc->pg,
                "INSERT INTO stock_reconciliations (store_id, source) SELECT $1, 'schedule' "
                "WHERE NOT EXISTS (SELECT 1 FROM stock_reconciliations WHERE store_id = $1 "
                "AND requested_at > now() - $2::interval) ON CONFLICT DO NOTHING", 2, params) != 0)
            wb_warn(params[0], "scheduling a stock reconciliation failed: %s", wb_pg_error(p->svc->pg));
    }
}

static void add_value(sp_value **values, int *n, int *cap, const char *window, const char *item,
                      const char *location, int32_t partition) {
    if (*n == *cap) *values = realloc(*values, sizeof **values * (size_t)(*cap = *cap ? *cap * 2 : 64));
    (*values)[(*n)++] = (sp_value){.window = strdup(window), .item = strdup(item), .location = strdup(location),
                                   .change_from = -1, .partition = partition, .outcome = SP_PENDING};
}

/* Starts this replica's part of a run. Returns true when a read job went
 * out (one at a time). */
static bool start_run(publisher *p, const char *id, const char *store_id, const char *done_text) {
    const sp_store *store = sp_routes_store(p->routes, store_id);
    if (!store) {
        fail_run(p, id, "the store is disabled, removed or has stock_sync off");
        return false;
    }
    int32_t *done;
    int done_count = parse_parts(done_text, &done);
    sp_value *values = NULL;
    int n = 0, cap = 0, total = 0;
    run_ctx *ctx = calloc(1, sizeof *ctx);
    snprintf(ctx->id, sizeof ctx->id, "%s", id);
    size_t prefix = strlen(store_id);
    for (size_t i = 0; i < p->routes->items.cap; i++) {
        const wb_strmap_entry *e = &p->routes->items.slots[i];
        if (!wb_strmap_live(e) || strncmp(e->key, store_id, prefix) != 0 || e->key[prefix] != '|') continue;
        const char *item = e->key + prefix + 1, *sku = e->ptr;
        if (sp_routes_removed(p->routes, store_id, item)) continue; /* gone from the shop: nothing to compare */
        char article[600], window[1024];
        snprintf(article, sizeof article, "%s/%s", store->goods_owner, sku);
        for (int l = 0; l < store->location_count; l++) {
            const sp_location *loc = &store->locations[l];
            total++;
            int32_t part = sp_levels_partition(p->levels, article, (const char *const *)loc->warehouses,
                                               loc->warehouse_count);
            /* No level here: another replica's partition, or a sku the WMS
             * never reported (the bridge never set it either). */
            if (part < 0 || part >= SP_MAX_PARTITIONS || !p->parts[part].owned || has_part(done, done_count, part))
                continue;
            if (!has_part(ctx->parts, ctx->part_count, part)) {
                ctx->parts = realloc(ctx->parts, sizeof *ctx->parts * (size_t)(ctx->part_count + 1));
                ctx->parts[ctx->part_count++] = part;
            }
            snprintf(window, sizeof window, "%s|%s|%s", store_id, item, loc->id);
            /* A window already open carries a change on its way: not drift. */
            if (wb_strmap_get(&p->parts[part].tracker.open, window)) continue;
            add_value(&values, &n, &cap, window, item, loc->id, part);
        }
    }
    free(done);
    char total_text[24];
    snprintf(total_text, sizeof total_text, "%d", total);
    const char *params[] = {id, total_text};
    wb_pg_exec(p->svc->pg, "UPDATE stock_reconciliations SET state = 'running', started_at = coalesce(started_at, now()), "
                           "items_total = coalesce(items_total, $2::bigint), updated_at = now() "
                           "WHERE id = $1 AND state IN ('requested', 'running')", 2, params);
    sp_client *c = ctx->part_count ? sp_client_for(p, store) : NULL;
    if (!ctx->part_count || !c || c->busy) {
        if (ctx->part_count && !c) fail_run(p, id, "the store's client could not be made (credentials)");
        else if (!ctx->part_count) finish_if_complete(p, id); /* nothing of it is ours */
        free(ctx->parts);
        free(ctx);
        for (int i = 0; i < n; i++) free(values[i].window), free(values[i].item), free(values[i].location);
        free(values);
        return false;
    }
    if (n) sp_compute_values(p, store, values, n); /* quantity: what the shop should hold */
    sp_job *job = calloc(1, sizeof *job);
    job->kind = SP_JOB_READ;
    job->store_id = strdup(store_id);
    job->platform = strdup(store->platform);
    job->values = values;
    job->count = n;
    job->client = c;
    job->ctx = ctx;
    job->rate_rps = (double)store->rate_limit_rps;
    job->budget_wait_ms = 60000; /* a reading run may wait its turn; only windows are in a hurry */
    c->busy = true;
    p->reconcile_out = true;
    wb_info(store_id, "stock reconciliation %s: reading %d values of %d partitions", id, n, ctx->part_count);
    sp_senders_submit(&p->senders, job);
    return true;
}

void sp_reconcile(publisher *p) {
    int64_t now = wb_monotonic_ms();
    if (p->reconcile_out || now - p->reconcile_polled_ms < 1000) return;
    p->reconcile_polled_ms = now;
    if (p->cfg.reconcile_ms > 0 && now - p->reconcile_scheduled_ms >= p->cfg.reconcile_ms) {
        p->reconcile_scheduled_ms = now;
        schedule(p);
    }
    PGresult *res = wb_pg_query(p->svc->pg,
        "SELECT id, store_id, array_to_string(partitions_done, ',') FROM stock_reconciliations "
        "WHERE state IN ('requested', 'running') ORDER BY id LIMIT 100", 0, NULL);
    for (int i = 0; res && i < PQntuples(res); i++)
        if (start_run(p, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2))) break;
    PQclear(res);
}

/* The shop holds what it holds: that is the compare for the correction. */
static void record_shop_values(publisher *p, const char *store_id, sp_value **v, int n) {
    if (!n) return;
    const char **locs = malloc(sizeof(char *) * (size_t)n), **items = malloc(sizeof(char *) * (size_t)n),
               **qtys = malloc(sizeof(char *) * (size_t)n);
    char (*nums)[24] = malloc(24 * (size_t)n);
    for (int i = 0; i < n; i++) {
        snprintf(nums[i], 24, "%lld", (long long)v[i]->change_from);
        locs[i] = v[i]->location, items[i] = v[i]->item, qtys[i] = nums[i];
    }
    char *a1 = wb_pg_array(locs, n), *a2 = wb_pg_array(items, n), *a3 = wb_pg_array(qtys, n);
    const char *params[] = {store_id, a1, a2, a3};
    if (wb_pg_exec(p->svc->pg,
            "INSERT INTO stock_sent (store_id, shop_location_id, inventory_item_id, quantity, window_id) "
            "SELECT $1, l, i, q, 'reconcile' FROM unnest($2::text[], $3::text[], $4::int[]) AS u(l, i, q) "
            "ON CONFLICT (store_id, shop_location_id, inventory_item_id) DO UPDATE SET "
            "quantity = EXCLUDED.quantity, window_id = EXCLUDED.window_id, sent_at = now()", 4, params) != 0)
        wb_error(store_id, "recording the shop's values failed: %s", wb_pg_error(p->svc->pg));
    free(a1), free(a2), free(a3);
    free(locs), free(items), free(qtys), free(nums);
}

void sp_reconcile_settle(publisher *p, sp_job *job) {
    run_ctx *ctx = job->ctx;
    p->reconcile_out = false;
    if (job->read_failed) {
        fail_run(p, ctx->id, "reading the shop's stock failed (see the log)");
    } else {
        long long checked = 0, corrections = 0, drift = 0;
        int nwrong = 0;
        sp_value **wrong = malloc(sizeof *wrong * (size_t)(job->count + 1));
        for (int i = 0; i < job->count; i++) {
            sp_value *v = &job->values[i];
            if (v->change_from == -2) continue; /* not in the shop at that location */
            checked++;
            /* Handed to another replica meanwhile: its owner corrects it. */
            if (v->change_from == v->quantity || !p->parts[v->partition].owned) continue;
            corrections++;
            drift += llabs(v->change_from - v->quantity);
            wrong[nwrong++] = v;
        }
        record_shop_values(p, job->store_id, wrong, nwrong);
        for (int i = 0; i < nwrong; i++) sp_touch_now(p, wrong[i]->partition, wrong[i]->window);
        free(wrong);
        char c1[24], c2[24], c3[24], parts[1024];
        snprintf(c1, sizeof c1, "%lld", checked);
        snprintf(c2, sizeof c2, "%lld", corrections);
        snprintf(c3, sizeof c3, "%lld", drift);
        int o = snprintf(parts, sizeof parts, "{");
        /* A partition handed over while the read was out is left to its new
         * owner: only those still ours count as done. */
        for (int i = 0, k = 0; i < ctx->part_count && o < (int)sizeof parts - 16; i++)
            if (p->parts[ctx->parts[i]].owned)
                o += snprintf(parts + o, sizeof parts - (size_t)o, "%s%d", k++ ? "," : "", ctx->parts[i]);
        snprintf(parts + o, sizeof parts - (size_t)o, "}");
        const char *params[] = {ctx->id, c1, c2, c3, parts};
        if (wb_pg_exec(p->svc->pg,
                "UPDATE stock_reconciliations SET items_checked = items_checked + $2::bigint, "
                "corrections = corrections + $3::bigint, drift_total = drift_total + $4::bigint, "
                "partitions_done = ARRAY(SELECT DISTINCT unnest(partitions_done || $5::int[]) ORDER BY 1), "
                "updated_at = now() WHERE id = $1", 5, params) != 0)
            wb_error(job->store_id, "recording reconciliation %s failed: %s", ctx->id, wb_pg_error(p->svc->pg));
        wb_counter_add(wb_counter("wb_stock_reconcile_checked_total", "Shop values a reconciliation compared.",
                                  "store"), (double)checked, job->store_id);
        wb_counter_add(wb_counter("wb_stock_reconcile_corrections_total",
                                  "Shop values a reconciliation found wrong and corrected.", "store"),
                       (double)corrections, job->store_id);
        wb_counter_add(wb_counter("wb_stock_reconcile_drift_units_total",
                                  "Sum of |shop - WMS| over the corrected values.", "store"),
                       (double)drift, job->store_id);
        finish_if_complete(p, ctx->id);
    }
    free(ctx->parts);
    free(ctx);
    job->ctx = NULL;
}
