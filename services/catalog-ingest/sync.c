/* Running catalog syncs. A sync is a row in catalog_syncs; whoever holds
 * the store's advisory lock (a session lock, so a killed replica's lock
 * goes with its connection) runs it page by page:
 *
 *   fetch a page -> map each article (mapping.c) -> publish the changed ones
 *   and wait for their acks -> record their hashes -> record the next
 *   page's cursor and the progress.
 *
 * After a kill -9 the row is still `running` with the cursor of the first
 * page not finished; the next replica resumes there. Only that page is read
 * again, and of it only articles whose hash was not recorded yet go out
 * again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "catalog.h"
#include "wb/log.h"
#include "wb/metrics.h"
#include "wb/runloop.h"
#include "wb/shopclient.h"

void ci_count(const char *store_id, const char *outcome, double n) {
    if (n <= 0) return;
    wb_counter_add(wb_counter("wb_catalog_items_total",
                              "Catalog articles seen by catalog-ingest, by store and outcome.",
                              "store,outcome"),
                   n, store_id, outcome);
}

void ci_schedule(ci_ctx *ctx, wb_pg *pg) {
    if (!ctx->cfg.poll_ms) return;
    char ms[32];
    snprintf(ms, sizeof ms, "%lld", (long long)ctx->cfg.poll_ms);
    const char *p[] = {ms};
    if (wb_pg_exec(pg,
            "INSERT INTO catalog_syncs (store_id, source) SELECT s.id, 'schedule' FROM stores s "
            "WHERE s.enabled AND NOT EXISTS (SELECT 1 FROM catalog_syncs c WHERE c.store_id = s.id "
            "AND c.product_id IS NULL AND (c.state IN ('requested', 'running') "
            "OR c.requested_at > now() - make_interval(secs => $1::bigint / 1000.0))) "
            "ON CONFLICT DO NOTHING", 1, p))
        wb_warn(NULL, "catalog schedule: %s", wb_pg_error(pg));
}

typedef struct run {
    ci_ctx *ctx;
    wb_pg *pg;
    wb_store store;
    bool categories;
    const char *id; /* the sync's id */
    ci_fetch fetch;
    long items, published, conflicts;
} run;

/* One page's articles: mapped, the changed ones published, their hashes
 * recorded. -1 with err when PostgreSQL or Kafka failed. */
