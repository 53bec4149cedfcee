/* A test program is a main() that runs TEST functions with RUN(); each prints
 * one line, "PASS name" or "FAIL name: why", which tests/run.py counts. A
 * CHECK that fails returns from the test at once, so later checks never run
 * on a state the test already knows is wrong. */
#ifndef WB_TESTLIB_H
#define WB_TESTLIB_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int wb_test_failures;
static char wb_test_why[1024];

#define TEST(name) static void name(void)

#define FAILF(...)                                                             \
    do {                                                                       \
        if (!wb_test_why[0]) {                                                 \
            int at_ = snprintf(wb_test_why, sizeof wb_test_why, "%s:%d: ",     \
                              __FILE__, __LINE__);                             \
            snprintf(wb_test_why + at_, sizeof wb_test_why - (size_t)at_,      \
                     __VA_ARGS__);                                             \
        }                                                                      \
        return;                                                                \
    } while (0)

#define CHECK(cond)                                                            \
    do { if (!(cond)) FAILF("check failed: %s", #cond); } while (0)

#define CHECK_INT(actual, expected)                                            \
    do {                                                                       \
        long long a_ = (long long)(actual), e_ = (long long)(expected);        \
        if (a_ != e_) FAILF("%s is %lld, expected %lld", #actual, a_, e_);     \
    } while (0)

#define CHECK_STR(actual, expected)                                            \
    do {                                                                       \
        const char *a_ = (actual), *e_ = (expected);                           \
        if (!a_ || !e_ || strcmp(a_, e_) != 0)                                 \
            FAILF("%s is \"%s\", expected \"%s\"", #actual,                    \
                  a_ ? a_ : "(null)", e_ ? e_ : "(null)");                     \
    } while (0)

#define CHECK_CONTAINS(haystack, needle)                                       \
    do {                                                                       \
        const char *h_ = (haystack), *n_ = (needle);                           \
        if (!h_ || !strstr(h_, n_))                                            \
            FAILF("%s does not contain \"%s\": \"%.300s\"", #haystack, n_,     \
                  h_ ? h_ : "(null)");                                         \
    } while (0)

#define CHECK_NOT_CONTAINS(haystack, needle)                                   \
    do {                                                                       \
        const char *h_ = (haystack), *n_ = (needle);                           \
        if (h_ && strstr(h_, n_))                                              \
            FAILF("%s contains \"%s\": \"%.300s\"", #haystack, n_, h_);        \
    } while (0)

#define RUN(name)                                                              \
    do {                                                                       \
        wb_test_why[0] = 0;                                                    \
        name();                                                                \
        if (wb_test_why[0]) {                                                  \
            wb_test_failures++;                                                \
            printf("FAIL %s: %s\n", #name, wb_test_why);                       \
        } else {                                                               \
            printf("PASS %s\n", #name);                                        \
        }                                                                      \
        fflush(stdout);                                                        \
    } while (0)

#define TEST_EXIT() return wb_test_failures ? 1 : 0

/* Integration tests read the stack's addresses from the environment that
 * tests/run.py sets from .state/stack.env. */
static inline const char *wb_test_env(const char *name) {
    const char *v = getenv(name);
    if (!v || !*v) {
        printf("FAIL environment: %s is not set (run through scripts/test)\n", name);
        exit(1);
    }
    return v;
}

#endif
