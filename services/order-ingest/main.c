/* order-ingest: Shop orders into shop.orders.v1: webhooks and the polling reconciler come with their own issue.
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
    wb_service_def def = {.name = "order-ingest", .default_http_port = 8081, .run = run};
    return wb_service_main(&def);
}
