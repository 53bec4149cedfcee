#include "lagstats.h"

#include <math.h>
#include <stdlib.h>

const char *const sp_stage_names[SP_STAGE_COUNT] = {"lag", "tick", "claim", "compute",
                                                    "queue", "read", "budget", "send", "settle"};

void sp_lag_record(sp_lagstats *s, int64_t ms, int64_t times) {
    if (times <= 0) return;
    if (!s->slots) s->slots = calloc(SP_LAG_MAX_MS + 1, sizeof *s->slots);
    if (!s->slots) return;
    if (ms < 0) ms = 0;
    if (ms > SP_LAG_MAX_MS) ms = SP_LAG_MAX_MS;
    s->slots[ms] += times;
    s->count += times;
}

int64_t sp_lag_quantile(const sp_lagstats *s, double q) {
    if (!s->slots || s->count == 0) return -1;
    /* The rank of the q-quantile: at least 1, at most every observation. */
    int64_t rank = (int64_t)ceil(q * (double)s->count);
    if (rank < 1) rank = 1;
    if (rank > s->count) rank = s->count;
    int64_t seen = 0;
    for (int64_t ms = 0; ms <= SP_LAG_MAX_MS; ms++) {
        seen += s->slots[ms];
        if (seen >= rank) return ms;
    }
    return SP_LAG_MAX_MS;
}

void sp_lag_free(sp_lagstats *s) {
    free(s->slots);
    s->slots = NULL;
    s->count = 0;
}
