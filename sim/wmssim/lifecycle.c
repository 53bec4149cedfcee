/* What the WMS does with an order, step by step:
 *
 *   received --2s--> accepted --2s--> picking_started --3s--> packed --3s--> dispatched
 *                    (reserve)        (pick: on_hand down)                    (tracking)
 *
 * (delays divided by --speed). A partial shipment (--partial-every) sends
 * two dispatched events 3 s apart, each with one parcel; a return
 * (--return-every) follows 5 s after dispatch with a reason code and puts
 * restocked items back on hand. Changes before picking are applied, later
 * ones logged and ignored; a cancellation before dispatch releases what the
 * order held. Each step emits its stock movements first, then its event, so
 * a level never shows stock an accepted order already holds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb/runloop.h"
#include "wmssim.h"

static int64_t after(const ws_wms *w, int64_t now, int ms) { return now + (int64_t)(ms / w->cfg->speed) + 1; }

static const char *warehouse_of(const ws_wms *w) { return w->cfg->warehouses.items[0]; }

/* sign +1 reserves the order's lines, -1 releases them. */
static void reserve(ws_wms *w, ws_order *ord, int sign) {
    for (size_t i = 0; i < ord->n_lines; i++) {
        ws_level *lv = ws_level_get(&w->levels, ord->owner, warehouse_of(w), ord->lines[i].sku);
        lv->reserved += sign * ord->lines[i].quantity;
        ws_level_emit(w->em, lv, ord->owner, warehouse_of(w), ord->lines[i].sku, WB_MOVEMENT_RESERVATION);
    }
}

/* sign +1 picks the lines off the shelf (and out of the reservation), -1
 * puts them back. */
static void pick(ws_wms *w, ws_order *ord, int sign, wb_movement movement) {
    for (size_t i = 0; i < ord->n_lines; i++) {
        ws_level *lv = ws_level_get(&w->levels, ord->owner, warehouse_of(w), ord->lines[i].sku);
        lv->on_hand -= sign * ord->lines[i].quantity;
        if (sign > 0) lv->reserved -= ord->lines[i].quantity;
        ws_level_emit(w->em, lv, ord->owner, warehouse_of(w), ord->lines[i].sku, movement);
    }
}

static void emit(ws_wms *w, ws_order *ord, wb_fulfilment_type type, wb_shipment *shipments,
                 size_t n_shipments, wb_return *returns, size_t n_returns) {
    char now[40];
    ws_now(now, sizeof now);
    wb_fulfilment_msg m = {.type = type, .store_id = ord->store_id, .order_id = ord->order_id,
                           .occurred_at = now, .shipments = shipments, .n_shipments = n_shipments,
                           .returns = returns, .n_returns = n_returns};
    ws_emit_fulfilment(w->em, &m);
}

