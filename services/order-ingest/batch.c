/* Group commit: the orders that arrive while a batcher is busy go through
 * the next transaction together.
 *
 * One order per transaction cost a webhook five PostgreSQL round trips, a
 * commit (an fsync) and a Kafka round trip of its own (acks=all), and the
 * handler held a pooled connection across all of it: about 1,200 webhooks/s
 * on the idle machine, p99 69 ms. A batcher instead takes every order queued
 * (up to WB_ORDER_BATCH_MAX), and for the whole batch:
 *
 *   one round trip (libpq pipeline mode, prepared statements): BEGIN; the
 *   orders' advisory locks, taken in one statement in a fixed order (so two
 *   batchers, or two replicas, never deadlock); one read of the rows and
 *   receipts (`unnest` of arrays); then decide each order (rules.h),
 *   produce every message and wait for all the acks; then one round trip:
 *   the rows and receipts of the orders Kafka took in one statement, and
 *   COMMIT (one fsync).
 *
 * Then each order's owner gets its own outcome through its callback: a
 * webhook is answered from the batcher's thread (oi_batch_submit; no
 * handler thread waits), the reconciler's thread is woken
 * (oi_batch_ingest). A WooCommerce deletion known
 * by its id only takes the same path: the read brings it the last message
 * sent, which goes out again as cancelled (resolve_deleted). The guarantees
 * are the old ones: the lock is per order (hashtext(store), hashtext(order),
 * the key older replicas take too); a row is written only after its message
 * was acknowledged; an order Kafka did not take is not
 * recorded (503) while the rest of the batch is. When the commit fails
 * after messages went out, the record is retried on a fresh connection for
 * WB_ORDER_COMMIT_RETRY_MS (record_again: chaos finding 7) before every
 * order of the batch gets 503; the shop's retry then produces the same
 * event_id again, which consumers recognise. The same order twice in the
 * queue never shares a batch: the second waits for the next one and then
 * sees the first's row (duplicate, or update).
 *
 * No timer: a batcher takes what is queued the moment it is free, so an
 * order alone goes through at once, and under load the batch is what
 * arrived during the previous one (PostgreSQL's own group commit works the
 * same way). WB_ORDER_BATCHERS (default 2) run side by side, so one collects
 * while another waits for its acks and fsync. */
#include <inttypes.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ingest.h"
#include "report_once.h"
#include "wb/http.h"
#include "wb/kafka.h"
#include "wb/log.h"
#include "wb/metrics.h"
#include "wb/runloop.h"

typedef struct job {
    /* in: the handler's, alive until done */
    const wb_store *store;
    oi_order *order;
    const char *receipt_key;
    bool passes;
    /* A deletion known by its id only (WooCommerce order.deleted): order
     * holds just the store and order ids until the batch reads the last
     * message sent, which then goes out again as cancelled, with version
     * max(deleted_ms, last version + 1). 0: a whole order. */
    int64_t deleted_ms;
    char *last_message; /* the row's, read for a deletion only */
    /* out */
    oi_status st;
    oi_action action;
    char err[768];
    /* the batcher's */
    oi_prior prior;
    char state[32];
    bool seen;
    bool sends;   /* a message was queued for it */
    char *json;   /* the message, for last_message */
    int64_t queued_ms; /* wb_monotonic_ms() when queued */
    /* Called once the job's outcome is set, on the batcher's thread: the
     * webhook's answer goes out from there (no handler thread waits for
     * it), the reconciler's waiter is woken (oi_batch_ingest). */
    oi_batch_done done;
    void *done_arg;
    struct job *next;
} job;

struct oi_batcher {
    pthread_mutex_t mu;
    pthread_cond_t work_cv;
    job *head, *tail;
    bool stop;
    int n_threads, max;
    pthread_t *threads;
    wb_metric *batch_size;
    oi_ctx *ctx;
};

/* ------------------------------------------------------------ arrays */

/* A PostgreSQL array literal of text values (NULL elements allowed), for
 * `$n::text[]`: every element quoted, `"` and `\` escaped. */
typedef struct text_array {
    char *buf;
    size_t len, cap;
    int n;
} text_array;

static void ta_reserve(text_array *a, size_t more) {
    if (a->len + more + 2 <= a->cap) return;
    a->cap = (a->len + more + 2) * 2;
    a->buf = realloc(a->buf, a->cap);
}

