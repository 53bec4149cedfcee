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
 * unknown path 404.
 *
 * Threads: one event thread reads requests and writes answers for every
 * connection; route handlers (and /readyz) run on a small pool of worker
 * threads (wb_http_set_workers, default 4), so a handler that blocks
 * (PostgreSQL, a shop) stalls neither the event thread nor the other
 * workers' requests. An async route's answer may come later from any
 * thread (wb_http_route_async, wb_http_complete): no thread waits for it. */
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
/* A request whose answer may come later, from any thread. */
typedef struct wb_http_pending wb_http_pending;
/* Runs on a worker thread. It answers with wb_http_complete(), exactly once:
 * at once, or later from another thread (the pending is kept until then).
 * req's method, path and body stay valid until wb_http_complete(); its
 * headers and query (wb_http_header, wb_http_query) only until the handler
 * returns: copy what the answer needs later. */
typedef void (*wb_http_async_handler)(const wb_http_request *req, wb_http_pending *pending,
                                      void *ctx);
/* Like wb_http_route, for a handler that answers through wb_http_complete. */
void wb_http_route_async(wb_http_server *srv, const char *method, const char *path_prefix,
                         wb_http_async_handler handler, void *ctx);
/* The answer (application/json): takes body (malloc'd, or NULL for none).
 * Safe from any thread, also after wb_http_stop() (the request was then
 * already answered 503 or its connection closed; the call only frees). */
void wb_http_complete(wb_http_pending *pending, int status, char *body);
/* Between these two, this thread's wb_http_complete() calls keep their
 * answers, which go out together at the release: a thread that answers
 * many requests in a row (a batch) wakes the server once, not per answer. */
void wb_http_hold_answers(void);
void wb_http_release_answers(void);

void wb_http_add_ready_check(wb_http_server *srv, const char *name, wb_ready_check check,
                             void *ctx);
/* A request must arrive whole (headers and body) within ms of the
 * connection opening or of the previous answer on it (default 30000); a
 * slower client (a slowloris sending a byte a second, a body shorter than its
 * Content-Length) is disconnected without an answer. Reading is event
 * driven, so a slow one never delays the others meanwhile. */
void wb_http_set_request_timeout(wb_http_server *srv, int ms);
/* Handler threads (default 4); set before wb_http_start(). */
void wb_http_set_workers(wb_http_server *srv, int n);
/* How long wb_http_stop() waits for requests still being handled (default
 * 5000 ms) before it answers the rest 503. */
void wb_http_set_stop_grace(wb_http_server *srv, int ms);
/* Seconds without a heartbeat after which /healthz answers 503 (default 60). */
void wb_http_set_liveness_timeout(wb_http_server *srv, int seconds);
int wb_http_start(wb_http_server *srv, char *err, size_t err_size);
/* The bound port (useful with port 0 in tests). */
int wb_http_port(const wb_http_server *srv);
void wb_http_stop(wb_http_server *srv);

/* Helper for handlers: sets status and a malloc'd copy of a JSON body. */
void wb_http_reply(wb_http_response *res, int status, const char *json);

#endif
