/* bridgectl stock reconcile: compare a store's shop stock with the WMS and
 * correct the drift (stock-publisher does the work).
 *
 * Like `products sync`, it asks through PostgreSQL (a stock_reconciliations
 * row; a run already queued or running is joined, not doubled) and follows
 * the run until it ends, one line per change, then reports how many values
 * were checked and how many corrections of what total size were made. Exit 0
 * when done, 1 when it failed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bridgectl.h"
#include "wb/runloop.h"

static int query_fail(wb_pg *pg) {
    fprintf(stderr, "bridgectl: postgresql: %s\n", wb_pg_error(pg));
    wb_pg_close(pg);
    return 1;
}

typedef struct run_state {
    char state[16], error[512];
    long total, checked, corrections, drift;
    double elapsed;
} run_state;

static int read_state(wb_pg *pg, const char *id, run_state *s) {
    const char *p[] = {id};
    PGresult *r = wb_pg_query(pg,
        "SELECT state, coalesce(items_total, -1), items_checked, corrections, drift_total, coalesce(error, ''), "
        "extract(epoch FROM (coalesce(finished_at, now()) - coalesce(started_at, now()))) "
        "FROM stock_reconciliations WHERE id = $1", 1, p);
    if (!r) return -1;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return -1;
    }
    snprintf(s->state, sizeof s->state, "%s", PQgetvalue(r, 0, 0));
    s->total = atol(PQgetvalue(r, 0, 1));
    s->checked = atol(PQgetvalue(r, 0, 2));
    s->corrections = atol(PQgetvalue(r, 0, 3));
    s->drift = atol(PQgetvalue(r, 0, 4));
    snprintf(s->error, sizeof s->error, "%s", PQgetvalue(r, 0, 5));
    s->elapsed = atof(PQgetvalue(r, 0, 6));
    PQclear(r);
    return 0;
}

int bctl_stock_reconcile(int argc, char **argv) {
    bctl_option opts[] = {{"no-wait", .is_flag = true}, {0}};
    const char *store;
    if (bctl_parse(argc, argv, opts, &store, 1, "stock reconcile STORE [--no-wait]")) return 2;
    wb_pg *pg = bctl_pg();
    const char *p[] = {store};
    PGresult *r = wb_pg_query(pg, "SELECT 1 FROM stores WHERE id = $1", 1, p);
    if (!r) return query_fail(pg);
    bool found = PQntuples(r) == 1;
    PQclear(r);
    if (!found) {
        fprintf(stderr, "bridgectl: store '%s' not found\n", store);
        wb_pg_close(pg);
        return 1;
    }
    if (wb_pg_exec(pg, "INSERT INTO stock_reconciliations (store_id, source) VALUES ($1, 'bridgectl') "
                       "ON CONFLICT DO NOTHING", 1, p))
        return query_fail(pg);
    r = wb_pg_query(pg, "SELECT id FROM stock_reconciliations WHERE store_id = $1 "
                        "ORDER BY (state IN ('requested', 'running')) DESC, id DESC LIMIT 1", 1, p);
    if (!r) return query_fail(pg);
    if (PQntuples(r) != 1) {
        PQclear(r);
        wb_pg_close(pg);
        fprintf(stderr, "bridgectl: the reconciliation was not recorded\n");
        return 1;
    }
    char id[32];
    snprintf(id, sizeof id, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    printf("reconcile %s requested for store %s\n", id, store);
    fflush(stdout);
    if (opts[0].flag) {
        wb_pg_close(pg);
        return 0;
    }
    run_state s, last = {0};
    last.checked = -1;
    int64_t asked = wb_monotonic_ms();
    bool hinted = false;
    for (;;) {
        if (read_state(pg, id, &s)) return query_fail(pg);
        bool ended = strcmp(s.state, "done") == 0 || strcmp(s.state, "failed") == 0;
        if (!ended && (s.checked != last.checked || strcmp(s.state, last.state) != 0)) {
            char total[32] = "";
            if (s.total >= 0) snprintf(total, sizeof total, " of %ld", s.total);
            printf("reconcile %s: %s, %ld values checked%s, %ld corrections\n", id, s.state, s.checked, total,
                   s.corrections);
            fflush(stdout);
        }
        last = s;
        if (ended) break;
        if (!hinted && strcmp(s.state, "requested") == 0 && wb_monotonic_ms() - asked > 10000) {
            fprintf(stderr, "bridgectl: waiting for stock-publisher to take reconciliation %s (is it running?)\n", id);
            hinted = true;
        }
        usleep(300000);
    }
    wb_pg_close(pg);
    if (strcmp(s.state, "failed") == 0) {
        fprintf(stderr, "bridgectl: reconcile %s failed: %s\n", id, s.error);
        return 1;
    }
    printf("reconcile %s done: %ld values checked, %ld corrections, drift %ld units, in %.1f s\n", id, s.checked,
           s.corrections, s.drift, s.elapsed);
    return 0;
}
