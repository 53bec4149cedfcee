/* order-ingest: shop orders into shop.orders.v1. main.c wires; webhook.c
 * serves the webhooks, map_*.c turn a shop's order into the canonical
 * message, rules.c decides whether and as what it goes out, ingest.c
 * produces and records it, reconcile.c catches what webhooks missed.
 * See docs/order-path.md. */
#include "ingest.h"
#include "oauth.h"
#include "woo_auth.h"
#include "wb/runloop.h"
#include "wb/service.h"

static oi_ctx ctx;

static void read_config(wb_env *env, void *arg) {
    oi_config_read(env, &((oi_ctx *)arg)->cfg);
    oi_oauth_config_read(env);
}

static void add_routes(wb_service *svc, wb_http_server *http, void *arg) {
    oi_add_routes(svc, http, arg);
    oi_oauth_add_routes(http, arg);
    oi_woo_auth_add_routes(http, arg);
}

/* The main loop runs the reconciler on schedule and on request; the
 * webhooks are served by the HTTP server's threads meanwhile. */
static int run(wb_service *svc, void *arg) {
    oi_ctx *c = arg;
    int64_t next = wb_monotonic_ms() + (c->cfg.reconcile_ms ? 5000 : 0);
    while (!wb_stopping()) {
        wb_heartbeat();
        bool due = c->cfg.reconcile_ms && wb_monotonic_ms() >= next;
        if (oi_reconcile_requested() || due) {
            oi_reconcile_all(c, svc->pg);
            oi_prune_receipts(c, svc->pg);
            next = wb_monotonic_ms() + c->cfg.reconcile_ms;
        }
        wb_sleep_ms(200);
    }
    return 0;
}

int main(void) {
    wb_service_def def = {.name = OI_SERVICE, .default_http_port = 8081,
                          .read_config = read_config, .add_routes = add_routes,
                          .run = run, .ctx = &ctx};
    int status = wb_service_main(&def);
    oi_batcher_stop(&ctx);
    oi_pool_close(&ctx.pool);
    oi_store_cache_clear();
    return status;
}