static uint64_t fnv64(const char *a, const char *b) {
    uint64_t h = 1469598103934665603ull;
    for (const char *p = a; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
    h = (h ^ '/') * 1099511628211ull;
    for (const char *p = b; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return h;
}

static const struct {
    const char *code, *prefix, *url;
} carriers[] = {
    {"postnord", "PN", "https://tracking.postnord.com/en/tracking?id=%s"},
    {"dhl", "JJD", "https://www.dhl.com/global-en/home/tracking.html?tracking-id=%s"},
    {"ups", "1Z", "https://www.ups.com/track?tracknum=%s"},
};

static bool partial(const ws_wms *w, const ws_order *ord) {
    int64_t total = 0;
    for (size_t i = 0; i < ord->n_lines; i++) total += ord->lines[i].quantity;
    return w->cfg->partial_every && ord->seq % w->cfg->partial_every == 0 && total >= 2;
}

/* Parcel `part` (0 or 1) of the order: all lines when whole; otherwise the
 * first half of the lines and the rest, or, for one line, half its quantity. */
static void dispatch(ws_wms *w, ws_order *ord, int part, bool whole) {
    uint64_t h = fnv64(ord->store_id, ord->order_id);
    int c = (int)(ord->seq % 3);
    char id[40], number[40], url[160];
    snprintf(id, sizeof id, "SHP-%016llx-%d", (unsigned long long)h, part + 1);
    snprintf(number, sizeof number, "%s%012llu", carriers[c].prefix,
             (unsigned long long)((h >> 8) % 1000000000000ull) + (unsigned)part);
    snprintf(url, sizeof url, carriers[c].url, number);
    wb_shipment_line *lines = calloc(ord->n_lines, sizeof *lines);
    size_t n = 0;
    for (size_t i = 0; i < ord->n_lines; i++) {
        int64_t q = ord->lines[i].quantity;
        if (!whole) {
            if (ord->n_lines >= 2) {
                bool first_half = i < ord->n_lines / 2;
                if (first_half != (part == 0)) continue;
            } else {
                q = part == 0 ? q / 2 : q - q / 2;
            }
        }
        lines[n++] = (wb_shipment_line){ord->lines[i].line_id, ord->lines[i].sku, q};
    }
    wb_shipment s = {.id = id, .carrier = (char *)carriers[c].code, .tracking_number = number,
                     .tracking_url = url, .lines = lines, .n_lines = n};
    emit(w, ord, WB_FULFILMENT_DISPATCHED, &s, 1, NULL, 0);
    free(lines);
}

static const char *const reasons[] = {"WRONG_SIZE", "DAMAGED", "NOT_AS_DESCRIBED", "CHANGED_MIND"};

/* The first line comes back, in full. */
static void give_back(ws_wms *w, ws_order *ord) {
    const ws_line *l = &ord->lines[0];
    const char *reason = reasons[ord->seq % 4];
    bool restock = strcmp(reason, "DAMAGED") != 0;
    char id[40];
    snprintf(id, sizeof id, "RET-%016llx-1", (unsigned long long)fnv64(ord->store_id, ord->order_id));
    if (restock) {
        ws_level *lv = ws_level_get(&w->levels, ord->owner, warehouse_of(w), l->sku);
        lv->on_hand += l->quantity;
        ws_level_emit(w->em, lv, ord->owner, warehouse_of(w), l->sku, WB_MOVEMENT_RETURN);
    }
    wb_return_line rl = {l->line_id, l->sku, l->quantity, restock};
    wb_return r = {.id = id, .reason_code = (char *)reason, .lines = &rl, .n_lines = 1};
    emit(w, ord, WB_FULFILMENT_RETURNED, NULL, 0, &r, 1);
}

static void step(ws_wms *w, ws_order *ord, int64_t now) {
    switch (ord->state) {
    case WS_ORDER_NEW:
        reserve(w, ord, +1);
        emit(w, ord, WB_FULFILMENT_ACCEPTED, NULL, 0, NULL, 0);
        ord->state = WS_ORDER_ACCEPTED;
        ws_order_schedule(&w->orders, ord, after(w, now, 2000));
        break;
    case WS_ORDER_ACCEPTED:
        pick(w, ord, +1, WB_MOVEMENT_PICKING);
        emit(w, ord, WB_FULFILMENT_PICKING_STARTED, NULL, 0, NULL, 0);
        ord->state = WS_ORDER_PICKING;
        ws_order_schedule(&w->orders, ord, after(w, now, 3000));
        break;
    case WS_ORDER_PICKING:
        emit(w, ord, WB_FULFILMENT_PACKED, NULL, 0, NULL, 0);
        ord->state = WS_ORDER_PACKED;
        ws_order_schedule(&w->orders, ord, after(w, now, 3000));
        break;
    case WS_ORDER_PACKED:
        if (partial(w, ord) && ord->parcels == 0) {
            dispatch(w, ord, 0, false);
            ord->parcels = 1;
            ws_order_schedule(&w->orders, ord, after(w, now, 3000));
            break;
        }
        dispatch(w, ord, ord->parcels, ord->parcels == 0);
        ord->parcels++;
        ord->state = WS_ORDER_DISPATCHED;
        if (w->cfg->return_every && ord->seq % w->cfg->return_every == 0)
            ws_order_schedule(&w->orders, ord, after(w, now, 5000));
        else
            ws_order_schedule(&w->orders, ord, 0);
        break;
    case WS_ORDER_DISPATCHED:
        give_back(w, ord);
        ord->state = WS_ORDER_RETURNED;
        ws_order_schedule(&w->orders, ord, 0);
        break;
    default:
        ws_order_schedule(&w->orders, ord, 0);
    }
}

void ws_wms_tick(ws_wms *w, int64_t now_ms) {
    /* A step may unschedule its order, which reorders the list: restart
     * the scan after each step. Few orders are pending at once. */
    for (bool again = true; again && !wb_stopping();) {
        again = false;
        for (size_t i = 0; i < w->orders.n_pending; i++) {
            ws_order *ord = w->orders.pending[i];
            if (ord->due_ms <= now_ms) {
                step(w, ord, now_ms);
                again = true;
                break;
            }
        }
    }
}

static void cancel(ws_wms *w, ws_order *ord, const wb_order_msg *m) {
    switch (ord->state) {
    case WS_ORDER_ACCEPTED:
        reserve(w, ord, -1);
        break;
    case WS_ORDER_PICKING:
    case WS_ORDER_PACKED:
        pick(w, ord, -1, WB_MOVEMENT_ADJUSTMENT); /* back on the shelf */
        break;
    case WS_ORDER_DISPATCHED:
    case WS_ORDER_RETURNED:
        wb_info(ord->store_id, "order %s cancelled after dispatch: ignored", ord->order_id);
        return;
    case WS_ORDER_CANCELLED:
        return;
    default:
        break;
    }
    free(ord->event_id);
    ord->event_id = strdup(m->event_id);
    ord->version = m->version;
    ord->state = WS_ORDER_CANCELLED;
    ws_order_schedule(&w->orders, ord, 0);
    emit(w, ord, WB_FULFILMENT_CANCELLED, NULL, 0, NULL, 0);
}

void ws_wms_on_order(ws_wms *w, const wb_order_msg *m) {
    const char *owner = ws_owner_of(w->cfg, m->store_id);
    if (!owner) {
        wb_debug(m->store_id, "order %s: not one of our stores", m->order_id);
        return;
    }
    ws_order *ord = ws_order_find(&w->orders, m->store_id, m->order_id);
    if (ord && strcmp(ord->event_id, m->event_id) == 0) {
        wb_debug(m->store_id, "order %s: redelivery of version %lld", m->order_id, (long long)m->version);
        return;
    }
    if (ord && m->version < ord->version) {
        wb_info(m->store_id, "order %s: version %lld older than %lld: ignored", m->order_id,
                (long long)m->version, (long long)ord->version);
        return;
    }
    int64_t now = wb_monotonic_ms();
    if (!ord) {
        ord = ws_order_add(&w->orders, m, owner);
        wb_info(m->store_id, "order %s received (%s, %zu lines)", m->order_id, wb_order_type_name(m->type),
                m->n_lines);
        if (m->type == WB_ORDER_CANCELLED) cancel(w, ord, m);
        else ws_order_schedule(&w->orders, ord, after(w, now, 2000));
        return;
    }
    if (m->type == WB_ORDER_CANCELLED) {
        cancel(w, ord, m);
        return;
    }
    switch (ord->state) {
    case WS_ORDER_NEW:
        ws_order_update(ord, m);
        wb_info(m->store_id, "order %s updated before acceptance", m->order_id);
        break;
    case WS_ORDER_ACCEPTED:
        reserve(w, ord, -1);
        ws_order_update(ord, m);
        reserve(w, ord, +1);
        wb_info(m->store_id, "order %s updated; reservation follows", m->order_id);
        break;
    default:
        wb_info(m->store_id, "order %s changed while %s: ignored", m->order_id, ws_order_state_name(ord->state));
    }
}
