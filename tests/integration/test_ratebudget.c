/* The store's rate budget shared in Redis (wb/ratebudget.h): handles of
 * different services draw from one bucket, a floor gives way to callers of
 * higher priority, and a Redis that does not answer is said (-1), not
 * waited on. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "testlib.h"
#include "wb/log.h"
#include "wb/ratebudget.h"
#include "wb/redis.h"
#include "wb/runloop.h"

static const char *url;
static char store[64];

/* A store of its own per test, so buckets of earlier runs never count. */
static const char *fresh_store(const char *name) {
    snprintf(store, sizeof store, "rb-%s-%d-%lld", name, (int)getpid(), (long long)wb_monotonic_ms());
    return store;
}

TEST(two_handles_share_one_bucket) {
    const char *id = fresh_store("shared");
    wb_rate_budget *stock = wb_rate_budget_open(url), *catalog = wb_rate_budget_open(url);
    /* 10 a second, a 10-token burst: 6 by one service, 4 by the other, and
     * the eleventh of either must wait about a tenth of a second. */
    for (int i = 0; i < 6; i++) CHECK_INT(wb_rate_budget_take(stock, id, 10, 10, 1, 0), 0);
    for (int i = 0; i < 4; i++) CHECK_INT(wb_rate_budget_take(catalog, id, 10, 10, 1, 0), 0);
    int64_t wait = wb_rate_budget_take(catalog, id, 10, 10, 1, 0);
    CHECK(wait > 0 && wait <= 100);
    CHECK(wb_rate_budget_take(stock, id, 10, 10, 1, 0) > 0);
    wb_rate_budget_close(stock);
    wb_rate_budget_close(catalog);
}

TEST(floor_leaves_room_for_higher_priority) {
    const char *id = fresh_store("floor");
    wb_rate_budget *b = wb_rate_budget_open(url);
    /* With a floor of 5 of 10, a low-priority caller gets 5 and then waits,
     * while a caller without a floor still gets the other 5 at once. */
    for (int i = 0; i < 5; i++) CHECK_INT(wb_rate_budget_take(b, id, 10, 10, 1, 5), 0);
    CHECK(wb_rate_budget_take(b, id, 10, 10, 1, 5) > 0);
    for (int i = 0; i < 5; i++) CHECK_INT(wb_rate_budget_take(b, id, 10, 10, 1, 0), 0);
    CHECK(wb_rate_budget_take(b, id, 10, 10, 1, 0) > 0);
    /* A floor as large as the bucket still lets one request through at a
     * time (it is capped at capacity - cost), never none. */
    const char *id2 = fresh_store("bigfloor");
    CHECK_INT(wb_rate_budget_take(b, id2, 10, 10, 1, 100), 0);
    wb_rate_budget_close(b);
}

TEST(wait_paces_to_the_rate) {
    const char *id = fresh_store("wait");
    wb_rate_budget *b = wb_rate_budget_open(url);
    int64_t t0 = wb_monotonic_ms();
    /* 20 a second: 20 at once, then 10 more take half a second. */
    for (int i = 0; i < 30; i++) CHECK_INT(wb_rate_budget_wait(b, id, 20, 1, 0, 5000), 0);
    int64_t took = wb_monotonic_ms() - t0;
    CHECK(took >= 450);
    /* Not within the bound: 1, and nothing taken. */
    CHECK_INT(wb_rate_budget_wait(b, id, 20, 20, 0, 10), 1);
    wb_rate_budget_close(b);
}

TEST(shop_report_sets_size_and_rate) {
    const char *id = fresh_store("observe");
    wb_rate_budget *b = wb_rate_budget_open(url);
    /* Shopify said: 2000 points, 100 available, 100 a second. A 150-point
     * call waits about half a second although the defaults (1000, 50) had
     * paid it at once. */
    CHECK_INT(wb_rate_budget_observe(b, id, 2000, 100, 100), 0);
    int64_t wait = wb_rate_budget_take(b, id, 1000, 50, 150, 0);
    CHECK(wait >= 400 && wait <= 600);
    wb_rate_budget_close(b);
}

TEST(redis_down_is_minus_one) {
    wb_rate_budget *b = wb_rate_budget_open("redis://127.0.0.1:1");
    CHECK_INT(wb_rate_budget_take(b, "rb-down", 10, 10, 1, 0), -1);
    CHECK_INT(wb_rate_budget_wait(b, "rb-down", 10, 1, 0, 1000), -1);
    wb_rate_budget_close(b);
}

int main(void) {
    url = wb_test_env("WB_REDIS_URL");
    wb_log_init("test_ratebudget", WB_LOG_ERROR);
    wb_log_set_output(stderr);
    RUN(two_handles_share_one_bucket);
    RUN(floor_leaves_room_for_higher_priority);
    RUN(wait_paces_to_the_rate);
    RUN(shop_report_sets_size_and_rate);
    RUN(redis_down_is_minus_one);
    TEST_EXIT();
}
