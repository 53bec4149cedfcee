/* The PostgreSQL side of sending stock values (see jobdb.h). */
#include "jobdb.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "levels.h"
#include "sender.h"
#include "wb/log.h"
#include "wb/runloop.h"

/* Orders in the shop that the WMS has not accepted yet, read now (not
 * inflight.c's last read: a new order since that read would be missing from
 * the value sent, too high for up to WB_STOCK_INFLIGHT_MS plus the window). */
wb_strmap sp_read_in_flight(wb_pg *pg, const char *store_id, const sp_value *values, int count) {
    wb_strmap out;
    wb_strmap_init(&out);
    const char **skus = malloc(sizeof(char *) * (size_t)(count + 1));
    int n = 0;
    for (int i = 0; i < count; i++)
        if (values[i].sku) skus[n++] = values[i].sku;
    if (n) {
        char *array = wb_pg_array(skus, n);
        const char *params[] = {store_id, array};
        PGresult *res = wb_pg_query(pg,
            "SELECT q.key, sum(q.value::bigint) FROM ingested_orders o "
            "CROSS JOIN LATERAL jsonb_each_text(o.open_quantities) q "
            "WHERE o.store_id = $1 AND o.state = 'sent' AND q.key = ANY($2::text[]) GROUP BY q.key",
            2, params);
        for (int i = 0; res && i < PQntuples(res); i++)
            wb_strmap_put(&out, PQgetvalue(res, i, 0), NULL)->num = atoll(PQgetvalue(res, i, 1));
        if (!res) wb_warn(store_id, "in-flight orders not read: %s", wb_pg_error(pg));
        PQclear(res);
        free(array);
    }
    free(skus);
    return out;
}

wb_strmap sp_read_last_sent(wb_pg *pg, const char *store_id, const sp_value *values, int count) {
    wb_strmap out;
    wb_strmap_init(&out);
    const char **items = malloc(sizeof(char *) * (size_t)(count + 1));
    int n = 0;
    for (int i = 0; i < count; i++)
        if (values[i].outcome == SP_PENDING) items[n++] = values[i].item;
    if (n) {
        char *array = wb_pg_array(items, n);
        const char *params[] = {store_id, array};
        PGresult *res = wb_pg_query(pg,
            "SELECT inventory_item_id || '|' || shop_location_id, quantity FROM stock_sent "
            "WHERE store_id = $1 AND inventory_item_id = ANY($2::text[])", 2, params);
        for (int i = 0; res && i < PQntuples(res); i++)
            wb_strmap_put(&out, PQgetvalue(res, i, 0), NULL)->num = atoll(PQgetvalue(res, i, 1));
        PQclear(res);
        free(array);
    }
    free(items);
    return out;
}

void sp_values_finish(sp_value *values, int count, int64_t safety_stock, wb_strmap *flight,
                      wb_strmap *sent) {
    char key[1024];
    for (int i = 0; i < count; i++) {
        sp_value *v = &values[i];
        if (v->outcome != SP_PENDING) continue;
        wb_strmap_entry *f = v->sku ? wb_strmap_get(flight, v->sku) : NULL;
        v->in_flight = f ? f->num : 0;
        v->quantity = sp_sellable(v->available, safety_stock, v->in_flight);
        snprintf(key, sizeof key, "%s|%s", v->item, v->location);
        wb_strmap_entry *last = wb_strmap_get(sent, key);
        v->change_from = last ? last->num : -1;
        if (v->change_from == v->quantity) v->outcome = SP_UNCHANGED;
    }
}

/* A crash between the shop's acceptance and sp_record_sent, or a record
 * that fails, then leaves "unknown" behind instead of the value before,
 * which a later window whose value came back to it would take for what the
 * shop holds and skip as unchanged (chaos run 81792877: two WooCommerce
 * stores left 5 low that way). */
int sp_forget_sent(wb_pg *pg, const char *store_id, const sp_value *values, int count) {
    const char **items = malloc(sizeof(char *) * (size_t)(count + 1)),
               **locs = malloc(sizeof(char *) * (size_t)(count + 1));
    int n = 0;
    for (int i = 0; i < count; i++) {
        if (values[i].outcome != SP_PENDING || values[i].change_from < 0) continue;
        items[n] = values[i].item, locs[n++] = values[i].location;
    }
    int rc = 0;
    if (n) {
        char *a1 = wb_pg_array(items, n), *a2 = wb_pg_array(locs, n);
        const char *params[] = {store_id, a1, a2};
        rc = wb_pg_exec(pg,
            "UPDATE stock_sent s SET quantity = -1 FROM unnest($2::text[], $3::text[]) AS u(item, loc) "
            "WHERE s.store_id = $1 AND s.inventory_item_id = u.item AND s.shop_location_id = u.loc",
            3, params);
        if (rc != 0) wb_warn(store_id, "stock not sent: marking it in doubt failed: %s", wb_pg_error(pg));
        free(a1), free(a2);
    }
    free(items), free(locs);
    return rc;
}

void sp_record_sent(wb_pg *pg, const char *store_id, const sp_value *values, int count) {
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
        if (!pg || wb_pg_exec(pg,
                "INSERT INTO stock_sent (store_id, shop_location_id, inventory_item_id, quantity, window_id, in_flight) "
                "SELECT $1, * FROM unnest($2::text[], $3::text[], $4::int[], $5::text[], $6::int[]) "
                "ON CONFLICT (store_id, shop_location_id, inventory_item_id) DO UPDATE SET "
                "quantity = EXCLUDED.quantity, window_id = EXCLUDED.window_id, in_flight = EXCLUDED.in_flight, "
                "sent_at = now()",
                6, params) != 0)
            /* The values stay in doubt (-1): the next ones are sent even if equal. */
            wb_error(store_id, "recording sent stock failed: %s", pg ? wb_pg_error(pg) : "no connection");
        free(a1), free(a2), free(a3), free(a4), free(a5);
    }
    free(locs), free(items), free(qtys), free(wins), free(nums), free(flights), free(flight_nums);
}

/* Values, reads and the in-doubt mark; -1 when PostgreSQL failed before
 * anything went out (the pending values then retry). */
static int prepare(wb_pg *pg, sp_job *job) {
    if (!pg) return -1;
    wb_strmap flight = sp_read_in_flight(pg, job->store_id, job->values, job->count),
              sent = sp_read_last_sent(pg, job->store_id, job->values, job->count);
    sp_values_finish(job->values, job->count, job->safety_stock, &flight, &sent);
    wb_strmap_clear(&flight, NULL);
    wb_strmap_clear(&sent, NULL);
    return sp_forget_sent(pg, job->store_id, job->values, job->count);
}

void sp_job_run_recorded(sp_senders *s, sp_job *job) {
    wb_pg *pg = sp_senders_pg_take(s);
    int rc = prepare(pg, job);
    sp_senders_pg_give(s, pg);
    job->prepared_ms = wb_wall_ms();
    int all = job->count, pending = 0;
    /* Pending values first: the send sees only them (unchanged ones need no call). */
    for (int i = 0; i < all; i++) {
        if (job->values[i].outcome != SP_PENDING) continue;
        if (rc != 0) {
            job->values[i].outcome = SP_RETRY;
            continue;
        }
        sp_value tmp = job->values[pending];
        job->values[pending++] = job->values[i];
        job->values[i] = tmp;
    }
    if (pending == 0) return;
    job->count = pending;
    sp_send_job(job);
    job->count = all;
    pg = sp_senders_pg_take(s);
    sp_record_sent(pg, job->store_id, job->values, all);
    sp_senders_pg_give(s, pg);
}