static void ta_add(text_array *a, const char *s) {
    size_t n = s ? strlen(s) : 0;
    ta_reserve(a, 2 * n + 4);
    a->buf[a->len++] = a->n++ ? ',' : '{';
    if (!s) {
        memcpy(a->buf + a->len, "NULL", 4);
        a->len += 4;
        return;
    }
    a->buf[a->len++] = '"';
    while (*s) { /* runs without a quote or backslash copied whole */
        size_t run = strcspn(s, "\"\\");
        memcpy(a->buf + a->len, s, run);
        a->len += run;
        s += run;
        if (*s) {
            a->buf[a->len++] = '\\';
            a->buf[a->len++] = *s++;
        }
    }
    a->buf[a->len++] = '"';
}

/* The finished literal (owned by a; "{}" when empty). */
static const char *ta_done(text_array *a) {
    ta_reserve(a, 2);
    if (!a->n) a->buf[a->len++] = '{';
    a->buf[a->len++] = '}';
    a->buf[a->len] = 0;
    return a->buf;
}

static void ta_free(text_array *a) { free(a->buf); }

/* ------------------------------------------------------------ PostgreSQL */

static void fail_jobs(job **jobs, int n, oi_status st, const char *what, const char *detail) {
    for (int i = 0; i < n; i++) {
        if (jobs[i]->st != OI_OK) continue; /* keeps its own failure */
        jobs[i]->st = st;
        snprintf(jobs[i]->err, sizeof jobs[i]->err, "%s: %s", what, detail);
    }
}

/* Statements sent together in libpq's pipeline mode: one round trip. The
 * server still runs them one after the other, so a read after the lock
 * statement takes its snapshot once the locks are held. */
typedef struct stmt {
    const char *name; /* prepared (prepare_statements), or NULL: sql as it is */
    const char *sql;
    int n;
    const char *const *params;
} stmt;

static void result_error(PGresult *r, PGconn *c, char *why, size_t whylen) {
    const char *msg = r ? PQresultErrorMessage(r) : PQerrorMessage(c);
    snprintf(why, whylen, "%s", msg && *msg ? msg : "no answer");
    size_t len = strlen(why);
    while (len && (why[len - 1] == '\n' || why[len - 1] == ' ')) why[--len] = 0;
}

/* The batch's statements, prepared once per connection: PostgreSQL plans
 * them once, not for every batch. */
static const struct {
    const char *name, *sql;
    int n;
} statements[] = {
    /* Every order's lock in one statement, sorted, so batches that share
     * orders wait for each other instead of deadlocking; the same keys
     * older replicas took. */
    {"oi_batch_lock",
     "SELECT count(pg_advisory_xact_lock(k.s, k.o)) FROM ("
     "  SELECT DISTINCT hashtext(u.s) AS s, hashtext(u.o) AS o "
     "  FROM unnest($1::text[], $2::text[]) AS u(s, o) ORDER BY 1, 2) AS k", 2},
    /* Every order's row, whether its webhook's receipt is recorded, and for
     * a deletion known by its id only ($4) the last message sent. */
    {"oi_batch_read",
     "SELECT o.version::bigint, o.state, EXISTS (SELECT 1 FROM webhook_receipts w "
     "  WHERE w.store_id = u.s AND w.dedup_key = u.r), CASE WHEN u.d THEN o.last_message END "
     "FROM unnest($1::text[], $2::text[], $3::text[], $4::bool[]) WITH ORDINALITY AS u(s, o, r, d, i) "
     "LEFT JOIN ingested_orders o ON o.store_id = u.s AND o.shop_order_id = u.o "
     "ORDER BY u.i", 4},
    /* The rows of the orders that went out and the receipts of every order
     * decided. An update keeps the state the WMS has reported (sent or
     * accepted). */
    {"oi_batch_write",
     "WITH receipt AS (INSERT INTO webhook_receipts (store_id, dedup_key) "
     "  SELECT * FROM unnest($9::text[], $10::text[]) ON CONFLICT DO NOTHING) "
     "INSERT INTO ingested_orders (store_id, shop_order_id, order_number, version, "
     "last_event_id, state, open_quantities, last_message) "
     "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], "
     "  $6::text[], $7::jsonb[], $8::text[]) "
     "ON CONFLICT (store_id, shop_order_id) DO UPDATE SET order_number = EXCLUDED.order_number, "
     "version = EXCLUDED.version, last_event_id = EXCLUDED.last_event_id, "
     "state = CASE WHEN EXCLUDED.state = 'cancelled' THEN 'cancelled' ELSE ingested_orders.state END, "
     "open_quantities = EXCLUDED.open_quantities, last_message = EXCLUDED.last_message, "
     "updated_at = now()", 10},
};

