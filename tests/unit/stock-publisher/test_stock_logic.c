/* The stock publisher's pure logic: levels and versions, sellable stock, and
 * which offset may be committed while windows are open or being sent. */
#include "inflight.h"
#include "lagstats.h"
#include "levels.h"
#include "occurred.h"
#include "plan.h"
#include "testlib.h"
#include "tracker.h"
#include "wb/strmap.h"

TEST(newer_versions_apply_older_ones_are_ignored) {
    sp_levels *l = sp_levels_new();
    CHECK_INT(sp_levels_apply(l, "WH1", "SKU", 10, 2, 5, 0), SP_LEVEL_APPLIED);
    CHECK_INT(sp_levels_apply(l, "WH1", "SKU", 99, 0, 4, 0), SP_LEVEL_STALE);
    CHECK_INT(sp_levels_apply(l, "WH1", "SKU", 99, 0, 5, 0), SP_LEVEL_SAME);
    int64_t on_hand, reserved, version;
    CHECK(sp_levels_get(l, "WH1", "SKU", &on_hand, &reserved, &version));
    CHECK_INT(on_hand, 10);
    CHECK_INT(reserved, 2);
    CHECK_INT(version, 5);
    CHECK_INT(sp_levels_apply(l, "WH1", "SKU", 7, 1, 6, 0), SP_LEVEL_APPLIED);
    CHECK(sp_levels_get(l, "WH1", "SKU", &on_hand, &reserved, &version) && on_hand == 7);
    sp_levels_free(l);
}

TEST(available_sums_the_mapped_warehouses) {
    sp_levels *l = sp_levels_new();
    sp_levels_apply(l, "WH1", "SKU", 10, 3, 1, 0);  /* 7 */
    sp_levels_apply(l, "WH2", "SKU", 5, 0, 1, 0);   /* 5 */
    sp_levels_apply(l, "WH3", "SKU", -4, 0, 1, 0);  /* a count error: 0, not -4 */
    sp_levels_apply(l, "WH1", "OTHER", 100, 0, 1, 0);
    const char *both[] = {"WH1", "WH2"}, *all[] = {"WH1", "WH2", "WH3", "WH-UNKNOWN"};
    CHECK_INT(sp_levels_available(l, "SKU", both, 2), 12);
    CHECK_INT(sp_levels_available(l, "SKU", all, 4), 12);
    CHECK_INT(sp_levels_available(l, "NOPE", all, 4), 0);
    sp_levels_apply(l, "WH2", "SKU", 5, 9, 2, 0);   /* over-reserved: -4 */
    CHECK_INT(sp_levels_available(l, "SKU", both, 2), 3);
    sp_levels_free(l);
}

TEST(sellable_subtracts_safety_and_in_flight_never_negative) {
    CHECK_INT(sp_sellable(12, 2, 3), 7);
    CHECK_INT(sp_sellable(12, 0, 0), 12);
    CHECK_INT(sp_sellable(5, 2, 3), 0);
    CHECK_INT(sp_sellable(5, 10, 0), 0);
    CHECK_INT(sp_sellable(-3, 0, 0), 0);
}

TEST(levels_grow_and_drop_partitions) {
    sp_levels *l = sp_levels_new();
    char sku[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(sku, sizeof sku, "SKU-%d", i);
        sp_levels_apply(l, "WH1", sku, i, 0, 1, i % 4);
    }
    CHECK_INT(sp_levels_count(l), 5000);
    const char *wh[] = {"WH1"};
    CHECK_INT(sp_levels_available(l, "SKU-4321", wh, 1), 4321);
    sp_levels_drop_partition(l, 1);
    CHECK_INT(sp_levels_count(l), 3750);
    CHECK_INT(sp_levels_available(l, "SKU-4321", wh, 1), 0);    /* partition 1: gone */
    CHECK_INT(sp_levels_available(l, "SKU-4322", wh, 1), 4322); /* partition 2: kept */
    sp_levels_free(l);
}

TEST(commit_waits_for_open_windows) {
    sp_tracker t;
    sp_tracker_init(&t, 100);
    CHECK_INT(sp_tracker_committable(&t), -1);
    for (int64_t o = 100; o < 110; o++) sp_tracker_consumed(&t, o);
    CHECK_INT(sp_tracker_committable(&t), 110); /* nothing pending: all done */
    sp_tracker_touch(&t, "s|i1|l", 110);
    sp_tracker_consumed(&t, 110);
    sp_tracker_touch(&t, "s|i2|l", 111);
    sp_tracker_consumed(&t, 111);
    sp_tracker_touch(&t, "s|i1|l", 112); /* same window: still opened at 110 */
    sp_tracker_consumed(&t, 112);
    CHECK_INT(sp_tracker_committable(&t), 110);
    CHECK_INT(sp_tracker_open_count(&t), 2);
    sp_tracker_free(&t);
}

