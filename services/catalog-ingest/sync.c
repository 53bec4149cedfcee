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
 * again.
 *
 * A poll (kind `changes`) lists the products changed since the store's
 * cursor (changes.c) and runs a product sync for each; a full sync or poll
 * that ends well moves the cursor to the time it started. */
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

/* The schedule: a full sync on first contact (a store without a cursor:
 * new, or synced before incremental polls existed) and every
 * WB_CATALOG_FULL_SYNC_MS; in between, every WB_CATALOG_POLL_MS, a poll of
 * the products changed since the store's cursor. A full sync asked for by
 * an operator counts as the periodic one. */
void ci_schedule(ci_ctx *ctx, wb_pg *pg) {
    if (!ctx->cfg.poll_ms) return;
    char poll[32], full[32];
    snprintf(poll, sizeof poll, "%lld", (long long)ctx->cfg.poll_ms);
    snprintf(full, sizeof full, "%lld", (long long)ctx->cfg.full_sync_ms);
    const char *p[] = {poll, full};
    if (wb_pg_exec(pg,
            "INSERT INTO catalog_syncs (store_id, source, kind) SELECT s.id, 'schedule', 'full' FROM stores s "
            "LEFT JOIN sync_cursors k ON k.store_id = s.id AND k.name = 'catalog_changed_since' "
            "WHERE s.enabled AND (k.store_id IS NULL OR $2::bigint > 0) AND NOT EXISTS (SELECT 1 FROM catalog_syncs c "
            "WHERE c.store_id = s.id AND c.product_id IS NULL AND c.kind = 'full' AND (c.state IN ('requested', 'running') "
            "OR c.requested_at > now() - make_interval(secs => "
            "(CASE WHEN k.store_id IS NULL THEN $1::bigint ELSE $2::bigint END) / 1000.0))) "
            "ON CONFLICT DO NOTHING", 2, p))
        wb_warn(NULL, "catalog schedule (full syncs): %s", wb_pg_error(pg));
    if (wb_pg_exec(pg,
            "INSERT INTO catalog_syncs (store_id, source, kind) SELECT s.id, 'schedule', 'changes' FROM stores s "
            "JOIN sync_cursors k ON k.store_id = s.id AND k.name = 'catalog_changed_since' "
            "WHERE s.enabled AND NOT EXISTS (SELECT 1 FROM catalog_syncs c WHERE c.store_id = s.id "
            "AND c.product_id IS NULL AND (c.state IN ('requested', 'running') "
            "OR c.requested_at > now() - make_interval(secs => $1::bigint / 1000.0))) "
            "ON CONFLICT DO NOTHING", 1, p))
        wb_warn(NULL, "catalog schedule (polls): %s", wb_pg_error(pg));
}

