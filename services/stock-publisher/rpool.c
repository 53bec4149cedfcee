/* Redis calls side by side (see rpool.h). */
#include "rpool.h"

#include <stdlib.h>
#include <string.h>

#include "wb/log.h"

typedef struct worker_arg {
    sp_rpool *pool;
    int index;
} worker_arg;

static worker_arg args[SP_RPOOL_THREADS];

/* Takes tasks of the current batch until none is left (lock held on entry
 * and exit). */
static void take_tasks(sp_rpool *p, wb_redis *r) {
    while (p->next < p->task_count) {
        void *task = p->tasks[p->next++];
        pthread_mutex_unlock(&p->lock);
        p->fn(r, task);
        pthread_mutex_lock(&p->lock);
        if (++p->finished == p->task_count) pthread_cond_broadcast(&p->done);
    }
}

static void *worker(void *arg) {
    worker_arg *a = arg;
    sp_rpool *p = a->pool;
    unsigned seen = 0;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->stop && (p->generation == seen || p->next >= p->task_count))
            pthread_cond_wait(&p->work, &p->lock);
        if (p->stop) break;
        seen = p->generation;
        if (!p->redis[a->index]) {
            pthread_mutex_unlock(&p->lock);
            char err[256] = "";
            wb_redis *r = wb_redis_connect(p->url, err, sizeof err);
            if (!r) wb_warn(NULL, "redis pool: %s", err);
            pthread_mutex_lock(&p->lock);
            p->redis[a->index] = r;
            if (!r) continue; /* the caller's thread takes the tasks */
        }
        take_tasks(p, p->redis[a->index]);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int sp_rpool_start(sp_rpool *p, const char *redis_url) {
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    p->url = redis_url ? strdup(redis_url) : NULL;
    for (int i = 0; p->url && i < SP_RPOOL_THREADS; i++) {
        args[i] = (worker_arg){p, i};
        if (pthread_create(&p->threads[i], NULL, worker, &args[i]) != 0) break;
        p->thread_count++;
    }
    return 0;
}

void sp_rpool_stop(sp_rpool *p) {
    pthread_mutex_lock(&p->lock);
    p->stop = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->thread_count; i++) pthread_join(p->threads[i], NULL);
    for (int i = 0; i < SP_RPOOL_THREADS; i++) wb_redis_close(p->redis[i]);
    free(p->url);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->done);
    memset(p, 0, sizeof *p);
}

void sp_rpool_begin(sp_rpool *p, sp_rpool_fn fn, void **tasks, int count) {
    if (count <= 0) return;
    pthread_mutex_lock(&p->lock);
    p->fn = fn, p->tasks = tasks, p->task_count = count, p->next = p->finished = 0;
    p->generation++;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
}

void sp_rpool_finish(sp_rpool *p, wb_redis *own) {
    pthread_mutex_lock(&p->lock);
    if (p->task_count > 0) {
        take_tasks(p, own);
        while (p->finished < p->task_count) pthread_cond_wait(&p->done, &p->lock);
    }
    p->tasks = NULL, p->task_count = 0, p->next = p->finished = 0;
    pthread_mutex_unlock(&p->lock);
}

void sp_rpool_run(sp_rpool *p, wb_redis *own, sp_rpool_fn fn, void **tasks, int count) {
    sp_rpool_begin(p, fn, tasks, count);
    sp_rpool_finish(p, own);
}