TEST(commit_waits_for_windows_being_sent) {
    sp_tracker t;
    sp_tracker_init(&t, 0);
    sp_tracker_touch(&t, "w1", 5);
    sp_tracker_touch(&t, "w2", 7);
    for (int64_t o = 0; o < 10; o++) sp_tracker_consumed(&t, o);
    int64_t first = sp_tracker_claim(&t, "w1");
    CHECK_INT(first, 5);
    CHECK_INT(sp_tracker_committable(&t), 5);  /* being sent: not yet done */
    sp_tracker_touch(&t, "w1", 12);           /* an event during the send opens a new window */
    sp_tracker_consumed(&t, 12);
    sp_tracker_release(&t, first);
    CHECK_INT(sp_tracker_committable(&t), 7);  /* w2 still open */
    int64_t f2 = sp_tracker_claim(&t, "w2");
    sp_tracker_requeue(&t, "w2", f2);          /* the send failed: open again */
    CHECK_INT(sp_tracker_committable(&t), 7);
    sp_tracker_release(&t, sp_tracker_claim(&t, "w2"));
    CHECK_INT(sp_tracker_committable(&t), 12); /* the new w1 window */
    sp_tracker_release(&t, sp_tracker_claim(&t, "w1"));
    CHECK_INT(sp_tracker_committable(&t), 13);
    CHECK_INT(sp_tracker_claim(&t, "never-opened"), -1);
    sp_tracker_free(&t);
}

TEST(commit_never_goes_behind_the_start) {
    sp_tracker t;
    sp_tracker_init(&t, 50);
    sp_tracker_touch(&t, "seeded-from-redis", 40); /* opened by the previous owner */
    sp_tracker_consumed(&t, 50);
    CHECK_INT(sp_tracker_committable(&t), 50);
    sp_tracker_free(&t);
}

TEST(strmap_insert_delete_reinsert) {
    wb_strmap m;
    wb_strmap_init(&m);
    char key[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        wb_strmap_put(&m, key, NULL)->num = i;
    }
    for (int i = 0; i < 10000; i += 2) {
        snprintf(key, sizeof key, "k%d", i);
        wb_strmap_del(&m, key);
    }
    CHECK_INT(m.count, 5000);
    CHECK(wb_strmap_get(&m, "k4") == NULL);
    CHECK(wb_strmap_get(&m, "k5") && wb_strmap_get(&m, "k5")->num == 5);
    bool created;
    wb_strmap_put(&m, "k4", &created)->num = 44;
    CHECK(created);
    wb_strmap_put(&m, "k5", &created);
    CHECK(!created);
    CHECK_INT(wb_strmap_get(&m, "k4")->num, 44);
    wb_strmap_clear(&m, NULL);
}

static sp_value *values_named(int count, const char *(*name)(int, char *)) {
    sp_value *v = calloc((size_t)count, sizeof *v);
    char buf[64];
    for (int i = 0; i < count; i++) v[i].item = strdup(name(i, buf));
    return v;
}

static void free_values(sp_value *v, int count) {
    for (int i = 0; i < count; i++) free(v[i].item);
    free(v);
}

static const char *shopify_item(int i, char *buf) {
    sprintf(buf, "gid://shopify/InventoryItem/%d", i);
    return buf;
}

/* 5 simple products, 150 variations of product 7, 30 of product 9, in a mix. */
static const char *woo_item(int i, char *buf) {
    if (i % 37 == 0 && i / 37 < 5) sprintf(buf, "%d", 100 + i);
    else if (i % 6 == 0) sprintf(buf, "9/%d", 9000 + i);
    else sprintf(buf, "7/%d", 7000 + i);
    return buf;
}

TEST(shopify_300_items_make_2_calls) {
    sp_value *v = values_named(300, shopify_item);
    sp_call *calls;
    int n = sp_plan_calls("shopify", v, 300, &calls);
    CHECK_INT(n, 2);
    CHECK_INT(calls[0].count, 250);
    CHECK_INT(calls[1].first, 250);
    CHECK_INT(calls[1].count, 50);
    free(calls);
    free_values(v, 300);
    n = sp_plan_calls("shopify", NULL, 0, &calls);
    CHECK_INT(n, 0);
    free(calls);
}

