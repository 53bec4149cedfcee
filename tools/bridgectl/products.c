/* bridgectl products sync|conflicts: the catalog import (catalog-ingest).
 *
 * `products sync STORE` asks for a full sync through PostgreSQL (a
 * catalog_syncs row; a sync already queued or running is joined, not
 * doubled), then follows its progress until it ends: a progress bar with
 * items per second and an estimate on a terminal, one plain line per change
 * otherwise. Exit 0 when the sync is done, 1 when it failed. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "bridgectl.h"
#include "wb/runloop.h"

static int query_fail(wb_pg *pg) {
    fprintf(stderr, "bridgectl: postgresql: %s\n", wb_pg_error(pg));
    wb_pg_close(pg);
    return 1;
}

static bool store_exists(wb_pg *pg, const char *store, int *rc) {
    const char *p[] = {store};
    PGresult *r = wb_pg_query(pg, "SELECT 1 FROM stores WHERE id = $1", 1, p);
    if (!r) {
        *rc = query_fail(pg);
        return false;
    }
    bool found = PQntuples(r) == 1;
    PQclear(r);
    if (!found) {
        fprintf(stderr, "bridgectl: store '%s' not found\n", store);
        wb_pg_close(pg);
        *rc = 1;
    }
    return found;
}

static void format_duration(double s, char *out, size_t size) {
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(out, size, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else snprintf(out, size, "%ld:%02ld", t / 60, t % 60);
}

typedef struct sync_state {
    char state[16], error[512];
    long pages_done, pages_total, items, published, conflicts;
    double elapsed;
} sync_state;

static int read_state(wb_pg *pg, const char *id, sync_state *s) {
    const char *p[] = {id};
    PGresult *r = wb_pg_query(pg,
        "SELECT state, pages_done, coalesce(pages_total, -1), items_done, published, conflicts, "
        "coalesce(error, ''), extract(epoch FROM (coalesce(finished_at, now()) - coalesce(started_at, now()))) "
        "FROM catalog_syncs WHERE id = $1", 1, p);
    if (!r) return -1;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return -1;
    }
    snprintf(s->state, sizeof s->state, "%s", PQgetvalue(r, 0, 0));
    s->pages_done = atol(PQgetvalue(r, 0, 1));
    s->pages_total = atol(PQgetvalue(r, 0, 2));
    s->items = atol(PQgetvalue(r, 0, 3));
    s->published = atol(PQgetvalue(r, 0, 4));
    s->conflicts = atol(PQgetvalue(r, 0, 5));
    snprintf(s->error, sizeof s->error, "%s", PQgetvalue(r, 0, 6));
    s->elapsed = atof(PQgetvalue(r, 0, 7));
    PQclear(r);
    return 0;
}

static void show_bar(const char *store, const sync_state *s) {
    double rate = s->elapsed > 0.5 ? (double)s->items / s->elapsed : 0;
    char bar[32], eta[32] = "--:--";
    int width = 24, filled = 0;
    if (s->pages_total > 0) {
        filled = (int)((double)width * (double)s->pages_done / (double)s->pages_total);
        if (filled > width) filled = width;
        if (s->pages_done > 0 && s->pages_done < s->pages_total)
            format_duration(s->elapsed / (double)s->pages_done * (double)(s->pages_total - s->pages_done), eta,
                            sizeof eta);
        else if (s->pages_done >= s->pages_total)
            snprintf(eta, sizeof eta, "0:00");
    } else {
        filled = (int)(s->pages_done % (width + 1)); /* no total known: a moving mark */
    }
    for (int i = 0; i < width; i++) bar[i] = i < filled ? '#' : '-';
    bar[width] = 0;
    char pages[48];
    if (s->pages_total > 0) snprintf(pages, sizeof pages, "%ld/%ld pages", s->pages_done, s->pages_total);
    else snprintf(pages, sizeof pages, "%ld pages", s->pages_done);
    printf("\r%s [%s] %s  %ld items  %.0f items/s  ETA %s  %ld sent  %ld conflicts \033[K", store, bar, pages,
           s->items, rate, eta, s->published, s->conflicts);
    fflush(stdout);
}

static void show_line(const char *id, const sync_state *s) {
    double rate = s->elapsed > 0.5 ? (double)s->items / s->elapsed : 0;
    char total[32] = "";
    if (s->pages_total > 0) snprintf(total, sizeof total, "/%ld", s->pages_total);
    printf("sync %s: %s, pages %ld%s, %ld items, %ld sent, %ld conflicts, %.0f items/s\n", id, s->state,
           s->pages_done, total, s->items, s->published, s->conflicts, rate);
    fflush(stdout);
}

