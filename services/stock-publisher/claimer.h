/* Claims on their own thread and Redis connection, one group of stores
 * ahead of the main loop: while the main loop computes and hands out one
 * group's values (levels, routes, tracker: its own state), the next group's
 * claim scripts run in Redis and their answers are parsed. Claimed in turn
 * on the main thread, 50 stores due together (86,000 windows) took the loop
 * about 2 s, and the last stores' values waited for all of it.
 *
 * Only the claim itself moves: the owner token in every script still fences
 * a replica that lost a partition, and the main loop consumes nothing while
 * a flush is under way, so the tracker sees each claimed window before any
 * later event of it (as when the claim ran on the main thread). */
#ifndef SP_CLAIMER_H
#define SP_CLAIMER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "windows.h"
#include "wb/redis.h"

#define SP_CLAIM_PARTS 1024

typedef struct sp_claimer {
    pthread_t thread;
    bool started, stop;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    char *redis_url;
    wb_redis *redis; /* the claimer's own connection, opened on first use */
    /* One request at a time: the stores of a group, claimed on the listed
     * partitions with the token at `now`. */
    bool requested, done;
    const char *token;
    int64_t now;
    const sp_horizon *horizons;
    int horizon_count;
    int32_t parts[SP_CLAIM_PARTS];
    int part_count;
    /* The answer: per listed partition its windows (count <= 0: none, an
     * error or not the owner; windows NULL then). */
    sp_window *windows[SP_CLAIM_PARTS];
    int counts[SP_CLAIM_PARTS];
} sp_claimer;

int sp_claimer_start(sp_claimer *c, const char *redis_url);
void sp_claimer_stop(sp_claimer *c);
/* Starts claiming the stores on the partitions (both stay the caller's
 * until sp_claimer_wait returns). */
void sp_claimer_submit(sp_claimer *c, const char *token, int64_t now, const sp_horizon *horizons,
                       int horizon_count, const int32_t *parts, int part_count);
/* Waits for the submitted claim; the windows in c->windows/c->counts are
 * the caller's to free (sp_windows_free). */
void sp_claimer_wait(sp_claimer *c);

#endif
