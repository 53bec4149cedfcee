/* Debounce windows in Redis. The first stock change for a store, item and
 * location opens a window; later changes only touch it; when its deadline
 * passes one value goes out, computed then from the newest levels, so later
 * events in the window replace earlier ones by construction.
 *
 * Windows belong to the Kafka partition whose events touch them, and all keys
 * of a partition share the hash tag {sp:P} (one Redis Cluster slot, so the
 * scripts below may touch them together):
 *   wb:{sp:P}:win    hash  window -> "opened_ms deadline_ms first_offset touches"
 *   wb:{sp:P}:due    zset  window scored by its deadline
 *   wb:{sp:P}:owner  the token of the replica that owns P
 *   wb:{sp:P}:bystore zset  every window, score 0: a store's windows by name (ZRANGEBYLEX)
 * Every script checks the owner token first, so a replica that lost the
 * partition (a zombie after a rebalance) can neither open nor claim windows
 * there. A window is named "store|item|location". */
#ifndef SP_WINDOWS_H
#define SP_WINDOWS_H

#include <stdbool.h>
#include <stdint.h>
#include "wb/redis.h"
#include "wb/strmap.h"

#define SP_NOT_OWNER (-2)

typedef struct sp_touch {
    const char *window;
    int64_t window_ms;    /* the store's window length; 0 = due at once */
    int64_t first_offset; /* smallest offset of the events behind this touch */
    int64_t touches;      /* how many events it stands for (coalescing metrics); 0 for a resync */
} sp_touch;

typedef struct sp_window {
    char *window;
    int64_t opened_ms, deadline_ms, first_offset, touches;
} sp_window;

/* Makes this replica the owner of the partition's windows (Kafka just
 * assigned it here: whoever held it before is fenced off). */
int sp_windows_own(wb_redis *r, int32_t partition, const char *token);
/* The same only while nobody owns it: 0 taken, 1 someone else was quicker,
 * -1 Redis error. After Redis lost its data a replica re-owns its partitions
 * this way, so a stale replica that still believes in an old assignment
 * cannot take a partition from its rightful owner. */
int sp_windows_own_if_free(wb_redis *r, int32_t partition, const char *token);
/* Whether this replica still owns the partition's windows. */
typedef enum { SP_OWNED, SP_OWNED_BY_OTHER, SP_OWNER_LOST, SP_OWNER_ERROR } sp_owner_state;
/* SP_OWNER_LOST: the owner key is gone, so Redis lost its data (flushed or
 * restarted empty): the caller re-owns and re-opens what it tracks. */
sp_owner_state sp_windows_check(wb_redis *r, int32_t partition, const char *token);

/* Loads the touch script now when it is not yet (its SHA is then only
 * read, and threads may share it). */
void sp_windows_load_scripts(wb_redis *r);
/* Opens or touches windows in one round trip. Returns how many were opened,
 * -1 on a Redis error, SP_NOT_OWNER when the partition is not ours. */
int sp_windows_touch(wb_redis *r, int32_t partition, const char *token, int64_t now_ms,
                     const sp_touch *touches, int count);
/* Adds the stores that have a window due by now_ms to stores. Returns how
 * many stores were found, or -1. */
int sp_windows_due_stores(wb_redis *r, int32_t partition, int64_t now_ms, wb_strmap *stores);

/* A store whose windows may go out early, up to horizon_ms: one of its
 * windows is due, and the rest of its burst should join that batch. */
typedef struct sp_horizon {
    const char *store;
    int64_t horizon_ms;
} sp_horizon;

/* Removes and returns the windows of the listed stores due by their horizon,
 * whole stores (in the order of their oldest window) until limit windows are
 * reached; the first store always whole. Returns the count, -1 or
 * SP_NOT_OWNER. */
int sp_windows_claim(wb_redis *r, int32_t partition, const char *token, int64_t now_ms,
                     int limit, const sp_horizon *horizons, int horizon_count, sp_window **out);
/* Names every open window of the partition in `bystore` (the claim finds
 * a store's windows there): a new owner runs it once, so windows a replica
 * older than `bystore` left open still go out. Returns how many were added,
 * or -1. */
int sp_windows_index(wb_redis *r, int32_t partition);
/* Every open window of the partition (to seed a new owner's offset tracker). */
int sp_windows_list(wb_redis *r, int32_t partition, sp_window **out);
void sp_windows_free(sp_window *w, int count);

/* The earliest deadline of the partition's open windows (ms), or -1. */
int64_t sp_windows_earliest_deadline(wb_redis *r, int32_t partition);

/* Splits "store|item|location" in place; returns false when malformed. */
bool sp_window_split(char *window, char **store, char **item, char **location);

#endif
