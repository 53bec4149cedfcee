/* WB_* environment variables, validated. The first problem wins: one clear
 * line beats a list of follow-on errors. */
#include "wb/config.h"

#include "wb/crypto.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void wb_env_fail(wb_env *env, const char *name, const char *fmt, ...) {
    if (env->error[0]) return;
    int n = snprintf(env->error, sizeof env->error, "%s: ", name);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(env->error + n, sizeof env->error - (size_t)n, fmt, ap);
    va_end(ap);
}

bool wb_env_ok(const wb_env *env) { return env->error[0] == 0; }

void wb_env_exit_if_bad(const wb_env *env, const char *service) {
    if (wb_env_ok(env)) return;
    wb_log_init(service, WB_LOG_INFO);
    wb_error(NULL, "configuration error: %s", env->error);
    fprintf(stderr, "%s: configuration error: %s\n", service, env->error);
    exit(2);
}

static const char *raw(const char *name) {
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

const char *wb_env_string(wb_env *env, const char *name, const char *def) {
    const char *v = raw(name);
    if (v) return v;
    if (!def) wb_env_fail(env, name, "is required but not set");
    return def;
}

long long wb_env_int(wb_env *env, const char *name, long long def, long long min,
                     long long max) {
    const char *v = raw(name);
    if (!v) return def;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || *end || end == v || n < min || n > max) {
        /* The value is not echoed: a misplaced secret must not reach a log. */
        wb_env_fail(env, name, "expected an integer from %lld to %lld", min, max);
        return def;
    }
    return n;
}

bool wb_env_bool(wb_env *env, const char *name, bool def) {
    const char *v = raw(name);
    if (!v) return def;
    static const char *yes[] = {"1", "true", "yes", "on"}, *no[] = {"0", "false", "no", "off"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) return true;
        if (strcasecmp(v, no[i]) == 0) return false;
    }
    wb_env_fail(env, name, "expected true or false");
    return def;
}

const char *wb_env_url(wb_env *env, const char *name, const char *def,
                       const char *const *schemes) {
    const char *v = wb_env_string(env, name, def);
    if (!v) return NULL;
    const char *sep = strstr(v, "://");
    if (sep && sep[3]) {
        for (int i = 0; schemes[i]; i++) {
            size_t n = strlen(schemes[i]);
            if ((size_t)(sep - v) == n && strncmp(v, schemes[i], n) == 0) return v;
        }
    }
    char expected[128] = "";
    for (int i = 0; schemes[i]; i++) {
        strncat(expected, i ? " or " : "", sizeof expected - strlen(expected) - 1);
        strncat(expected, schemes[i], sizeof expected - strlen(expected) - 1);
        strncat(expected, "://...", sizeof expected - strlen(expected) - 1);
    }
    wb_env_fail(env, name, "expected a URL of the form %s", expected);
    return def;
}

static bool valid_hostport(const char *s, size_t len) {
    const char *colon = memrchr(s, ':', len);
    if (!colon || colon == s) return false;
    size_t digits = len - (size_t)(colon - s) - 1;
    if (digits == 0 || digits > 5) return false;
    long port = 0;
    for (size_t i = 0; i < digits; i++) {
        char c = colon[1 + i];
        if (c < '0' || c > '9') return false;
        port = port * 10 + (c - '0');
    }
    return port >= 1 && port <= 65535;
}

const char *wb_env_hostports(wb_env *env, const char *name, const char *def) {
    const char *v = wb_env_string(env, name, def);
    if (!v) return NULL;
    const char *p = v;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (!valid_hostport(p, len)) {
            wb_env_fail(env, name, "expected host:port[,host:port...]");
            return def;
        }
        if (!comma) return v;
        p = comma + 1;
    }
}

void wb_service_config_read(wb_env *env, wb_service_config *cfg, const char *service,
                            int default_http_port) {
    static const char *const pg_schemes[] = {"postgresql", "postgres", NULL};
    static const char *const redis_schemes[] = {"redis", NULL};
    memset(cfg, 0, sizeof *cfg);
    cfg->service = service;
    cfg->kafka_brokers = wb_env_hostports(env, "WB_KAFKA_BROKERS", NULL);
    cfg->pg_dsn = wb_env_url(env, "WB_PG_DSN", NULL, pg_schemes);
    cfg->redis_url = wb_env_url(env, "WB_REDIS_URL", NULL, redis_schemes);
    cfg->http_bind = wb_env_string(env, "WB_HTTP_BIND", "0.0.0.0");
    cfg->http_port = (int)wb_env_int(env, "WB_HTTP_PORT", default_http_port, 0, 65535);
    cfg->http_max_body = wb_env_int(env, "WB_HTTP_MAX_BODY", 1 << 20, 1024, 64LL << 20);
    cfg->http_request_timeout_ms =
        (int)wb_env_int(env, "WB_HTTP_REQUEST_TIMEOUT_MS", 30000, 500, 600000);
    cfg->http_workers = (int)wb_env_int(env, "WB_HTTP_WORKERS", 4, 1, 64);
    const char *level = wb_env_string(env, "WB_LOG_LEVEL", "info");
    if (wb_log_parse_level(level, &cfg->log_level) != 0)
        wb_env_fail(env, "WB_LOG_LEVEL", "expected debug, info, warn or error");
    cfg->pg_migrate = wb_env_bool(env, "WB_PG_MIGRATE", true);
    cfg->master_key = wb_env_string(env, "WB_MASTER_KEY", "");
    unsigned char key[WB_KEY_LEN];
    if (*cfg->master_key && wb_master_key_parse(cfg->master_key, key) != 0)
        wb_env_fail(env, "WB_MASTER_KEY", "expected 32 bytes written as 64 hex digits or as base64");
    cfg->shutdown_timeout_ms =
        (int)wb_env_int(env, "WB_SHUTDOWN_TIMEOUT_MS", 20000, 100, 600000);
}
