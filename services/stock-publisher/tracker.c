#include "tracker.h"

#include <stdlib.h>

void sp_tracker_init(sp_tracker *t, int64_t start_offset) {
    wb_strmap_init(&t->open);
    t->claims = NULL;
    t->claim_count = t->claim_cap = 0;
    t->next_to_read = -1;
    t->start = start_offset;
}

void sp_tracker_free(sp_tracker *t) {
    wb_strmap_clear(&t->open, NULL);
    free(t->claims);
    t->claims = NULL;
}

void sp_tracker_consumed(sp_tracker *t, int64_t offset) {
    if (offset + 1 > t->next_to_read) t->next_to_read = offset + 1;
}

void sp_tracker_touch(sp_tracker *t, const char *window, int64_t offset) {
    bool created;
    wb_strmap_entry *e = wb_strmap_put(&t->open, window, &created);
    if (created || offset < e->num) e->num = offset;
}

void sp_tracker_hold(sp_tracker *t, int64_t first_offset) {
    if (t->claim_count == t->claim_cap) {
        t->claim_cap = t->claim_cap ? t->claim_cap * 2 : 64;
        t->claims = realloc(t->claims, sizeof *t->claims * (size_t)t->claim_cap);
    }
    t->claims[t->claim_count++] = first_offset;
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
    for (int i = 0; i < t->claim_count; i++) {
        if (t->claims[i] != first_offset) continue;
        t->claims[i] = t->claims[--t->claim_count];
        return;
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
    for (int i = 0; i < t->claim_count; i++)
        if (t->claims[i] < c) c = t->claims[i];
    /* Never go back behind where this owner started: what lies before was
     * committed by someone who had finished it. */
    return c == INT64_MAX ? -1 : (c < t->start ? t->start : c);
}

int sp_tracker_open_count(const sp_tracker *t) { return (int)t->open.count; }