int bctl_products_sync(int argc, char **argv) {
    bctl_option opts[] = {{"no-wait", .is_flag = true}, {0}};
    const char *store;
    if (bctl_parse(argc, argv, opts, &store, 1, "products sync STORE [--no-wait]")) return 2;
    wb_pg *pg = bctl_pg();
    int rc = 0;
    if (!store_exists(pg, store, &rc)) return rc;
    const char *p[] = {store};
    if (wb_pg_exec(pg, "INSERT INTO catalog_syncs (store_id, source) VALUES ($1, 'bridgectl') "
                       "ON CONFLICT DO NOTHING", 1, p))
        return query_fail(pg);
    PGresult *r = wb_pg_query(pg,
        "SELECT id FROM catalog_syncs WHERE store_id = $1 AND product_id IS NULL AND kind = 'full' "
        "ORDER BY (state IN ('requested', 'running')) DESC, id DESC LIMIT 1", 1, p);
    if (!r) return query_fail(pg);
    if (PQntuples(r) != 1) {
        PQclear(r);
        wb_pg_close(pg);
        fprintf(stderr, "bridgectl: the sync was not recorded\n");
        return 1;
    }
    char id[32];
    snprintf(id, sizeof id, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    if (opts[0].flag) {
        printf("sync %s requested for store %s\n", id, store);
        wb_pg_close(pg);
        return 0;
    }
    bool tty = isatty(STDOUT_FILENO);
    if (!tty) printf("sync %s requested for store %s\n", id, store);
    sync_state s, last = {0};
    last.items = -1;
    int64_t asked = wb_monotonic_ms();
    bool hinted = false;
    for (;;) {
        if (read_state(pg, id, &s)) return query_fail(pg);
        bool ended = strcmp(s.state, "done") == 0 || strcmp(s.state, "failed") == 0;
        if (tty) show_bar(store, &s);
        else if (ended || s.items != last.items || strcmp(s.state, last.state) != 0) show_line(id, &s);
        last = s;
        if (ended) break;
        if (!hinted && strcmp(s.state, "requested") == 0 && wb_monotonic_ms() - asked > 10000) {
            fprintf(stderr, "%sbridgectl: waiting for catalog-ingest to take sync %s (is it running?)\n",
                    tty ? "\n" : "", id);
            hinted = true;
        }
        usleep(tty ? 200000 : 500000);
    }
    wb_pg_close(pg);
    char took[32];
    format_duration(s.elapsed, took, sizeof took);
    if (tty) printf("\n");
    if (strcmp(s.state, "failed") == 0) {
        fprintf(stderr, "bridgectl: sync %s failed: %s\n", id, s.error);
        return 1;
    }
    printf("sync %s done: %ld items, %ld sent, %ld conflicts in %s\n", id, s.items, s.published, s.conflicts,
           took);
    return 0;
}

int bctl_products_conflicts(int argc, char **argv) {
    bctl_option opts[] = {{"json", .is_flag = true}, {0}};
    const char *store;
    if (bctl_parse(argc, argv, opts, &store, 1, "products conflicts STORE [--json]")) return 2;
    wb_pg *pg = bctl_pg();
    int rc = 0;
    if (!store_exists(pg, store, &rc)) return rc;
    const char *p[] = {store};
    PGresult *r = wb_pg_query(pg,
        "SELECT kind, shop_product_id, shop_variant_id, coalesce(sku, ''), detail, "
        "to_char(first_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
        "to_char(last_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
        "FROM product_mapping_conflicts WHERE store_id = $1 ORDER BY kind, shop_product_id, shop_variant_id",
        1, p);
    if (!r) return query_fail(pg);
    if (opts[0].flag) {
        cJSON *arr = cJSON_CreateArray();
        for (int i = 0; i < PQntuples(r); i++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "kind", PQgetvalue(r, i, 0));
            cJSON_AddStringToObject(o, "product", PQgetvalue(r, i, 1));
            if (*PQgetvalue(r, i, 2)) cJSON_AddStringToObject(o, "variant", PQgetvalue(r, i, 2));
            if (*PQgetvalue(r, i, 3)) cJSON_AddStringToObject(o, "sku", PQgetvalue(r, i, 3));
            cJSON_AddStringToObject(o, "detail", PQgetvalue(r, i, 4));
            cJSON_AddStringToObject(o, "first_seen", PQgetvalue(r, i, 5));
            cJSON_AddStringToObject(o, "last_seen", PQgetvalue(r, i, 6));
            cJSON_AddItemToArray(arr, o);
        }
        bctl_print_json(arr);
    } else if (PQntuples(r) == 0) {
        printf("store %s: no product mapping conflicts\n", store);
    } else {
        printf("%-18s %-36s %-36s %-20s %s\n", "KIND", "PRODUCT", "VARIANT", "SKU", "DETAIL");
        for (int i = 0; i < PQntuples(r); i++)
            printf("%-18s %-36s %-36s %-20s %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
                   PQgetvalue(r, i, 3), PQgetvalue(r, i, 4));
    }
    PQclear(r);
    wb_pg_close(pg);
    return 0;
}