/* The batch's statements look keys up (and the foreign-key checks of its
 * inserts look stores up): an index probe each is always the right plan.
 * But a plan is cached per connection, and one made while a table was small
 * (a fresh install, or after a purge) scans the whole table at every batch
 * until autoanalyze replans it, a minute or more later: 9 million receipts
 * read for 20,000 webhooks in the bench, PostgreSQL's CPU per webhook up
 * from ~150 to 500-1,200 us. So this connection does not plan sequential
 * scans where an index serves. */
static int prepare_statements(PGconn *c, char *why, size_t whylen) {
    PGresult *set = PQexec(c, "SET enable_seqscan = off");
    bool set_ok = set && PQresultStatus(set) == PGRES_COMMAND_OK;
    if (!set_ok) result_error(set, c, why, whylen);
    PQclear(set);
    if (!set_ok) return -1;
    for (size_t i = 0; i < sizeof statements / sizeof statements[0]; i++) {
        PGresult *r = PQprepare(c, statements[i].name, statements[i].sql, statements[i].n, NULL);
        bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok) result_error(r, c, why, whylen);
        PQclear(r);
        if (!ok) return -1;
    }
    return 0;
}

/* Runs the statements; the last one's result (PQclear it), or NULL with why
 * (then the connection is left to be closed: a failed pipeline may leave a
 * transaction open). */
static PGresult *pipeline(PGconn *c, const stmt *s, int n, char *why, size_t whylen) {
    *why = 0;
    if (!PQenterPipelineMode(c)) {
        result_error(NULL, c, why, whylen);
        return NULL;
    }
    bool sent = true;
    for (int i = 0; i < n && sent; i++)
        sent = (s[i].name ? PQsendQueryPrepared(c, s[i].name, s[i].n, s[i].params, NULL, NULL, 0)
                          : PQsendQueryParams(c, s[i].sql, s[i].n, NULL, s[i].params, NULL, NULL, 0)) == 1;
    if (!sent || !PQpipelineSync(c)) {
        result_error(NULL, c, why, whylen);
        return NULL;
    }
    PGresult *last = NULL, *r;
    for (int i = 0; i < n; i++) {
        while ((r = PQgetResult(c)) != NULL) {
            ExecStatusType st = PQresultStatus(r);
            if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
                if (!*why) result_error(r, c, why, whylen);
                PQclear(r);
            } else if (i == n - 1 && !*why) {
                PQclear(last);
                last = r;
            } else {
                PQclear(r);
            }
        }
    }
    r = PQgetResult(c); /* the sync */
    bool synced = r && PQresultStatus(r) == PGRES_PIPELINE_SYNC;
    PQclear(r);
    if (!synced || !PQexitPipelineMode(c)) {
        if (!*why) result_error(NULL, c, why, whylen);
    }
    if (*why) {
        PQclear(last);
        return NULL;
    }
    return last;
}

/* BEGIN, every order's lock, then every order's row and whether its
 * webhook's receipt is recorded: one round trip. */
static int lock_and_read(PGconn *c, job **jobs, int n, char *why, size_t whylen) {
    text_array stores = {0}, orders = {0}, receipts = {0}, deleted = {0};
    for (int i = 0; i < n; i++) {
        ta_add(&stores, jobs[i]->store->id);
        ta_add(&orders, jobs[i]->order->msg.order_id);
        ta_add(&receipts, jobs[i]->receipt_key);
        ta_add(&deleted, jobs[i]->deleted_ms ? "t" : "f");
    }
    const char *p[] = {ta_done(&stores), ta_done(&orders), ta_done(&receipts), ta_done(&deleted)};
    const stmt s[] = {
        {NULL, "BEGIN", 0, NULL},
        {"oi_batch_lock", NULL, 2, p},
        {"oi_batch_read", NULL, 4, p},
    };
    PGresult *r = pipeline(c, s, 3, why, whylen);
    ta_free(&stores);
    ta_free(&orders);
    ta_free(&receipts);
    ta_free(&deleted);
    if (!r) return -1;
    if (PQntuples(r) != n) {
        snprintf(why, whylen, "%d rows read for %d orders", PQntuples(r), n);
        PQclear(r);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        job *j = jobs[i];
        memset(&j->prior, 0, sizeof j->prior);
        if (!PQgetisnull(r, i, 0)) {
            j->prior.exists = true;
            j->prior.version = strtoll(PQgetvalue(r, i, 0), NULL, 10);
            snprintf(j->state, sizeof j->state, "%s", PQgetvalue(r, i, 1));
            j->prior.state = j->state;
        }
        j->seen = PQgetvalue(r, i, 2)[0] == 't';
        free(j->last_message);
        j->last_message = PQgetisnull(r, i, 3) ? NULL : strdup(PQgetvalue(r, i, 3));
    }
    PQclear(r);
    return 0;
}

