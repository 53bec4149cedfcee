/* stock-publisher: wms.stock.v1 into coalesced, rate-limited shop inventory
 * calls. main.c wires; consume.c, flush.c and commit.c are the three steps of
 * the loop; see docs/stock-path.md for the design. */
#include "publisher.h"
#include "wb/runloop.h"
#include "wb/service.h"

static sp_config config;

static void read_config(wb_env *env, void *ctx) {
    (void)ctx;
    sp_config_read(env, &config);
}

static int run(wb_service *svc, void *ctx) {
    (void)ctx;
    static publisher p;
    if (sp_publisher_init(&p, svc, &config) != 0) {
        sp_publisher_close(&p);
        return 1;
    }
    bool more_due = false; /* the last flush stopped at the claim limit */
    while (!wb_stopping()) {
        wb_heartbeat();
        sp_refresh_routes(&p, false);
        p.consume_wait_ms = more_due ? 0 : 100;
        sp_consume(&p);
        int64_t now = wb_monotonic_ms();
        if (more_due || now - p.last_flush_ms >= p.cfg.flush_interval_ms) {
            p.last_flush_ms = now;
            more_due = sp_flush(&p);
        }
        sp_write_touches_async(&p); /* written while the next consume step decodes */
        sp_drain(&p);
        sp_watch_in_flight(&p);
        sp_publish_lag(&p);
        sp_commit(&p);
        sp_reconcile(&p);
    }
    /* Graceful stop: what is due goes out, then the group is left cleanly
     * (which commits what is done); open windows wait in Redis. */
    sp_write_touches(&p);
    sp_flush(&p);
    sp_drain_all(&p);
    p.last_commit_ms = 0;
    sp_commit(&p);
    sp_publisher_close(&p);
    return 0;
}

int main(void) {
    wb_service_def def = {.name = "stock-publisher", .default_http_port = 8083,
                          .read_config = read_config, .run = run};
    return wb_service_main(&def);
}
