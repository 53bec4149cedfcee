#ifndef OI_REPORT_ONCE_H
#define OI_REPORT_ONCE_H

#include <stdbool.h>
#include <stdint.h>

/* True the first time this replica is told of (store, order, version)
 * lately, false when it was told of it already. A version the rules do not
 * send (the WMS already picking) stays newer than the recorded row, so the
 * reconciler finds it again on every pass of its overlap: without this the
 * warning and the counter would repeat every minute for each such order.
 * Remembers the last 4096 keys (a ring), per process: after a restart, or
 * once pushed out, a version is reported once more. */
bool oi_report_once(const char *store_id, const char *order_id, int64_t version);

#endif