/* The rows and receipts in one statement, then COMMIT: one round trip, one
 * fsync for the batch. */
static int write_and_commit(PGconn *c, job **jobs, int n, char *why, size_t whylen) {
    text_array a[10] = {{0}};
    for (int i = 0; i < n; i++) {
        job *j = jobs[i];
        if (j->st != OI_OK || j->seen) continue;
        if (j->receipt_key) {
            ta_add(&a[8], j->store->id);
            ta_add(&a[9], j->receipt_key);
        }
        if (!j->sends) continue;
        const wb_order_msg *m = &j->order->msg;
        char version[32];
        snprintf(version, sizeof version, "%" PRId64, m->version);
        bool cancel = j->action == OI_ACT_CANCEL;
        char *open = cancel ? NULL : oi_open_quantities(m);
        ta_add(&a[0], m->store_id);
        ta_add(&a[1], m->order_id);
        ta_add(&a[2], m->order_number);
        ta_add(&a[3], version);
        ta_add(&a[4], m->event_id);
        ta_add(&a[5], cancel ? "cancelled" : "sent");
        ta_add(&a[6], cancel ? "{}" : open);
        ta_add(&a[7], j->json);
        free(open);
    }
    const char *p[10];
    for (int k = 0; k < 10; k++) p[k] = ta_done(&a[k]);
    stmt s[2] = {{"oi_batch_write", NULL, 10, p}, {NULL, "COMMIT", 0, NULL}};
    bool nothing = !a[0].n && !a[8].n;
    PGresult *r = pipeline(c, nothing ? s + 1 : s, nothing ? 1 : 2, why, whylen);
    for (int k = 0; k < 10; k++) ta_free(&a[k]);
    /* COMMIT of a transaction that failed answers ROLLBACK */
    bool committed = r && strcmp(PQcmdStatus(r), "COMMIT") == 0;
    if (r && !committed) snprintf(why, whylen, "commit answered %s", PQcmdStatus(r));
    PQclear(r);
    return committed ? 0 : -1;
}

/* ------------------------------------------------------------ Kafka */

/* The batch's delivery reports. A report may come after the batcher gave up
 * waiting, so the record is shared by reference count with the reports. */
typedef struct acks acks;
typedef struct ack_slot {
    acks *owner;
    rd_kafka_resp_err_t err;
    bool done;
} ack_slot;
struct acks {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs, pending;
    ack_slot slots[];
};

static void acks_release(acks *a) {
    pthread_mutex_lock(&a->mu);
    int refs = --a->refs;
    pthread_mutex_unlock(&a->mu);
    if (refs) return;
    pthread_mutex_destroy(&a->mu);
    pthread_cond_destroy(&a->cv);
    free(a);
}

static void on_ack(rd_kafka_resp_err_t err, int32_t partition, int64_t offset, void *opaque) {
    (void)partition, (void)offset;
    ack_slot *s = opaque;
    acks *a = s->owner;
    pthread_mutex_lock(&a->mu);
    s->err = err;
    s->done = true;
    if (--a->pending == 0) pthread_cond_signal(&a->cv);
    pthread_mutex_unlock(&a->mu);
    acks_release(a);
}

/* Queues j's message (its type set); 0, or -1 with j failed. The mapper's
 * checked encoding is taken as it is when it still says the same; when only
 * the type differs (an update), the message is encoded again without the
 * schema check, which it passed, since the type is the rules' own value.
 * An order with no encoding (a deletion known by its id) is checked. */
static int queue_message(oi_ctx *ctx, job *j, ack_slot *slot) {
    const wb_order_msg *m = &j->order->msg;
    char why[200] = "out of memory";
    if (j->order->json && j->order->json_type == m->type) {
        j->json = j->order->json;
        j->order->json = NULL;
    } else if (j->order->json) {
        j->json = wb_order_msg_reencode(m);
    } else {
        j->json = wb_order_msg_encode_err(m, why, sizeof why);
    }
    if (!j->json) { /* cannot happen for a mapped order */
        j->st = OI_KAFKA_DOWN;
        snprintf(j->err, sizeof j->err, "encode: %s", why);
        return -1;
    }
    char key[160];
    int key_len = snprintf(key, sizeof key, "%s/%s", m->store_id, m->order_id);
    wb_kafka_header headers[] = {{"wb-event-id", m->event_id, strlen(m->event_id)}};
    rd_kafka_resp_err_t e = wb_produce_async(ctx->svc->producer, WB_TOPIC_ORDERS, key, (size_t)key_len,
                                             j->json, strlen(j->json), headers, 1, on_ack, slot);
    if (e) {
        j->st = OI_KAFKA_DOWN;
        snprintf(j->err, sizeof j->err, "kafka: %s", rd_kafka_err2str(e));
        return -1;
    }
    return 0;
}

