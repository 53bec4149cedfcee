/* fulfilment-reporter: wms.fulfilment.v1 into tracking, completion and refunds in the shop.
 * main.c wires; the path itself lives in the other files of this folder. */
#include "wb/runloop.h"
#include "wb/service.h"

/* Until its path lands, the service keeps its connections and health
 * endpoints alive and waits for SIGTERM. */
static int run(wb_service *svc, void *ctx) {
    (void)svc, (void)ctx;
    while (!wb_stopping()) {
        wb_heartbeat();
        wb_sleep_ms(1000);
    }
    return 0;
}

int main(void) {
    wb_service_def def = {.name = "fulfilment-reporter", .default_http_port = 8084, .run = run};
    return wb_service_main(&def);
}
