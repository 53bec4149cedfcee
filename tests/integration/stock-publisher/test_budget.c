/* The shared rate budget in the real Redis: two replicas (two connections)
 * draw from one bucket per store, a bucket that cannot pay says how long to
 * wait and takes nothing, and what Shopify reports wins over the defaults. */
#include <stdio.h>
#include <unistd.h>

#include "budget.h"
#include "testlib.h"
#include "wb/log.h"
#include "wb/redis.h"

static wb_rate_budget *a, *b;
static const char *url;
static char store[64], other[64];

static void clear(const char *id) {
    char key[128], err[256];
    wb_redis_key(key, sizeof key, id, "ratebucket", NULL);
    wb_redis *x = wb_redis_connect(url, err, sizeof err);
    if (!x) return;
    redisReply *r = wb_redis_command(x, "DEL %s", key);
    if (r) freeReplyObject(r);
    wb_redis_close(x);
}

TEST(two_replicas_share_one_bucket) {
    /* 5 requests a second, a burst of 5: 3 by one replica, 2 by the other,
     * and the sixth must wait, whoever asks. */
    CHECK_INT(wb_rate_budget_take(a, store, 5, 0.01, 3, 0), 0);
    CHECK_INT(wb_rate_budget_take(b, store, 5, 0.01, 2, 0), 0);
    int64_t wait_a = wb_rate_budget_take(a, store, 5, 0.01, 1, 0);
    int64_t wait_b = wb_rate_budget_take(b, store, 5, 0.01, 1, 0);
    CHECK(wait_a > 0);
    CHECK(wait_b > 0);
    /* At 0.01 a second one token takes 100 s: nothing was taken by the
     * refused calls, or the wait would have grown past that. */
    CHECK(wait_b <= 100000);
}

TEST(stores_do_not_share) {
    CHECK_INT(wb_rate_budget_take(a, other, 5, 0.01, 5, 0), 0);
}

TEST(a_refused_take_takes_nothing) {
    /* A cost above the size waits for a full bucket rather than forever. */
    clear(other);
    CHECK_INT(wb_rate_budget_take(a, other, 4, 0.01, 3, 0), 0);
    CHECK(wb_rate_budget_take(a, other, 4, 0.01, 2, 0) > 0); /* 1 left, 2 asked: refused */
    CHECK_INT(wb_rate_budget_take(b, other, 4, 0.01, 1, 0), 0); /* the 1 is still there */
    clear(other);
    CHECK_INT(wb_rate_budget_take(a, other, 4, 0.01, 100, 0), 0); /* capped at the size */
}

TEST(shopify_throttle_status_wins) {
    clear(store);
    /* Defaults: 1000 points, 100 a second. The shop says 100 points, 1 a
     * second, none available now: 10 points are then ~10 s away, not the
     * 0.1 s the defaults would give. */
    CHECK_INT(wb_rate_budget_observe(b, store, 100, 0, 1), 0);
    int64_t wait = wb_rate_budget_take(a, store, 1000, 100, 10, 0);
    CHECK(wait > 5000);
    CHECK(wait <= 10000);
    /* The bucket never holds more than the shop said it has. */
    clear(store);
    CHECK_INT(wb_rate_budget_observe(b, store, 1000, 15, 1), 0);
    CHECK_INT(wb_rate_budget_take(a, store, 1000, 100, 10, 0), 0);
    CHECK(wb_rate_budget_take(a, store, 1000, 100, 10, 0) > 0); /* 5 left, 1 a second */
}

TEST(no_limit_never_waits) {
    for (int i = 0; i < 100; i++) CHECK_INT(wb_rate_budget_take(a, "budget-unlimited", 0, 0, 10, 0), 0);
}

TEST(redis_away_is_an_error_not_a_wait) {
    wb_rate_budget *gone = wb_rate_budget_open("redis://127.0.0.1:1");
    CHECK_INT(wb_rate_budget_take(gone, store, 5, 1, 1, 0), -1);
    wb_rate_budget_close(gone);
}

int main(void) {
    wb_log_init("test_budget", WB_LOG_ERROR);
    wb_log_set_output(stderr);
    url = wb_test_env("WB_REDIS_URL");
    if (!url) TEST_EXIT();
    a = wb_rate_budget_open(url);
    b = wb_rate_budget_open(url);
    snprintf(store, sizeof store, "budget-test-%d", (int)getpid());
    snprintf(other, sizeof other, "budget-other-%d", (int)getpid());
    clear(store);
    clear(other);
    RUN(two_replicas_share_one_bucket);
    RUN(stores_do_not_share);
    RUN(a_refused_take_takes_nothing);
    RUN(shopify_throttle_status_wins);
    RUN(no_limit_never_waits);
    RUN(redis_away_is_an_error_not_a_wait);
    clear(store);
    clear(other);
    wb_rate_budget_close(a);
    wb_rate_budget_close(b);
    TEST_EXIT();
}
