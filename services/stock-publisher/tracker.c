#include "tracker.h"

#include <stdlib.h>

void sp_tracker_init(sp_tracker *t, int64_t start_offset) {
    wb_strmap_init(&t->open);
    t->claims = NULL;
    t->claim_count = t->claim_cap = t->claim_slots = 0;
    t->next_to_read = -1;
    t->start = start_offset;
}

void sp_tracker_free(sp_tracker *t) {
    wb_strmap_clear(&t->open, NULL);
    free(t->claims);
    t->claims = NULL;
    t->claim_count = t->claim_cap = t->claim_slots = 0;
}

void sp_tracker_consumed(sp_tracker *t, int64_t offset) {
    if (offset + 1 > t->next_to_read) t->next_to_read = offset + 1;
}

void sp_tracker_touch(sp_tracker *t, const char *window, int64_t offset) {
    bool created;
    wb_strmap_entry *e = wb_strmap_put(&t->open, window, &created);
    if (created || offset < e->num) e->num = offset;
}

static size_t claim_home(const sp_tracker *t, int64_t offset) {
    uint64_t h = (uint64_t)offset * 0x9e3779b97f4a7c15ULL;
    return (size_t)(h >> 20) & (size_t)(t->claim_cap - 1);
}

/* The slot holding offset, or the empty slot where it would go. */
static struct sp_claim *claim_slot(const sp_tracker *t, int64_t offset) {
    size_t i = claim_home(t, offset);
    while (t->claims[i].count && t->claims[i].offset != offset) i = (i + 1) & (size_t)(t->claim_cap - 1);
    return &t->claims[i];
}

static void claims_grow(sp_tracker *t) {
    struct sp_claim *old = t->claims;
    int old_cap = t->claim_cap;
    t->claim_cap = old_cap ? old_cap * 2 : 64;
    t->claims = calloc((size_t)t->claim_cap, sizeof *t->claims);
    for (int i = 0; i < old_cap; i++)
        if (old[i].count) *claim_slot(t, old[i].offset) = old[i];
    free(old);
}

void sp_tracker_hold(sp_tracker *t, int64_t first_offset) {
    if ((t->claim_slots + 1) * 2 > t->claim_cap) claims_grow(t);
    struct sp_claim *c = claim_slot(t, first_offset);
    if (!c->count) c->offset = first_offset, t->claim_slots++;
    c->count++;
    t->claim_count++;
}

int64_t sp_tracker_claim(sp_tracker *t, const char *window) {
    wb_strmap_entry *e = wb_strmap_get(&t->open, window);
    if (!e) return -1;
    int64_t first = e->num;
    wb_strmap_del(&t->open, window);
    sp_tracker_hold(t, first);
    return first;
}

void sp_tracker_release(sp_tracker *t, int64_t first_offset) {
    if (!t->claim_cap) return;
    struct sp_claim *c = claim_slot(t, first_offset);
    if (!c->count) return;
    t->claim_count--;
    if (--c->count) return;
    /* Emptied: shift the slots after it back so no probe chain breaks. */
    t->claim_slots--;
    size_t mask = (size_t)(t->claim_cap - 1), hole = (size_t)(c - t->claims), i = hole;
    for (;;) {
        i = (i + 1) & mask;
        if (!t->claims[i].count) break;
        size_t home = claim_home(t, t->claims[i].offset);
        /* Movable when its home is not in (hole, i], cyclically. */
        if ((i > hole && (home <= hole || home > i)) || (i < hole && home <= hole && home > i)) {
            t->claims[hole] = t->claims[i];
            t->claims[i].count = 0;
            hole = i;
        }
    }
}

void sp_tracker_requeue(sp_tracker *t, const char *window, int64_t first_offset) {
    sp_tracker_release(t, first_offset);
    sp_tracker_touch(t, window, first_offset);
}

int64_t sp_tracker_committable(const sp_tracker *t) {
    if (t->next_to_read < 0 && t->open.count == 0 && t->claim_count == 0) return -1;
    int64_t c = t->next_to_read >= 0 ? t->next_to_read : INT64_MAX;
    for (size_t i = 0; i < t->open.cap; i++)
        if (wb_strmap_live(&t->open.slots[i]) && t->open.slots[i].num < c) c = t->open.slots[i].num;
    for (int i = 0; i < t->claim_cap; i++)
        if (t->claims[i].count && t->claims[i].offset < c) c = t->claims[i].offset;
    /* Never go back behind where this owner started: what lies before was
     * committed by someone who had finished it. */
    return c == INT64_MAX ? -1 : (c < t->start ? t->start : c);
}

int sp_tracker_open_count(const sp_tracker *t) { return (int)t->open.count; }