static int process_page(run *r, ci_articles *list, char *err, size_t errlen) {
    size_t n = list->count, out = 0;
    char **skus = calloc(n + 1, sizeof *skus), **values = calloc(n + 1, sizeof *values);
    char (*hashes)[65] = calloc(n + 1, sizeof *hashes);
    size_t *which = calloc(n + 1, sizeof *which);
    bool *acked = calloc(n + 1, sizeof *acked);
    if (!skus || !values || !hashes || !which || !acked) abort();
    ci_article_opts opts = {.store_id = r->store.id, .unit = r->ctx->cfg.unit,
                            .platform = strcmp(r->store.platform, "shopify") == 0 ? WB_PLATFORM_SHOPIFY
                                                                                  : WB_PLATFORM_WOOCOMMERCE,
                            .categories = r->categories,
                            .virtual_as_non_stock = r->store.virtual_as_non_stock};
    int rc = 0;
    long unchanged = 0, invalid = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        ci_article *a = &list->items[i];
        if (i % 64 == 0) wb_heartbeat();
        ci_mapped m;
        if (ci_map_article(r->pg, &r->store, a, &m, err, errlen)) {
            rc = -1;
            break;
        }
        r->items++;
        if (m.decision == CI_CONFLICT) {
            r->conflicts++;
            ci_count(r->store.id, "conflict", 1);
            continue;
        }
        wb_catalog_msg msg;
        ci_article_msg(a, m.sku, &opts, &msg);
        char now[40];
        if (!msg.updated_at) {
            wb_format_time(wb_wall_ms(), now, sizeof now);
            msg.updated_at = now;
        }
        ci_msg_hash(&msg, hashes[out]);
        char *json = strcmp(hashes[out], m.hash) == 0 ? NULL : wb_catalog_msg_encode_err(&msg, err, errlen);
        bool same = strcmp(hashes[out], m.hash) == 0;
        ci_msg_release(&msg);
        if (same) {
            unchanged++;
            continue;
        }
        if (!json) {
            wb_warn(r->store.id, "product %s variant %s not sent: %s", a->product_id,
                    a->variant_id && *a->variant_id ? a->variant_id : "-", err);
            invalid++;
            err[0] = 0;
            continue;
        }
        skus[out] = strdup(m.sku);
        values[out] = json;
        which[out] = i;
        out++;
    }
    if (rc == 0 && out > 0) {
        size_t ok = ci_publish(r->ctx, r->store.id, skus, values, out, acked);
        if (wb_pg_exec(r->pg, "BEGIN", 0, NULL) == 0) {
            for (size_t j = 0; j < out && rc == 0; j++)
                if (acked[j] && ci_store_hash(r->pg, r->store.id, &list->items[which[j]], hashes[j])) rc = -1;
            if (rc == 0 && wb_pg_exec(r->pg, "COMMIT", 0, NULL)) rc = -1;
            if (rc) {
                snprintf(err, errlen, "recording hashes: %s", wb_pg_error(r->pg));
                wb_pg_exec(r->pg, "ROLLBACK", 0, NULL);
            }
        } else {
            rc = -1;
            snprintf(err, errlen, "%s", wb_pg_error(r->pg));
        }
        r->published += (long)ok;
        ci_count(r->store.id, "published", (double)ok);
        if (rc == 0 && ok < out) {
            snprintf(err, errlen, "kafka: %zu of %zu catalog messages not acknowledged", out - ok, out);
            rc = -1;
        }
    }
    ci_count(r->store.id, "unchanged", (double)unchanged);
    ci_count(r->store.id, "invalid", (double)invalid);
    for (size_t j = 0; j < out; j++) free(skus[j]), free(values[j]);
    free(skus), free(values), free(hashes), free(which), free(acked);
    return rc;
}

static int progress(run *r, const char *next, long pages_total, bool page_done) {
    char items[32], pub[32], con[32], total[32];
    snprintf(items, sizeof items, "%ld", r->items);
    snprintf(pub, sizeof pub, "%ld", r->published);
    snprintf(con, sizeof con, "%ld", r->conflicts);
    snprintf(total, sizeof total, "%ld", pages_total);
    const char *p[] = {r->id, next, items, pub, con, pages_total >= 0 ? total : NULL, page_done ? "1" : "0"};
    return wb_pg_exec(r->pg,
        "UPDATE catalog_syncs SET cursor = $2, items_done = items_done + $3::bigint, "
        "published = published + $4::bigint, conflicts = conflicts + $5::bigint, "
        "pages_total = coalesce($6::bigint, pages_total), pages_done = pages_done + $7::bigint, "
        "updated_at = now() WHERE id = $1", 7, p);
}

static void finish(wb_pg *pg, const char *id, const char *state, const char *error) {
    const char *p[] = {id, state, error};
    if (wb_pg_exec(pg, "UPDATE catalog_syncs SET state = $2, error = $3, finished_at = now(), "
                       "updated_at = now() WHERE id = $1", 3, p))
        wb_error(NULL, "catalog sync %s not marked %s: %s", id, state, wb_pg_error(pg));
}

