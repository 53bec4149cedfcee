/* The service HTTP server on libmicrohttpd, one thread per connection: webhook
 * handlers block until Kafka acknowledges, and that must not stall other
 * requests. Bodies are collected up to max_body; anything larger is answered
 * 413 without reading the rest. */
#include "wb/http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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

struct wb_http_server {
    char *bind_address;
    int port;
    size_t max_body;
    int liveness_seconds;
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
    return srv;
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
        wb_http_reply(res, 404, "{\"error\":\"not found\"}");
        return "other";
    }
    r->handler(req, res, r->ctx);
    if (!res->status) wb_http_reply(res, 500, "{\"error\":\"handler gave no answer\"}");
    return r->prefix;
}

static enum MHD_Result send_response(struct MHD_Connection *conn, int status,
                                     const char *content_type, char *body, const char *route) {
    if (!body) body = strdup("");
    struct MHD_Response *response =
        MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(response, "Content-Type",
                            content_type ? content_type : "application/json");
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, response);
    MHD_destroy_response(response);
    char code[8];
    snprintf(code, sizeof code, "%d", status);
    wb_counter_inc(requests_total(), route, code);
    return ret;
}

static enum MHD_Result too_large(struct MHD_Connection *conn) {
    return send_response(conn, 413, NULL, strdup("{\"error\":\"request body too large\"}"),
                         "other");
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
            return too_large(conn);
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!st->too_large && !append_body(st, upload_data, *upload_data_size, srv->max_body))
            st->too_large = true;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (st->too_large) return too_large(conn);

    wb_http_request req = {method, url, st->body ? st->body : "", st->len, conn};
    wb_http_response res = {0};
    const char *label = dispatch(srv, &req, &res);
    return send_response(conn, res.status, res.content_type, res.body, label);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    (void)cls, (void)conn, (void)toe;
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
    return 0;
}

int wb_http_port(const wb_http_server *srv) { return srv->port; }

void wb_http_stop(wb_http_server *srv) {
    if (!srv) return;
    if (srv->daemon) MHD_stop_daemon(srv->daemon);
    for (int i = 0; i < srv->route_count; i++) free(srv->routes[i].prefix);
    for (int i = 0; i < srv->check_count; i++) free(srv->checks[i].name);
    free(srv->bind_address);
    free(srv);
}
