/* The shared rate budget (see wb/ratebudget.h). */
#include "wb/ratebudget.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb/redis.h"
#include "wb/runloop.h"

struct wb_rate_budget {
    char *url;
    wb_redis *redis;
    wb_redis_script script; /* its SHA is filled on first use */
};

/* KEYS[1]: the bucket. ARGV: mode (take|observe), capacity, rate per second,
 * cost (take) or available (observe), floor (take). A reported size and rate
 * (fields cap, rate) win over the configured defaults. The key expires once
 * it would be full again anyway, so idle stores cost nothing. */
static const char budget_lua[] =
        "local t = redis.call('TIME')\n"
        "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
        "local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts', 'cap', 'rate')\n"
        "local mode = ARGV[1]\n"
        "local cap, rate = tonumber(ARGV[2]), tonumber(ARGV[3])\n"
        "if mode == 'observe' then\n"
        "  if cap > 0 and rate > 0 then redis.call('HSET', KEYS[1], 'cap', ARGV[2], 'rate', ARGV[3]) end\n"
        "else\n"
        "  if b[3] then cap = tonumber(b[3]) end\n"
        "  if b[4] then rate = tonumber(b[4]) end\n"
        "end\n"
        "if cap <= 0 or rate <= 0 then return 0 end\n"
        "local tokens = cap\n"
        "if b[1] and b[2] then\n"
        "  tokens = math.min(cap, tonumber(b[1]) + (now - tonumber(b[2])) * rate / 1000)\n"
        "end\n"
        "local result = 0\n"
        "if mode == 'observe' then\n"
        "  tokens = math.min(tokens, tonumber(ARGV[4]))\n"
        "else\n"
        "  local cost = math.min(tonumber(ARGV[4]), cap)\n"
        "  local floor = math.max(0, math.min(tonumber(ARGV[5] or '0'), cap - cost))\n"
        "  if tokens - cost >= floor then tokens = tokens - cost\n"
        "  else result = math.max(1, math.ceil((cost + floor - tokens) * 1000 / rate)) end\n"
        "end\n"
        "redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))\n"
        "redis.call('PEXPIRE', KEYS[1], math.ceil(cap * 1000 / rate) + 1000)\n"
        "return result\n";

wb_rate_budget *wb_rate_budget_open(const char *redis_url) {
    wb_rate_budget *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->url = strdup(redis_url ? redis_url : "");
    b->script.source = budget_lua;
    return b;
}

void wb_rate_budget_close(wb_rate_budget *b) {
    if (!b) return;
    if (b->redis) wb_redis_close(b->redis);
    free(b->url);
    free(b);
}

static int64_t run(wb_rate_budget *bud, const char *store_id, const char *mode, double a, double b, double c,
                   double d) {
    char key[160], s1[32], s2[32], s3[32], s4[32];
    if (!bud || wb_redis_key(key, sizeof key, store_id, "ratebucket", NULL) < 0) return -1;
    snprintf(s1, sizeof s1, "%.6g", a);
    snprintf(s2, sizeof s2, "%.6g", b);
    snprintf(s3, sizeof s3, "%.6g", c);
    snprintf(s4, sizeof s4, "%.6g", d);
    const char *argv[] = {key, mode, s1, s2, s3, s4};
    if (!bud->redis) {
        char err[256];
        bud->redis = wb_redis_connect(bud->url, err, sizeof err);
        if (!bud->redis) return -1;
    }
    redisReply *reply = wb_redis_eval(bud->redis, &bud->script, 1, 6, argv);
    int64_t out = reply && reply->type == REDIS_REPLY_INTEGER ? reply->integer : -1;
    if (reply) freeReplyObject(reply);
    if (out < 0) { /* a broken connection is made again on the next call */
        wb_redis_close(bud->redis);
        bud->redis = NULL;
    }
    return out;
}

int64_t wb_rate_budget_take(wb_rate_budget *b, const char *store_id, double capacity, double per_second,
                            double cost, double floor) {
    return run(b, store_id, "take", capacity, per_second, cost, floor);
}

int wb_rate_budget_wait(wb_rate_budget *b, const char *store_id, double per_second, double cost, double floor,
                        int max_wait_ms) {
    int64_t deadline = wb_monotonic_ms() + max_wait_ms;
    for (;;) {
        /* A one-second burst: the bucket holds per_second tokens. */
        int64_t wait = wb_rate_budget_take(b, store_id, per_second, per_second, cost, floor);
        if (wait <= 0) return wait < 0 ? -1 : 0;
        int64_t left = deadline - wb_monotonic_ms();
        if (left <= 0 || wb_stopping()) return 1;
        if (!wb_sleep_ms((int)(wait < left ? wait : left))) return 1;
    }
}

int wb_rate_budget_observe(wb_rate_budget *b, const char *store_id, double maximum, double available,
                           double restore_rate) {
    return run(b, store_id, "observe", maximum, restore_rate, available, 0) < 0 ? -1 : 0;
}
