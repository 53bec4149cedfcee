/* WB_* configuration: every bad value is named, the first error wins, and a
 * bad configuration stops the process with exit status 2 and one line. */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"
#include "wb/config.h"

static void clear(void) {
    const char *vars[] = {"WB_X", "WB_Y", "WB_KAFKA_BROKERS", "WB_PG_DSN", "WB_REDIS_URL",
                          "WB_HTTP_PORT", "WB_LOG_LEVEL", "WB_MASTER_KEY", "WB_PG_MIGRATE",
                          "WB_HTTP_BIND", "WB_HTTP_MAX_BODY", "WB_SHUTDOWN_TIMEOUT_MS"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) unsetenv(vars[i]);
}

static void set_good_common(void) {
    setenv("WB_KAFKA_BROKERS", "127.0.0.1:9092,kafka-2:9093", 1);
    setenv("WB_PG_DSN", "postgresql://u:p@127.0.0.1:5432/db", 1);
    setenv("WB_REDIS_URL", "redis://127.0.0.1:6379", 1);
}

TEST(required_variable_missing_is_named) {
    clear();
    wb_env env = {{0}};
    CHECK(wb_env_string(&env, "WB_X", NULL) == NULL);
    CHECK(!wb_env_ok(&env));
    CHECK_STR(env.error, "WB_X: is required but not set");
}

TEST(defaults_apply_when_unset) {
    clear();
    wb_env env = {{0}};
    CHECK_STR(wb_env_string(&env, "WB_X", "fallback"), "fallback");
    CHECK_INT(wb_env_int(&env, "WB_Y", 42, 0, 100), 42);
    CHECK(wb_env_bool(&env, "WB_X", true));
    CHECK(wb_env_ok(&env));
}

TEST(integer_out_of_range_or_malformed) {
    clear();
    const char *bad[] = {"abc", "12x", "", "70000", "-1", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        wb_env env = {{0}};
        setenv("WB_X", bad[i], 1);
        long long v = wb_env_int(&env, "WB_X", 7, 0, 65535);
        if (bad[i][0] == 0) { /* empty counts as unset */
            CHECK(wb_env_ok(&env));
            continue;
        }
        CHECK_INT(v, 7);
        CHECK_STR(env.error, "WB_X: expected an integer from 0 to 65535");
    }
    wb_env env = {{0}};
    setenv("WB_X", "8080", 1);
    CHECK_INT(wb_env_int(&env, "WB_X", 7, 0, 65535), 8080);
    CHECK(wb_env_ok(&env));
}

TEST(booleans) {
    clear();
    const char *yes[] = {"1", "true", "TRUE", "yes", "on"}, *no[] = {"0", "false", "No", "off"};
    for (size_t i = 0; i < 5; i++) {
        wb_env env = {{0}};
        setenv("WB_X", yes[i], 1);
        CHECK(wb_env_bool(&env, "WB_X", false));
        CHECK(wb_env_ok(&env));
    }
    for (size_t i = 0; i < 4; i++) {
        wb_env env = {{0}};
        setenv("WB_X", no[i], 1);
        CHECK(!wb_env_bool(&env, "WB_X", true));
    }
    wb_env env = {{0}};
    setenv("WB_X", "maybe", 1);
    wb_env_bool(&env, "WB_X", true);
    CHECK_STR(env.error, "WB_X: expected true or false");
}

TEST(url_scheme_checked) {
    clear();
    static const char *const schemes[] = {"postgresql", "postgres", NULL};
    wb_env env = {{0}};
    setenv("WB_X", "mysql://h/db", 1);
    wb_env_url(&env, "WB_X", NULL, schemes);
    CHECK_STR(env.error, "WB_X: expected a URL of the form postgresql://... or postgres://...");
    wb_env ok = {{0}};
    setenv("WB_X", "postgres://h/db", 1);
    CHECK_STR(wb_env_url(&ok, "WB_X", NULL, schemes), "postgres://h/db");
    CHECK(wb_env_ok(&ok));
}

