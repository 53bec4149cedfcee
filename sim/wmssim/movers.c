/* The gentle scenario's stock life besides orders: at start a snapshot of
 * every level (goods owner x warehouse x sku), then, every few seconds, one
 * movement on one of a handful of SKUs (spread over the list, so every demo
 * store gets some): goods received, a count, an adjustment, or a transfer
 * between two warehouses (out to another site when there is only one).
 * Levels stay between about 5 and 90, so a demo never runs dry. */
#include <stdlib.h>

#include "wmssim.h"

unsigned ws_rand(unsigned *state) {
    unsigned x = *state ? *state : 0x2545f491u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

void ws_movers_snapshot(ws_wms *w) {
    const ws_config *c = w->cfg;
    for (int h = 0; h < c->warehouses.count; h++)
        for (int s = 0; s < c->skus.count; s++) {
            ws_level *lv = ws_level_get(&w->levels, c->owner, c->warehouses.items[h], c->skus.items[s]);
            ws_level_emit(w->em, lv, c->owner, c->warehouses.items[h], c->skus.items[s], WB_MOVEMENT_SNAPSHOT);
        }
    wb_info(NULL, "snapshot: %d levels of goods owner %s", c->warehouses.count * c->skus.count, c->owner);
}

void ws_movers_step(ws_wms *w) {
    const ws_config *c = w->cfg;
    if (c->skus.count == 0) return;
    int active = c->active < c->skus.count ? c->active : c->skus.count;
    int stride = c->skus.count / active;
    const char *sku = c->skus.items[(int)(ws_rand(&w->rng) % (unsigned)active) * stride];
    int from = (int)(ws_rand(&w->rng) % (unsigned)c->warehouses.count);
    const char *wh = c->warehouses.items[from];
    ws_level *lv = ws_level_get(&w->levels, c->owner, wh, sku);
    int64_t n = 1 + ws_rand(&w->rng) % 10;
    unsigned kind = ws_rand(&w->rng) % 4;
    if (lv->on_hand - lv->reserved < 5) kind = 0;  /* low: receive */
    else if (lv->on_hand > 90) kind = 3;           /* high: send some away */
    switch (kind) {
    case 0:
        lv->on_hand += 5 + n;
        ws_level_emit(w->em, lv, c->owner, wh, sku, WB_MOVEMENT_RECEIVING);
        break;
    case 1:
        lv->on_hand += ws_rand(&w->rng) % 2 ? 1 : -1;
        ws_level_emit(w->em, lv, c->owner, wh, sku, WB_MOVEMENT_COUNT);
        break;
    case 2:
        lv->on_hand -= 1 + n % 3; /* breakage, shrinkage */
        ws_level_emit(w->em, lv, c->owner, wh, sku, WB_MOVEMENT_ADJUSTMENT);
        break;
    default:
        if (n > lv->on_hand - lv->reserved) n = lv->on_hand - lv->reserved;
        lv->on_hand -= n;
        ws_level_emit(w->em, lv, c->owner, wh, sku, WB_MOVEMENT_TRANSFER);
        if (c->warehouses.count > 1) {
            const char *to = c->warehouses.items[(from + 1) % c->warehouses.count];
            ws_level *dst = ws_level_get(&w->levels, c->owner, to, sku);
            dst->on_hand += n;
            ws_level_emit(w->em, dst, c->owner, to, sku, WB_MOVEMENT_TRANSFER);
        }
    }
    wb_info(NULL, "stock %s/%s in %s: on_hand %lld, reserved %lld", c->owner, sku, wh,
            (long long)lv->on_hand, (long long)lv->reserved);
}