static void deadline_in(struct timespec *t, int ms) {
    clock_gettime(CLOCK_REALTIME, t);
    t->tv_sec += ms / 1000;
    t->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t->tv_nsec >= 1000000000L) t->tv_sec++, t->tv_nsec -= 1000000000L;
}

/* A deletion known by its id: the last message sent becomes the order, a
 * cancellation in a new version (the deletion is a change the WMS has not
 * seen). False when the order never went out: nothing to cancel. */
static bool resolve_deleted(job *j) {
    wb_order_msg last;
    char why[256];
    if (!j->prior.exists || !j->last_message ||
        wb_order_msg_decode(j->last_message, strlen(j->last_message), &last, why, sizeof why) != 0)
        return false;
    oi_order *o = j->order;
    free(o->json); /* none: a message from the row, checked when it is encoded */
    o->json = NULL;
    wb_order_msg_free(&o->msg);
    o->msg = last;
    o->msg.version = j->deleted_ms > j->prior.version ? j->deleted_ms : j->prior.version + 1;
    char id[65];
    wb_order_event_id(o->msg.store_id, o->msg.order_id, o->msg.version, id);
    free(o->msg.event_id);
    o->msg.event_id = strdup(id);
    o->cancelled = true;
    j->passes = true;
    return true;
}

/* Decides every order, produces the ones that go out, and waits until
 * Kafka acknowledged them all (or the timeout). An order whose message was
 * not acknowledged fails with OI_KAFKA_DOWN; the others carry on. */
static void decide_and_produce(oi_ctx *ctx, job **jobs, int n) {
    acks *a = calloc(1, sizeof *a + (size_t)n * sizeof(ack_slot));
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    a->refs = 1;
    for (int i = 0; i < n; i++) {
        job *j = jobs[i];
        a->slots[i].owner = a;
        if (j->seen) {
            j->action = OI_ACT_DUPLICATE;
            continue;
        }
        if (j->deleted_ms && !resolve_deleted(j)) {
            j->action = OI_ACT_UNKNOWN_CANCEL;
            continue;
        }
        wb_order_msg *m = &j->order->msg;
        j->action = oi_decide(&j->prior, j->order->cancelled, m->version, j->passes);
        if (oi_refuse_nothing_open(j->order, j->action, j->err, sizeof j->err)) {
            j->st = OI_UNMAPPED; /* dead-lettered by the caller, nothing recorded */
            continue;
        }
        if (!oi_action_sends(j->action)) continue;
        m->type = j->action == OI_ACT_CREATE ? WB_ORDER_CREATED
                  : j->action == OI_ACT_UPDATE ? WB_ORDER_UPDATED : WB_ORDER_CANCELLED;
        pthread_mutex_lock(&a->mu);
        a->refs++, a->pending++;
        pthread_mutex_unlock(&a->mu);
        if (queue_message(ctx, j, &a->slots[i]) == 0) {
            j->sends = true;
            continue;
        }
        pthread_mutex_lock(&a->mu);
        a->refs--, a->pending--;
        pthread_mutex_unlock(&a->mu);
    }
    /* The timeout counts from when the oldest order was queued: an order that
     * waited for a free batcher (both waiting on a Kafka that is down) is
     * not made to wait a whole timeout more. */
    int64_t oldest = jobs[0]->queued_ms;
    for (int i = 1; i < n; i++)
        if (jobs[i]->queued_ms < oldest) oldest = jobs[i]->queued_ms;
    int64_t left = ctx->cfg.kafka_timeout_ms - (wb_monotonic_ms() - oldest);
    struct timespec deadline;
    deadline_in(&deadline, left > 0 ? (int)left : 0);
    pthread_mutex_lock(&a->mu);
    while (a->pending > 0)
        if (pthread_cond_timedwait(&a->cv, &a->mu, &deadline) != 0) break;
    for (int i = 0; i < n; i++) {
        job *j = jobs[i];
        if (!j->sends) continue;
        rd_kafka_resp_err_t e = a->slots[i].done ? a->slots[i].err : RD_KAFKA_RESP_ERR__TIMED_OUT;
        if (!e) continue;
        j->sends = false;
        j->st = OI_KAFKA_DOWN;
        snprintf(j->err, sizeof j->err, "kafka: %s", rd_kafka_err2str(e));
    }
    pthread_mutex_unlock(&a->mu);
    acks_release(a);
}

