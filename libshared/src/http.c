/* The service HTTP server on libmicrohttpd, one thread per connection: webhook
 * handlers block until Kafka acknowledges, and that must not stall other
 * requests. Bodies are collected up to max_body; anything larger is answered
 * 413 without reading the rest. */
#include "wb/http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <cjson/cJSON.h>

#include "wb/log.h"
#include "wb/metrics.h"
#include "wb/runloop.h"

#define MAX_ROUTES 32
#define MAX_CHECKS 8

typedef struct {
    char method[8];
    char *prefix;
    wb_http_handler handler;
    void *ctx;
} route;

typedef struct {
    char *name;
    wb_ready_check check;
    void *ctx;
} ready_check;

/* A connection while it owes us a request. libmicrohttpd's timeout counts
 * idle time only, so a client sending a byte a second would hold its
 * connection (and, here, a thread) forever: the reaper thread shuts down
 * the socket of any connection whose request has not arrived whole within
 * request_timeout_ms of the connection opening or of its previous answer. */
typedef struct watched {
    struct watched *prev, *next;
    int fd;
    bool receiving;   /* false while a handler runs or the answer goes out */
    int64_t since_ms; /* when it started owing the current request */
} watched;

struct wb_http_server {
    char *bind_address;
    int port;
    size_t max_body;
    int liveness_seconds;
    int request_timeout_ms;
    pthread_mutex_t watch_lock;
    watched *watching;
    pthread_t reaper;
    bool reaper_running, reaper_stop;
    pthread_cond_t reaper_wake;
    struct MHD_Daemon *daemon;
    route routes[MAX_ROUTES];
    int route_count;
    ready_check checks[MAX_CHECKS];
    int check_count;
};

/* Per-request state across libmicrohttpd's repeated handler calls. */
typedef struct {
    char *body;
    size_t len, cap;
    bool too_large;
} request_state;

static wb_metric *requests_total(void) {
    return wb_counter("wb_http_requests_total", "HTTP requests served, by route and status code.",
                      "route,code");
}

wb_http_server *wb_http_new(const char *bind_address, int port, size_t max_body) {
    wb_http_server *srv = calloc(1, sizeof *srv);
    srv->bind_address = strdup(bind_address ? bind_address : "0.0.0.0");
    srv->port = port;
    srv->max_body = max_body;
    srv->liveness_seconds = 60;
    srv->request_timeout_ms = 30000;
    pthread_mutex_init(&srv->watch_lock, NULL);
    pthread_cond_init(&srv->reaper_wake, NULL);
    return srv;
}

void wb_http_set_request_timeout(wb_http_server *srv, int ms) {
    if (ms > 0) srv->request_timeout_ms = ms;
}

void wb_http_route(wb_http_server *srv, const char *method, const char *path_prefix,
                   wb_http_handler handler, void *ctx) {
    if (srv->route_count == MAX_ROUTES) return;
    route *r = &srv->routes[srv->route_count++];
    snprintf(r->method, sizeof r->method, "%s", method);
    r->prefix = strdup(path_prefix);
    r->handler = handler;
    r->ctx = ctx;
}

void wb_http_add_ready_check(wb_http_server *srv, const char *name, wb_ready_check check,
                             void *ctx) {
    if (srv->check_count == MAX_CHECKS) return;
    srv->checks[srv->check_count++] = (ready_check){strdup(name), check, ctx};
}

void wb_http_set_liveness_timeout(wb_http_server *srv, int seconds) {
    srv->liveness_seconds = seconds;
}

void wb_http_reply(wb_http_response *res, int status, const char *json) {
    res->status = status;
    free(res->body);
    res->body = strdup(json);
}

const char *wb_http_header(const wb_http_request *req, const char *name) {
    return MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND, name);
}

const char *wb_http_query(const wb_http_request *req, const char *name) {
    return MHD_lookup_connection_value(req->connection, MHD_GET_ARGUMENT_KIND, name);
}

typedef struct {
    wb_http_arg_fn fn;
    void *ctx;
} query_each_ctx;

static enum MHD_Result query_each_one(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value) {
    (void)kind;
    query_each_ctx *q = cls;
    q->fn(q->ctx, key, value ? value : "");
    return MHD_YES;
}

void wb_http_query_each(const wb_http_request *req, wb_http_arg_fn fn, void *ctx) {
    query_each_ctx q = {fn, ctx};
    MHD_get_connection_values(req->connection, MHD_GET_ARGUMENT_KIND, query_each_one, &q);
}

/* ---- built-in endpoints ---- */

static void handle_healthz(wb_http_server *srv, wb_http_response *res) {
    int64_t age = wb_heartbeat_age_ms();
    char body[128];
    bool alive = age <= (int64_t)srv->liveness_seconds * 1000;
    snprintf(body, sizeof body, "{\"status\":\"%s\",\"heartbeat_age_ms\":%lld}",
             alive ? "alive" : "stuck", (long long)age);
    wb_http_reply(res, alive ? 200 : 503, body);
}

