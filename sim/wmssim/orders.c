/* The orders wmssim has seen, by store/order, with the WMS state of each and
 * the time of its next step. Every order is kept (a WMS remembers what it
 * shipped); only orders with a next step sit in the pending list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wmssim.h"

static const char *const state_names[] = {"new", "accepted", "picking", "packed",
                                          "dispatched", "returned", "cancelled"};

const char *ws_order_state_name(ws_order_state s) { return state_names[s]; }

static void free_lines(ws_order *ord) {
    for (size_t i = 0; i < ord->n_lines; i++) free(ord->lines[i].line_id), free(ord->lines[i].sku);
    free(ord->lines);
    ord->lines = NULL;
    ord->n_lines = 0;
}

static void free_order(void *p) {
    ws_order *ord = p;
    free_lines(ord);
    free(ord->store_id), free(ord->order_id), free(ord->owner), free(ord->event_id);
    free(ord);
}

void ws_orders_init(ws_orders *o) {
    memset(o, 0, sizeof *o);
    wb_strmap_init(&o->map);
}

void ws_orders_free(ws_orders *o) {
    wb_strmap_clear(&o->map, free_order);
    free(o->pending);
    memset(o, 0, sizeof *o);
}

static char *key_of(const char *store_id, const char *order_id) {
    size_t n = strlen(store_id) + strlen(order_id) + 2;
    char *k = malloc(n);
    snprintf(k, n, "%s/%s", store_id, order_id);
    return k;
}

ws_order *ws_order_find(ws_orders *o, const char *store_id, const char *order_id) {
    char *k = key_of(store_id, order_id);
    wb_strmap_entry *e = wb_strmap_get(&o->map, k);
    free(k);
    return e ? e->ptr : NULL;
}

void ws_order_update(ws_order *ord, const wb_order_msg *m) {
    free_lines(ord);
    ord->lines = calloc(m->n_lines ? m->n_lines : 1, sizeof *ord->lines);
    ord->n_lines = m->n_lines;
    for (size_t i = 0; i < m->n_lines; i++) {
        ord->lines[i].line_id = strdup(m->lines[i].line_id);
        ord->lines[i].sku = strdup(m->lines[i].sku);
        ord->lines[i].quantity = m->lines[i].quantity;
    }
    free(ord->event_id);
    ord->event_id = strdup(m->event_id);
    ord->version = m->version;
}

ws_order *ws_order_add(ws_orders *o, const wb_order_msg *m, const char *owner) {
    ws_order *ord = calloc(1, sizeof *ord);
    ord->store_id = strdup(m->store_id);
    ord->order_id = strdup(m->order_id);
    ord->owner = strdup(owner);
    ord->seq = ++o->seen;
    ord->state = WS_ORDER_NEW;
    ws_order_update(ord, m);
    char *k = key_of(m->store_id, m->order_id);
    wb_strmap_put(&o->map, k, NULL)->ptr = ord;
    free(k);
    return ord;
}

void ws_order_schedule(ws_orders *o, ws_order *ord, int64_t due_ms) {
    bool listed = ord->due_ms != 0;
    ord->due_ms = due_ms;
    if (due_ms && !listed) {
        if (o->n_pending == o->cap_pending) {
            o->cap_pending = o->cap_pending ? o->cap_pending * 2 : 16;
            o->pending = realloc(o->pending, sizeof *o->pending * o->cap_pending);
        }
        o->pending[o->n_pending++] = ord;
    } else if (!due_ms && listed) {
        for (size_t i = 0; i < o->n_pending; i++)
            if (o->pending[i] == ord) {
                o->pending[i] = o->pending[--o->n_pending];
                break;
            }
    }
}