TEST(woocommerce_calls_per_endpoint_up_to_100) {
    sp_value *v = values_named(185, woo_item);
    int simple = 0, p7 = 0, p9 = 0;
    for (int i = 0; i < 185; i++) {
        if (!strchr(v[i].item, '/')) simple++;
        else if (v[i].item[0] == '7') p7++;
        else p9++;
    }
    sp_call *calls;
    int n = sp_plan_calls("woocommerce", v, 185, &calls);
    /* the fewest calls: one per endpoint per 100 items */
    CHECK_INT(n, (simple + 99) / 100 + (p7 + 99) / 100 + (p9 + 99) / 100);
    int covered = 0;
    for (int c = 0; c < n; c++) {
        CHECK(calls[c].count >= 1 && calls[c].count <= 100);
        for (int i = calls[c].first; i < calls[c].first + calls[c].count; i++) {
            char expected[96];
            if (!strchr(v[i].item, '/')) snprintf(expected, sizeof expected, "products/batch");
            else snprintf(expected, sizeof expected, "products/%c/variations/batch", v[i].item[0]);
            CHECK_STR(calls[c].endpoint, expected);
        }
        covered += calls[c].count;
    }
    CHECK_INT(covered, 185);
    free(calls);
    free_values(v, 185);
}

TEST(occurred_at_parses_rfc3339) {
    CHECK_INT(sp_occurred_ms("1970-01-01T00:00:00Z"), 0);
    CHECK_INT(sp_occurred_ms("2026-11-25T10:00:00Z"), 1795600800000LL);
    CHECK_INT(sp_occurred_ms("2026-11-25T10:00:00.25Z"), 1795600800250LL);
    CHECK_INT(sp_occurred_ms("2026-11-25T11:30:00.123456+01:30"), 1795600800123LL);
    CHECK_INT(sp_occurred_ms("2024-02-29T23:59:59-00:00"), 1709251199000LL);
    CHECK_INT(sp_occurred_ms("yesterday"), 0);
    CHECK_INT(sp_occurred_ms(NULL), 0);
}

TEST(levels_know_partition_and_newest_event) {
    sp_levels *l = sp_levels_new();
    const char *whs[] = {"WH1", "WH2", "WH3"};
    sp_levels_apply_at(l, "WH1", "own/A", 5, 0, 1, 7, 1000);
    sp_levels_apply_at(l, "WH2", "own/A", 5, 0, 1, 7, 3000);
    sp_levels_apply_at(l, "WH2", "own/A", 9, 0, 1, 7, 9000); /* same version: nothing changes */
    CHECK_INT(sp_levels_occurred(l, "own/A", whs, 3), 3000);
    CHECK_INT(sp_levels_partition(l, "own/A", whs, 3), 7);
    CHECK_INT(sp_levels_partition(l, "own/B", whs, 3), -1);
    CHECK_INT(sp_levels_occurred(l, "own/B", whs, 3), 0);
    sp_levels_free(l);
}

static void collect(void *ctx, const char *key) {
    wb_strmap_put(ctx, key, NULL);
}

/* An order accepted (its sku gone from the totals), a new one (a sku
 * appears), one quantity changed: each reopens its sku; an unchanged total
 * and a zero that stays away do not. */
TEST(in_flight_changes_are_found_both_ways) {
    wb_strmap before, now, changed;
    wb_strmap_init(&before), wb_strmap_init(&now), wb_strmap_init(&changed);
    wb_strmap_put(&before, "s1|ACCEPTED", NULL)->num = 3;
    wb_strmap_put(&before, "s1|SAME", NULL)->num = 2;
    wb_strmap_put(&before, "s1|MORE", NULL)->num = 1;
    wb_strmap_put(&before, "s1|ZERO", NULL)->num = 0;
    wb_strmap_put(&now, "s1|SAME", NULL)->num = 2;
    wb_strmap_put(&now, "s1|MORE", NULL)->num = 4;
    wb_strmap_put(&now, "s2|NEW", NULL)->num = 5;
    CHECK_INT(sp_in_flight_diff(&before, &now, collect, &changed), 3);
    CHECK(wb_strmap_get(&changed, "s1|ACCEPTED") != NULL);
    CHECK(wb_strmap_get(&changed, "s1|MORE") != NULL);
    CHECK(wb_strmap_get(&changed, "s2|NEW") != NULL);
    CHECK(wb_strmap_get(&changed, "s1|SAME") == NULL);
    CHECK(wb_strmap_get(&changed, "s1|ZERO") == NULL);
    wb_strmap_clear(&before, NULL), wb_strmap_clear(&now, NULL), wb_strmap_clear(&changed, NULL);
}