static void handle_readyz(wb_http_server *srv, wb_http_response *res) {
    cJSON *doc = cJSON_CreateObject(), *checks = cJSON_CreateObject();
    bool ready = !wb_stopping();
    for (int i = 0; i < srv->check_count; i++) {
        char reason[256] = "";
        if (srv->checks[i].check(srv->checks[i].ctx, reason, sizeof reason) == 0) {
            cJSON_AddStringToObject(checks, srv->checks[i].name, "ok");
        } else {
            ready = false;
            char clean[256];
            wb_redact(reason[0] ? reason : "failed", clean, sizeof clean);
            cJSON_AddStringToObject(checks, srv->checks[i].name, clean);
        }
    }
    cJSON_AddStringToObject(doc, "status", ready ? "ready" : wb_stopping() ? "stopping" : "unavailable");
    cJSON_AddItemToObject(doc, "checks", checks);
    res->status = ready ? 200 : 503;
    res->body = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
}

static void handle_metrics(wb_http_response *res) {
    res->status = 200;
    res->content_type = "text/plain; version=0.0.4; charset=utf-8";
    res->body = wb_metrics_render();
}

static const route *find_route(const wb_http_server *srv, const char *method, const char *path) {
    const route *best = NULL;
    for (int i = 0; i < srv->route_count; i++) {
        const route *r = &srv->routes[i];
        if (strcmp(r->method, method) != 0 || strncmp(path, r->prefix, strlen(r->prefix)) != 0)
            continue;
        if (!best || strlen(r->prefix) > strlen(best->prefix)) best = r;
    }
    return best;
}

/* The methods another request to path would be answered for ("GET, HEAD"
 * or a route's method), or NULL when nothing is there: a wrong method is a
 * 405 with Allow, an unknown path a 404. */
static const char *allowed_methods(const wb_http_server *srv, const char *path) {
    if (strcmp(path, "/healthz") == 0 || strcmp(path, "/readyz") == 0 || strcmp(path, "/metrics") == 0)
        return "GET, HEAD";
    const route *best = NULL;
    for (int i = 0; i < srv->route_count; i++) {
        const route *r = &srv->routes[i];
        if (strncmp(path, r->prefix, strlen(r->prefix)) == 0 &&
            (!best || strlen(r->prefix) > strlen(best->prefix)))
            best = r;
    }
    return best ? best->method : NULL;
}

/* Routes the request; returns the route label for metrics. */
static const char *dispatch(wb_http_server *srv, wb_http_request *req, wb_http_response *res) {
    bool get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
    if (get && strcmp(req->path, "/healthz") == 0) {
        handle_healthz(srv, res);
        return "/healthz";
    }
    if (get && strcmp(req->path, "/readyz") == 0) {
        handle_readyz(srv, res);
        return "/readyz";
    }
    if (get && strcmp(req->path, "/metrics") == 0) {
        handle_metrics(res);
        return "/metrics";
    }
    const route *r = find_route(srv, req->method, req->path);
    if (!r) {
        if (allowed_methods(srv, req->path)) {
            wb_http_reply(res, 405, "{\"error\":\"method not allowed\"}");
        } else {
            wb_http_reply(res, 404, "{\"error\":\"not found\"}");
        }
        return "other";
    }
    r->handler(req, res, r->ctx);
    if (!res->status) wb_http_reply(res, 500, "{\"error\":\"handler gave no answer\"}");
    return r->prefix;
}

static enum MHD_Result send_response(struct MHD_Connection *conn, int status,
                                     const char *content_type, char *body, const char *route,
                                     const char *allow) {
    if (!body) body = strdup("");
    struct MHD_Response *response =
        MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(response, "Content-Type",
                            content_type ? content_type : "application/json");
    if (allow) MHD_add_response_header(response, "Allow", allow);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, response);
    MHD_destroy_response(response);
    char code[8];
    snprintf(code, sizeof code, "%d", status);
    wb_counter_inc(requests_total(), route, code);
    return ret;
}

static enum MHD_Result too_large(struct MHD_Connection *conn) {
    return send_response(conn, 413, NULL, strdup("{\"error\":\"request body too large\"}"),
                         "other", NULL);
}

/* ---- slow clients ---- */

static watched *watch_of(struct MHD_Connection *conn) {
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

static void set_receiving(wb_http_server *srv, struct MHD_Connection *conn, bool receiving) {
    watched *w = watch_of(conn);
    if (!w) return;
    pthread_mutex_lock(&srv->watch_lock);
    w->receiving = receiving;
    w->since_ms = wb_monotonic_ms();
    pthread_mutex_unlock(&srv->watch_lock);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code) {
    wb_http_server *srv = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        watched *w = calloc(1, sizeof *w);
        if (!w || !info) {
            free(w);
            return;
        }
        w->fd = info->connect_fd;
        w->receiving = true;
        w->since_ms = wb_monotonic_ms();
        pthread_mutex_lock(&srv->watch_lock);
        w->next = srv->watching;
        if (w->next) w->next->prev = w;
        srv->watching = w;
        pthread_mutex_unlock(&srv->watch_lock);
        *socket_context = w;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
        /* Before libmicrohttpd closes the socket: the reaper never touches
         * a descriptor that may already belong to someone else. */
        watched *w = *socket_context;
        pthread_mutex_lock(&srv->watch_lock);
        if (w->prev) w->prev->next = w->next;
        else srv->watching = w->next;
        if (w->next) w->next->prev = w->prev;
        pthread_mutex_unlock(&srv->watch_lock);
        free(w);
        *socket_context = NULL;
    }
}

