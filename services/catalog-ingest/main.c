/* catalog-ingest: products and variants into shop.catalog.v1 and the
 * product mappings. main.c wires; sync.c runs the syncs that the schedule,
 * bridgectl (`products sync`), POST /sync/{store} and the product webhooks
 * (webhook.c) ask for. See docs/catalog-path.md. */
#include "catalog.h"
#include "wb/runloop.h"
#include "wb/service.h"

static ci_ctx ctx;

static void read_config(wb_env *env, void *arg) {
    ci_config_read(env, &((ci_ctx *)arg)->cfg);
}

static int run(wb_service *svc, void *arg) {
    ci_ctx *c = arg;
    c->svc = svc;
    int64_t next_schedule = 0;
    while (!wb_stopping()) {
        wb_heartbeat();
        if (wb_monotonic_ms() >= next_schedule) {
            ci_schedule(c, svc->pg);
            next_schedule = wb_monotonic_ms() + 1000;
        }
        if (!ci_run_pending(c, svc->pg)) wb_sleep_ms(200);
    }
    return 0;
}

int main(void) {
    wb_service_def def = {.name = CI_SERVICE, .default_http_port = 8082, .read_config = read_config,
                          .add_routes = ci_add_routes, .run = run, .ctx = &ctx};
    return wb_service_main(&def);
}
