/* The publisher's configuration, set-up and tear-down. */
#include "publisher.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/rand.h>

#include "wb/log.h"
#include "wb/runloop.h"

void sp_config_read(wb_env *env, sp_config *cfg) {
    cfg->routes_refresh_ms = wb_env_int(env, "WB_STOCK_ROUTES_REFRESH_MS", 30000, 100, 3600000);
    cfg->flush_interval_ms = wb_env_int(env, "WB_STOCK_FLUSH_INTERVAL_MS", 200, 10, 60000);
    /* Each commit first checkpoints every level changed since the last one:
     * less often means fewer, larger (coalesced) writes; a crash replays a
     * little more, which the version rule makes harmless. */
    cfg->commit_interval_ms = wb_env_int(env, "WB_STOCK_COMMIT_INTERVAL_MS", 3000, 10, 60000);
    cfg->retry_ms = wb_env_int(env, "WB_STOCK_RETRY_MS", 5000, 0, 3600000);
    /* Checked between groups of stores (a store is claimed whole). High
     * enough that the stores a burst made due together (bench: 50 stores,
     * 86,000 windows) go in one flush: each stop costs the rest a consume
     * step before they are claimed. */
    cfg->claim_limit = (int)wb_env_int(env, "WB_STOCK_CLAIM_LIMIT", 100000, 1, 1000000);
    /* Default: a due store takes every open window of its along (at most
     * one batch per store and window length; flush.c due_horizons). */
    cfg->batch_slack_ms = wb_env_int(env, "WB_STOCK_BATCH_SLACK_MS", 3600000, 0, 3600000);
    /* A WooCommerce store waiting for its rate budget sleeps on its thread
     * (up to WB_STOCK_BUDGET_WAIT_MS): with 8 threads, 25 such stores made
     * the others queue for up to 1.4 s (bench). Threads are cheap; the
     * PostgreSQL connections they use are a pool of SP_PG_POOL. */
    cfg->senders = (int)wb_env_int(env, "WB_STOCK_SENDERS", 32, 1, 64);
    cfg->batch_messages = (int)wb_env_int(env, "WB_STOCK_BATCH_MESSAGES", 20000, 1, 1000000);
    /* A job waiting for its store's budget holds a sender thread: past this
     * it hands its values back (due again when the budget allows) so the
     * thread serves other stores. */
    cfg->reconcile_ms = wb_env_int(env, "WB_STOCK_RECONCILE_MS", 3600000, 0, 7 * 86400000LL);
    cfg->budget_wait_ms = wb_env_int(env, "WB_STOCK_BUDGET_WAIT_MS", 3000, 0, 600000);
    /* How long a value that subtracted an order the WMS has since accepted
     * (or that missed a new order) may stay in the shop, plus the window. */
    cfg->in_flight_ms = wb_env_int(env, "WB_STOCK_INFLIGHT_MS", 1000, 0, 3600000);
}

/* A token no other replica (or earlier life of this one) can hold. */
static void make_token(char *out, size_t size) {
    char host[64] = "host";
    gethostname(host, sizeof host - 1);
    unsigned char rnd[8];
    RAND_bytes(rnd, sizeof rnd);
    snprintf(out, size, "%s/%d/%02x%02x%02x%02x%02x%02x%02x%02x", host, (int)getpid(), rnd[0], rnd[1],
             rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
}

int sp_publisher_init(publisher *p, wb_service *svc, const sp_config *cfg) {
    memset(p, 0, sizeof *p);
    p->svc = svc;
    p->cfg = *cfg;
    p->levels = sp_levels_new();
    wb_strmap_init(&p->clients);
    wb_strmap_init(&p->in_flight);
    wb_strmap_init(&p->removed_logged);
    make_token(p->token, sizeof p->token);
    if (sp_senders_start(&p->senders, cfg->senders, svc->cfg.pg_dsn) != 0) return -1;
    if (sp_claimer_start(&p->claimer, svc->cfg.redis_url) != 0) return -1;
    sp_rpool_start(&p->rpool, svc->cfg.redis_url);
    sp_refresh_routes(p, true);
    /* The first scheduled round comes one period after start, not at once:
     * a rolling restart should not reconcile every store. */
    p->reconcile_scheduled_ms = wb_monotonic_ms();
    const char *group = getenv("WB_STOCK_GROUP");
    const char *topics[] = {WB_TOPIC_STOCK};
    wb_rebalance_hooks hooks = {sp_on_assign, sp_on_revoke, p};
    char err[512];
    p->consumer = wb_consumer_new(svc->cfg.kafka_brokers, group && *group ? group : "wmsbridge-stock-publisher",
                                  topics, 1, &hooks, err, sizeof err);
    if (!p->consumer) {
        wb_error(NULL, "kafka consumer: %s", err);
        return -1;
    }
    return 0;
}

void sp_publisher_close(publisher *p) {
    /* Leaving the group runs sp_on_revoke: touches, levels, offsets. */
    if (p->consumer) wb_consumer_close(p->consumer);
    p->consumer = NULL;
    sp_drain_all(p);
    if (p->senders.thread_count) sp_senders_stop(&p->senders);
    if (p->claimer.started) sp_claimer_stop(&p->claimer);
    if (p->rpool.url) sp_rpool_stop(&p->rpool);
    sp_clients_clear(p);
    wb_strmap_clear(&p->clients, NULL);
    wb_strmap_clear(&p->in_flight, NULL);
    wb_strmap_clear(&p->removed_logged, NULL);
    for (int i = 0; i < SP_STAGE_COUNT; i++) sp_lag_free(&p->lag[i]);
    sp_routes_free(p->routes);
    sp_levels_free(p->levels);
}
