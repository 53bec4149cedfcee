/* A string-keyed hash map (open addressing, linear probing) holding an int64
 * and a pointer per key. Keys are copied. Used for the small in-memory
 * indexes services keep (offsets per window, mappings per sku). */
#ifndef WB_STRMAP_H
#define WB_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct wb_strmap_entry {
    char *key; /* NULL: empty slot; a private tombstone marks a deleted one */
    uint64_t hash; /* compared before the key: keys often share long prefixes */
    int64_t num;
    void *ptr;
} wb_strmap_entry;

typedef struct wb_strmap {
    wb_strmap_entry *slots;
    size_t cap, count, used; /* used counts tombstones too */
} wb_strmap;

void wb_strmap_init(wb_strmap *m);
/* Frees keys; free_ptr (may be NULL) is called on each value pointer. */
void wb_strmap_clear(wb_strmap *m, void (*free_ptr)(void *));
wb_strmap_entry *wb_strmap_get(const wb_strmap *m, const char *key);
/* Finds or inserts; *created says which. */
wb_strmap_entry *wb_strmap_put(wb_strmap *m, const char *key, bool *created);
/* Removes; returns the value pointer so the caller can free it. */
void *wb_strmap_del(wb_strmap *m, const char *key);

/* Iteration: for (size_t i = 0; i < m.cap; i++) if (wb_strmap_live(&m.slots[i])) ... */
bool wb_strmap_live(const wb_strmap_entry *e);

#endif