typedef struct run {
    ci_ctx *ctx;
    wb_pg *pg;
    wb_store store;
    bool categories;
    const char *id; /* the sync's id */
    ci_fetch fetch;
    long items, published, conflicts;
    long created, analyzed_at; /* mappings this sync made; how many when it last analyzed */
    bool full;                 /* a full sync (not a poll, not one product's) */
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
    /* The page's mappings and conflicts in one transaction: one commit a
     * page, and a failure leaves none of the page's mappings behind. */
    ci_mapped *mapped = calloc(n + 1, sizeof *mapped);
    if (!mapped) abort();
    if (wb_pg_exec(r->pg, "BEGIN", 0, NULL)) {
        snprintf(err, errlen, "%s", wb_pg_error(r->pg));
        rc = -1;
    } else if (ci_map_page(r->pg, &r->store, list, mapped, err, errlen)) {
        rc = -1;
    } else if (wb_pg_exec(r->pg, "COMMIT", 0, NULL)) {
        snprintf(err, errlen, "committing the page's mappings: %s", wb_pg_error(r->pg));
        rc = -1;
    }
    if (rc) wb_pg_exec(r->pg, "ROLLBACK", 0, NULL);
    if (rc == 0 && ci_mark_seen(r->pg, r->store.id, list, r->full ? r->id : NULL)) {
        snprintf(err, errlen, "marking the page seen: %s", wb_pg_error(r->pg));
        rc = -1;
    }
    for (size_t i = 0; i < n && rc == 0; i++) r->created += mapped[i].decision == CI_CREATE;
    /* A new store's mappings are not in the planner's statistics until
     * autovacuum gets round to them; meanwhile a lookup by item is planned
     * for a store of one row and may scan all its rows through the wrong
     * index, once per item. Analyzing as the store doubles keeps the next
     * pages' lookups by the whole key (log2 of the catalog's size times). */
    if (rc == 0 && r->created >= 1000 && r->created >= 2 * r->analyzed_at) {
        if (wb_pg_exec(r->pg, "ANALYZE product_mappings (store_id)", 0, NULL))
            wb_warn(r->store.id, "analyze product_mappings: %s", wb_pg_error(r->pg));
        r->analyzed_at = r->created;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        ci_article *a = &list->items[i];
        if (i % 64 == 0) wb_heartbeat();
        ci_mapped m = mapped[i];
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
    free(mapped);
    if (rc == 0 && out > 0) {
        size_t ok = ci_publish(r->ctx, r->store.id, skus, values, out, acked);
        /* Only the acknowledged ones: the others go out again next time. */
        const ci_article **done = calloc(out, sizeof *done);
        char (*done_hashes)[65] = calloc(out, sizeof *done_hashes);
        char **done_values = calloc(out, sizeof *done_values);
        if (!done || !done_hashes || !done_values) abort();
        size_t nd = 0;
        for (size_t j = 0; j < out; j++)
            if (acked[j]) {
                done[nd] = &list->items[which[j]];
                done_values[nd] = values[j];
                memcpy(done_hashes[nd++], hashes[j], 65);
            }
        if (ci_store_hashes(r->pg, r->store.id, done, done_hashes, done_values, nd)) {
            rc = -1;
            snprintf(err, errlen, "recording hashes: %s", wb_pg_error(r->pg));
        }
        free(done), free(done_hashes), free(done_values);
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
    else {
        r->fetch.client = wb_woo_new(r->store.id, r->store.base_url, cred(c, "consumer_key"),
                                     cred(c, "consumer_secret"), NULL);
        r->fetch.budget = wb_rate_budget_open(r->fetch.redis_url);
        ci_woo_pace(r->fetch.client, r->fetch.budget, &r->store);
    }
    cJSON_Delete(c);
    if (!r->fetch.client) {
        snprintf(err, errlen, "shop client not created");
        return -1;
    }
    return 0;
}

static void close_client(run *r) {
    ci_bulk_close(&r->fetch);
    wb_rate_budget_close(r->fetch.budget);
    r->fetch.budget = NULL;
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

/* The mapping's product id as stored: Shopify's are gids, a webhook's or a
 * queued sync's a number. */
static void stored_product_id(const run *r, const char *product, char *out, size_t size) {
    if (strcmp(r->store.platform, "shopify") == 0 && strncmp(product, "gid://", 6) != 0)
        snprintf(out, size, "gid://shopify/Product/%s", product);
    else
        snprintf(out, size, "%s", product);
}

/* The product's mapped articles not among those just read from the shop
 * (list) are gone from it: each is reported on shop.catalog.v1 as it was
 * last sent plus `removed`, and its mapping marked (never deleted) once the
 * broker has it. A removed article that comes back is sent again in full. */
static int report_removed(run *r, const char *product, const ci_articles *list, char *err, size_t errlen) {
    char pid[160];
    stored_product_id(r, product, pid, sizeof pid);
    cJSON *kept = cJSON_CreateArray();
    for (size_t i = 0; i < list->count; i++)
        cJSON_AddItemToArray(kept, cJSON_CreateString(list->items[i].variant_id ? list->items[i].variant_id : ""));
    char *kept_json = cJSON_PrintUnformatted(kept);
    cJSON_Delete(kept);
    if (!kept_json) abort();
    const char *p[] = {r->store.id, pid, kept_json};
    PGresult *res = wb_pg_query(r->pg,
        "SELECT shop_variant_id, sku, coalesce(barcode, ''), coalesce(last_message, '') FROM product_mappings "
        "WHERE store_id = $1 AND shop_product_id = $2 AND removed IS NULL "
        "AND shop_variant_id NOT IN (SELECT jsonb_array_elements_text($3::jsonb))", 3, p);
    free(kept_json);
    if (!res) {
        snprintf(err, errlen, "removed articles: %s", wb_pg_error(r->pg));
        return -1;
    }
    /* A variant missing from a published product was deleted. */
    const char *reason = r->fetch.product_state == CI_PRODUCT_UNPUBLISHED ? "unpublished" : "deleted";
    size_t n = (size_t)PQntuples(res);
    char **skus = calloc(n + 1, sizeof *skus), **values = calloc(n + 1, sizeof *values);
    bool *acked = calloc(n + 1, sizeof *acked);
    if (!skus || !values || !acked) abort();
    char now[40];
    wb_format_time(wb_wall_ms(), now, sizeof now);
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        const char *variant = PQgetvalue(res, (int)i, 0), *sku = PQgetvalue(res, (int)i, 1);
        const char *barcode = PQgetvalue(res, (int)i, 2), *last = PQgetvalue(res, (int)i, 3);
        wb_catalog_msg m;
        char e[256];
        bool decoded = *last && wb_catalog_msg_decode(last, strlen(last), &m, e, sizeof e) == 0;
        if (!decoded) { /* mapped by hand, never sent: what the mapping knows */
            memset(&m, 0, sizeof m);
            m.store_id = strdup(r->store.id);
            m.platform = strcmp(r->store.platform, "shopify") == 0 ? WB_PLATFORM_SHOPIFY : WB_PLATFORM_WOOCOMMERCE;
            m.sku = strdup(sku);
            m.name = strdup(sku);
            m.product_id = strdup(pid);
            m.variant_id = *variant ? strdup(variant) : NULL;
            m.barcode = *barcode ? strdup(barcode) : NULL;
            m.unit = strdup(r->ctx->cfg.unit);
            m.is_stock_article = true;
        }
        free(m.updated_at);
        m.updated_at = strdup(now);
        free(m.removed);
        m.removed = strdup(reason);
        values[out] = wb_catalog_msg_encode_err(&m, e, sizeof e);
        wb_catalog_msg_free(&m);
        if (!values[out]) {
            wb_warn(r->store.id, "removal of %s not sent: %s", sku, e);
            continue;
        }
        skus[out++] = strdup(sku);
    }
    int rc = 0;
    size_t ok = out ? ci_publish(r->ctx, r->store.id, skus, values, out, acked) : 0;
    for (size_t j = 0; j < out && rc == 0; j++) {
        if (!acked[j]) continue;
        const char *q[] = {r->store.id, pid, skus[j], reason};
        if (wb_pg_exec(r->pg, "UPDATE product_mappings SET removed = $4, removed_at = now(), content_hash = NULL, "
                              "updated_at = now() WHERE store_id = $1 AND shop_product_id = $2 AND sku = $3",
                       4, q)) {
            snprintf(err, errlen, "marking removed: %s", wb_pg_error(r->pg));
            rc = -1;
        } else {
            wb_info(r->store.id, "article %s of product %s %s in the shop: reported", skus[j], pid, reason);
        }
    }
    ci_count(r->store.id, "removed", (double)ok);
    if (rc == 0 && ok < out) {
        snprintf(err, errlen, "kafka: %zu of %zu removals not acknowledged", out - ok, out);
        rc = -1;
    }
    for (size_t j = 0; j < out; j++) free(skus[j]), free(values[j]);
    free(skus), free(values), free(acked);
    PQclear(res);
    return rc;
}

/* One product read from the shop, its articles processed and those gone
 * from it reported. */
static int sync_one_product(run *r, const char *product, char *err, size_t errlen) {
    ci_articles list = {0};
    char *next = NULL;
    long pages = -1;
    int rc = fetch(r, NULL, product, &list, &next, &pages, err, errlen);
    if (rc == 0) rc = process_page(r, &list, err, errlen);
    if (rc == 0) rc = report_removed(r, product, &list, err, errlen);
    ci_articles_free(&list);
    free(next);
    return rc;
}

/* At the end of a full sync: every product with a mapped article the sync
 * did not see (deleted, unpublished, or a variant gone) is read on its own,
 * which tells which of these it is. */
static int sweep_unseen(run *r, char *err, size_t errlen) {
    const char *p[] = {r->store.id, r->id};
    PGresult *res = wb_pg_query(r->pg,
        "SELECT DISTINCT shop_product_id FROM product_mappings WHERE store_id = $1 AND removed IS NULL "
        "AND seen_sync IS DISTINCT FROM $2::bigint", 2, p);
    if (!res) {
        snprintf(err, errlen, "unseen articles: %s", wb_pg_error(r->pg));
        return -1;
    }
    int rc = 0;
    run pr = *r;
    pr.full = false;
    for (int i = 0; i < PQntuples(res) && rc == 0 && !wb_stopping(); i++) {
        wb_heartbeat();
        rc = sync_one_product(&pr, PQgetvalue(res, i, 0), err, errlen);
    }
    r->published += pr.published;
    PQclear(res);
    return rc;
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
        pr.full = false;
        pr.items = pr.published = pr.conflicts = 0;
        int rc = sync_one_product(&pr, product, err, sizeof err);
        if (rc == 0 && progress(&pr, NULL, -1, true)) rc = -1;
        finish(r->pg, id, rc ? "failed" : "done", rc ? err : NULL);
    }
}

/* Where the next poll starts: the start of this sync (PostgreSQL's clock),
 * once everything it read is mapped and acknowledged. Everything changed
 * after that instant is listed by the next poll; the overlap it subtracts
 * covers the shop's clock running behind and whole-second comparisons. A
 * cursor never moves back (a full sync that started before a poll). */
static int advance_cursor(run *r) {
    const char *p[] = {r->id};
    return wb_pg_exec(r->pg,
        "INSERT INTO sync_cursors (store_id, name, value) SELECT store_id, 'catalog_changed_since', "
        "to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM catalog_syncs WHERE id = $1 "
        "ON CONFLICT (store_id, name) DO UPDATE SET value = EXCLUDED.value, updated_at = now() "
        "WHERE sync_cursors.value::timestamptz < EXCLUDED.value::timestamptz", 1, p);
}

/* The poll's lower bound: the store's cursor minus the overlap, in whole
 * seconds (rounded down) as the shops compare. 0, or -1 with err (no cursor:
 * the store's first full sync has not ended). */
static int poll_since(run *r, char *since, size_t size, char *err, size_t errlen) {
    char overlap[32];
    snprintf(overlap, sizeof overlap, "%lld", (long long)r->ctx->cfg.overlap_ms);
    const char *p[] = {r->store.id, overlap};
    PGresult *res = wb_pg_query(r->pg,
        "SELECT to_char((value::timestamptz - make_interval(secs => $2::bigint / 1000.0)) AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS') FROM sync_cursors WHERE store_id = $1 AND name = 'catalog_changed_since'",
        2, p);
    if (!res) {
        snprintf(err, errlen, "poll cursor: %s", wb_pg_error(r->pg));
        return -1;
    }
    int rc = 0;
    if (PQntuples(res) != 1) {
        snprintf(err, errlen, "no poll cursor yet: a full sync comes first");
        rc = -1;
    } else {
        snprintf(since, size, "%s", PQgetvalue(res, 0, 0));
    }
    PQclear(res);
    return rc;
}

/* An incremental poll: every product the shop changed since the cursor
 * (minus the overlap), page after page, each read and processed as a
 * product sync. 0 done, 1 stopped by shutdown, -1 with err. */
static int run_changes(run *r, char *err, size_t errlen) {
    char since[40];
    if (poll_since(r, since, sizeof since, err, errlen)) return -1;
    wb_debug(r->store.id, "catalog poll %s: products changed after %sZ", r->id, since);
    char *page = NULL;
    int rc = 0;
    do {
        wb_heartbeat();
        ci_changed changed = {0};
        char *next = NULL;
        r->items = r->published = r->conflicts = 0;
        rc = ci_list_changed(&r->fetch, since, page, &changed, &next, err, errlen);
        for (size_t i = 0; i < changed.count && rc == 0; i++) {
            if (wb_stopping()) rc = 1;
            else rc = sync_one_product(r, changed.ids[i], err, errlen);
        }
        ci_changed_free(&changed);
        if (rc == 0 && progress(r, NULL, -1, true)) {
            snprintf(err, errlen, "progress: %s", wb_pg_error(r->pg));
            rc = -1;
        }
        free(page);
        page = next;
    } while (rc == 0 && page);
    free(page);
    return rc;
}

/* Runs one claimed sync to its end (or until the process stops). */
static void run_sync(ci_ctx *ctx, wb_pg *pg, const char *id, const char *store_id, const char *product_id,
                     bool changes, const char *cursor_in) {
    run r = {.ctx = ctx, .pg = pg, .id = id, .full = product_id == NULL && !changes};
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
    r.fetch = (ci_fetch){.cfg = &ctx->cfg, .store = &r.store, .redis_url = ctx->svc->cfg.redis_url};
    if (open_client(&r, err, sizeof err)) {
        finish(pg, id, "failed", err);
        wb_store_free(&r.store);
        return;
    }
    wb_info(store_id, "catalog %s %s started%s%s%s%s", changes ? "poll" : "sync", id,
            product_id ? " for product " : "", product_id ? product_id : "",
            *cursor_in ? ", resuming at " : "", cursor_in);
    int64_t t0 = wb_monotonic_ms();
    char *cursor = strdup(cursor_in);
    bool failed = false, stopped = false;
    if (changes) {
        int crc = run_changes(&r, err, sizeof err);
        failed = crc < 0, stopped = crc > 0;
    }
    for (; !changes;) {
        wb_heartbeat();
        ci_articles list = {0};
        char *next = NULL;
        long pages = -1;
        r.items = r.published = r.conflicts = 0;
        if (product_id ? sync_one_product(&r, product_id, err, sizeof err)
                       : fetch(&r, cursor, NULL, &list, &next, &pages, err, sizeof err) ||
                             process_page(&r, &list, err, sizeof err)) {
            ci_articles_free(&list);
            free(next);
            failed = true;
            break;
        }
        ci_articles_free(&list);
        if (r.fetch.restart_progress) { /* from a bulk result to pages: the bar counts the pages */
            const char *rp[] = {id};
            if (wb_pg_exec(pg, "UPDATE catalog_syncs SET pages_done = 0 WHERE id = $1", 1, rp))
                wb_warn(store_id, "catalog sync %s: progress: %s", id, wb_pg_error(pg));
            r.fetch.restart_progress = false;
        }
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
    if (!failed && !stopped && r.full) { /* removed articles: a full sync's step only */
        r.items = r.published = r.conflicts = 0; /* the pages' counts are recorded */
        if (sweep_unseen(&r, err, sizeof err)) failed = true;
        else if (r.published > 0 && progress(&r, NULL, -1, false))
            wb_warn(store_id, "catalog sync %s: progress: %s", id, wb_pg_error(pg));
        stopped = !failed && wb_stopping();
    }
    if (!failed && !stopped && !product_id && advance_cursor(&r)) {
        snprintf(err, sizeof err, "poll cursor not recorded: %s", wb_pg_error(pg));
        failed = true;
    }
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
        "SELECT id, store_id, product_id, kind = 'changes' FROM catalog_syncs WHERE state IN ('requested', 'running') "
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
            run_sync(ctx, pg, id, store_id, product_id, strcmp(PQgetvalue(res, i, 3), "t") == 0,
                     PQgetvalue(claim, 0, 0));
            did = true;
        }
        if (claim) PQclear(claim);
        if (wb_pg_exec(pg, "SELECT pg_advisory_unlock(hashtext('wb-catalog:' || $1))", 1, lp))
            wb_warn(store_id, "catalog lock not released: %s", wb_pg_error(pg));
    }
    PQclear(res);
    return did;
}
