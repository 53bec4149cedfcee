/* Configuration from WB_* environment variables, validated at start-up.
 *
 * Readers record the first problem in a wb_env and return the default, so a
 * service reads all its variables and then calls wb_env_exit_if_bad(), which
 * prints one line naming the variable and what was expected, and exits 2. */
#ifndef WB_CONFIG_H
#define WB_CONFIG_H

#include <stdbool.h>
#include "wb/log.h"

typedef struct wb_env {
    char error[512]; /* empty while every variable read so far is good */
} wb_env;

/* def == NULL makes the variable required. */
const char *wb_env_string(wb_env *env, const char *name, const char *def);
long long wb_env_int(wb_env *env, const char *name, long long def, long long min,
                     long long max);
bool wb_env_bool(wb_env *env, const char *name, bool def);
/* A URL whose scheme is one of `schemes` (NULL-terminated), e.g. {"redis", NULL}. */
const char *wb_env_url(wb_env *env, const char *name, const char *def,
                       const char *const *schemes);
/* A comma-separated host:port list (Kafka bootstrap servers). */
const char *wb_env_hostports(wb_env *env, const char *name, const char *def);

void wb_env_fail(wb_env *env, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool wb_env_ok(const wb_env *env);
void wb_env_exit_if_bad(const wb_env *env, const char *service);

/* What every service reads. */
typedef struct wb_service_config {
    const char *service;
    const char *kafka_brokers;  /* WB_KAFKA_BROKERS, required */
    const char *pg_dsn;         /* WB_PG_DSN, required, postgresql:// URL */
    const char *redis_url;      /* WB_REDIS_URL, required, redis:// URL */
    const char *http_bind;      /* WB_HTTP_BIND, default 0.0.0.0 */
    int http_port;              /* WB_HTTP_PORT, default per service */
    long long http_max_body;    /* WB_HTTP_MAX_BODY bytes, default 1 MiB */
    int http_request_timeout_ms; /* WB_HTTP_REQUEST_TIMEOUT_MS: a whole request, default 30000 */
    int http_workers;           /* WB_HTTP_WORKERS: threads running route handlers, default 4 */
    wb_log_level log_level;     /* WB_LOG_LEVEL, default info */
    bool pg_migrate;            /* WB_PG_MIGRATE, default true */
    const char *master_key;     /* WB_MASTER_KEY, 32 bytes as hex or base64; optional here */
    int shutdown_timeout_ms;    /* WB_SHUTDOWN_TIMEOUT_MS, default 20000 */
} wb_service_config;

void wb_service_config_read(wb_env *env, wb_service_config *cfg, const char *service,
                            int default_http_port);

#endif
