/* catalog-ingest's own WB_* variables (see catalog.h). */
#include "catalog.h"

void ci_config_read(wb_env *env, ci_config *cfg) {
    cfg->poll_ms = wb_env_int(env, "WB_CATALOG_POLL_MS", 300000, 0, 7 * 86400000LL);
    cfg->shopify_page = (int)wb_env_int(env, "WB_CATALOG_SHOPIFY_PAGE", 100, 1, 250);
    cfg->woo_page = (int)wb_env_int(env, "WB_CATALOG_WOO_PAGE", 100, 1, 100);
    cfg->kafka_timeout_ms = (int)wb_env_int(env, "WB_CATALOG_KAFKA_TIMEOUT_MS", 30000, 100, 600000);
    cfg->unit = wb_env_string(env, "WB_CATALOG_UNIT", "st");
}
