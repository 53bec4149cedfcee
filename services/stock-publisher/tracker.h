/* Which offset of one partition may be committed. An offset may be committed
 * once every event below it has been sent to the shop, superseded, or needs
 * nothing: so the committable offset is the smallest of the next offset to
 * read, the first offset of every open window and the first offset of every
 * window being sent right now. A kill -9 then replays from there and rebuilds
 * whatever was pending. */
#ifndef SP_TRACKER_H
#define SP_TRACKER_H

#include <stdint.h>
#include "wb/strmap.h"

typedef struct sp_tracker {
    wb_strmap open;         /* window -> first offset that touched it */
    /* First offsets of windows being sent, a multiset: an open-addressing
     * table of (offset, count), count 0 = empty. A release finds its offset
     * in O(1); a list scanned per release cost the main loop 15% of its time
     * settling 86,000 values (bench). */
    struct sp_claim { int64_t offset, count; } *claims;
    int claim_count, claim_cap; /* claims held (with repeats); table size (a power of two) */
    int claim_slots;            /* distinct offsets in the table */
    int64_t next_to_read;   /* -1 until the first message */
    int64_t start;          /* where consumption began (the committed offset) */
} sp_tracker;

void sp_tracker_init(sp_tracker *t, int64_t start_offset);
void sp_tracker_free(sp_tracker *t);
void sp_tracker_consumed(sp_tracker *t, int64_t offset);
void sp_tracker_touch(sp_tracker *t, const char *window, int64_t offset);
/* The window is going out: its first offset moves to the claims, and a later
 * event opens a new window. Returns that first offset, or -1 if the window
 * was not open here. */
int64_t sp_tracker_claim(sp_tracker *t, const char *window);
/* Holds an offset as claimed (a window that was open in Redis but not in
 * this tracker, e.g. opened by the previous owner). */
void sp_tracker_hold(sp_tracker *t, int64_t first_offset);
/* The shop accepted a claimed window. */
void sp_tracker_release(sp_tracker *t, int64_t first_offset);
/* Sending failed: the window is open again from its first offset. */
void sp_tracker_requeue(sp_tracker *t, const char *window, int64_t first_offset);
/* The offset to commit, or -1 when nothing was consumed yet. */
int64_t sp_tracker_committable(const sp_tracker *t);
int sp_tracker_open_count(const sp_tracker *t);

#endif
