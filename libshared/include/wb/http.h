/* The HTTP server every service runs (libmicrohttpd, its own threads):
 * /healthz, /readyz and /metrics built in, plus the routes a service adds.
 *
 *   /healthz  200 while the service's main loop has beaten recently
 *             (wb_heartbeat), 503 when it is stuck.
 *   /readyz   runs every registered check live (Kafka, PostgreSQL, Redis
 *             reachable) and answers 200, or 503 with the failing checks and
 *             their reasons as JSON.
 *   /metrics  Prometheus text format.
 *
 * A request body over max_body is answered 413 before it is read whole
 * (from Content-Length when given, otherwise as soon as it passes the limit).
 * A known path asked with another method is answered 405 with Allow; an
 * unknown path 404. */
#ifndef WB_HTTP_H
#define WB_HTTP_H

#include <stddef.h>

typedef struct wb_http_server wb_http_server;

typedef struct wb_http_request {
    const char *method;
    const char *path;      /* without the query string */
    const char *body;      /* raw bytes, NUL-terminated for convenience */
    size_t body_len;
    void *connection;      /* libmicrohttpd's connection, for wb_http_header() */
} wb_http_request;

typedef struct wb_http_response {
    int status;
    const char *content_type; /* default application/json */
    char *body;               /* malloc'd by the handler, freed by the server */
} wb_http_response;

/* Header value or NULL; names are case-insensitive. */
const char *wb_http_header(const wb_http_request *req, const char *name);
/* Query argument or NULL. */
const char *wb_http_query(const wb_http_request *req, const char *name);
/* Every query argument, decoded, in the order sent (value "" when it had
 * none): for a signature over the whole query (Shopify's OAuth hmac). */
typedef void (*wb_http_arg_fn)(void *ctx, const char *name, const char *value);
void wb_http_query_each(const wb_http_request *req, wb_http_arg_fn fn, void *ctx);

typedef void (*wb_http_handler)(const wb_http_request *req, wb_http_response *res,
                                void *ctx);
/* Returns 0 when ready; otherwise writes why into reason. */
typedef int (*wb_ready_check)(void *ctx, char *reason, size_t reason_size);

wb_http_server *wb_http_new(const char *bind_address, int port, size_t max_body);
/* Routes match method exactly and path by prefix; the longest prefix wins.
 * Register before wb_http_start(). */
void wb_http_route(wb_http_server *srv, const char *method, const char *path_prefix,
                   wb_http_handler handler, void *ctx);
void wb_http_add_ready_check(wb_http_server *srv, const char *name, wb_ready_check check,
                             void *ctx);
/* A request must arrive whole (headers and body) within ms of the
 * connection opening or of the previous answer on it (default 30000); a
 * slower client (a slowloris sending a byte a second, a body shorter than its
 * Content-Length) is disconnected without an answer. Each connection has its
 * own thread, so a slow one never delays the others meanwhile. */
void wb_http_set_request_timeout(wb_http_server *srv, int ms);
/* Seconds without a heartbeat after which /healthz answers 503 (default 60). */
void wb_http_set_liveness_timeout(wb_http_server *srv, int seconds);
int wb_http_start(wb_http_server *srv, char *err, size_t err_size);
/* The bound port (useful with port 0 in tests). */
int wb_http_port(const wb_http_server *srv);
void wb_http_stop(wb_http_server *srv);

/* Helper for handlers: sets status and a malloc'd copy of a JSON body. */
void wb_http_reply(wb_http_response *res, int status, const char *json);

#endif
