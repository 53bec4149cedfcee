/* Prometheus text exposition: types, labels, escaping, cumulative buckets. */
#include <regex.h>
#include <stdlib.h>

#include "testlib.h"
#include "wb/metrics.h"

static char *render(void) { return wb_metrics_render(); }

TEST(counter_with_labels) {
    wb_metric *m = wb_counter("wb_test_calls_total", "Calls by store and outcome.", "store,outcome");
    wb_counter_inc(m, "acme", "ok");
    wb_counter_inc(m, "acme", "ok");
    wb_counter_add(m, 3, "acme", "throttled");
    wb_counter_add(m, -5, "acme", "ok"); /* counters never go down */
    CHECK(wb_metric_value(m, "acme", "ok") == 2);
    char *text = render();
    CHECK_CONTAINS(text, "# HELP wb_test_calls_total Calls by store and outcome.\n");
    CHECK_CONTAINS(text, "# TYPE wb_test_calls_total counter\n");
    CHECK_CONTAINS(text, "wb_test_calls_total{store=\"acme\",outcome=\"ok\"} 2\n");
    CHECK_CONTAINS(text, "wb_test_calls_total{store=\"acme\",outcome=\"throttled\"} 3\n");
    free(text);
}

TEST(same_name_is_same_metric) {
    wb_metric *a = wb_gauge("wb_test_same", "h", "");
    wb_metric *b = wb_gauge("wb_test_same", "h", "");
    CHECK(a == b);
}

TEST(gauge_set_and_add_without_labels) {
    wb_metric *g = wb_gauge("wb_test_windows_pending", "Open windows.", "");
    wb_gauge_set(g, 10);
    wb_gauge_add(g, -3);
    char *text = render();
    CHECK_CONTAINS(text, "# TYPE wb_test_windows_pending gauge\nwb_test_windows_pending 7\n");
    free(text);
}

TEST(label_values_escaped) {
    wb_metric *m = wb_counter("wb_test_escape_total", "Help with \\ backslash\nand newline.", "v");
    wb_counter_inc(m, "a\"b\\c\nd");
    char *text = render();
    CHECK_CONTAINS(text, "wb_test_escape_total{v=\"a\\\"b\\\\c\\nd\"} 1\n");
    CHECK_CONTAINS(text, "# HELP wb_test_escape_total Help with \\\\ backslash\\nand newline.\n");
    free(text);
}

TEST(histogram_buckets_are_cumulative) {
    const double buckets[] = {0.1, 1, 10};
    wb_metric *h = wb_histogram("wb_test_latency_seconds", "Latency.", "path", buckets, 3);
    wb_histogram_observe(h, 0.05, "p");
    wb_histogram_observe(h, 0.5, "p");
    wb_histogram_observe(h, 5, "p");
    wb_histogram_observe(h, 50, "p");
    char *text = render();
    CHECK_CONTAINS(text, "# TYPE wb_test_latency_seconds histogram\n");
    CHECK_CONTAINS(text, "wb_test_latency_seconds_bucket{path=\"p\",le=\"0.1\"} 1\n");
    CHECK_CONTAINS(text, "wb_test_latency_seconds_bucket{path=\"p\",le=\"1\"} 2\n");
    CHECK_CONTAINS(text, "wb_test_latency_seconds_bucket{path=\"p\",le=\"10\"} 3\n");
    CHECK_CONTAINS(text, "wb_test_latency_seconds_bucket{path=\"p\",le=\"+Inf\"} 4\n");
    CHECK_CONTAINS(text, "wb_test_latency_seconds_sum{path=\"p\"} 55.549999999999997\n");
    CHECK_CONTAINS(text, "wb_test_latency_seconds_count{path=\"p\"} 4\n");
    CHECK(wb_metric_value(h, "p") == 4);
    free(text);
}

/* Every line of the exposition is a comment or `name{labels} value`. */
TEST(every_line_parses) {
    char *text = render();
    regex_t sample, comment;
    CHECK(regcomp(&sample, "^[a-zA-Z_:][a-zA-Z0-9_:]*(\\{.*\\})? ([-+0-9.eE]+|[+-]Inf|NaN)$", REG_EXTENDED) == 0);
    CHECK(regcomp(&comment, "^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* ", REG_EXTENDED) == 0);
    char *save = NULL, *copy = strdup(text);
    int lines = 0;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        lines++;
        if (regexec(&sample, line, 0, NULL, 0) != 0 && regexec(&comment, line, 0, NULL, 0) != 0) {
            regfree(&sample), regfree(&comment);
            FAILF("line does not parse: %s", line);
        }
    }
    CHECK(lines > 10);
    regfree(&sample);
    regfree(&comment);
    free(copy);
    free(text);
}

int main(void) {
    RUN(counter_with_labels);
    RUN(same_name_is_same_metric);
    RUN(gauge_set_and_add_without_labels);
    RUN(label_values_escaped);
    RUN(histogram_buckets_are_cumulative);
    RUN(every_line_parses);
    TEST_EXIT();
}
