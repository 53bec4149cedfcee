/* Millisecond-precise quantiles of the time from a window's end to the
 * shop's acceptance, and of the stages it is made of. The Prometheus
 * histogram (wb_stock_flush_lag_seconds) has coarse buckets for dashboards;
 * these counts, one slot per millisecond up to SP_LAG_MAX_MS, answer "where
 * does the time go" exactly (bench/stock_publisher.py reads them). */
#ifndef SP_LAGSTATS_H
#define SP_LAGSTATS_H

#include <stdint.h>

#define SP_LAG_MAX_MS 30000 /* slower values count in the last slot */

typedef struct sp_lagstats {
    int64_t *slots; /* SP_LAG_MAX_MS + 1 counts, allocated on the first record */
    int64_t count;
} sp_lagstats;

/* The stages of one value's lag, in order; their sum is the lag of a value
 * claimed at or after its deadline. */
enum {
    SP_STAGE_LAG,     /* the whole: window end -> the shop's acceptance is settled */
    SP_STAGE_TICK,    /* window end -> its store's claim starts (flush tick, a busy loop, stores claimed before) */
    SP_STAGE_CLAIM,   /* the store's claim scripts (one per partition) */
    SP_STAGE_COMPUTE, /* values computed from the levels until the job is submitted */
    SP_STAGE_QUEUE,   /* the job waits for a sender thread */
    SP_STAGE_READ,    /* on the sender: a pooled PostgreSQL connection, in-flight orders, last values, the in-doubt mark */
    SP_STAGE_BUDGET,  /* the job waits for the store's rate budget */
    SP_STAGE_SEND,    /* the job's calls until the one carrying the value was accepted */
    SP_STAGE_SETTLE,  /* the job back until the main loop records it (not part of the lag) */
    SP_STAGE_COUNT
};

extern const char *const sp_stage_names[SP_STAGE_COUNT];

/* Counts one observation (negative counts as 0). */
void sp_lag_record(sp_lagstats *s, int64_t ms, int64_t times);
/* The smallest ms with at least q of the observations at or below it; -1
 * while empty. */
int64_t sp_lag_quantile(const sp_lagstats *s, double q);
void sp_lag_free(sp_lagstats *s);

#endif
