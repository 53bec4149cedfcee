/* The sender pool (see sender.h). */
#include "sender.h"

#include <stdlib.h>

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
        sp_send_job(job);
        job->finished_ms = wb_wall_ms();
        pthread_mutex_lock(&s->lock);
        job->next = s->done;
        s->done = job;
        pthread_cond_broadcast(&s->idle);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

int sp_senders_start(sp_senders *s, int threads) {
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->work, NULL);
    pthread_cond_init(&s->idle, NULL);
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
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->work);
    pthread_cond_destroy(&s->idle);
}

void sp_job_free(sp_job *job) {
    if (!job) return;
    for (int i = 0; i < job->count; i++) {
        free(job->values[i].window);
        free(job->values[i].item);
        free(job->values[i].location);
    }
    free(job->values);
    free(job->store_id);
    free(job->platform);
    free(job);
}
