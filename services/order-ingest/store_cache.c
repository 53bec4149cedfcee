/* The webhook path's store lookup, cached. Every webhook needs its store
 * (routing, the signing secret, filters): a PostgreSQL round trip and an
 * AES-GCM unseal of the credentials each time. A store changes rarely, so a
 * loaded store is shared for WB_ORDER_STORE_CACHE_MS (5 s): a change made
 * with bridgectl reaches this replica's webhooks within that time, and app/uninstalled
 * forgets the store here at once. Entries are reference-counted and
 * read-only, so a request keeps using the store it started with even when a
 * newer load replaces it. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "wb/runloop.h"

#define MAX_ENTRIES 512

static int64_t ttl_ms = 5000; /* WB_ORDER_STORE_CACHE_MS */

typedef struct entry {
    wb_store store; /* first: a const wb_store * handed out is the entry */
    int refs;       /* the cache's own while listed, plus one per request */
    int64_t loaded_ms;
    struct entry *next;
} entry;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static entry *head;
static int count;

static void unref_locked(entry *e) {
    if (--e->refs == 0) {
        wb_store_free(&e->store);
        free(e);
    }
}

/* Takes e off the list (mu held) and drops the cache's reference. */
static void unlist_locked(entry **link) {
    entry *e = *link;
    *link = e->next;
    count--;
    unref_locked(e);
}

int oi_store_acquire(wb_pg *pg, const unsigned char *key, const char *id, const wb_store **out,
                     char *err, size_t errlen) {
    int64_t now = wb_monotonic_ms();
    pthread_mutex_lock(&mu);
    for (entry *e = head; e; e = e->next) {
        if (strcmp(e->store.id, id) == 0 && now - e->loaded_ms < ttl_ms) {
            e->refs++;
            pthread_mutex_unlock(&mu);
            *out = &e->store;
            return 0;
        }
    }
    pthread_mutex_unlock(&mu);
    entry *fresh = calloc(1, sizeof *fresh);
    int rc = wb_store_load(pg, key, id, &fresh->store, err, errlen);
    if (rc != 0) {
        free(fresh);
        return rc; /* unknown stores and failures are not cached */
    }
    fresh->refs = 2;
    fresh->loaded_ms = now;
    pthread_mutex_lock(&mu);
    for (entry **link = &head; *link;) {
        if (strcmp((*link)->store.id, id) == 0 || now - (*link)->loaded_ms >= ttl_ms)
            unlist_locked(link);
        else
            link = &(*link)->next;
    }
    if (count >= MAX_ENTRIES) { /* all fresh: not listed, the request alone owns it */
        fresh->refs = 1;
    } else {
        fresh->next = head;
        head = fresh;
        count++;
    }
    pthread_mutex_unlock(&mu);
    *out = &fresh->store;
    return 0;
}

void oi_store_release(const wb_store *store) {
    if (!store) return;
    pthread_mutex_lock(&mu);
    unref_locked((entry *)(void *)store);
    pthread_mutex_unlock(&mu);
}

void oi_store_cache_set_ttl(int64_t ms) { ttl_ms = ms; }

/* ---- the store's order rules: its location mapping and require_sku_mapping
 * (prepare.c), cached the same way and forgotten with the store. Small: the
 * mapping is kept as its JSON text and copied out. */

typedef struct rules_entry {
    char *id, *locations;
    bool require_sku_mapping;
    int64_t loaded_ms;
    struct rules_entry *next;
} rules_entry;

static rules_entry *rules_head;
static int rules_count;

static void rules_unlist_locked(rules_entry **link) {
    rules_entry *e = *link;
    *link = e->next;
    rules_count--;
    free(e->id);
    free(e->locations);
    free(e);
}

bool oi_store_rules_get(const char *id, bool *require_sku_mapping, char **locations) {
    int64_t now = wb_monotonic_ms();
    bool hit = false;
    pthread_mutex_lock(&mu);
    for (rules_entry *e = rules_head; e && !hit; e = e->next) {
        if (strcmp(e->id, id) != 0 || now - e->loaded_ms >= ttl_ms) continue;
        *require_sku_mapping = e->require_sku_mapping;
        *locations = strdup(e->locations);
        hit = true;
    }
    pthread_mutex_unlock(&mu);
    return hit;
}

void oi_store_rules_put(const char *id, bool require_sku_mapping, const char *locations) {
    int64_t now = wb_monotonic_ms();
    pthread_mutex_lock(&mu);
    for (rules_entry **link = &rules_head; *link;) {
        if (strcmp((*link)->id, id) == 0 || now - (*link)->loaded_ms >= ttl_ms) rules_unlist_locked(link);
        else link = &(*link)->next;
    }
    if (ttl_ms > 0 && rules_count < MAX_ENTRIES) {
        rules_entry *e = calloc(1, sizeof *e);
        e->id = strdup(id);
        e->locations = strdup(locations);
        e->require_sku_mapping = require_sku_mapping;
        e->loaded_ms = now;
        e->next = rules_head;
        rules_head = e;
        rules_count++;
    }
    pthread_mutex_unlock(&mu);
}

void oi_store_forget(const char *id) {
    pthread_mutex_lock(&mu);
    for (entry **link = &head; *link;) {
        if (strcmp((*link)->store.id, id) == 0) unlist_locked(link);
        else link = &(*link)->next;
    }
    for (rules_entry **link = &rules_head; *link;) {
        if (strcmp((*link)->id, id) == 0) rules_unlist_locked(link);
        else link = &(*link)->next;
    }
    pthread_mutex_unlock(&mu);
}

void oi_store_cache_clear(void) {
    pthread_mutex_lock(&mu);
    while (head) unlist_locked(&head);
    while (rules_head) rules_unlist_locked(&rules_head);
    pthread_mutex_unlock(&mu);
}
