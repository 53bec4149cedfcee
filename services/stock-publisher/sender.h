/* Sending runs on a pool of threads, one job per store at a time, so a store
 * that is slow, throttled or down never holds up the others: the loop goes on
 * consuming and flushing, and settles each job when it comes back.
 *
 * The main thread owns the clients map and every flag in it; a worker only
 * uses the client of the job it holds. */
#ifndef SP_SENDER_H
#define SP_SENDER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "budget.h"
#include "plan.h"
#include "wb/shopclient.h"

typedef struct sp_client {
    wb_shopify *shopify;
    wb_woo *woo;
    bool busy;       /* a job of this store is out */
    bool stale;      /* routes changed while busy: free it when the job is back */
    int failures;    /* consecutive jobs that could not reach the shop */
    char *key;       /* the store's client_key it was made with (routes.h) */
    sp_budget *budget; /* the store's shared rate budget; its Redis connection is the worker's */
} sp_client;

enum { SP_JOB_SEND, SP_JOB_READ };

typedef struct sp_job {
    struct sp_job *next;
    int kind;         /* SP_JOB_SEND, or SP_JOB_READ: read the shop's values into change_from (reconcile.c) */
    bool read_failed; /* SP_JOB_READ: the shop could not be read */
    void *ctx;        /* SP_JOB_READ: the reconciliation's own state (reconcile.c frees it) */
    char *store_id, *platform;
    bool delta;       /* the store's stock_mode is delta */
    sp_value *values; /* owned by the job */
    int count;
    sp_client *client;
    double rate_rps;      /* WooCommerce: the store's rate_limit_rps */
    int64_t budget_wait_ms; /* longest wait for the budget before giving the values back */
    int64_t throttled_ms; /* set by send.c: the budget ran dry, retry after this (no failure) */
    /* Where the time goes (wall ms; lagstats.h): the flush that claimed the
     * values started, its claims were done, the job was submitted, a worker
     * took it and finished it; and how long it waited for the budget. */
    int64_t flush_ms, claimed_ms, submitted_ms, started_ms, finished_ms, budget_waited_ms;
} sp_job;

typedef struct sp_senders {
    pthread_t threads[64];
    int thread_count;
    pthread_mutex_t lock;
    pthread_cond_t work, idle;
    sp_job *todo, *todo_tail; /* first in, first out: the store claimed first (longest due) goes first */
    sp_job *done;
    int outstanding;     /* submitted and not yet taken back by the main thread */
    bool stop;
} sp_senders;

int sp_senders_start(sp_senders *s, int threads);
void sp_senders_stop(sp_senders *s);
void sp_senders_submit(sp_senders *s, sp_job *job);
/* A finished job, or NULL. The caller settles and frees it. */
sp_job *sp_senders_take(sp_senders *s);
/* Blocks until every submitted job has finished (not yet taken). */
void sp_senders_wait(sp_senders *s);
void sp_job_free(sp_job *job);

/* send.c: sends a job's values in the fewest calls and sets each value's
 * outcome, or for a read job sets each value's change_from to what the shop
 * holds (-2 when the shop has no such item at that location). Runs on a
 * worker. */
void sp_send_job(sp_job *job);
void sp_client_free(sp_client *c);

#endif
