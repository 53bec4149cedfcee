/* A few threads with a Redis connection each, to run one call per partition
 * side by side while the main loop waits for all of them. Writing a consume
 * step's touches went partition after partition: 12 round trips, each
 * waiting to be scheduled on a busy machine, and the arguments of each built
 * on the main thread, 2/3 of the drain's time (bench: 160-240 ms of touches
 * against 80 ms of decoding per 20,000 events). The main loop still waits
 * for every call before it flushes (consume.c), so a claim never runs
 * beside a write of the windows it claims. */
#ifndef SP_RPOOL_H
#define SP_RPOOL_H

#include <pthread.h>
#include <stdbool.h>
#include "wb/redis.h"

#define SP_RPOOL_THREADS 3

/* One task: fn(redis, task) on some thread's connection (or the caller's). */
typedef void (*sp_rpool_fn)(wb_redis *r, void *task);

typedef struct sp_rpool {
    pthread_t threads[SP_RPOOL_THREADS];
    wb_redis *redis[SP_RPOOL_THREADS]; /* each thread's, opened on first use */
    int thread_count;
    char *url;
    pthread_mutex_t lock;
    pthread_cond_t work, done;
    bool stop;
    sp_rpool_fn fn;
    void **tasks;
    int task_count, next, finished;
    unsigned generation; /* a new batch of tasks */
} sp_rpool;

int sp_rpool_start(sp_rpool *p, const char *redis_url);
void sp_rpool_stop(sp_rpool *p);
/* Runs fn on every task, the calling thread taking part with own (its
 * connection); returns when all are done. */
void sp_rpool_run(sp_rpool *p, wb_redis *own, sp_rpool_fn fn, void **tasks, int count);
/* The same in two halves: begin hands the tasks to the threads and returns
 * at once; finish runs what no thread took yet on own and waits for the
 * rest (so a pool whose threads cannot reach Redis still gets done). One
 * batch at a time; finish without a batch returns at once. */
void sp_rpool_begin(sp_rpool *p, sp_rpool_fn fn, void **tasks, int count);
void sp_rpool_finish(sp_rpool *p, wb_redis *own);

#endif
