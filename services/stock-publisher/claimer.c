/* The claim thread (see claimer.h). */
#include "claimer.h"

#include <stdlib.h>
#include <string.h>

#include "wb/log.h"

static void claim_all(sp_claimer *c) {
    if (!c->redis) {
        char err[256] = "";
        c->redis = wb_redis_connect(c->redis_url, err, sizeof err);
        if (!c->redis) wb_warn(NULL, "claimer: redis: %s", err);
    }
    for (int i = 0; i < c->part_count; i++) {
        c->windows[i] = NULL;
        /* No limit inside a call: a store claimed on one partition and left
         * on another would go out in two batches (flush.c limits between
         * groups). */
        c->counts[i] = c->redis ? sp_windows_claim(c->redis, c->parts[i], c->token, c->now, 1 << 30,
                                                   c->horizons, c->horizon_count, &c->windows[i])
                                : -1;
        if (c->counts[i] <= 0) {
            sp_windows_free(c->windows[i], 0);
            c->windows[i] = NULL;
        }
    }
}

static void *run(void *arg) {
    sp_claimer *c = arg;
    pthread_mutex_lock(&c->lock);
    for (;;) {
        while (!c->requested && !c->stop) pthread_cond_wait(&c->cond, &c->lock);
        if (c->stop) break;
        pthread_mutex_unlock(&c->lock);
        claim_all(c);
        pthread_mutex_lock(&c->lock);
        c->requested = false;
        c->done = true;
        pthread_cond_broadcast(&c->cond);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

int sp_claimer_start(sp_claimer *c, const char *redis_url) {
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, NULL);
    c->redis_url = redis_url ? strdup(redis_url) : NULL;
    if (pthread_create(&c->thread, NULL, run, c) != 0) {
        wb_error(NULL, "cannot start the claim thread");
        return -1;
    }
    c->started = true;
    return 0;
}

void sp_claimer_stop(sp_claimer *c) {
    if (c->started) {
        pthread_mutex_lock(&c->lock);
        c->stop = true;
        pthread_cond_broadcast(&c->cond);
        pthread_mutex_unlock(&c->lock);
        pthread_join(c->thread, NULL);
        c->started = false;
    }
    if (c->redis) wb_redis_close(c->redis);
    c->redis = NULL;
    free(c->redis_url);
    c->redis_url = NULL;
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->cond);
}

void sp_claimer_submit(sp_claimer *c, const char *token, int64_t now, const sp_horizon *horizons,
                       int horizon_count, const int32_t *parts, int part_count) {
    pthread_mutex_lock(&c->lock);
    c->token = token, c->now = now, c->horizons = horizons, c->horizon_count = horizon_count;
    c->part_count = part_count < SP_CLAIM_PARTS ? part_count : SP_CLAIM_PARTS;
    memcpy(c->parts, parts, sizeof *parts * (size_t)c->part_count);
    c->done = false;
    c->requested = true;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
}

void sp_claimer_wait(sp_claimer *c) {
    pthread_mutex_lock(&c->lock);
    while (!c->done) pthread_cond_wait(&c->cond, &c->lock);
    pthread_mutex_unlock(&c->lock);
}