/* ------------------------------------------------------------ one batch */

static void log_outcome(const job *j) {
    const wb_store *store = j->store;
    const wb_order_msg *m = &j->order->msg;
    switch (j->action) {
    case OI_ACT_CREATE: case OI_ACT_UPDATE: case OI_ACT_CANCEL:
        /* Debug: at thousands a second the line costs more than the rest of
         * the order's own work; wb_orders_total counts them. */
        wb_debug(store->id, "order %s version %" PRId64 " sent as %s", m->order_id, m->version,
                oi_action_name(j->action));
        break;
    case OI_ACT_PICKING:
        /* The reconciler finds the same unsent version on every pass of
         * its overlap: one line and one count per version. */
        if (!oi_report_once(store->id, m->order_id, m->version)) {
            wb_debug(store->id, "order %s version %" PRId64 " still not sent (the WMS is picking)",
                     m->order_id, m->version);
            break;
        }
        wb_counter_inc(wb_counter("wb_order_updates_suppressed_total",
                                  "Order changes not sent because the WMS is already picking.",
                                  "store"),
                       store->id);
        wb_warn(store->id, "order %s changed in the shop (version %" PRId64
                ") after the WMS started picking (state %s): not sent", m->order_id, m->version,
                j->prior.state);
        break;
    case OI_ACT_UNKNOWN_CANCEL:
        if (j->deleted_ms) {
            wb_info(store->id, "order %s deleted in the shop, but it never went out: nothing to cancel",
                    m->order_id);
            break;
        }
        wb_info(store->id, "order %s version %" PRId64 ": %s, not sent", m->order_id, m->version,
                oi_action_name(j->action));
        break;
    case OI_ACT_DUPLICATE:
        if (j->seen) {
            wb_info(store->id, "order %s: webhook %s seen before, not sent again", m->order_id,
                    j->receipt_key);
            break;
        }
        /* fall through */
    default:
        wb_info(store->id, "order %s version %" PRId64 ": %s, not sent", m->order_id, m->version,
                oi_action_name(j->action));
    }
}

/* The batcher's connection, (re)connected and its statements prepared; 0,
 * or -1 with why. */
static int ensure_connected(oi_ctx *ctx, wb_pg **pg, char *why, size_t whylen) {
    if (*pg && PQstatus(wb_pg_conn(*pg)) != CONNECTION_OK) {
        wb_pg_close(*pg);
        *pg = NULL;
    }
    if (*pg) return 0;
    *pg = wb_pg_connect(ctx->svc->cfg.pg_dsn, why, whylen);
    if (*pg && prepare_statements(wb_pg_conn(*pg), why, whylen) != 0) {
        wb_pg_close(*pg);
        *pg = NULL;
    }
    return *pg ? 0 : -1;
}

/* A retry runs in a new transaction: the locks were released with the old
 * connection, so they are taken again and the rows read again. A delivery
 * of the same order may have gone through in between: its webhook's receipt
 * recorded now (seen) leaves nothing to write for it, and a newer version
 * recorded is not written over with this older one. The messages are out
 * either way; only the record follows the newest. */
static int relock(PGconn *c, job **jobs, int n, char *why, size_t whylen) {
    if (lock_and_read(c, jobs, n, why, whylen) != 0) return -1;
    for (int i = 0; i < n; i++) {
        job *j = jobs[i];
        if (j->sends && (j->seen || (j->prior.exists && j->prior.version > j->order->msg.version)))
            j->sends = false;
    }
    return 0;
}

/* Finding 7 of docs/chaos.md: the messages are acknowledged, then the
 * commit fails (PostgreSQL restarting). A 503 now would lose the record
 * for good where the shop does not retry (WooCommerce) and every later
 * version is filtered (completed), although the WMS has the order: its
 * state, dedup and in-flight quantity live in that row. So the write and
 * commit are retried on a fresh connection for WB_ORDER_COMMIT_RETRY_MS,
 * backing off from 50 ms to 1 s, before the batch is answered 503. */
