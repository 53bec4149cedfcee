/* Reports once per order version: see report_once.h. A hash set of 64-bit
 * key hashes with ring eviction; a collision (2^-64 per pair) would only
 * cost one warning line. */
#include "report_once.h"

#include <pthread.h>
#include <string.h>

#define RING 4096
#define SLOTS (RING * 2) /* open addressing, at most half full */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t slots[SLOTS]; /* 0 = empty */
static uint64_t ring[RING];   /* the keys in insertion order */
static unsigned next_evict;
static unsigned held;

/* FNV-1a over the three parts, with separators so ("ab","c") != ("a","bc"). */
static uint64_t key_of(const char *store_id, const char *order_id, int64_t version) {
    uint64_t h = 1469598103934665603ULL;
    const char *parts[2] = {store_id, order_id};
    for (int p = 0; p < 2; p++) {
        for (const unsigned char *s = (const unsigned char *)parts[p]; *s; s++) h = (h ^ *s) * 1099511628211ULL;
        h = (h ^ 0xff) * 1099511628211ULL;
    }
    for (int i = 0; i < 8; i++) h = (h ^ (uint8_t)((uint64_t)version >> (8 * i))) * 1099511628211ULL;
    return h ? h : 1;
}

static unsigned find(uint64_t key) {
    unsigned i = (unsigned)(key % SLOTS);
    while (slots[i] && slots[i] != key) i = (i + 1) % SLOTS;
    return i;
}

/* Removes key and re-places the run after it (linear probing deletion). */
static void forget(uint64_t key) {
    unsigned i = find(key);
    if (!slots[i]) return;
    slots[i] = 0;
    for (unsigned j = (i + 1) % SLOTS; slots[j]; j = (j + 1) % SLOTS) {
        uint64_t moved = slots[j];
        slots[j] = 0;
        slots[find(moved)] = moved;
    }
}

bool oi_report_once(const char *store_id, const char *order_id, int64_t version) {
    uint64_t key = key_of(store_id ? store_id : "", order_id ? order_id : "", version);
    pthread_mutex_lock(&mu);
    unsigned i = find(key);
    bool first = slots[i] == 0;
    if (first) {
        if (held == RING) forget(ring[next_evict]);
        else held++;
        slots[find(key)] = key;
        ring[next_evict] = key;
        next_evict = (next_evict + 1) % RING;
    }
    pthread_mutex_unlock(&mu);
    return first;
}
