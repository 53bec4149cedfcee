/* The webhook path's store lookup, cached. Every webhook needs its store
 * (routing, the signing secret, filters): a PostgreSQL round trip and an
 * AES-GCM unseal of the credentials each time. A store changes rarely, so a
 * loaded store is shared for STORE_TTL_MS: a change made with bridgectl
 * reaches this replica's webhooks within that time, and app/uninstalled
 * forgets the store here at once. Entries are reference-counted and
 * read-only, so a request keeps using the store it started with even when a
 * newer load replaces it. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "wb/runloop.h"

#define STORE_TTL_MS 5000
#define MAX_ENTRIES 512

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
        if (strcmp(e->store.id, id) == 0 && now - e->loaded_ms < STORE_TTL_MS) {
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
        if (strcmp((*link)->store.id, id) == 0 || now - (*link)->loaded_ms >= STORE_TTL_MS)
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

void oi_store_forget(const char *id) {
    pthread_mutex_lock(&mu);
    for (entry **link = &head; *link;) {
        if (strcmp((*link)->store.id, id) == 0) unlist_locked(link);
        else link = &(*link)->next;
    }
    pthread_mutex_unlock(&mu);
}

void oi_store_cache_clear(void) {
    pthread_mutex_lock(&mu);
    while (head) unlist_locked(&head);
    pthread_mutex_unlock(&mu);
}