static int record_again(oi_ctx *ctx, wb_pg **pg, job **jobs, int n, char *why, size_t whylen) {
    wb_metric *retries = wb_counter("wb_order_commit_retries_total",
                                    "Attempts to record a batch again whose messages Kafka had "
                                    "acknowledged when its commit failed.", "");
    int64_t deadline = wb_monotonic_ms() + ctx->cfg.commit_retry_ms;
    int pause_ms = 50;
    for (int attempt = 1; wb_monotonic_ms() < deadline; attempt++) {
        wb_counter_inc(retries);
        if (ensure_connected(ctx, pg, why, whylen) == 0) {
            PGconn *c = wb_pg_conn(*pg);
            if (relock(c, jobs, n, why, whylen) == 0 && write_and_commit(c, jobs, n, why, whylen) == 0) {
                wb_warn(NULL, "a batch of %d orders recorded at attempt %d after its commit failed", n,
                        attempt + 1);
                return 0;
            }
            wb_pg_close(*pg);
            *pg = NULL;
        }
        int64_t left = deadline - wb_monotonic_ms();
        if (left <= 0) break;
        struct timespec t = {0, (long)(left < pause_ms ? left : pause_ms) * 1000000L};
        nanosleep(&t, NULL); /* not wb_sleep_ms: a stopping service still records what went out */
        pause_ms = pause_ms < 500 ? pause_ms * 2 : 1000;
    }
    return -1;
}

static bool any_sent(job **jobs, int n) {
    for (int i = 0; i < n; i++)
        if (jobs[i]->sends) return true;
    return false;
}

static void run_batch(oi_ctx *ctx, wb_pg **pg, job **jobs, int n) {
    char why[512];
    if (ensure_connected(ctx, pg, why, sizeof why) != 0) {
        fail_jobs(jobs, n, OI_DB_DOWN, "connect", why);
        return;
    }
    PGconn *c = wb_pg_conn(*pg);
    if (lock_and_read(c, jobs, n, why, sizeof why) != 0) {
        fail_jobs(jobs, n, OI_DB_DOWN, "lock and read orders", why);
        wb_pg_close(*pg); /* and with it whatever the transaction held */
        *pg = NULL;
        return;
    }
    decide_and_produce(ctx, jobs, n);
    if (write_and_commit(c, jobs, n, why, sizeof why) != 0) {
        wb_pg_close(*pg);
        *pg = NULL;
        /* Nothing went out: the 503 is answered at once, the shop's retry
         * (or the reconciler) brings the order again. */
        bool sent = any_sent(jobs, n);
        if (sent) wb_warn(NULL, "record orders: %s: retrying, the messages are out", why);
        if (!sent || record_again(ctx, pg, jobs, n, why, sizeof why) != 0) {
            if (sent) wb_error(NULL, "record orders: gave up after %d ms: %s", ctx->cfg.commit_retry_ms, why);
            fail_jobs(jobs, n, OI_DB_DOWN, "record orders", why);
            return;
        }
    }
    for (int i = 0; i < n; i++)
        if (jobs[i]->st == OI_OK) log_outcome(jobs[i]);
}

static bool same_order(const job *a, const job *b) {
    return strcmp(a->order->msg.order_id, b->order->msg.order_id) == 0 &&
           strcmp(a->store->id, b->store->id) == 0;
}

/* Takes up to b->max queued jobs (mu held), oldest first, leaving any job
 * whose order is already in the batch for a later one. */
static int take_batch_locked(oi_batcher *b, job **batch) {
    int n = 0;
    job **link = &b->head;
    while (*link && n < b->max) {
        job *j = *link;
        bool twice = false;
        for (int i = 0; i < n && !twice; i++) twice = same_order(batch[i], j);
        if (twice) {
            link = &j->next;
            continue;
        }
        *link = j->next;
        j->next = NULL;
        batch[n++] = j;
    }
    b->tail = NULL;
    for (job *q = b->head; q; q = q->next) b->tail = q;
    if (b->head) pthread_cond_signal(&b->work_cv); /* the rest, for another batcher */
    return n;
}

/* Hands the job's outcome to its owner, and frees it. */
static void finish_job(job *j) {
    free(j->json);
    free(j->last_message);
    j->done(j->done_arg, j->st, j->action, j->st != OI_OK ? j->err : "");
    free(j);
}

static void *batcher_main(void *arg) {
    oi_batcher *b = arg;
    pthread_setname_np(pthread_self(), "oi-batcher"); /* for top and perf */
    wb_pg *pg = NULL;
    job **batch = calloc((size_t)b->max, sizeof *batch);
    for (;;) {
        pthread_mutex_lock(&b->mu);
        while (!b->head && !b->stop) pthread_cond_wait(&b->work_cv, &b->mu);
        if (!b->head) {
            pthread_mutex_unlock(&b->mu);
            break;
        }
        int n = take_batch_locked(b, batch);
        pthread_mutex_unlock(&b->mu);
        run_batch(b->ctx, &pg, batch, n);
        wb_histogram_observe(b->batch_size, (double)n);
        wb_http_hold_answers(); /* the batch's webhooks answered in one go */
        for (int i = 0; i < n; i++) finish_job(batch[i]);
        wb_http_release_answers();
    }
    wb_pg_close(pg);
    free(batch);
    return NULL;
}

