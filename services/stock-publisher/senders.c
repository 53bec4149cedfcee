/* The sender pool (see sender.h). */
#include "sender.h"

#include <stdlib.h>
#include <string.h>

#include "wb/log.h"
#include "wb/runloop.h"

static void *worker(void *arg) {
    sp_senders *s = arg;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (!s->todo && !s->stop) pthread_cond_wait(&s->work, &s->lock);
        if (!s->todo) break; /* stopping, nothing left */
        sp_job *job = s->todo;
        s->todo = job->next;
        if (!s->todo) s->todo_tail = NULL;
        pthread_mutex_unlock(&s->lock);
        job->started_ms = wb_wall_ms();
        if (job->kind == SP_JOB_SEND && job->prepare) sp_job_run_recorded(s, job);
        else sp_send_job(job);
        job->finished_ms = wb_wall_ms();
        pthread_mutex_lock(&s->lock);
        job->next = s->done;
        s->done = job;
        pthread_cond_broadcast(&s->idle);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

int sp_senders_start(sp_senders *s, int threads, const char *pg_dsn) {
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->work, NULL);
    pthread_cond_init(&s->idle, NULL);
    pthread_cond_init(&s->pg_free, NULL);
    s->pg_dsn = pg_dsn ? strdup(pg_dsn) : NULL;
    s->pg_idle_count = s->pg_open = 0;
    s->todo = s->todo_tail = s->done = NULL;
    s->outstanding = 0;
    s->stop = false;
    s->thread_count = 0;
    if (threads > 64) threads = 64;
    for (int i = 0; i < threads; i++) {
        if (pthread_create(&s->threads[i], NULL, worker, s) != 0) {
            wb_error(NULL, "cannot start sender thread %d", i);
            return -1;
        }
        s->thread_count++;
    }
    return 0;
}

void sp_senders_submit(sp_senders *s, sp_job *job) {
    pthread_mutex_lock(&s->lock);
    job->next = NULL;
    if (s->todo_tail) s->todo_tail->next = job;
    else s->todo = job;
    s->todo_tail = job;
    s->outstanding++;
    pthread_cond_signal(&s->work);
    pthread_mutex_unlock(&s->lock);
}

sp_job *sp_senders_take(sp_senders *s) {
    pthread_mutex_lock(&s->lock);
    sp_job *job = s->done;
    if (job) {
        s->done = job->next;
        s->outstanding--;
    }
    pthread_mutex_unlock(&s->lock);
    return job;
}

/* Finished jobs stay in `done` (counted in outstanding) until taken, so all
 * are finished when every outstanding job sits in `done`. */
void sp_senders_wait(sp_senders *s) {
    pthread_mutex_lock(&s->lock);
    for (;;) {
        int finished = 0;
        for (sp_job *j = s->done; j; j = j->next) finished++;
        if (finished == s->outstanding) break;
        pthread_cond_wait(&s->idle, &s->lock);
    }
    pthread_mutex_unlock(&s->lock);
}

void sp_senders_stop(sp_senders *s) {
    pthread_mutex_lock(&s->lock);
    s->stop = true;
    pthread_cond_broadcast(&s->work);
    pthread_mutex_unlock(&s->lock);
    for (int i = 0; i < s->thread_count; i++) pthread_join(s->threads[i], NULL);
    s->thread_count = 0;
    sp_job *j;
    while ((j = sp_senders_take(s))) sp_job_free(j);
    sp_senders_pg_close(s);
    pthread_cond_destroy(&s->pg_free);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->work);
    pthread_cond_destroy(&s->idle);
}

wb_pg *sp_senders_pg_take(sp_senders *s) {
    pthread_mutex_lock(&s->lock);
    while (s->pg_idle_count == 0 && s->pg_open >= SP_PG_POOL) pthread_cond_wait(&s->pg_free, &s->lock);
    if (s->pg_idle_count > 0) {
        wb_pg *pg = s->pg_idle[--s->pg_idle_count];
        pthread_mutex_unlock(&s->lock);
        return pg;
    }
    s->pg_open++; /* a slot for a new connection, opened outside the lock */
    pthread_mutex_unlock(&s->lock);
    char err[256] = "";
    wb_pg *pg = s->pg_dsn ? wb_pg_connect(s->pg_dsn, err, sizeof err) : NULL;
    if (!pg) {
        wb_error(NULL, "sender: postgresql connection failed: %s", err);
        pthread_mutex_lock(&s->lock);
        s->pg_open--;
        pthread_cond_signal(&s->pg_free);
        pthread_mutex_unlock(&s->lock);
    }
    return pg;
}

void sp_senders_pg_give(sp_senders *s, wb_pg *pg) {
    if (!pg) return;
    pthread_mutex_lock(&s->lock);
    s->pg_idle[s->pg_idle_count++] = pg;
    pthread_cond_signal(&s->pg_free);
    pthread_mutex_unlock(&s->lock);
}

/* After the workers stopped: every connection is idle. */
void sp_senders_pg_close(sp_senders *s) {
    for (int i = 0; i < s->pg_idle_count; i++) wb_pg_close(s->pg_idle[i]);
    s->pg_idle_count = s->pg_open = 0;
    free(s->pg_dsn);
    s->pg_dsn = NULL;
}

void sp_job_free(sp_job *job) {
    if (!job) return;
    for (int i = 0; i < job->count; i++) {
        free(job->values[i].window);
        free(job->values[i].item);
        free(job->values[i].location);
        free(job->values[i].sku);
    }
    free(job->values);
    free(job->store_id);
    free(job->platform);
    free(job);
}
