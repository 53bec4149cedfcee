/* Debounce windows in the real Redis: open once, touch many times, claim
 * when due, fenced by the owner token, and loss of Redis detected. */
#include <stdlib.h>
#include <unistd.h>

#include "testlib.h"
#include "windows.h"
#include "wb/log.h"

static wb_redis *r;
static int32_t part;

/* What the publisher does: the stores with a window due now, each claimed up
 * to now. */
static int claim_due(const char *token, int64_t now, int limit, sp_window **w) {
    wb_strmap due;
    wb_strmap_init(&due);
    sp_windows_due_stores(r, part, now, &due);
    sp_horizon h[16];
    int n = 0;
    for (size_t i = 0; i < due.cap && n < 16; i++)
        if (wb_strmap_live(&due.slots[i])) h[n++] = (sp_horizon){due.slots[i].key, now};
    int rc = sp_windows_claim(r, part, token, now, limit, h, n, w);
    wb_strmap_clear(&due, NULL);
    return rc;
}

TEST(connect_and_own) {
    char err[256];
    r = wb_redis_connect(wb_test_env("WB_REDIS_URL"), err, sizeof err);
    CHECK(r != NULL);
    part = 5000 + (int32_t)(getpid() % 4000);
    redisReply *x = wb_redis_command(r, "DEL wb:{sp:%d}:win wb:{sp:%d}:due", part, part);
    freeReplyObject(x);
    CHECK(sp_windows_own(r, part, "replica-a") == 0);
    CHECK_INT(sp_windows_check(r, part, "replica-a"), SP_OWNED);
    CHECK_INT(sp_windows_check(r, part, "replica-b"), SP_OWNED_BY_OTHER);
}

TEST(first_touch_opens_later_touches_coalesce) {
    sp_touch t1[] = {{"acme|gid://shopify/InventoryItem/1|gid://shopify/Location/1", 30000, 100, 1},
                     {"acme|gid://shopify/InventoryItem/2|gid://shopify/Location/1", 30000, 101, 1}};
    CHECK_INT(sp_windows_touch(r, part, "replica-a", 1000000, t1, 2), 2);
    sp_touch t2[] = {{"acme|gid://shopify/InventoryItem/1|gid://shopify/Location/1", 30000, 150, 998}};
    CHECK_INT(sp_windows_touch(r, part, "replica-a", 1020000, t2, 1), 0); /* inside the window */
    sp_touch t3[] = {{"acme|gid://shopify/InventoryItem/2|gid://shopify/Location/1", 30000, 90, 1}};
    CHECK_INT(sp_windows_touch(r, part, "replica-a", 1020000, t3, 1), 0);
    sp_window *w;
    int n = sp_windows_list(r, part, &w);
    CHECK_INT(n, 2);
    int64_t first1 = -1, touches1 = -1, deadline1 = -1, first2 = -1;
    for (int i = 0; i < n; i++) {
        if (strstr(w[i].window, "InventoryItem/1|")) first1 = w[i].first_offset, touches1 = w[i].touches, deadline1 = w[i].deadline_ms;
        else first2 = w[i].first_offset;
    }
    sp_windows_free(w, n);
    CHECK_INT(first1, 100);       /* the first event, not the latest */
    CHECK_INT(touches1, 999);
    CHECK_INT(deadline1, 1030000); /* a touch does not move the deadline */
    CHECK_INT(first2, 90);        /* a replayed older offset lowers it */
}

