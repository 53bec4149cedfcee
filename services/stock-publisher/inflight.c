/* In-flight orders are subtracted from the sellable value (levels.h). Their
 * total per store and sku moves when order-ingest records a new order or
 * fulfilment-reporter records the WMS's answer, and no stock event follows:
 * a value computed before the move stays in the shop until the next event of
 * that sku. Worst case, fulfilment-reporter lags behind the WMS: the value
 * subtracts an order that is already in `reserved` (twice), and nothing
 * raised it again once the order left `sent`. So every WB_STOCK_INFLIGHT_MS
 * the totals are read and compared with the previous read; each store/sku
 * that moved reopens its items' windows on the partitions this replica owns,
 * and the normal flush computes and sends them (an unchanged value is
 * skipped there).
 *
 * Comparing reads sees only moves while the process runs. A partition taken
 * (start, rebalance) is checked once against what its sent values used
 * (stock_sent.in_flight): every item whose orders moved while nobody
 * watched is recomputed too. */
#include "inflight.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "publisher.h"
#include "wb/log.h"
#include "wb/metrics.h"
#include "wb/runloop.h"

int sp_in_flight_diff(const wb_strmap *before, const wb_strmap *now,
                      void (*fn)(void *ctx, const char *key), void *ctx) {
    int n = 0;
    for (size_t i = 0; i < now->cap; i++) {
        const wb_strmap_entry *e = &now->slots[i];
        if (!wb_strmap_live(e)) continue;
        const wb_strmap_entry *b = wb_strmap_get(before, e->key);
        if ((b ? b->num : 0) != e->num) fn(ctx, e->key), n++;
    }
    /* Gone from now: the last order of that sku left `sent`. */
    for (size_t i = 0; i < before->cap; i++) {
        const wb_strmap_entry *b = &before->slots[i];
        if (!wb_strmap_live(b) || b->num == 0 || wb_strmap_get(now, b->key)) continue;
        fn(ctx, b->key), n++;
    }
    return n;
}

/* The totals of every store and sku now. The same rows as flush.c's
 * in_flight(); only orders in `sent` carry quantities, so few rows qualify. */
static int read_totals(publisher *p, wb_strmap *out) {
    PGresult *res = wb_pg_query(p->svc->pg,
        "SELECT o.store_id || '|' || q.key, sum(q.value::bigint) FROM ingested_orders o "
        "CROSS JOIN LATERAL jsonb_each_text(o.open_quantities) q "
        "WHERE o.state = 'sent' GROUP BY 1", 0, NULL);
    if (!res) {
        wb_warn(NULL, "in-flight orders not read: %s", wb_pg_error(p->svc->pg));
        return -1;
    }
    for (int i = 0; i < PQntuples(res); i++)
        wb_strmap_put(out, PQgetvalue(res, i, 0), NULL)->num = atoll(PQgetvalue(res, i, 1));
    PQclear(res);
    return 0;
}

bool sp_in_flight_moved(const wb_strmap *totals, const char *store, const char *sku, int64_t used) {
    char key[1024];
    snprintf(key, sizeof key, "%s|%s", store, sku);
    const wb_strmap_entry *e = wb_strmap_get(totals, key);
    return (e ? e->num : 0) != used;
}

typedef struct {
    publisher *p;
    const char *sku;
    const bool *only; /* when set: only partitions marked here (the ones being checked) */
    int touched;
} touch_ctx;

/* Opens the item's window if its article has a level on a partition this
 * replica owns: that replica alone may compute and send it. */
static void touch_item(void *arg, const sp_store *store, const char *item, const sp_location *location) {
    touch_ctx *c = arg;
    char article[600], window[1024];
    snprintf(article, sizeof article, "%s/%s", store->goods_owner, c->sku);
    int32_t part = sp_levels_partition(c->p->levels, article, (const char *const *)location->warehouses,
                                       location->warehouse_count);
    if (part < 0 || part >= SP_MAX_PARTITIONS || !c->p->parts[part].owned || (c->only && !c->only[part])) return;
    snprintf(window, sizeof window, "%s|%s|%s", store->id, item, location->id);
    sp_touch_window(c->p, part, window, store->window_ms);
    c->touched++;
}

