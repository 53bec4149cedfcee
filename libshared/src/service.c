/* The wiring every service shares (see wb/service.h). The HTTP server starts
 * first, so /healthz answers and /readyz says what is missing while the
 * service waits for PostgreSQL and Redis to come up. */
#include "wb/service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb/crypto.h"
#include "wb/log.h"
#include "wb/runloop.h"

static int kafka_ready(void *ctx, char *reason, size_t size) {
    wb_service *svc = ctx;
    return wb_kafka_ping(wb_producer_handle(svc->producer), 2000, reason, size);
}

static int pg_ready(void *ctx, char *reason, size_t size) {
    return wb_pg_ping(((wb_service *)ctx)->cfg.pg_dsn, reason, size);
}

static int redis_ready(void *ctx, char *reason, size_t size) {
    return wb_redis_ping(((wb_service *)ctx)->cfg.redis_url, reason, size);
}

/* The password inside scheme://user:password@host, registered as a secret. */
static void register_url_password(const char *url) {
    const char *p = strstr(url, "://"), *at, *colon;
    if (!p || !(at = strchr(p + 3, '@'))) return;
    colon = memchr(p + 3, ':', (size_t)(at - p - 3));
    if (!colon) return;
    char *password = strndup(colon + 1, (size_t)(at - colon - 1));
    wb_log_add_secret(password);
    free(password);
}

/* Retries every second until connected or asked to stop. */
static wb_pg *connect_pg(const char *dsn) {
    char err[512];
    for (int attempt = 1; !wb_stopping(); attempt++) {
        wb_pg *pg = wb_pg_connect(dsn, err, sizeof err);
        if (pg) return pg;
        if (attempt == 1 || attempt % 30 == 0)
            wb_warn(NULL, "waiting for postgresql (attempt %d): %s", attempt, err);
        wb_heartbeat();
        wb_sleep_ms(1000);
    }
    return NULL;
}

static wb_redis *connect_redis(const char *url) {
    char err[512];
    for (int attempt = 1; !wb_stopping(); attempt++) {
        wb_redis *r = wb_redis_connect(url, err, sizeof err);
        if (r) return r;
        if (attempt == 1 || attempt % 30 == 0)
            wb_warn(NULL, "waiting for redis (attempt %d): %s", attempt, err);
        wb_heartbeat();
        wb_sleep_ms(1000);
    }
    return NULL;
}

static int start_http(wb_service *svc, wb_routes_fn add_routes, void *ctx) {
    char err[256];
    svc->http = wb_http_new(svc->cfg.http_bind, svc->cfg.http_port, (size_t)svc->cfg.http_max_body);
    wb_http_set_request_timeout(svc->http, svc->cfg.http_request_timeout_ms);
    wb_http_set_workers(svc->http, svc->cfg.http_workers);
    if (add_routes) add_routes(svc, svc->http, ctx);
    wb_http_add_ready_check(svc->http, "kafka", kafka_ready, svc);
    wb_http_add_ready_check(svc->http, "postgresql", pg_ready, svc);
    wb_http_add_ready_check(svc->http, "redis", redis_ready, svc);
    if (wb_http_start(svc->http, err, sizeof err) != 0) {
        wb_error(NULL, "http server: %s", err);
        return -1;
    }
    wb_info(NULL, "http server listening on %s:%d", svc->cfg.http_bind, wb_http_port(svc->http));
    return 0;
}

static int migrate(wb_service *svc) {
    char err[512];
    int applied = wb_pg_migrate(svc->pg, wb_migrations, wb_migration_count, err, sizeof err);
    if (applied < 0) {
        wb_error(NULL, "migrations failed: %s", err);
        return -1;
    }
    wb_info(NULL, "postgresql schema current (%d migrations applied now)", applied);
    return 0;
}

int wb_service_start(wb_service *svc, const wb_service_config *cfg, wb_routes_fn add_routes,
                     void *ctx) {
    char err[512];
    memset(svc, 0, sizeof *svc);
    svc->cfg = *cfg;
    wb_log_init(cfg->service, cfg->log_level);
    register_url_password(cfg->pg_dsn);
    register_url_password(cfg->redis_url);
    wb_log_add_secret(cfg->master_key);
    wb_runloop_init();
    if (*cfg->master_key) {
        wb_master_key_parse(cfg->master_key, svc->master_key);
        svc->has_master_key = true;
    }

    svc->producer = wb_producer_new(cfg->kafka_brokers, cfg->service, err, sizeof err);
    if (!svc->producer) {
        wb_error(NULL, "kafka producer: %s", err);
        return -1;
    }
    if (start_http(svc, add_routes, ctx) != 0) return -1;
    svc->pg = connect_pg(cfg->pg_dsn);
    if (!svc->pg) return -1;
    if (cfg->pg_migrate && migrate(svc) != 0) return -1;
    svc->redis = connect_redis(cfg->redis_url);
    if (!svc->redis) return -1;
    wb_info(NULL, "%s started", cfg->service);
    return 0;
}

void wb_service_stop(wb_service *svc) {
    wb_http_stop(svc->http);
    svc->http = NULL;
    if (svc->producer) wb_producer_destroy(svc->producer, svc->cfg.shutdown_timeout_ms);
    svc->producer = NULL;
    wb_pg_close(svc->pg);
    svc->pg = NULL;
    wb_redis_close(svc->redis);
    svc->redis = NULL;
    wb_info(NULL, "%s stopped", svc->cfg.service);
}

int wb_service_main(const wb_service_def *def) {
    wb_env env = {{0}};
    wb_service_config cfg;
    wb_service_config_read(&env, &cfg, def->name, def->default_http_port);
    if (def->read_config) def->read_config(&env, def->ctx);
    wb_env_exit_if_bad(&env, def->name);

    wb_service svc;
    int status = 1;
    if (wb_service_start(&svc, &cfg, def->add_routes, def->ctx) == 0) status = def->run(&svc, def->ctx);
    else if (wb_stopping()) status = 0; /* asked to stop while still connecting */
    wb_service_stop(&svc);
    return status;
}
