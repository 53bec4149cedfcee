/* What every service wires the same way: configuration, logging, the HTTP
 * server with its readiness checks, and the connections to Kafka, PostgreSQL
 * and Redis. A service's main.c reads its own variables into the same wb_env,
 * then calls wb_service_start() and runs its loop until wb_stopping(). */
#ifndef WB_SERVICE_H
#define WB_SERVICE_H

#include <stdbool.h>
#include "wb/config.h"
#include "wb/http.h"
#include "wb/kafka.h"
#include "wb/pg.h"
#include "wb/redis.h"

typedef struct wb_service {
    wb_service_config cfg;
    wb_producer *producer;
    wb_pg *pg;       /* the main loop's connection */
    wb_redis *redis; /* the main loop's connection */
    wb_http_server *http;
    bool has_master_key;
    unsigned char master_key[32];
} wb_service;

/* Adds a service's own HTTP routes (webhooks) before the server starts.
 * Handlers run on the server's threads: they must not share svc->pg or
 * svc->redis with the main loop (open their own), while svc->producer is
 * thread-safe. */
typedef void (*wb_routes_fn)(wb_service *svc, wb_http_server *http, void *ctx);

/* Connects everything, applies migrations (when WB_PG_MIGRATE), starts the
 * HTTP server (with the routes add_routes adds; may be NULL). On failure logs
 * why and returns -1. */
int wb_service_start(wb_service *svc, const wb_service_config *cfg, wb_routes_fn add_routes,
                     void *ctx);
/* Stops the HTTP server, flushes the producer, closes connections. */
void wb_service_stop(wb_service *svc);

/* A service's whole life: read WB_* configuration (the common variables and
 * the service's own, through read_config), exit 2 on a bad one, start, call
 * run until it returns (it returns once wb_stopping()), stop. Returns the exit
 * status for main(). */
typedef struct wb_service_def {
    const char *name;
    int default_http_port;
    void (*read_config)(wb_env *env, void *ctx); /* optional */
    wb_routes_fn add_routes;                      /* optional */
    int (*run)(wb_service *svc, void *ctx);
    void *ctx;
} wb_service_def;

int wb_service_main(const wb_service_def *def);

#endif
