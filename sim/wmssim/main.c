/* wmssim: wiring. Reads the configuration, opens the producer and runs the
 * chosen mode until it ends or SIGTERM; exits 0 when it went well, 1 when
 * something could not be produced, 2 on bad configuration. */
#include <stdio.h>

#include "wb/runloop.h"
#include "wmssim.h"

int main(int argc, char **argv) {
    wb_runloop_init();
    ws_config cfg;
    int rc = ws_config_read(&cfg, argc, argv);
    if (rc) return rc == 1 ? 0 : rc;
    wb_log_init("wmssim", cfg.log_level);
    char err[512];
    ws_emitter em = {0};
    em.producer = wb_producer_new(cfg.brokers, "wmssim", err, sizeof err);
    if (!em.producer) {
        wb_error(NULL, "producer: %s", err);
        ws_config_free(&cfg);
        return 1;
    }
    switch (cfg.mode) {
    case WS_MODE_LOAD: rc = ws_run_load(&cfg, &em); break;
    case WS_MODE_SCRIPT: rc = ws_run_script(&cfg, &em); break;
    default: rc = ws_run_gentle(&cfg, &em); break;
    }
    wb_producer_destroy(em.producer, 10000);
    if (em.failed && !rc) rc = 1;
    wb_info(NULL, "exit %d", rc);
    ws_config_free(&cfg);
    return rc;
}
