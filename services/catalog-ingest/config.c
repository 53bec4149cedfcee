/* catalog-ingest's own WB_* variables (see catalog.h). */
#include "catalog.h"

void ci_config_read(wb_env *env, ci_config *cfg) {
    cfg->poll_ms = wb_env_int(env, "WB_CATALOG_POLL_MS", 300000, 0, 7 * 86400000LL);
    cfg->full_sync_ms = wb_env_int(env, "WB_CATALOG_FULL_SYNC_MS", 86400000, 0, 30 * 86400000LL);
    /* At least a second: the shops compare modification times in whole
     * seconds and strictly (`>`), so a product changed in the cursor's own
     * second would be missed without it. */
    cfg->overlap_ms = wb_env_int(env, "WB_CATALOG_POLL_OVERLAP_MS", 60000, 1000, 86400000);
    /* 199: the most variants a CatalogVariants query may ask for within
     * Shopify's 1000-point cap on one query (5 points a variant plus 3);
     * more is refused with MAX_COST_EXCEEDED. */
    cfg->shopify_page = (int)wb_env_int(env, "WB_CATALOG_SHOPIFY_PAGE", 199, 1, 199);
    cfg->woo_page = (int)wb_env_int(env, "WB_CATALOG_WOO_PAGE", 100, 1, 100);
    cfg->woo_workers = (int)wb_env_int(env, "WB_CATALOG_WOO_WORKERS", 4, 1, 16);
    cfg->kafka_timeout_ms = (int)wb_env_int(env, "WB_CATALOG_KAFKA_TIMEOUT_MS", 30000, 100, 600000);
    cfg->unit = wb_env_string(env, "WB_CATALOG_UNIT", "st");
    /* A bulk operation costs one mutation and a few polls, where pages cost
     * 5 points a variant (a 100,000-variant store: 500,000 points, 250 s at
     * 2,000 a second, the Enterprise restore rate); it has a start-up delay of its own, so small
     * stores keep paging. */
    cfg->bulk_min_variants = (long)wb_env_int(env, "WB_CATALOG_BULK_MIN_VARIANTS", 5000, 0, 1000000000);
    cfg->bulk_batch = (int)wb_env_int(env, "WB_CATALOG_BULK_BATCH", 1000, 1, 10000);
    cfg->bulk_poll_ms = (int)wb_env_int(env, "WB_CATALOG_BULK_POLL_MS", 1000, 50, 60000);
}