TEST(broker_lists) {
    clear();
    const char *good[] = {"h:1", "127.0.0.1:9092,b:9093", "kafka-0.kafka:29092"};
    const char *bad[] = {"h", "h:", ":9092", "h:99999", "h:1,,b:2", "h:1,", "h:x"};
    for (size_t i = 0; i < 3; i++) {
        wb_env env = {{0}};
        setenv("WB_X", good[i], 1);
        CHECK_STR(wb_env_hostports(&env, "WB_X", NULL), good[i]);
        CHECK(wb_env_ok(&env));
    }
    for (size_t i = 0; i < 7; i++) {
        wb_env env = {{0}};
        setenv("WB_X", bad[i], 1);
        wb_env_hostports(&env, "WB_X", NULL);
        if (wb_env_ok(&env)) FAILF("'%s' was accepted", bad[i]);
        CHECK_STR(env.error, "WB_X: expected host:port[,host:port...]");
    }
}

TEST(first_error_wins) {
    clear();
    wb_env env = {{0}};
    setenv("WB_Y", "nope", 1);
    wb_env_string(&env, "WB_X", NULL);
    wb_env_bool(&env, "WB_Y", false);
    CHECK_STR(env.error, "WB_X: is required but not set");
}

TEST(service_config_defaults) {
    clear();
    set_good_common();
    wb_env env = {{0}};
    wb_service_config cfg;
    wb_service_config_read(&env, &cfg, "stock-publisher", 8083);
    CHECK(wb_env_ok(&env));
    CHECK_INT(cfg.http_port, 8083);
    CHECK_INT(cfg.http_max_body, 1 << 20);
    CHECK_INT(cfg.log_level, WB_LOG_INFO);
    CHECK(cfg.pg_migrate);
    CHECK_STR(cfg.http_bind, "0.0.0.0");
    CHECK_STR(cfg.kafka_brokers, "127.0.0.1:9092,kafka-2:9093");
}

TEST(service_config_names_each_bad_variable) {
    struct { const char *var, *value, *expect; } cases[] = {
        {"WB_KAFKA_BROKERS", "nohostport", "WB_KAFKA_BROKERS: expected host:port"},
        {"WB_PG_DSN", "host=x dbname=y", "WB_PG_DSN: expected a URL"},
        {"WB_REDIS_URL", "http://x", "WB_REDIS_URL: expected a URL of the form redis://"},
        {"WB_HTTP_PORT", "80a", "WB_HTTP_PORT: expected an integer"},
        {"WB_LOG_LEVEL", "verbose", "WB_LOG_LEVEL: expected debug, info, warn or error"},
        {"WB_MASTER_KEY", "too-short", "WB_MASTER_KEY: expected 32 bytes"},
        {"WB_PG_MIGRATE", "sometimes", "WB_PG_MIGRATE: expected true or false"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        clear();
        set_good_common();
        setenv(cases[i].var, cases[i].value, 1);
        wb_env env = {{0}};
        wb_service_config cfg;
        wb_service_config_read(&env, &cfg, "svc", 1);
        CHECK_CONTAINS(env.error, cases[i].expect);
        CHECK_NOT_CONTAINS(env.error, "too-short"); /* values are never echoed */
    }
    clear();
    set_good_common();
    unsetenv("WB_PG_DSN");
    wb_env env = {{0}};
    wb_service_config cfg;
    wb_service_config_read(&env, &cfg, "svc", 1);
    CHECK_STR(env.error, "WB_PG_DSN: is required but not set");
}

TEST(bad_config_exits_2_with_one_line) {
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 2);
        dup2(fds[1], 1);
        close(fds[0]);
        wb_env env = {{0}};
        wb_env_fail(&env, "WB_HTTP_PORT", "expected an integer from 0 to 65535");
        wb_env_exit_if_bad(&env, "order-ingest");
        _exit(0);
    }
    close(fds[1]);
    char out[2048] = {0};
    size_t len = 0;
    ssize_t n;
    while ((n = read(fds[0], out + len, sizeof out - 1 - len)) > 0) len += (size_t)n;
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK_INT(WEXITSTATUS(status), 2);
    CHECK_CONTAINS(out, "order-ingest: configuration error: WB_HTTP_PORT: expected an integer");
    CHECK_CONTAINS(out, "\"level\":\"error\"");
}

int main(void) {
    RUN(required_variable_missing_is_named);
    RUN(defaults_apply_when_unset);
    RUN(integer_out_of_range_or_malformed);
    RUN(booleans);
    RUN(url_scheme_checked);
    RUN(broker_lists);
    RUN(first_error_wins);
    RUN(service_config_defaults);
    RUN(service_config_names_each_bad_variable);
    RUN(bad_config_exits_2_with_one_line);
    TEST_EXIT();
}