TEST(claim_takes_only_due_windows_once) {
    sp_window *w;
    CHECK_INT(claim_due("replica-a", 1029999, 100, &w), 0);
    sp_windows_free(w, 0);
    int n = claim_due("replica-a", 1030000, 100, &w);
    CHECK_INT(n, 2);
    char *copy = strdup(w[0].window), *store, *item, *location;
    bool split = sp_window_split(copy, &store, &item, &location);
    bool ok = split && strcmp(store, "acme") == 0 && strstr(item, "InventoryItem/") && strcmp(location, "gid://shopify/Location/1") == 0;
    free(copy);
    sp_windows_free(w, n);
    CHECK(ok);
    CHECK_INT(claim_due("replica-a", 2000000, 100, &w), 0); /* gone */
    sp_windows_free(w, 0);
    /* After a claim, the next event opens a fresh window. */
    sp_touch t[] = {{"acme|gid://shopify/InventoryItem/1|gid://shopify/Location/1", 0, 200, 1}};
    CHECK_INT(sp_windows_touch(r, part, "replica-a", 2000000, t, 1), 1);
    n = claim_due("replica-a", 2000000, 100, &w); /* window 0: due at once */
    CHECK_INT(n, 1);
    CHECK_INT(w[0].first_offset, 200);
    sp_windows_free(w, n);
}

TEST(claim_limit_between_stores_never_inside_one) {
    sp_touch t[] = {{"s|late|l", 500, 1, 1}, {"s|early|l", 100, 2, 1}, {"t|middle|l", 300, 3, 1},
                    {"u|x|l", 400, 4, 1}, {"v|1|l", 600, 5, 1}, {"v|2|l", 600, 6, 1}, {"v|3|l", 600, 7, 1}};
    CHECK_INT(sp_windows_touch(r, part, "replica-a", 3000000, t, 7), 7);
    sp_window *w;
    /* s has the oldest window and goes whole (2); t would pass the limit. */
    int n = claim_due("replica-a", 3001000, 2, &w);
    CHECK_INT(n, 2);
    bool order = strcmp(w[0].window, "s|early|l") == 0 && strcmp(w[1].window, "s|late|l") == 0;
    sp_windows_free(w, n);
    CHECK(order);
    n = claim_due("replica-a", 3001000, 2, &w); /* t and u */
    CHECK_INT(n, 2);
    sp_windows_free(w, n);
    n = claim_due("replica-a", 3001000, 2, &w); /* v is larger than the limit: whole all the same */
    CHECK_INT(n, 3);
    sp_windows_free(w, n);
}

TEST(a_due_store_takes_its_burst_along) {
    sp_touch t[] = {{"a|1|l", 1000, 1, 1}, {"a|2|l", 1300, 2, 1}, {"a|3|l", 5000, 3, 1},
                    {"b|1|l", 1300, 4, 1}};
    CHECK_INT(sp_windows_touch(r, part, "replica-a", 3500000, t, 4), 4);
    wb_strmap due;
    wb_strmap_init(&due);
    CHECK_INT(sp_windows_due_stores(r, part, 3501000, &due), 1);
    bool only_a = due.count == 1 && wb_strmap_get(&due, "a");
    wb_strmap_clear(&due, NULL);
    CHECK(only_a);
    /* a is due (a|1); a|2 joins within a's horizon; a|3 is too far; b is not
     * listed (say its last job is still out), so it keeps its window. */
    sp_horizon h[] = {{"a", 3501500}};
    sp_window *w;
    int n = sp_windows_claim(r, part, "replica-a", 3501000, 100, h, 1, &w);
    CHECK_INT(n, 2);
    bool ok = strcmp(w[0].window, "a|1|l") == 0 && strcmp(w[1].window, "a|2|l") == 0;
    sp_windows_free(w, n);
    CHECK(ok);
    n = claim_due("replica-a", 3501300, 100, &w);
    CHECK_INT(n, 1); /* b|1, due by now */
    sp_windows_free(w, n);
    n = claim_due("replica-a", 3505000, 100, &w);
    CHECK_INT(n, 1); /* a|3 */
    sp_windows_free(w, n);
}

/* A window an older replica left open (no `bystore` name) goes out once the
 * new owner has indexed the partition. */
