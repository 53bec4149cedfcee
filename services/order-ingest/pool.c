/* The handler threads' PostgreSQL connections (see ingest.h). A request
 * holds one only while it reads (its store, the SKU rule); its order waits
 * for its batch (batch.c) without one. */
#include <stdlib.h>
#include <string.h>

#include "ingest.h"

void oi_pool_init(oi_pool *p, const char *dsn, int size) {
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->dsn = dsn;
    p->size = p->free_count = size;
    p->conns = calloc((size_t)size, sizeof *p->conns);
    p->busy = calloc((size_t)size, sizeof *p->busy);
}

wb_pg *oi_pool_get(oi_pool *p, char *err, size_t errlen) {
    pthread_mutex_lock(&p->mu);
    while (p->free_count == 0) pthread_cond_wait(&p->cv, &p->mu);
    int slot = 0;
    /* Prefer a slot that is already connected. */
    for (int i = 0; i < p->size; i++) {
        if (p->busy[i]) continue;
        slot = i;
        if (p->conns[i]) break;
    }
    p->busy[slot] = true;
    p->free_count--;
    wb_pg *pg = p->conns[slot];
    pthread_mutex_unlock(&p->mu);
    if (!pg) {
        pg = wb_pg_connect(p->dsn, err, errlen);
        pthread_mutex_lock(&p->mu);
        p->conns[slot] = pg;
        if (!pg) {
            p->busy[slot] = false;
            p->free_count++;
            pthread_cond_signal(&p->cv);
        }
        pthread_mutex_unlock(&p->mu);
    }
    return pg;
}

void oi_pool_put(oi_pool *p, wb_pg *pg, bool broken) {
    if (!pg) return;
    pthread_mutex_lock(&p->mu);
    for (int i = 0; i < p->size; i++) {
        if (p->conns[i] != pg) continue;
        if (broken) {
            wb_pg_close(pg);
            p->conns[i] = NULL;
        }
        p->busy[i] = false;
        p->free_count++;
        pthread_cond_signal(&p->cv);
        break;
    }
    pthread_mutex_unlock(&p->mu);
}

void oi_pool_close(oi_pool *p) {
    if (!p->conns) return;
    for (int i = 0; i < p->size; i++) wb_pg_close(p->conns[i]);
    free(p->conns);
    free(p->busy);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    p->conns = NULL;
}
