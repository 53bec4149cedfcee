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
#include "wb/pg.h"
#include "wb/shopclient.h"

#define SP_PG_POOL 4

typedef struct sp_client {
    wb_shopify *shopify;
    wb_woo *woo;
    bool busy;       /* a job of this store is out */
    bool stale;      /* routes changed while busy: free it when the job is back */
    int failures;    /* consecutive jobs that could not reach the shop */
    char *key;       /* the store's client_key it was made with (routes.h) */
    wb_rate_budget *budget; /* the store's shared rate budget; its Redis connection is the worker's */
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
    bool prepare;         /* SP_JOB_SEND from the flush: values carry sku and available; the worker
                           * reads in-flight orders and stock_sent, marks the rest unknown, sends
                           * and records (jobdb.c) */
    int64_t safety_stock; /* the store's, for prepare */
    double rate_rps;      /* WooCommerce: the store's rate_limit_rps */
    int64_t budget_wait_ms; /* longest wait for the budget before giving the values back */
    int64_t throttled_ms; /* set by send.c: the budget ran dry, retry after this (no failure) */
    /* Where the time goes (wall ms; lagstats.h): the flush that claimed the
     * values started, its claims were done, the job was submitted, a worker
     * took it and finished it; and how long it waited for the budget. */
    int64_t flush_ms, claimed_ms, submitted_ms, started_ms, finished_ms, budget_waited_ms;
    int64_t prepared_ms; /* jobdb.c: the worker's PostgreSQL reads were done (0: none) */
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
    /* The workers' PostgreSQL connections (jobdb.c): a pool of at most
     * SP_PG_POOL, opened on first use and taken only around statements,
     * never across a shop call or a budget wait. */
    char *pg_dsn;
    wb_pg *pg_idle[SP_PG_POOL];
    int pg_idle_count, pg_open;
    pthread_cond_t pg_free;
} sp_senders;

/* pg_dsn: where the workers record what the shops accepted (jobdb.c). */
int sp_senders_start(sp_senders *s, int threads, const char *pg_dsn);
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

/* jobdb.c, on a worker: a prepared job's values finished from PostgreSQL
 * (in-flight orders, the last value each shop accepted; unchanged ones
 * marked), the rest marked unknown in stock_sent, sent (sp_send_job), and
 * what the shop accepted recorded. Moving these statements off the main
 * loop lets it claim the next stores while they run. */
void sp_job_run_recorded(sp_senders *s, sp_job *job);
/* jobdb.c: a pooled connection (NULL when none can be opened) and its return. */
wb_pg *sp_senders_pg_take(sp_senders *s);
void sp_senders_pg_give(sp_senders *s, wb_pg *pg);
void sp_senders_pg_close(sp_senders *s);
void sp_client_free(sp_client *c);

#endif