static const char *cred(cJSON *c, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, name);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* Opens the store's shop client. */
static int open_client(run *r, char *err, size_t errlen) {
    cJSON *c = cJSON_Parse(r->store.credentials ? r->store.credentials : "");
    if (!c) {
        snprintf(err, errlen, "credentials unreadable");
        return -1;
    }
    if (strcmp(r->store.platform, "shopify") == 0)
        r->fetch.client = wb_shopify_new(r->store.id, r->store.base_url, cred(c, "access_token"), NULL);
    else
        r->fetch.client = wb_woo_new(r->store.id, r->store.base_url, cred(c, "consumer_key"),
                                     cred(c, "consumer_secret"), NULL);
    cJSON_Delete(c);
    if (!r->fetch.client) {
        snprintf(err, errlen, "shop client not created");
        return -1;
    }
    return 0;
}

static void close_client(run *r) {
    if (!r->fetch.client) return;
    if (strcmp(r->store.platform, "shopify") == 0) wb_shopify_free(r->fetch.client);
    else wb_woo_free(r->fetch.client);
    r->fetch.client = NULL;
}

static int fetch(run *r, const char *cursor, const char *product_id, ci_articles *list, char **next,
                 long *pages, char *err, size_t errlen) {
    return strcmp(r->store.platform, "shopify") == 0
               ? ci_fetch_shopify(&r->fetch, cursor, product_id, list, next, pages, err, errlen)
               : ci_fetch_woo(&r->fetch, cursor, product_id, list, next, pages, err, errlen);
}

/* Product syncs (webhooks) of the store queued meanwhile: run between the
 * pages of a long full sync, so a change still reaches the WMS in seconds. */
static void run_queued_products(run *r) {
    const char *p[] = {r->store.id};
    for (int n = 0; n < 100 && !wb_stopping(); n++) {
        PGresult *res = wb_pg_query(r->pg,
            "UPDATE catalog_syncs SET state = 'running', started_at = now(), updated_at = now() WHERE id = "
            "(SELECT id FROM catalog_syncs WHERE store_id = $1 AND product_id IS NOT NULL AND state = 'requested' "
            "ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id, product_id", 1, p);
        if (!res || PQntuples(res) != 1) {
            if (res) PQclear(res);
            return;
        }
        char id[32], product[128], err[1024] = "";
        snprintf(id, sizeof id, "%s", PQgetvalue(res, 0, 0));
        snprintf(product, sizeof product, "%s", PQgetvalue(res, 0, 1));
        PQclear(res);
        run pr = *r;
        pr.id = id;
        pr.items = pr.published = pr.conflicts = 0;
        ci_articles list = {0};
        char *next = NULL;
        long pages = -1;
        int rc = fetch(&pr, NULL, product, &list, &next, &pages, err, sizeof err);
        if (rc == 0) rc = process_page(&pr, &list, err, sizeof err);
        ci_articles_free(&list);
        free(next);
        if (rc == 0 && progress(&pr, NULL, -1, true)) rc = -1;
        finish(r->pg, id, rc ? "failed" : "done", rc ? err : NULL);
    }
}

