/* The stock publisher's state and its three steps, run in turn by one loop
 * (main.c): consume events into windows, flush due windows to the shops,
 * commit what is done. One thread: librdkafka runs the rebalance hooks on it
 * too, so nothing here needs a lock. The helper threads (senders, the
 * claimer, the Redis pool) get their work handed over and never read the
 * levels, routes or trackers. */
#ifndef SP_PUBLISHER_H
#define SP_PUBLISHER_H

#include <stdbool.h>
#include <stdint.h>
#include "claimer.h"
#include "lagstats.h"
#include "levels.h"
#include "routes.h"
#include "rpool.h"
#include "sender.h"
#include "tracker.h"
#include "wb/kafka.h"
#include "wb/service.h"
#include "wb/strmap.h"

#define SP_MAX_PARTITIONS 1024

typedef struct sp_partition {
    bool owned;
    sp_tracker tracker;
    int64_t committed;  /* the last committed offset (the next to read) */
    wb_strmap pending;  /* window -> touch not yet in Redis (num: first offset, ptr: sp_pending) */
    int foreign_checks; /* commit rounds in a row that found another owner's token */
} sp_partition;

typedef struct sp_config {
    int64_t routes_refresh_ms; /* WB_STOCK_ROUTES_REFRESH_MS, default 30000 */
    int64_t flush_interval_ms; /* WB_STOCK_FLUSH_INTERVAL_MS, default 200 */
    int64_t commit_interval_ms;/* WB_STOCK_COMMIT_INTERVAL_MS, default 3000 */
    int64_t retry_ms;          /* WB_STOCK_RETRY_MS: a failed window retries after this, default 5000 */
    int claim_limit;           /* WB_STOCK_CLAIM_LIMIT: windows per flush, checked between groups of stores, default 100000 */
    int64_t batch_slack_ms;    /* WB_STOCK_BATCH_SLACK_MS: how early a store's windows may join a due batch, at most (and by default) the store's window */
    int batch_messages;        /* WB_STOCK_BATCH_MESSAGES: events per consume step, default 20000 */
    int senders;               /* WB_STOCK_SENDERS: sender threads, default 32 */
    int64_t reconcile_ms;      /* WB_STOCK_RECONCILE_MS: how often every store is reconciled, default 3600000, 0 = only on demand */
    int64_t budget_wait_ms;    /* WB_STOCK_BUDGET_WAIT_MS: longest wait for a store's rate budget inside a job, default 3000 */
    int64_t in_flight_ms;      /* WB_STOCK_INFLIGHT_MS: how often in-flight order totals are compared, default 1000, 0 = never */
} sp_config;

typedef struct publisher {
    wb_service *svc;
    sp_config cfg;
    wb_consumer *consumer;
    sp_levels *levels;
    sp_routes *routes;
    int64_t routes_loaded_ms, last_flush_ms, last_commit_ms;
    int consume_wait_ms; /* how long sp_consume waits for a first event (0 while stores wait to be claimed) */
    char token[96];
    sp_partition parts[SP_MAX_PARTITIONS];
    wb_strmap clients; /* store id -> sp_client* (send.c) */
    sp_senders senders;
    sp_claimer claimer; /* claims due windows one group of stores ahead (flush.c) */
    sp_rpool rpool;     /* writes the partitions' touches side by side (consume.c) */
    int64_t reconcile_polled_ms, reconcile_scheduled_ms;
    bool reconcile_out; /* a reconciliation's read job is out */
    int64_t coalesced_events, flushed_windows; /* for the coalescing ratio (flush.c) */
    wb_strmap in_flight;           /* store|sku -> in-flight total at the last read (inflight.c) */
    int64_t in_flight_polled_ms;
    bool in_flight_checked[SP_MAX_PARTITIONS]; /* the partition's sent values were compared with the in-flight totals (inflight.c) */
    wb_strmap removed_logged;      /* store|item of removed articles already logged (flush.c) */
    sp_lagstats lag[SP_STAGE_COUNT]; /* window end -> acceptance and its stages, since start (flush.c) */
    int64_t lag_published_ms;
    bool lag_dirty;
} publisher;

void sp_config_read(wb_env *env, sp_config *cfg);

int sp_publisher_init(publisher *p, wb_service *svc, const sp_config *cfg);
void sp_publisher_close(publisher *p);

/* consume.c: poll a batch of events, apply them, touch their windows. */
int sp_consume(publisher *p);
/* Writes pending touches to Redis and waits for them. */
void sp_write_touches(publisher *p);
/* The same without waiting: the pool writes them while the loop goes on
 * (the next consume step decodes beside the write); sp_touches_wait, which
 * the flush runs first, waits and keeps what failed for the next write.
 * Redis then lags the tracker by one step, as a failed write left it
 * before: the tracker, not Redis, holds the commit back. */
void sp_write_touches_async(publisher *p);
void sp_touches_wait(publisher *p);
/* flush.c: claim due windows, compute, hand each store's values to a sender.
 * True when WB_STOCK_CLAIM_LIMIT ended it with due stores left: the loop
 * flushes again at once (after consuming and settling), not a flush
 * interval later. */
bool sp_flush(publisher *p);
/* flush.c: settle the jobs the senders finished (record, release, retry). */
void sp_drain(publisher *p);
/* Waits for every job out and settles it (before a hand-over or a stop). */
void sp_drain_all(publisher *p);
/* flush.c: each value's quantity (sellable now, from the newest levels) and
 * change_from (the last value the shop accepted, -1 unknown). */
void sp_compute_values(publisher *p, const sp_store *store, sp_value *values, int count);
/* consume.c: opens (or touches) a window due at once, outside any event:
 * a reconciliation's correction. */
void sp_touch_now(publisher *p, int32_t partition, const char *window);
/* consume.c: the same with the store's window (window_ms): a change that is
 * no stock event but goes out through the normal debounce windows. */
void sp_touch_window(publisher *p, int32_t partition, const char *window, int64_t window_ms);
/* inflight.c: when it is due, reads the in-flight order quantities per store
 * and sku and opens the windows of every owned item whose total changed
 * since the last read. */
void sp_watch_in_flight(publisher *p);
/* flush.c: the lag quantiles as gauges, at most every half second. */
void sp_publish_lag(publisher *p);
/* reconcile.c: schedules reconciliations and starts this replica's part of
 * one when a store's client is free. */
void sp_reconcile(publisher *p);
/* reconcile.c: a read job is back: compare, correct, report. */
void sp_reconcile_settle(publisher *p, sp_job *job);
/* commit.c: checkpoint levels, commit offsets, watch for a Redis that lost its data. */
void sp_commit(publisher *p);
void sp_on_assign(void *ctx, const rd_kafka_topic_partition_list_t *parts);
void sp_on_revoke(void *ctx, const rd_kafka_topic_partition_list_t *parts);
/* Reloads the routing snapshot when it is due (or now when force). */
void sp_refresh_routes(publisher *p, bool force);

/* send.c: the store's client, made on first use from its sealed
 * credentials; NULL when they cannot be read. A value's outcome after a job:
 * SP_SENT (the shop accepted it), SP_REJECTED (refused for good: logged and
 * counted, reconciliation sees the drift) or SP_RETRY (no answer: the window
 * opens again after a delay that grows while the store keeps failing). */
sp_client *sp_client_for(publisher *p, const sp_store *store);
void sp_clients_clear(publisher *p);
/* Frees the clients whose store is gone or whose URL or credentials changed
 * (a busy one when its job is back); the others keep their connections. */
void sp_clients_refresh(publisher *p);

#endif