static void count_touches(int touched) {
    if (touched)
        wb_counter_add(wb_counter("wb_stock_in_flight_touches_total",
                                  "Windows reopened because a store's in-flight orders of a sku changed.", ""),
                       touched);
}

/* key is "store|sku": store ids carry no '|' (windows split on it). */
static void touch_store_sku(publisher *p, const char *key, const bool *only) {
    const char *bar = strchr(key, '|');
    if (!bar) return;
    char store[256];
    snprintf(store, sizeof store, "%.*s", (int)(bar - key), key);
    touch_ctx c = {p, bar + 1, only, 0};
    sp_routes_each_store_sku(p->routes, store, bar + 1, touch_item, &c);
    count_touches(c.touched);
}

static void touch_changed(void *arg, const char *key) {
    touch_store_sku(arg, key, NULL);
}

/* The sent values of the partitions in `only` whose in-flight quantity is
 * not the total now: an order accepted or cancelled while no replica read
 * the totals (a value sent before stock_sent.in_flight existed counts 0).
 * And those in doubt (quantity -1, flush.c forget_sent): a call went out and
 * its answer was never recorded, so what the shop holds is not known. */
static void touch_moved_since_sent(publisher *p, const wb_strmap *totals, const bool *only) {
    PGresult *res = wb_pg_query(p->svc->pg,
        "SELECT store_id, inventory_item_id, shop_location_id, coalesce(in_flight, 0), quantity < 0 "
        "FROM stock_sent WHERE coalesce(in_flight, 0) <> 0 OR quantity < 0", 0, NULL);
    if (!res) {
        wb_warn(NULL, "sent in-flight quantities not read: %s", wb_pg_error(p->svc->pg));
        return;
    }
    int touched = 0;
    for (int i = 0; i < PQntuples(res); i++) {
        const char *store_id = PQgetvalue(res, i, 0), *item = PQgetvalue(res, i, 1);
        const sp_store *store = sp_routes_store(p->routes, store_id);
        const char *sku = sp_routes_sku(p->routes, store_id, item);
        const sp_location *loc = store ? sp_routes_location(store, PQgetvalue(res, i, 2)) : NULL;
        bool in_doubt = PQgetvalue(res, i, 4)[0] == 't';
        if (!loc || !sku || (!in_doubt && !sp_in_flight_moved(totals, store_id, sku, atoll(PQgetvalue(res, i, 3)))))
            continue;
        touch_ctx c = {p, sku, only, 0};
        touch_item(&c, store, item, loc);
        touched += c.touched;
    }
    PQclear(res);
    count_touches(touched);
}

/* Once per partition taken: recompute what may have moved before this
 * replica read anything. Items with orders in flight now are recomputed
 * (a superset of those that moved: an unchanged value is skipped at the
 * flush), and so is every sent value that subtracted orders no longer in
 * flight. */
static void check_taken_partitions(publisher *p, const wb_strmap *totals) {
    bool only[SP_MAX_PARTITIONS] = {false}, any = false;
    for (int32_t i = 0; i < SP_MAX_PARTITIONS; i++) {
        if (!p->parts[i].owned || p->in_flight_checked[i]) continue;
        only[i] = any = true;
    }
    if (!any) return;
    for (size_t i = 0; i < totals->cap; i++) {
        const wb_strmap_entry *e = &totals->slots[i];
        if (wb_strmap_live(e) && e->num != 0) touch_store_sku(p, e->key, only);
    }
    touch_moved_since_sent(p, totals, only);
    for (int32_t i = 0; i < SP_MAX_PARTITIONS; i++)
        if (only[i]) p->in_flight_checked[i] = true;
}

void sp_watch_in_flight(publisher *p) {
    int64_t now = wb_monotonic_ms();
    if (p->cfg.in_flight_ms <= 0 || now - p->in_flight_polled_ms < p->cfg.in_flight_ms) return;
    p->in_flight_polled_ms = now;
    wb_strmap totals;
    wb_strmap_init(&totals);
    if (read_totals(p, &totals) != 0) {
        wb_strmap_clear(&totals, NULL); /* compared again at the next read */
        return;
    }
    sp_in_flight_diff(&p->in_flight, &totals, touch_changed, p);
    check_taken_partitions(p, &totals);
    wb_strmap_clear(&p->in_flight, NULL);
    p->in_flight = totals;
}