/* On start a sent value is recomputed when the in-flight quantity it used
 * is not the total now: an order accepted while the publisher was down (its
 * sku gone from the totals), or a new one. */
TEST(sent_value_is_stale_when_its_in_flight_moved) {
    wb_strmap totals;
    wb_strmap_init(&totals);
    wb_strmap_put(&totals, "s1|OPEN", NULL)->num = 4;
    CHECK(!sp_in_flight_moved(&totals, "s1", "OPEN", 4));
    CHECK(sp_in_flight_moved(&totals, "s1", "OPEN", 1));      /* another order came */
    CHECK(sp_in_flight_moved(&totals, "s1", "ACCEPTED", 3));  /* left `sent` meanwhile */
    CHECK(!sp_in_flight_moved(&totals, "s1", "NONE", 0));
    CHECK(sp_in_flight_moved(&totals, "s2", "OPEN", 4));      /* totals are per store */
    wb_strmap_clear(&totals, NULL);
}

/* The lag quantiles are exact to the millisecond; beyond the last slot
 * everything counts there, and a negative time (taken early) counts 0. */
TEST(lag_quantiles_are_exact_to_the_millisecond) {
    sp_lagstats s = {0};
    CHECK_INT(sp_lag_quantile(&s, 0.99), -1);
    for (int ms = 1; ms <= 100; ms++) sp_lag_record(&s, ms, 1);
    CHECK_INT(sp_lag_quantile(&s, 0.5), 50);
    CHECK_INT(sp_lag_quantile(&s, 0.99), 99);
    CHECK_INT(sp_lag_quantile(&s, 1.0), 100);
    sp_lag_record(&s, -40, 100); /* 100 more at 0 */
    CHECK_INT(sp_lag_quantile(&s, 0.5), 0);
    CHECK_INT(sp_lag_quantile(&s, 0.995), 99);
    sp_lag_record(&s, 999999, 1);
    CHECK_INT(sp_lag_quantile(&s, 1.0), SP_LAG_MAX_MS);
    CHECK_INT(s.count, 201);
    sp_lag_free(&s);
}

/* Claims are a multiset of offsets (many windows share a first offset):
 * against a plain list, through growth and releases in any order, the
 * committable offset is always the smallest offset still held. */
TEST(claims_held_and_released_in_any_order) {
    sp_tracker t;
    sp_tracker_init(&t, 0);
    sp_tracker_consumed(&t, 1000000);
    enum { N = 5000 };
    static int64_t held[N];
    int n = 0;
    uint64_t x = 88172645463325252ULL;
    for (int step = 0; step < 40000; step++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift */
        if (n < N && (n == 0 || x % 3 != 0)) {
            int64_t off = (int64_t)(x % 700); /* many repeats, many collisions */
            sp_tracker_hold(&t, off);
            held[n++] = off;
        } else {
            int k = (int)((x >> 11) % (uint64_t)n);
            sp_tracker_release(&t, held[k]);
            held[k] = held[--n];
        }
        if (step % 97 == 0) {
            int64_t min = 1000001;
            for (int i = 0; i < n; i++) min = held[i] < min ? held[i] : min;
            if (sp_tracker_committable(&t) != min) {
                CHECK_INT(sp_tracker_committable(&t), min);
                break;
            }
        }
    }
    while (n) sp_tracker_release(&t, held[--n]);
    CHECK_INT(sp_tracker_committable(&t), 1000001);
    sp_tracker_release(&t, 5); /* not held: nothing happens */
    CHECK_INT(sp_tracker_committable(&t), 1000001);
    sp_tracker_free(&t);
}

int main(void) {
    RUN(newer_versions_apply_older_ones_are_ignored);
    RUN(occurred_at_parses_rfc3339);
    RUN(levels_know_partition_and_newest_event);
    RUN(available_sums_the_mapped_warehouses);
    RUN(sellable_subtracts_safety_and_in_flight_never_negative);
    RUN(levels_grow_and_drop_partitions);
    RUN(commit_waits_for_open_windows);
    RUN(commit_waits_for_windows_being_sent);
    RUN(commit_never_goes_behind_the_start);
    RUN(claims_held_and_released_in_any_order);
    RUN(strmap_insert_delete_reinsert);
    RUN(shopify_300_items_make_2_calls);
    RUN(woocommerce_calls_per_endpoint_up_to_100);
    RUN(in_flight_changes_are_found_both_ways);
    RUN(sent_value_is_stale_when_its_in_flight_moved);
    RUN(lag_quantiles_are_exact_to_the_millisecond);
    TEST_EXIT();
}
