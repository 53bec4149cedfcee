/* Stock levels per goods owner, warehouse and sku, with the version the
 * contract asks for: it grows per key, and because it never falls below the
 * wall clock in microseconds, a restarted wmssim (which has forgotten its
 * levels) still writes versions above the ones it wrote before. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb/runloop.h"
#include "wmssim.h"

void ws_levels_init(ws_levels *l, int64_t initial) {
    wb_strmap_init(&l->map);
    l->initial = initial;
}

void ws_levels_free(ws_levels *l) { wb_strmap_clear(&l->map, free); }

ws_level *ws_level_get(ws_levels *l, const char *owner, const char *warehouse, const char *sku) {
    size_t n = strlen(owner) + strlen(warehouse) + strlen(sku) + 3;
    char *key = malloc(n);
    snprintf(key, n, "%s\n%s\n%s", owner, warehouse, sku);
    bool created;
    wb_strmap_entry *e = wb_strmap_put(&l->map, key, &created);
    free(key);
    if (!e->ptr) {
        ws_level *lv = calloc(1, sizeof *lv);
        lv->on_hand = l->initial;
        e->ptr = lv;
    }
    return e->ptr;
}

int64_t ws_next_version(int64_t last) {
    int64_t clock_us = wb_wall_ms() * 1000;
    return clock_us > last ? clock_us : last + 1;
}

int ws_level_emit(ws_emitter *em, ws_level *lv, const char *owner, const char *warehouse,
                  const char *sku, wb_movement movement) {
    char now[40];
    ws_now(now, sizeof now);
    lv->version = ws_next_version(lv->version);
    if (lv->reserved < 0) lv->reserved = 0;
    wb_stock_msg m = {.goods_owner = (char *)owner, .warehouse = (char *)warehouse, .sku = (char *)sku,
                      .on_hand = lv->on_hand, .reserved = lv->reserved, .version = lv->version,
                      .movement = movement, .occurred_at = now};
    return ws_emit_stock(em, &m);
}
