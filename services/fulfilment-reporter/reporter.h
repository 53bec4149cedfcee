/* fulfilment-reporter: shared state of the service's files.
 *   consume.c  the Kafka loop: one event at a time per partition, commit after
 *              it is handled, a waiting event holds its partition (paused)
 *   handle.c   one event: store, state, the platform's report
 *   clients.c  one shop client per store, kept across events
 *   db.c       ingested_orders state and fulfilment_reports bookkeeping
 *   woo.c      WooCommerce: tracking entry or note, completed, refunds
 *   shopify.c  Shopify: fulfillmentCreate, fulfillmentTrackingInfoUpdate
 *   shopify_return.c  Shopify: returnCreate + returnProcess, orderClose
 *   shopify_cancel.c  Shopify: a WMS cancellation as orderCancel or a tag
 *   plan.c     the pure parts (line matching, note text, amounts) */
#ifndef FR_REPORTER_H
#define FR_REPORTER_H

#include <stdbool.h>
#include <stdint.h>
#include "wb/config.h"
#include "wb/kafka.h"
#include "wb/proto.h"
#include "wb/service.h"
#include "wb/shopclient.h"
#include "wb/store.h"
#include "wb/strmap.h"

#define FR_MAX_PARTITIONS 256
#define FR_SERVICE "fulfilment-reporter"

typedef struct fr_config {
    const char *group;     /* WB_FULFIL_GROUP, default fulfilment-reporter */
    int retry_ms;          /* WB_FULFIL_RETRY_MS: first wait of a held event, default 2000 */
    int retry_max_ms;      /* WB_FULFIL_RETRY_MAX_MS: longest wait, default 60000 */
    int hold_max_ms;       /* WB_FULFIL_HOLD_MAX_MS: how long an event may wait in place
                              before it goes to the dead-letter topic, default 900000 */
    int die_after_send;    /* WB_FULFIL_TEST_DIE_AFTER_SEND=N: test hook, SIGKILL itself
                              after the N-th shop call that changed something,
                              before it is recorded (0: never) */
    int sends;             /* shop calls so far, for the hook */
} fr_config;

void fr_config_read(wb_env *env, fr_config *cfg);

/* Events of a partition waiting behind one that must be retried. */
typedef struct fr_held {
    rd_kafka_message_t **msgs;
    size_t n, cap;
    int64_t next_try_ms;
    int64_t since_ms; /* when the first of msgs began to wait */
    int backoff_ms;
} fr_held;

typedef struct reporter {
    wb_service *svc;
    fr_config cfg;
    wb_consumer *consumer;
    bool owned[FR_MAX_PARTITIONS];
    int64_t seen[FR_MAX_PARTITIONS]; /* highest offset taken from poll */
    fr_held held[FR_MAX_PARTITIONS];
    wb_strmap clients; /* store id -> its shop client (clients.c) */
    wb_rate_budget *budget; /* the stores' shared rate budgets, opened on first use */
} reporter;

typedef enum fr_outcome {
    FR_DONE,  /* handled: commit */
    FR_RETRY, /* must wait (shop down, order not completed yet): hold and retry */
    FR_FAIL   /* can never be handled as it is: dead letter with the reason */
} fr_outcome;

int fr_reporter_init(reporter *r, wb_service *svc, const fr_config *cfg);
void fr_reporter_close(reporter *r);
/* One turn of the loop: retries what is due, polls, handles, commits. */
void fr_turn(reporter *r);

/* The store's client, made or made again when its platform, URL or
 * credentials changed; exactly one of *shopify and *woo is set. Owned by
 * the reporter (clients.c). */
void fr_clients_for(reporter *r, const wb_store *store, const cJSON *creds, wb_shopify **shopify,
                    wb_woo **woo);
void fr_clients_close(reporter *r);

/* One decoded event (handle.c). why gets the reason of a RETRY or FAIL. */
fr_outcome fr_handle(reporter *r, const wb_fulfilment_msg *m, char *why, size_t whylen);

/* ------------------------------------------------------------------ db.c */
/* Moves ingested_orders.state forward for the event's type (never back,
 * never out of cancelled); accepted and later clear open_quantities.
 * Returns 0 or -1. */
int fr_record_state(wb_pg *pg, const wb_fulfilment_msg *m);

typedef enum fr_report_state {
    FR_REPORT_NEW,     /* just recorded as pending: send */
    FR_REPORT_PENDING, /* pending from an earlier try: look in the shop first */
    FR_REPORT_DONE,
    FR_REPORT_FAILED,
    FR_REPORT_ERROR    /* PostgreSQL failed */
} fr_report_state;

fr_report_state fr_report_begin(wb_pg *pg, const char *store, const char *order, const char *kind,
                                const char *report_id, char *shop_ref, size_t ref_size);
/* state "done" or "failed"; shop_ref and detail (JSON) may be NULL. */
int fr_report_finish(wb_pg *pg, const char *store, const char *order, const char *kind,
                     const char *report_id, const char *state, const char *shop_ref,
                     const char *detail);
/* 1 when another report of the order's kind holds shop_ref, 0 when none, -1
 * on a database error. */
int fr_report_ref_claimed(wb_pg *pg, const char *store, const char *order, const char *kind,
                          const char *report_id, const char *shop_ref);
/* The shop reference of a done report, or 1 when there is none. */
int fr_report_ref(wb_pg *pg, const char *store, const char *order, const char *kind,
                  const char *report_id, char *shop_ref, size_t ref_size);
/* fulfilment_settings of a store (defaults when it has no row or on error). */
typedef struct fr_settings {
    bool notify_customer;    /* Shopify notifyCustomer, default true */
    bool auto_close;         /* Shopify orderClose when done, default false */
    bool tracking_on_packed; /* `packed` with shipments reports tracking, default false */
    char cancelled_report[8]; /* record | note | cancel, default record */
} fr_settings;
void fr_settings_load(wb_pg *pg, const char *store, fr_settings *out);
/* Whether the order's shipping may be refunded by this report: 1 when it
 * already claimed it, or no other report of the order did and this one now
 * has (refunds_shipping, set before the shop call); 0 when another report
 * of the order claimed it; -1 on error. */
int fr_claim_shipping(wb_pg *pg, const char *store, const char *order, const char *kind,
                      const char *report_id);
/* 1 when the store's rule for the reason code refunds shipping, 0 when not
 * (or no rule), -1 on error. */
int fr_refund_shipping(wb_pg *pg, const char *store, const char *reason_code);

/* 1 when the bridge publishes the store's stock of sku (stock-publisher
 * sends it: store enabled with stock_sync, the sku mapped), 0 when not, -1
 * on error. */
int fr_stock_published(wb_pg *pg, const wb_store *store, const char *sku);

/* The test hook: called right after a shop call that changed something. */
void fr_after_send(reporter *r);

/* ------------------------------------------------------------ platforms */
fr_outcome fr_woo_event(reporter *r, const wb_store *store, wb_woo *woo, const wb_fulfilment_msg *m,
                        const fr_settings *set, char *why, size_t whylen);
fr_outcome fr_shopify_event(reporter *r, const wb_store *store, wb_shopify *shop, const wb_fulfilment_msg *m,
                            const fr_settings *set, char *why, size_t whylen);

#endif
