/* Producing a page's changed articles and waiting for every ack. A message
 * always gets its delivery report (librdkafka's message.timeout.ms bounds
 * it), so the wait ends; only acknowledged articles have their hash
 * recorded. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "wb/log.h"

typedef struct batch {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t pending;
    bool *acked;
} batch;

typedef struct slot {
    batch *b;
    size_t index;
} slot;

static void on_delivery(rd_kafka_resp_err_t err, int32_t partition, int64_t offset, void *opaque) {
    (void)partition, (void)offset;
    slot *s = opaque;
    pthread_mutex_lock(&s->b->mu);
    s->b->acked[s->index] = err == RD_KAFKA_RESP_ERR_NO_ERROR;
    s->b->pending--;
    pthread_cond_broadcast(&s->b->cv);
    pthread_mutex_unlock(&s->b->mu);
}

size_t ci_publish(ci_ctx *ctx, const char *store_id, char **skus, char **values, size_t count,
                  bool *acked) {
    if (count == 0) return 0;
    batch b = {.acked = acked};
    pthread_mutex_init(&b.mu, NULL);
    pthread_cond_init(&b.cv, NULL);
    slot *slots = calloc(count, sizeof *slots);
    if (!slots) abort();
    for (size_t i = 0; i < count; i++) {
        acked[i] = false;
        slots[i] = (slot){&b, i};
        char *key = NULL;
        if (asprintf(&key, "%s/%s", store_id, skus[i]) < 0) abort();
        pthread_mutex_lock(&b.mu);
        b.pending++;
        pthread_mutex_unlock(&b.mu);
        rd_kafka_resp_err_t err = wb_produce_async(ctx->svc->producer, CI_TOPIC, key, strlen(key), values[i],
                                                   strlen(values[i]), NULL, 0, on_delivery, &slots[i]);
        free(key);
        if (err) {
            wb_warn(store_id, "catalog message for %s not queued: %s", skus[i], rd_kafka_err2str(err));
            pthread_mutex_lock(&b.mu);
            b.pending--;
            pthread_mutex_unlock(&b.mu);
        }
    }
    wb_producer_flush(ctx->svc->producer, ctx->cfg.kafka_timeout_ms);
    pthread_mutex_lock(&b.mu);
    while (b.pending > 0) pthread_cond_wait(&b.cv, &b.mu);
    pthread_mutex_unlock(&b.mu);
    pthread_cond_destroy(&b.cv);
    pthread_mutex_destroy(&b.mu);
    free(slots);
    size_t ok = 0;
    for (size_t i = 0; i < count; i++) ok += acked[i];
    return ok;
}