TEST(windows_from_before_the_store_index_are_claimed_after_indexing) {
    char win[64], due[64];
    snprintf(win, sizeof win, "wb:{sp:%d}:win", part);
    snprintf(due, sizeof due, "wb:{sp:%d}:due", part);
    freeReplyObject(wb_redis_command(r, "HSET %s %s %s", win, "old|1|l", "3600000 3600100 7 1"));
    freeReplyObject(wb_redis_command(r, "ZADD %s 3600100 %s", due, "old|1|l"));
    sp_window *w;
    CHECK_INT(claim_due("replica-a", 3601000, 100, &w), 0); /* not found by store */
    sp_windows_free(w, 0);
    CHECK_INT(sp_windows_index(r, part), 1);
    int n = claim_due("replica-a", 3601000, 100, &w);
    CHECK_INT(n, 1);
    bool ok = n == 1 && strcmp(w[0].window, "old|1|l") == 0 && w[0].first_offset == 7;
    sp_windows_free(w, n > 0 ? n : 0);
    CHECK(ok);
}

TEST(a_replica_that_lost_the_partition_is_fenced) {
    CHECK(sp_windows_own(r, part, "replica-b") == 0); /* the new owner takes over */
    sp_touch t[] = {{"s|x|l", 0, 9, 1}};
    CHECK_INT(sp_windows_touch(r, part, "replica-a", 4000000, t, 1), SP_NOT_OWNER);
    sp_window *w;
    sp_horizon any[] = {{"s", 4000000}};
    CHECK_INT(sp_windows_claim(r, part, "replica-a", 4000000, 10, any, 1, &w), SP_NOT_OWNER);
    CHECK_INT(sp_windows_touch(r, part, "replica-b", 4000000, t, 1), 1);
    CHECK_INT(sp_windows_check(r, part, "replica-a"), SP_OWNED_BY_OTHER);
}

TEST(loss_of_redis_data_is_detected) {
    redisReply *x = wb_redis_command(r, "DEL wb:{sp:%d}:owner wb:{sp:%d}:win wb:{sp:%d}:due", part, part, part);
    freeReplyObject(x);
    CHECK_INT(sp_windows_check(r, part, "replica-b"), SP_OWNER_LOST);
    sp_touch t[] = {{"s|x|l", 0, 9, 1}};
    CHECK_INT(sp_windows_touch(r, part, "replica-b", 5000000, t, 1), SP_NOT_OWNER); /* until re-owned */
    /* After the loss the first replica to re-own wins; a stale one that
     * still believes in an old assignment cannot take it away. */
    CHECK_INT(sp_windows_own_if_free(r, part, "replica-b"), 0);
    CHECK_INT(sp_windows_own_if_free(r, part, "stale-replica"), 1);
    CHECK_INT(sp_windows_check(r, part, "replica-b"), SP_OWNED);
}

TEST(window_names_split) {
    char ok[] = "store-1|gid://shopify/InventoryItem/9|gid://shopify/Location/2";
    char *s, *i, *l;
    CHECK(sp_window_split(ok, &s, &i, &l));
    CHECK_STR(i, "gid://shopify/InventoryItem/9");
    char two[] = "a|b", four[] = "a|b|c|d", empty[] = "a||c";
    CHECK(!sp_window_split(two, &s, &i, &l));
    CHECK(!sp_window_split(four, &s, &i, &l));
    CHECK(!sp_window_split(empty, &s, &i, &l));
}

int main(void) {
    wb_log_init("test_windows", WB_LOG_ERROR);
    wb_log_set_output(stderr);
    RUN(connect_and_own);
    if (!r) TEST_EXIT();
    RUN(first_touch_opens_later_touches_coalesce);
    RUN(claim_takes_only_due_windows_once);
    RUN(claim_limit_between_stores_never_inside_one);
    RUN(a_due_store_takes_its_burst_along);
    RUN(windows_from_before_the_store_index_are_claimed_after_indexing);
    RUN(a_replica_that_lost_the_partition_is_fenced);
    RUN(loss_of_redis_data_is_detected);
    RUN(window_names_split);
    redisReply *x = wb_redis_command(r, "DEL wb:{sp:%d}:owner wb:{sp:%d}:win wb:{sp:%d}:due", part, part, part);
    freeReplyObject(x);
    wb_redis_close(r);
    TEST_EXIT();
}
