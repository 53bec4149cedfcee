/* order-ingest's own WB_* variables (see ingest.h). */
#include "ingest.h"

void oi_config_read(wb_env *env, oi_config *cfg) {
    cfg->pg_pool = (int)wb_env_int(env, "WB_ORDER_PG_POOL", 16, 1, 256);
    cfg->kafka_timeout_ms = (int)wb_env_int(env, "WB_ORDER_KAFKA_TIMEOUT_MS", 4000, 100, 60000);
    cfg->reconcile_ms = wb_env_int(env, "WB_ORDER_RECONCILE_MS", 60000, 0, 86400000);
    cfg->reconcile_overlap_ms =
        wb_env_int(env, "WB_ORDER_RECONCILE_OVERLAP_MS", 300000, 0, 86400000);
    cfg->receipt_retention_h = (int)wb_env_int(env, "WB_ORDER_RECEIPT_RETENTION_H", 168, 1, 87600);
    cfg->batchers = (int)wb_env_int(env, "WB_ORDER_BATCHERS", 2, 1, 16);
    cfg->batch_max = (int)wb_env_int(env, "WB_ORDER_BATCH_MAX", 128, 1, 1000);
    cfg->store_cache_ms = (int)wb_env_int(env, "WB_ORDER_STORE_CACHE_MS", 5000, 0, 60000);
    cfg->commit_retry_ms = (int)wb_env_int(env, "WB_ORDER_COMMIT_RETRY_MS", 10000, 0, 120000);
    static const char *const schemes[] = {"http", "https", NULL};
    const char *url = wb_env_string(env, "WB_ORDER_PUBLIC_URL", "");
    cfg->public_url = *url ? wb_env_url(env, "WB_ORDER_PUBLIC_URL", "", schemes) : "";
}
