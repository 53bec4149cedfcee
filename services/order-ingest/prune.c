/* webhook_receipts only need to outlive the shop's retries (Shopify retries
 * a webhook for up to 48 hours; WooCommerce not at all), so receipts older
 * than WB_ORDER_RECEIPT_RETENTION_H are deleted on the reconciler's schedule,
 * in batches so no statement holds many row locks or runs long beside the
 * webhook traffic. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "ingest.h"
#include "wb/log.h"
#include "wb/metrics.h"
#include "wb/runloop.h"

#define BATCH "5000"

void oi_prune_receipts(oi_ctx *ctx, wb_pg *pg) {
    char hours[32];
    snprintf(hours, sizeof hours, "%d", ctx->cfg.receipt_retention_h);
    const char *p[] = {hours};
    int64_t total = 0;
    while (!wb_stopping()) {
        PGresult *r = wb_pg_query(pg,
            "WITH d AS (DELETE FROM webhook_receipts WHERE ctid IN ("
            "  SELECT ctid FROM webhook_receipts "
            "   WHERE received_at < now() - make_interval(hours => $1::int) LIMIT " BATCH ") RETURNING 1) "
            "SELECT count(*) FROM d", 1, p);
        if (!r) {
            wb_warn(NULL, "pruning webhook receipts failed: %s", wb_pg_error(pg));
            break;
        }
        int64_t n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        PQclear(r);
        total += n;
        if (n < atoi(BATCH)) break;
        wb_heartbeat();
    }
    if (total) {
        wb_counter_add(wb_counter("wb_webhook_receipts_pruned_total",
                                  "Webhook receipts deleted after the retention.", ""), (double)total);
        wb_info(NULL, "pruned %" PRId64 " webhook receipt(s) older than %s h", total, hours);
    }
}