static void *reaper_main(void *arg) {
    wb_http_server *srv = arg;
    wb_metric *cut = wb_counter("wb_http_slow_clients_total",
                                "Connections closed because their request did not arrive whole in time.", "");
    pthread_mutex_lock(&srv->watch_lock);
    while (!srv->reaper_stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 250 * 1000000L;
        if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&srv->reaper_wake, &srv->watch_lock, &until);
        int64_t now = wb_monotonic_ms();
        for (watched *w = srv->watching; w; w = w->next) {
            if (!w->receiving || now - w->since_ms < srv->request_timeout_ms) continue;
            /* Its thread sees the socket end and closes the connection. */
            shutdown(w->fd, SHUT_RDWR);
            w->receiving = false;
            wb_counter_inc(cut);
            wb_warn(NULL, "http: a client sent no whole request within %d ms: disconnected",
                    srv->request_timeout_ms);
        }
    }
    pthread_mutex_unlock(&srv->watch_lock);
    return NULL;
}

static bool append_body(request_state *st, const char *data, size_t len, size_t max) {
    if (st->len + len > max) return false;
    if (st->len + len + 1 > st->cap) {
        size_t cap = st->cap ? st->cap : 4096;
        while (cap < st->len + len + 1) cap *= 2;
        st->body = realloc(st->body, cap);
        st->cap = cap;
    }
    memcpy(st->body + st->len, data, len);
    st->len += len;
    st->body[st->len] = 0;
    return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
    (void)version;
    wb_http_server *srv = cls;
    request_state *st = *con_cls;
    if (!st) {
        st = calloc(1, sizeof *st);
        *con_cls = st;
        const char *length = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                         MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (length && strtoull(length, NULL, 10) > srv->max_body) {
            st->too_large = true;
            set_receiving(srv, conn, false);
            return too_large(conn);
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        /* A body without Content-Length (chunked) that passes the limit is
         * no longer kept; the client hears 413 once it has sent it (an
         * answer in mid-upload reaches no client), and one that never stops
         * is cut by the request timeout. */
        if (!st->too_large && !append_body(st, upload_data, n, srv->max_body)) {
            st->too_large = true;
            free(st->body);
            st->body = NULL;
            st->len = st->cap = 0;
        }
        return MHD_YES;
    }
    set_receiving(srv, conn, false);
    if (st->too_large) return too_large(conn);

    wb_http_request req = {method, url, st->body ? st->body : "", st->len, conn};
    wb_http_response res = {0};
    const char *label = dispatch(srv, &req, &res);
    return send_response(conn, res.status, res.content_type, res.body, label,
                         res.status == 405 ? allowed_methods(srv, url) : NULL);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    (void)toe;
    /* Answered (or given up): the next request on this connection is owed
     * from now. */
    set_receiving(cls, conn, true);
    request_state *st = *con_cls;
    if (!st) return;
    free(st->body);
    free(st);
    *con_cls = NULL;
}

int wb_http_start(wb_http_server *srv, char *err, size_t err_size) {
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)srv->port);
    if (inet_pton(AF_INET, srv->bind_address, &addr.sin_addr) != 1) {
        snprintf(err, err_size, "WB_HTTP_BIND: '%s' is not an IPv4 address", srv->bind_address);
        return -1;
    }
    srv->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL,
        (uint16_t)srv->port, NULL, NULL, on_request, srv,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)512,
        MHD_OPTION_END);
    if (!srv->daemon) {
        snprintf(err, err_size, "cannot listen on %s:%d (port in use?)", srv->bind_address,
                 srv->port);
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    if (info) srv->port = info->port;
    if (pthread_create(&srv->reaper, NULL, reaper_main, srv) == 0) srv->reaper_running = true;
    return 0;
}

int wb_http_port(const wb_http_server *srv) { return srv->port; }

void wb_http_stop(wb_http_server *srv) {
    if (!srv) return;
    if (srv->reaper_running) {
        pthread_mutex_lock(&srv->watch_lock);
        srv->reaper_stop = true;
        pthread_cond_signal(&srv->reaper_wake);
        pthread_mutex_unlock(&srv->watch_lock);
        pthread_join(srv->reaper, NULL);
    }
    if (srv->daemon) MHD_stop_daemon(srv->daemon);
    for (int i = 0; i < srv->route_count; i++) free(srv->routes[i].prefix);
    for (int i = 0; i < srv->check_count; i++) free(srv->checks[i].name);
    free(srv->bind_address);
    pthread_mutex_destroy(&srv->watch_lock);
    pthread_cond_destroy(&srv->reaper_wake);
    free(srv);
}
