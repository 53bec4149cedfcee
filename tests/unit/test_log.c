/* Logging: one JSON object per line with the fixed fields, level filtering,
 * and no secret ever reaching the output. */
#include <stdio.h>
#include <stdlib.h>
#include <cjson/cJSON.h>

#include "testlib.h"
#include "wb/log.h"

static char *captured;
static size_t captured_len;
static FILE *capture;

static void start_capture(void) {
    if (capture) fclose(capture);
    free(captured);
    captured = NULL;
    capture = open_memstream(&captured, &captured_len);
    wb_log_set_output(capture);
}

static const char *output(void) {
    fflush(capture);
    return captured ? captured : "";
}

TEST(line_is_json_with_fields) {
    wb_log_init("order-ingest", WB_LOG_INFO);
    start_capture();
    wb_info("acme-eu", "order %d sent \"quoted\"\nnext", 42);
    const char *out = output();
    CHECK(strchr(out, '\n') == out + strlen(out) - 1); /* exactly one line */
    cJSON *line = cJSON_Parse(out);
    CHECK(line != NULL);
    CHECK_STR(cJSON_GetObjectItem(line, "level")->valuestring, "info");
    CHECK_STR(cJSON_GetObjectItem(line, "service")->valuestring, "order-ingest");
    CHECK_STR(cJSON_GetObjectItem(line, "store")->valuestring, "acme-eu");
    CHECK_STR(cJSON_GetObjectItem(line, "msg")->valuestring, "order 42 sent \"quoted\"\nnext");
    const char *ts = cJSON_GetObjectItem(line, "ts")->valuestring;
    CHECK(strlen(ts) == 24 && ts[10] == 'T' && ts[23] == 'Z');
    cJSON_Delete(line);
}

TEST(store_field_absent_without_store) {
    start_capture();
    wb_warn(NULL, "hello");
    CHECK_NOT_CONTAINS(output(), "\"store\"");
    CHECK_CONTAINS(output(), "\"level\":\"warn\"");
}

TEST(levels_below_minimum_are_dropped) {
    wb_log_init("svc", WB_LOG_WARN);
    start_capture();
    wb_debug(NULL, "debug line");
    wb_info(NULL, "info line");
    wb_error(NULL, "error line");
    CHECK_NOT_CONTAINS(output(), "debug line");
    CHECK_NOT_CONTAINS(output(), "info line");
    CHECK_CONTAINS(output(), "error line");
    wb_log_level level;
    CHECK(wb_log_parse_level("debug", &level) == 0 && level == WB_LOG_DEBUG);
    CHECK(wb_log_parse_level("loud", &level) == -1);
    wb_log_init("svc", WB_LOG_INFO);
}

TEST(registered_secrets_never_appear) {
    const char *secrets[] = {"shpat_0123456789abcdef", "cs_a1b2c3d4e5f6", "pa\"ss\\word!",
                             "whsec-XYZ-123"};
    for (int i = 0; i < 4; i++) wb_log_add_secret(secrets[i]);
    start_capture();
    wb_info("s1", "calling shop with token shpat_0123456789abcdef and key cs_a1b2c3d4e5f6");
    wb_error("s1", "login pa\"ss\\word! failed; webhook secret whsec-XYZ-123 rejected");
    wb_info("s1", "embedded:xxshpat_0123456789abcdefyy");
    for (int i = 0; i < 4; i++) CHECK_NOT_CONTAINS(output(), secrets[i]);
    CHECK_CONTAINS(output(), "[REDACTED]");
    CHECK_CONTAINS(output(), "calling shop with token [REDACTED]");
    wb_log_clear_secrets();
}

TEST(credential_shapes_redacted_without_registration) {
    struct { const char *in, *secret; } cases[] = {
        {"connect postgresql://wmsbridge:s3cr3tpw@db:5432/x failed", "s3cr3tpw"},
        {"GET /orders?consumer_key=ck_live_abc&x=1", "ck_live_abc"},
        {"header Authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"},
        {"body {\"access_token\":\"tok_987654\"}", "tok_987654"},
        {"password=hunter22 user=bob", "hunter22"},
        {"X-Shopify-Access-Token: shpat_zzz111", "shpat_zzz111"},
        {"redis://:redispw99@cache:6379", "redispw99"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        start_capture();
        wb_info(NULL, "%s", cases[i].in);
        CHECK_NOT_CONTAINS(output(), cases[i].secret);
        CHECK_CONTAINS(output(), "[REDACTED]");
    }
    /* Ordinary text is left alone. */
    start_capture();
    wb_info(NULL, "tokens left: 5, password policy ok, see https://shop.example/a:b");
    CHECK_CONTAINS(output(), "tokens left: 5, password policy ok, see https://shop.example/a:b");
}

TEST(redact_function_bounds_output) {
    char small[12];
    wb_log_add_secret("abcdefgh");
    wb_redact("xx abcdefgh yy and more text", small, sizeof small);
    CHECK(strlen(small) < sizeof small);
    CHECK_NOT_CONTAINS(small, "abcdefgh");
    wb_log_clear_secrets();
}

int main(void) {
    RUN(line_is_json_with_fields);
    RUN(store_field_absent_without_store);
    RUN(levels_below_minimum_are_dropped);
    RUN(registered_secrets_never_appear);
    RUN(credential_shapes_redacted_without_registration);
    RUN(redact_function_bounds_output);
    wb_log_set_output(NULL);
    fclose(capture);
    free(captured);
    TEST_EXIT();
}
