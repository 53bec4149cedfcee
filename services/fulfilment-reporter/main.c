/* fulfilment-reporter: wms.fulfilment.v1 into tracking, completion and refunds in the shop.
 * main.c wires; the path itself lives in the other files of this folder
 * (see reporter.h and docs/fulfilment-path.md). */
#include "reporter.h"
#include "wb/runloop.h"
#include "wb/service.h"

static fr_config config;

static void read_config(wb_env *env, void *ctx) {
    (void)ctx;
    fr_config_read(env, &config);
}

static int run(wb_service *svc, void *ctx) {
    (void)ctx;
    static reporter r;
    if (fr_reporter_init(&r, svc, &config) != 0) {
        fr_reporter_close(&r);
        return 1;
    }
    /* An event in hand is finished before the loop looks at wb_stopping();
     * leaving the group then commits nothing new: every handled event was
     * committed as it was done. */
    while (!wb_stopping()) {
        wb_heartbeat();
        fr_turn(&r);
    }
    fr_reporter_close(&r);
    return 0;
}

int main(void) {
    wb_service_def def = {.name = "fulfilment-reporter", .default_http_port = 8084,
                          .read_config = read_config, .run = run};
    return wb_service_main(&def);
}
