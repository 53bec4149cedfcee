/* oi_report_once: a suppressed order version is reported once, not on
 * every reconciler pass, and a newer version or another order is reported
 * again; the ring forgets the oldest keys. */
#include <stdio.h>

#include "report_once.h"
#include "testlib.h"

TEST(a_version_is_reported_once) {
    CHECK(oi_report_once("s1", "1001", 5));
    CHECK(!oi_report_once("s1", "1001", 5));
    CHECK(!oi_report_once("s1", "1001", 5));
    CHECK(oi_report_once("s1", "1001", 6));   /* a newer change */
    CHECK(oi_report_once("s2", "1001", 5));   /* another store */
    CHECK(oi_report_once("s1", "10015", 5));  /* parts do not run together */
    CHECK(oi_report_once("s11", "001", 5));
}

TEST(the_oldest_keys_are_forgotten) {
    CHECK(oi_report_once("ring", "first", 1));
    char order[32];
    /* 4096 others push "first" out; every one of them is new. */
    int fresh = 0;
    for (int i = 0; i < 4096; i++) {
        snprintf(order, sizeof order, "o%d", i);
        fresh += oi_report_once("ring", order, 1);
    }
    CHECK_INT(fresh, 4096);
    CHECK(oi_report_once("ring", "first", 1));
    /* the newest are still known after evictions rearranged the table */
    int known = 0;
    for (int i = 4000; i < 4096; i++) {
        snprintf(order, sizeof order, "o%d", i);
        known += !oi_report_once("ring", order, 1);
    }
    CHECK_INT(known, 96);
}

int main(void) {
    RUN(a_version_is_reported_once);
    RUN(the_oldest_keys_are_forgotten);
    TEST_EXIT();
}