/* ------------------------------------------------------------ API */

void oi_batcher_start(oi_ctx *ctx) {
    oi_batcher *b = calloc(1, sizeof *b);
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->work_cv, NULL);
    static const double sizes[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
    b->batch_size = wb_histogram("wb_order_batch_size", "Orders per group-commit transaction.", "",
                                 sizes, (int)(sizeof sizes / sizeof sizes[0]));
    b->ctx = ctx;
    b->max = ctx->cfg.batch_max;
    b->n_threads = ctx->cfg.batchers;
    b->threads = calloc((size_t)b->n_threads, sizeof *b->threads);
    for (int i = 0; i < b->n_threads; i++) pthread_create(&b->threads[i], NULL, batcher_main, b);
    ctx->batcher = b;
}

void oi_batcher_stop(oi_ctx *ctx) {
    oi_batcher *b = ctx->batcher;
    if (!b) return;
    pthread_mutex_lock(&b->mu);
    b->stop = true;
    pthread_cond_broadcast(&b->work_cv);
    pthread_mutex_unlock(&b->mu);
    for (int i = 0; i < b->n_threads; i++) pthread_join(b->threads[i], NULL);
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->work_cv);
    free(b->threads);
    free(b);
    ctx->batcher = NULL;
}

static void queue_job(oi_batcher *b, job *j) {
    j->queued_ms = wb_monotonic_ms();
    pthread_mutex_lock(&b->mu);
    if (b->tail) b->tail->next = j;
    else b->head = j;
    b->tail = j;
    pthread_cond_signal(&b->work_cv);
    pthread_mutex_unlock(&b->mu);
}

void oi_batch_submit(oi_ctx *ctx, const wb_store *store, oi_order *order, const char *receipt_key,
                     bool passes, oi_batch_done done, void *arg) {
    job *j = calloc(1, sizeof *j);
    *j = (job){.store = store, .order = order, .receipt_key = receipt_key, .passes = passes,
               .done = done, .done_arg = arg};
    queue_job(ctx->batcher, j);
}

void oi_batch_submit_deleted(oi_ctx *ctx, const wb_store *store, oi_order *order, int64_t now_ms,
                             oi_batch_done done, void *arg) {
    job *j = calloc(1, sizeof *j);
    *j = (job){.store = store, .order = order, .deleted_ms = now_ms > 0 ? now_ms : 1, .done = done,
               .done_arg = arg};
    queue_job(ctx->batcher, j);
}

/* The synchronous forms (the reconciler): the caller sleeps until its batch
 * is done. A semaphore, since sem_post may run while the waiter already
 * returned. */
typedef struct waiter {
    sem_t sem;
    oi_status st;
    oi_action action;
    char *err;
    size_t errlen;
} waiter;

static void wake(void *arg, oi_status st, oi_action action, const char *err) {
    waiter *w = arg;
    w->st = st;
    w->action = action;
    if (st != OI_OK) snprintf(w->err, w->errlen, "%s", err);
    sem_post(&w->sem);
}

static oi_status wait_for(waiter *w, oi_action *action) {
    while (sem_wait(&w->sem) != 0) { /* EINTR: a signal, wait on */
    }
    sem_destroy(&w->sem);
    *action = w->action;
    return w->st;
}

oi_status oi_batch_ingest(oi_ctx *ctx, const wb_store *store, oi_order *order, const char *receipt_key,
                          bool passes, oi_action *action, char *err, size_t errlen) {
    waiter w = {.err = err, .errlen = errlen};
    sem_init(&w.sem, 0, 0);
    oi_batch_submit(ctx, store, order, receipt_key, passes, wake, &w);
    return wait_for(&w, action);
}

oi_status oi_batch_ingest_deleted(oi_ctx *ctx, const wb_store *store, oi_order *order, int64_t now_ms,
                                  oi_action *action, char *err, size_t errlen) {
    waiter w = {.err = err, .errlen = errlen};
    sem_init(&w.sem, 0, 0);
    oi_batch_submit_deleted(ctx, store, order, now_ms, wake, &w);
    return wait_for(&w, action);
}
