/* wmssim: a small WMS on Kafka, for tests, benchmarks and the local run.
 *
 * It plays the WMS side of the bridge's contracts: it reads shop.orders.v1
 * and writes wms.stock.v1 and wms.fulfilment.v1, always through libshared's
 * encoders (which refuse to produce an invalid message). Three modes:
 *   gentle  answers every order (accepted, picking_started, packed,
 *           dispatched) and moves stock now and then: the local run;
 *   load    stock events at a fixed rate: benchmarks;
 *   script  the events of a JSON file, in order: tests.
 * State (orders seen, stock levels) lives in memory; see docs/wmssim.md. */
#ifndef WMSSIM_H
#define WMSSIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wb/kafka.h"
#include "wb/log.h"
#include "wb/proto.h"
#include "wb/strmap.h"

/* ------------------------------------------------------------ config.c */

typedef enum { WS_MODE_GENTLE, WS_MODE_LOAD, WS_MODE_SCRIPT } ws_mode;

typedef struct ws_list {
    char **items;
    int count;
} ws_list;

typedef struct ws_config {
    ws_mode mode;
    const char *brokers, *group, *owner, *script, *sku_prefix;
    ws_list warehouses; /* codes (--warehouse A,B); load derives W codes from the first */
    ws_list skus;       /* --sku-list; empty: <prefix>-00001.. (--skus of them) */
    ws_list stores;     /* --stores S[=OWNER],..: whose orders are answered; empty: all */
    ws_list store_owners; /* parallel to stores; NULL entry: owner */
    /* gentle */
    double speed;         /* the scenario's delays are divided by this */
    int stock_every_ms;   /* one stock movement this often */
    int active;           /* how many SKUs the movements touch */
    int64_t initial;      /* on_hand of a level the first time it is seen */
    int partial_every;    /* every Nth order ships in two parcels (0: never) */
    int return_every;     /* every Nth dispatched order comes back (0: never) */
    bool snapshot;        /* gentle: a snapshot of every level at start */
    unsigned seed;
    /* load */
    double rate, duration; /* events a second; seconds (0: until SIGTERM or count) */
    int64_t count;         /* stop after this many (0: no limit) */
    int skus_n, owners_n, warehouses_n;
    wb_log_level log_level;
} ws_config;

/* Reads WB_WMSSIM_* (and WB_KAFKA_BROKERS), then the flags, which win.
 * Returns 0, 1 when --help was printed, or 2 after printing what is wrong. */
int ws_config_read(ws_config *cfg, int argc, char **argv);
void ws_config_free(ws_config *cfg);
/* The goods owner of a store's orders, or NULL when the store is not ours. */
const char *ws_owner_of(const ws_config *cfg, const char *store_id);

/* -------------------------------------------------------------- emit.c */

typedef struct ws_emitter {
    wb_producer *producer;
    int64_t stock_sent, fulfilment_sent, failed;
} ws_emitter;

/* Encode (which validates) and produce synchronously, keyed as the
 * contracts say: goods_owner/sku and store_id/order_id. 0 or -1 (logged). */
int ws_emit_stock(ws_emitter *em, const wb_stock_msg *m);
int ws_emit_fulfilment(ws_emitter *em, const wb_fulfilment_msg *m);
/* The current time as RFC 3339 (buf >= 32). */
void ws_now(char *buf, size_t size);

/* ------------------------------------------------------------ levels.c */

typedef struct ws_level {
    int64_t on_hand, reserved, version;
} ws_level;

typedef struct ws_levels {
    wb_strmap map; /* "owner\nwarehouse\nsku" -> ws_level* */
    int64_t initial;
} ws_levels;

void ws_levels_init(ws_levels *l, int64_t initial);
void ws_levels_free(ws_levels *l);
/* Finds or creates (on_hand = initial, version 0) the level. */
ws_level *ws_level_get(ws_levels *l, const char *owner, const char *warehouse, const char *sku);
/* The next version of a key: above the last one and above the wall clock in
 * microseconds, so a restarted wmssim still writes versions that grow. */
int64_t ws_next_version(int64_t last);
/* Bumps the level's version and emits it as a movement. */
int ws_level_emit(ws_emitter *em, ws_level *lv, const char *owner, const char *warehouse,
                  const char *sku, wb_movement movement);

/* ------------------------------------------------------------ orders.c */

typedef enum {
    WS_ORDER_NEW, WS_ORDER_ACCEPTED, WS_ORDER_PICKING, WS_ORDER_PACKED, WS_ORDER_DISPATCHED,
    WS_ORDER_RETURNED, WS_ORDER_CANCELLED
} ws_order_state;

typedef struct ws_line {
    char *line_id, *sku;
    int64_t quantity;
} ws_line;

typedef struct ws_order {
    char *store_id, *order_id, *owner, *event_id;
    int64_t version, seq; /* seq: nth order seen (partial/return choices) */
    ws_order_state state;
    ws_line *lines;
    size_t n_lines;
    int parcels;    /* parcels dispatched so far (a partial shipment sends two) */
    int64_t due_ms; /* monotonic time of the next step; 0: none */
} ws_order;

typedef struct ws_orders {
    wb_strmap map;      /* "store/order" -> ws_order* : every order seen */
    ws_order **pending; /* orders with a next step, in no particular order */
    size_t n_pending, cap_pending;
    int64_t seen;
} ws_orders;

void ws_orders_init(ws_orders *o);
void ws_orders_free(ws_orders *o);
ws_order *ws_order_find(ws_orders *o, const char *store_id, const char *order_id);
/* Creates the order from a message (lines copied), state NEW. */
ws_order *ws_order_add(ws_orders *o, const wb_order_msg *m, const char *owner);
/* Replaces the lines and the version/event id with the message's. */
void ws_order_update(ws_order *ord, const wb_order_msg *m);
/* Schedules the next step at due_ms (0 unschedules). */
void ws_order_schedule(ws_orders *o, ws_order *ord, int64_t due_ms);
const char *ws_order_state_name(ws_order_state s);

/* ---------------------------------------------------------- lifecycle.c */

/* The WMS's handling of one order: every step emits its stock movements,
 * then its fulfilment event. */
typedef struct ws_wms {
    const ws_config *cfg;
    ws_emitter *em;
    ws_levels levels;
    ws_orders orders;
    unsigned rng;
} ws_wms;

/* Takes an order message (created, updated, cancelled). */
void ws_wms_on_order(ws_wms *w, const wb_order_msg *m);
/* Runs every step that is due. */
void ws_wms_tick(ws_wms *w, int64_t now_ms);

/* ------------------------------------------------------------ movers.c */

/* The gentle scenario's stock: a snapshot of every level at start, then one
 * movement (receiving, adjustment, count, transfer) on one of a handful of
 * SKUs at a time. */
void ws_movers_snapshot(ws_wms *w);
void ws_movers_step(ws_wms *w);

/* ----------------------------------------------------- gentle/load/script */

int ws_run_gentle(const ws_config *cfg, ws_emitter *em);
int ws_run_load(const ws_config *cfg, ws_emitter *em);
int ws_run_script(const ws_config *cfg, ws_emitter *em);

/* A small deterministic random generator (xorshift), so a seed repeats a run. */
unsigned ws_rand(unsigned *state);

#endif
