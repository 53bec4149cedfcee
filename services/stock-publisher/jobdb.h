/* The PostgreSQL side of sending stock values: what each value subtracts for
 * orders in flight, what the shop holds as far as the bridge knows
 * (stock_sent), marking values in doubt before a call and recording what the
 * shop accepted after it. The flush's jobs run these on their sender thread
 * (sp_job_run_recorded); a reconciliation runs the reads on the main loop. */
#ifndef SP_JOBDB_H
#define SP_JOBDB_H

#include <stdint.h>
#include "plan.h"
#include "wb/pg.h"
#include "wb/strmap.h"

/* In-flight order quantities per sku (values' sku; NULL ones skipped) of
 * one store, read now: sku -> num. */
wb_strmap sp_read_in_flight(wb_pg *pg, const char *store_id, const sp_value *values, int count);
/* The last value the shop accepted per "item|location" -> num. */
wb_strmap sp_read_last_sent(wb_pg *pg, const char *store_id, const sp_value *values, int count);
/* Each pending value's in_flight, quantity (sellable from its available)
 * and change_from; one the shop already holds becomes SP_UNCHANGED. */
void sp_values_finish(sp_value *values, int count, int64_t safety_stock, wb_strmap *flight,
                      wb_strmap *sent);
/* Before a call that may change the shop, the recorded values of its
 * pending items become unknown (-1). 0, or -1 when PostgreSQL failed
 * (nothing may be sent then). */
int sp_forget_sent(wb_pg *pg, const char *store_id, const sp_value *values, int count);
/* Records the accepted values (SP_SENT) in stock_sent, one statement. */
void sp_record_sent(wb_pg *pg, const char *store_id, const sp_value *values, int count);

#endif
