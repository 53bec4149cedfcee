/* String-keyed open-addressing hash map (see wb/strmap.h). Deleted slots
 * become tombstones so probe chains stay intact; a rehash clears them. */
#include "wb/strmap.h"

#include <stdlib.h>
#include <string.h>

static char tombstone;
#define TOMBSTONE (&tombstone)

/* FNV-1a, then MurmurHash3's finaliser: keys like SKU-00001-1, SKU-00001-2
 * differ only in their last bytes, and the mask keeps only the low bits. */
static uint64_t hash(const char *s) {
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

bool wb_strmap_live(const wb_strmap_entry *e) { return e->key && e->key != TOMBSTONE; }

void wb_strmap_init(wb_strmap *m) {
    m->cap = 64;
    m->count = m->used = 0;
    m->slots = calloc(m->cap, sizeof *m->slots);
}

void wb_strmap_clear(wb_strmap *m, void (*free_ptr)(void *)) {
    for (size_t i = 0; m->slots && i < m->cap; i++) {
        if (!wb_strmap_live(&m->slots[i])) continue;
        if (free_ptr) free_ptr(m->slots[i].ptr);
        free(m->slots[i].key);
    }
    free(m->slots);
    m->slots = NULL;
    m->cap = m->count = m->used = 0;
}

/* The slot holding key, or the empty slot where it would go. */
static wb_strmap_entry *probe(const wb_strmap *m, const char *key, uint64_t h,
                              wb_strmap_entry **first_free) {
    size_t i = h & (m->cap - 1);
    *first_free = NULL;
    for (;;) {
        wb_strmap_entry *e = &m->slots[i];
        if (!e->key) return *first_free ? *first_free : e;
        if (e->key == TOMBSTONE) {
            if (!*first_free) *first_free = e;
        } else if (e->hash == h && strcmp(e->key, key) == 0) {
            return e;
        }
        i = (i + 1) & (m->cap - 1);
    }
}

wb_strmap_entry *wb_strmap_get(const wb_strmap *m, const char *key) {
    if (!m->cap) return NULL;
    wb_strmap_entry *free_slot, *e = probe(m, key, hash(key), &free_slot);
    return wb_strmap_live(e) && strcmp(e->key, key) == 0 ? e : NULL;
}

static void rehash(wb_strmap *m, size_t cap) {
    wb_strmap old = *m;
    m->slots = calloc(cap, sizeof *m->slots);
    m->cap = cap;
    m->count = m->used = 0;
    for (size_t i = 0; i < old.cap; i++) {
        if (!wb_strmap_live(&old.slots[i])) continue;
        wb_strmap_entry *free_slot, *e = probe(m, old.slots[i].key, old.slots[i].hash, &free_slot);
        *e = old.slots[i];
        m->count++;
        m->used++;
    }
    free(old.slots);
}

wb_strmap_entry *wb_strmap_put(wb_strmap *m, const char *key, bool *created) {
    if (!m->cap) wb_strmap_init(m);
    if ((m->used + 1) * 4 > m->cap * 3) rehash(m, m->count * 4 > m->cap ? m->cap * 2 : m->cap);
    uint64_t h = hash(key);
    wb_strmap_entry *free_slot, *e = probe(m, key, h, &free_slot);
    if (wb_strmap_live(e)) {
        if (created) *created = false;
        return e;
    }
    if (!e->key) m->used++;
    e->key = strdup(key);
    e->hash = h;
    e->num = 0;
    e->ptr = NULL;
    m->count++;
    if (created) *created = true;
    return e;
}

void *wb_strmap_del(wb_strmap *m, const char *key) {
    wb_strmap_entry *e = wb_strmap_get(m, key);
    if (!e) return NULL;
    void *ptr = e->ptr;
    free(e->key);
    e->key = TOMBSTONE;
    e->ptr = NULL;
    m->count--;
    return ptr;
}
