/* Load mode: stock events at a steady rate for benchmarks. Each event picks
 * a key (goods owner x warehouse x sku) at random, moves its level by a
 * little and writes the next version of that key, so versions grow per key
 * as the contract wants. Produced asynchronously (the broker's acks come
 * back on the producer's thread); at the end it waits for every ack and
 * logs how many were produced and the rate achieved. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb/runloop.h"
#include "wmssim.h"

#define MAX_KEYS 20000000LL

static atomic_llong acked, failed;

static void on_delivery(rd_kafka_resp_err_t err, int32_t partition, int64_t offset, void *opaque) {
    (void)partition, (void)offset, (void)opaque;
    if (err) {
        if (atomic_fetch_add(&failed, 1) == 0) wb_error(NULL, "delivery failed: %s", rd_kafka_err2str(err));
    } else {
        atomic_fetch_add(&acked, 1);
    }
}

static char **names(const char *base, int n) {
    char **out = calloc((size_t)n, sizeof *out);
    for (int i = 0; i < n; i++) {
        char buf[128];
        if (n == 1) snprintf(buf, sizeof buf, "%s", base);
        else snprintf(buf, sizeof buf, "%.60s-%02d", base, i + 1);
        out[i] = strdup(buf);
    }
    return out;
}

static void free_names(char **v, int n) {
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

/* One event for key k; returns 0 once queued. */
static int one(ws_emitter *em, unsigned *rng, int64_t k, int64_t *version, int64_t *on_hand,
               char **owners, char **warehouses, const ws_config *cfg) {
    int K = cfg->owners_n, M = cfg->skus_n;
    const char *owner = owners[k % K], *wh = warehouses[k / ((int64_t)K * M)];
    char sku[300];
    snprintf(sku, sizeof sku, "%s-%06lld", cfg->sku_prefix, (long long)((k / K) % M + 1));
    static const wb_movement kinds[] = {WB_MOVEMENT_PICKING, WB_MOVEMENT_PICKING, WB_MOVEMENT_RECEIVING,
                                        WB_MOVEMENT_ADJUSTMENT, WB_MOVEMENT_COUNT, WB_MOVEMENT_TRANSFER};
    wb_movement mv = kinds[ws_rand(rng) % 6];
    int64_t d = 1 + ws_rand(rng) % 5;
    on_hand[k] += mv == WB_MOVEMENT_RECEIVING ? 5 * d : mv == WB_MOVEMENT_COUNT ? 0 : -d;
    if (on_hand[k] < 0) on_hand[k] = cfg->initial; /* restocked */
    version[k] = ws_next_version(version[k]);
    char now[40];
    ws_now(now, sizeof now);
    wb_stock_msg m = {.goods_owner = (char *)owner, .warehouse = (char *)wh, .sku = sku,
                      .on_hand = on_hand[k], .reserved = 0, .version = version[k], .movement = mv,
                      .occurred_at = now};
    char err[256];
    char *json = wb_stock_msg_encode_err(&m, err, sizeof err);
    if (!json) {
        wb_error(NULL, "load event not produced: %s", err);
        return -1;
    }
    char key[400];
    int klen = snprintf(key, sizeof key, "%s/%s", owner, sku);
    rd_kafka_resp_err_t e;
    while ((e = wb_produce_async(em->producer, WB_TOPIC_STOCK, key, (size_t)klen, json, strlen(json), NULL, 0,
                                 on_delivery, NULL)) == RD_KAFKA_RESP_ERR__QUEUE_FULL &&
           !wb_stopping())
        rd_kafka_poll(wb_producer_handle(em->producer), 5);
    free(json);
    if (e) {
        wb_error(NULL, "produce: %s", rd_kafka_err2str(e));
        return -1;
    }
    return 0;
}

int ws_run_load(const ws_config *cfg, ws_emitter *em) {
    int64_t keys = (int64_t)cfg->owners_n * cfg->skus_n * cfg->warehouses_n;
    if (keys > MAX_KEYS) {
        wb_error(NULL, "load: %lld keys (owners x skus x warehouses) is more than %lld", (long long)keys,
                 (long long)MAX_KEYS);
        return 2;
    }
    int64_t *version = calloc((size_t)keys, sizeof *version);
    int64_t *on_hand = malloc((size_t)keys * sizeof *on_hand);
    for (int64_t k = 0; k < keys; k++) on_hand[k] = cfg->initial;
    char **owners = names(cfg->owner, cfg->owners_n);
    char **warehouses = names(cfg->warehouses.items[0], cfg->warehouses_n);
    unsigned rng = cfg->seed;
    wb_info(NULL, "load: %g events/s over %lld keys (%d owners x %d skus x %d warehouses) for %g s%s", cfg->rate,
            (long long)keys, cfg->owners_n, cfg->skus_n, cfg->warehouses_n, cfg->duration,
            cfg->count ? " or until the count" : "");

    /* rate x duration events (or --count, whichever is less), paced by the
     * clock; a machine that cannot keep up stops a second after the
     * duration and reports the rate it did reach. */
    int64_t limit = cfg->duration > 0 ? (int64_t)(cfg->rate * cfg->duration + 0.5) : 0;
    if (cfg->count && (!limit || cfg->count < limit)) limit = cfg->count;
    int64_t start = wb_monotonic_ms(), next_report = start + 5000, queued = 0;
    int rc = 0;
    while (!wb_stopping()) {
        int64_t now = wb_monotonic_ms();
        double elapsed = (double)(now - start) / 1000.0;
        if (limit && queued >= limit) break;
        if (cfg->duration > 0 && elapsed >= cfg->duration + 1.0) break;
        int64_t target = (int64_t)(elapsed * cfg->rate) + 1;
        if (limit && target > limit) target = limit;
        if (queued >= target) {
            wb_sleep_ms(1);
            continue;
        }
        /* In bursts of at most 1024, so a machine that falls behind still
         * looks at the clock. */
        for (int burst = 0; queued < target && burst < 1024 && !wb_stopping(); burst++) {
            int64_t k = (int64_t)(((uint64_t)ws_rand(&rng) << 32 | ws_rand(&rng)) % (uint64_t)keys);
            if (one(em, &rng, k, version, on_hand, owners, warehouses, cfg)) {
                rc = 1;
                goto done;
            }
            queued++;
        }
        if (now >= next_report) {
            wb_info(NULL, "load: %lld queued, %lld acknowledged", (long long)queued, (long long)atomic_load(&acked));
            next_report = now + 5000;
        }
    }
done:
    if (wb_producer_flush(em->producer, 60000)) rc = 1;
    double seconds = (double)(wb_monotonic_ms() - start) / 1000.0;
    long long ok = atomic_load(&acked), bad = atomic_load(&failed);
    em->stock_sent += ok;
    em->failed += bad;
    wb_info(NULL, "load done: produced %lld events in %.2f s (%.1f/s), %lld failed, %lld keys", ok, seconds,
            seconds > 0 ? (double)ok / seconds : 0.0, bad, (long long)keys);
    fprintf(stderr, "wmssim: produced %lld stock events in %.2f s: %.1f events/s (%lld failed)\n", ok, seconds,
            seconds > 0 ? (double)ok / seconds : 0.0, bad);
    free_names(owners, cfg->owners_n);
    free_names(warehouses, cfg->warehouses_n);
    free(version);
    free(on_hand);
    return rc || bad ? 1 : 0;
}