/* Runs one claimed sync to its end (or until the process stops). */
static void run_sync(ci_ctx *ctx, wb_pg *pg, const char *id, const char *store_id, const char *product_id,
                     const char *cursor_in) {
    run r = {.ctx = ctx, .pg = pg, .id = id};
    char err[1024] = "";
    if (!ctx->svc->has_master_key) {
        finish(pg, id, "failed", "WB_MASTER_KEY is not set: the store's credentials cannot be read");
        return;
    }
    int rc = wb_store_load(pg, ctx->svc->master_key, store_id, &r.store, err, sizeof err);
    if (rc) {
        finish(pg, id, "failed", rc == 1 ? "no such store" : err);
        return;
    }
    if (!r.store.enabled) {
        finish(pg, id, "failed", "store disabled");
        wb_store_free(&r.store);
        return;
    }
    const char *p[] = {store_id};
    PGresult *res = wb_pg_query(pg, "SELECT catalog_categories FROM stores WHERE id = $1", 1, p);
    r.categories = res && PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    if (res) PQclear(res);
    r.fetch = (ci_fetch){.cfg = &ctx->cfg, .store = &r.store};
    if (open_client(&r, err, sizeof err)) {
        finish(pg, id, "failed", err);
        wb_store_free(&r.store);
        return;
    }
    wb_info(store_id, "catalog sync %s started%s%s%s%s", id, product_id ? " for product " : "",
            product_id ? product_id : "", *cursor_in ? ", resuming at " : "", cursor_in);
    int64_t t0 = wb_monotonic_ms();
    char *cursor = strdup(cursor_in);
    bool failed = false, stopped = false;
    for (;;) {
        wb_heartbeat();
        ci_articles list = {0};
        char *next = NULL;
        long pages = -1;
        r.items = r.published = r.conflicts = 0;
        if (fetch(&r, cursor, product_id, &list, &next, &pages, err, sizeof err) ||
            process_page(&r, &list, err, sizeof err)) {
            ci_articles_free(&list);
            free(next);
            failed = true;
            break;
        }
        ci_articles_free(&list);
        if (progress(&r, next, pages, true)) {
            snprintf(err, sizeof err, "progress: %s", wb_pg_error(pg));
            free(next);
            failed = true;
            break;
        }
        free(cursor);
        cursor = next;
        if (!cursor) break;
        if (!product_id) run_queued_products(&r);
        if (wb_stopping()) {
            stopped = true;
            break;
        }
    }
    free(cursor);
    close_client(&r);
    double secs = (double)(wb_monotonic_ms() - t0) / 1000.0;
    if (failed) {
        wb_warn(store_id, "catalog sync %s failed after %.1f s: %s", id, secs, err);
        finish(pg, id, "failed", err);
        ci_count(store_id, "sync_failed", 1);
    } else if (stopped) {
        wb_info(store_id, "catalog sync %s interrupted by shutdown; it resumes at the next start", id);
    } else {
        wb_info(store_id, "catalog sync %s done in %.1f s", id, secs);
        finish(pg, id, "done", NULL);
    }
    wb_store_free(&r.store);
}

bool ci_run_pending(ci_ctx *ctx, wb_pg *pg) {
    PGresult *res = wb_pg_query(pg,
        "SELECT id, store_id, product_id FROM catalog_syncs WHERE state IN ('requested', 'running') "
        "ORDER BY (product_id IS NULL), id LIMIT 50", 0, NULL);
    if (!res) {
        wb_warn(NULL, "catalog syncs not read: %s", wb_pg_error(pg));
        return false;
    }
    bool did = false;
    for (int i = 0; i < PQntuples(res) && !did && !wb_stopping(); i++) {
        const char *id = PQgetvalue(res, i, 0), *store_id = PQgetvalue(res, i, 1);
        const char *product_id = PQgetisnull(res, i, 2) ? NULL : PQgetvalue(res, i, 2);
        const char *lp[] = {store_id};
        PGresult *lock = wb_pg_query(pg, "SELECT pg_try_advisory_lock(hashtext('wb-catalog:' || $1))", 1, lp);
        bool locked = lock && strcmp(PQgetvalue(lock, 0, 0), "t") == 0;
        if (lock) PQclear(lock);
        if (!locked) continue; /* another replica works on this store */
        const char *cp[] = {id};
        PGresult *claim = wb_pg_query(pg,
            "UPDATE catalog_syncs SET state = 'running', started_at = coalesce(started_at, now()), "
            "updated_at = now() WHERE id = $1 AND state IN ('requested', 'running') RETURNING coalesce(cursor, '')",
            1, cp);
        if (claim && PQntuples(claim) == 1) {
            run_sync(ctx, pg, id, store_id, product_id, PQgetvalue(claim, 0, 0));
            did = true;
        }
        if (claim) PQclear(claim);
        if (wb_pg_exec(pg, "SELECT pg_advisory_unlock(hashtext('wb-catalog:' || $1))", 1, lp))
            wb_warn(store_id, "catalog lock not released: %s", wb_pg_error(pg));
    }
    PQclear(res);
    return did;
}
