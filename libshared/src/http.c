/* The service HTTP server on libmicrohttpd, event driven: one epoll thread
 * (MHD_USE_EPOLL_INTERNAL_THREAD) reads every connection's request and
 * writes its answer; no thread belongs to a connection. A whole request for
 * a route (or /readyz) suspends its connection (MHD_suspend_connection) and
 * goes to a small pool of worker threads, which run the handler: handlers
 * may block (PostgreSQL, a shop), and a blocked one must not stall the
 * event thread for everyone. A sync route's handler answers when it
 * returns; an async route's handler (wb_http_route_async) may keep its
 * wb_http_pending and answer later from any thread (order-ingest's batcher
 * answers a whole group commit's webhooks): wb_http_complete() stores the
 * answer and resumes the connection, and the event thread, called again for
 * it, sends the answer. So thousands of webhooks can wait for their batch
 * without a thread each, and without the context switches of waking one;
 * a thread answering many at once holds them (wb_http_hold_answers) and
 * resumes them together, so the event thread wakes once for them.
 * /healthz, /metrics, 404, 405 and 413 are answered on the event thread.
 *
 * A suspended connection is resumed exactly once: the answer and the resume
 * happen together under pending_mu, either by wb_http_complete() or, at
 * stop, by the server itself (503) for what was not answered within the
 * grace; a pending is reference counted (the connection's side and the
 * handler's side), so a completion that arrives after the client hung up or
 * after the server stopped only frees. Bodies are collected up to max_body;
 * anything larger is answered 413 without reading the rest. */
#include "wb/http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
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
#define STOPPING_BODY "{\"error\":\"service stopping\"}"

typedef struct {
    char method[8];
    char *prefix;
    wb_http_handler handler;
    wb_http_async_handler async_handler; /* instead of handler */
    void *ctx;
} route;

typedef struct {
    char *name;
    wb_ready_check check;
    void *ctx;
} ready_check;

/* A request handed to the workers, from its dispatch until its answer is
 * sent (the connection's reference) and until the handler answered (the
 * handler's reference). */
struct wb_http_pending {
    wb_http_server *srv;           /* NULL once the server answered it at stop */
    struct MHD_Connection *conn;
    wb_http_request req;           /* points into the copies below */
    char *method, *path, *body;
    const route *route;            /* NULL: /readyz */
    const char *label;             /* for wb_http_requests_total */
    /* the answer, set once under pending_mu */
    bool answered;
    bool resumed;                  /* the connection was resumed (once) */
    int status;
    const char *content_type;
    char *answer;
    atomic_int refs;
    struct wb_http_pending *next;            /* the work queue */
    struct wb_http_pending *held_next;       /* this thread's held answers */
    struct wb_http_pending *out_prev, *out_next; /* srv->outstanding */
};

/* Orders an answer against the server's own 503 at stop: whichever comes
 * first resumes the connection, the other only frees. Global, not the
 * server's, since a completion may come after the server is gone. */
static pthread_mutex_t pending_mu = PTHREAD_MUTEX_INITIALIZER;

/* Answers this thread completed inside wb_http_hold_answers(). */
static __thread wb_http_pending *held;
static __thread int hold_depth;

/* A connection while it owes us a request. libmicrohttpd's timeout counts
 * idle time only, so a client sending a byte a second would hold its
 * connection (one of the connection limit's) forever: the reaper thread
 * shuts down the socket of any connection whose request has not arrived
 * whole within request_timeout_ms of the connection opening or of its
 * previous answer. */
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
    /* the workers and their queue */
    pthread_mutex_t work_mu;
    pthread_cond_t work_cv;
    wb_http_pending *work_head, *work_tail;
    bool accepting, workers_stop;
    int n_workers, workers_started;
    pthread_t *workers;
    /* Requests not answered by their handler yet (queued, running or kept
     * by an async handler), for stop. */
    pthread_mutex_t out_mu;
    wb_http_pending *outstanding;
    atomic_int live; /* pendings whose connection has not finished with them */
    int stop_grace_ms;
};

/* Per-request state across libmicrohttpd's repeated handler calls. */
typedef struct {
    char *body;
    size_t len, cap;
    bool too_large;
    wb_http_pending *pending; /* handed to the workers */
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
    srv->n_workers = 4;
    srv->stop_grace_ms = 5000;
    pthread_mutex_init(&srv->watch_lock, NULL);
    pthread_cond_init(&srv->reaper_wake, NULL);
    pthread_mutex_init(&srv->work_mu, NULL);
    pthread_cond_init(&srv->work_cv, NULL);
    pthread_mutex_init(&srv->out_mu, NULL);
    return srv;
}

void wb_http_set_workers(wb_http_server *srv, int n) {
    if (n > 0) srv->n_workers = n;
}

void wb_http_set_stop_grace(wb_http_server *srv, int ms) {
    if (ms >= 0) srv->stop_grace_ms = ms;
}

void wb_http_set_request_timeout(wb_http_server *srv, int ms) {
    if (ms > 0) srv->request_timeout_ms = ms;
}

static route *add_route(wb_http_server *srv, const char *method, const char *path_prefix,
                        void *ctx) {
    if (srv->route_count == MAX_ROUTES) return NULL;
    route *r = &srv->routes[srv->route_count++];
    snprintf(r->method, sizeof r->method, "%s", method);
    r->prefix = strdup(path_prefix);
    r->ctx = ctx;
    return r;
}

void wb_http_route(wb_http_server *srv, const char *method, const char *path_prefix,
                   wb_http_handler handler, void *ctx) {
    route *r = add_route(srv, method, path_prefix, ctx);
    if (r) r->handler = handler;
}

void wb_http_route_async(wb_http_server *srv, const char *method, const char *path_prefix,
                         wb_http_async_handler handler, void *ctx) {
    route *r = add_route(srv, method, path_prefix, ctx);
    if (r) r->async_handler = handler;
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

/* Answers what needs no handler (healthz, metrics, 404, 405) into res and
 * returns its route label; or returns NULL with *to_run set to the route
 * whose handler must run (NULL with /readyz, whose checks may block). */
static const char *answer_inline(wb_http_server *srv, const char *method, const char *path,
                                 wb_http_response *res, const route **to_run) {
    *to_run = NULL;
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    if (get && strcmp(path, "/healthz") == 0) {
        handle_healthz(srv, res);
        return "/healthz";
    }
    if (get && strcmp(path, "/readyz") == 0) return NULL;
    if (get && strcmp(path, "/metrics") == 0) {
        handle_metrics(res);
        return "/metrics";
    }
    const route *r = find_route(srv, method, path);
    if (!r) {
        if (allowed_methods(srv, path)) {
            wb_http_reply(res, 405, "{\"error\":\"method not allowed\"}");
        } else {
            wb_http_reply(res, 404, "{\"error\":\"not found\"}");
        }
        return "other";
    }
    *to_run = r;
    return NULL;
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
            /* The event thread sees the socket end and closes the connection. */
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

/* ---- pending requests and the workers ---- */

static void pending_unref(wb_http_pending *p) {
    if (atomic_fetch_sub(&p->refs, 1) != 1) return;
    free(p->method);
    free(p->path);
    free(p->body);
    free(p->answer);
    free(p);
}

static void out_unlink(wb_http_server *srv, wb_http_pending *p) {
    pthread_mutex_lock(&srv->out_mu);
    if (p->out_prev) p->out_prev->out_next = p->out_next;
    else srv->outstanding = p->out_next;
    if (p->out_next) p->out_next->out_prev = p->out_prev;
    p->out_prev = p->out_next = NULL;
    pthread_mutex_unlock(&srv->out_mu);
}

/* Resumes p's connection (pending_mu held), unless the stop did. */
static void resume_locked(wb_http_pending *p) {
    if (p->resumed) return;
    p->resumed = true;
    out_unlink(p->srv, p);
    /* From here the event thread may send the answer and drop the
     * connection's reference. */
    MHD_resume_connection(p->conn);
}

/* Stores the answer and resumes the connection (or holds it, see
 * wb_http_hold_answers), unless the server already answered it at stop;
 * then drops the handler's reference. */
static void finish(wb_http_pending *p, int status, const char *content_type, char *body) {
    pthread_mutex_lock(&pending_mu);
    if (p->answered) {
        pthread_mutex_unlock(&pending_mu);
        free(body);
        pending_unref(p);
        return;
    }
    p->answered = true;
    p->status = status;
    p->content_type = content_type;
    p->answer = body;
    if (hold_depth) { /* resumed, and unreferenced, by wb_http_release_answers */
        p->held_next = held;
        held = p;
        pthread_mutex_unlock(&pending_mu);
        return;
    }
    resume_locked(p);
    pthread_mutex_unlock(&pending_mu);
    pending_unref(p);
}

/* Each resume wakes the event thread; a batcher that answers its orders
 * one by one, a few microseconds apart, would wake it for nearly every
 * answer. Held, they are resumed together and sent in one wake-up. */
void wb_http_hold_answers(void) { hold_depth++; }

void wb_http_release_answers(void) {
    if (hold_depth == 0 || --hold_depth > 0 || !held) return;
    wb_http_pending *list = held;
    held = NULL;
    pthread_mutex_lock(&pending_mu);
    for (wb_http_pending *p = list; p; p = p->held_next) resume_locked(p);
    pthread_mutex_unlock(&pending_mu);
    while (list) {
        wb_http_pending *next = list->held_next;
        pending_unref(list);
        list = next;
    }
}

void wb_http_complete(wb_http_pending *pending, int status, char *body) {
    finish(pending, status, NULL, body);
}

static void run_pending(wb_http_server *srv, wb_http_pending *p) {
    const route *r = p->route;
    if (r && r->async_handler) {
        r->async_handler(&p->req, p, r->ctx);
        return;
    }
    wb_http_response res = {0};
    if (r) r->handler(&p->req, &res, r->ctx);
    else handle_readyz(srv, &res);
    if (!res.status) wb_http_reply(&res, 500, "{\"error\":\"handler gave no answer\"}");
    finish(p, res.status, res.content_type, res.body);
}

static void *worker_main(void *arg) {
    wb_http_server *srv = arg;
    pthread_setname_np(pthread_self(), "http-worker"); /* for top and perf */
    pthread_mutex_lock(&srv->work_mu);
    for (;;) {
        while (!srv->work_head && !srv->workers_stop) pthread_cond_wait(&srv->work_cv, &srv->work_mu);
        if (srv->workers_stop) break; /* what is left is answered by wb_http_stop */
        wb_http_pending *p = srv->work_head;
        srv->work_head = p->next;
        if (!srv->work_head) srv->work_tail = NULL;
        pthread_mutex_unlock(&srv->work_mu);
        run_pending(srv, p);
        pthread_mutex_lock(&srv->work_mu);
    }
    pthread_mutex_unlock(&srv->work_mu);
    return NULL;
}

static wb_http_pending *pending_new(wb_http_server *srv, struct MHD_Connection *conn,
                                    request_state *st, const char *method, const char *url,
                                    const route *r) {
    wb_http_pending *p = calloc(1, sizeof *p);
    p->srv = srv;
    p->conn = conn;
    p->method = strdup(method);
    p->path = strdup(url);
    p->body = st->body ? st->body : strdup("");
    p->req = (wb_http_request){p->method, p->path, p->body, st->len, conn};
    st->body = NULL;
    p->route = r;
    p->label = r ? r->prefix : "/readyz";
    atomic_init(&p->refs, 2);
    return p;
}

/* Suspends the connection and queues the request for a worker; false
 * (nothing done) once the server is stopping. Suspended before any worker
 * can see it, so the resume always follows the suspend. */
static bool hand_to_workers(wb_http_server *srv, request_state *st, wb_http_pending *p) {
    pthread_mutex_lock(&srv->work_mu);
    if (!srv->accepting) {
        pthread_mutex_unlock(&srv->work_mu);
        return false;
    }
    MHD_suspend_connection(p->conn);
    st->pending = p;
    atomic_fetch_add(&srv->live, 1);
    pthread_mutex_lock(&srv->out_mu);
    p->out_next = srv->outstanding;
    if (p->out_next) p->out_next->out_prev = p;
    srv->outstanding = p;
    pthread_mutex_unlock(&srv->out_mu);
    if (srv->work_tail) srv->work_tail->next = p;
    else srv->work_head = p;
    srv->work_tail = p;
    pthread_cond_signal(&srv->work_cv);
    pthread_mutex_unlock(&srv->work_mu);
    return true;
}

/* ---- libmicrohttpd's callbacks (the event thread) ---- */

/* The whole request arrived: answered here, or handed to the workers. */
static enum MHD_Result on_whole_request(wb_http_server *srv, struct MHD_Connection *conn,
                                        request_state *st, const char *method, const char *url) {
    wb_http_response res = {0};
    const route *r;
    const char *label = answer_inline(srv, method, url, &res, &r);
    if (label)
        return send_response(conn, res.status, res.content_type, res.body, label,
                             res.status == 405 ? allowed_methods(srv, url) : NULL);
    wb_http_pending *p = pending_new(srv, conn, st, method, url, r);
    if (hand_to_workers(srv, st, p)) return MHD_YES;
    pending_unref(p);
    pending_unref(p);
    return send_response(conn, 503, NULL, strdup(STOPPING_BODY), r ? r->prefix : "/readyz", NULL);
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
    if (st->pending) { /* resumed: its answer is in (finish() or stop) */
        wb_http_pending *p = st->pending;
        char *body = p->answer;
        p->answer = NULL;
        return send_response(conn, p->status, p->content_type, body, p->label, NULL);
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
    return on_whole_request(srv, conn, st, method, url);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    (void)toe;
    wb_http_server *srv = cls;
    /* Answered (or given up): the next request on this connection is owed
     * from now. */
    set_receiving(srv, conn, true);
    request_state *st = *con_cls;
    if (!st) return;
    if (st->pending) {
        pending_unref(st->pending); /* the connection's reference */
        atomic_fetch_sub(&srv->live, 1);
    }
    free(st->body);
    free(st);
    *con_cls = NULL;
}

static void start_workers(wb_http_server *srv) {
    srv->workers = calloc((size_t)srv->n_workers, sizeof *srv->workers);
    pthread_mutex_lock(&srv->work_mu);
    srv->accepting = true;
    pthread_mutex_unlock(&srv->work_mu);
    for (int i = 0; i < srv->n_workers; i++)
        if (pthread_create(&srv->workers[srv->workers_started], NULL, worker_main, srv) == 0)
            srv->workers_started++;
}

int wb_http_start(wb_http_server *srv, char *err, size_t err_size) {
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)srv->port);
    if (inet_pton(AF_INET, srv->bind_address, &addr.sin_addr) != 1) {
        snprintf(err, err_size, "WB_HTTP_BIND: '%s' is not an IPv4 address", srv->bind_address);
        return -1;
    }
    start_workers(srv);
    srv->daemon = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC,
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

static bool none_outstanding(wb_http_server *srv) {
    pthread_mutex_lock(&srv->out_mu);
    bool none = srv->outstanding == NULL;
    pthread_mutex_unlock(&srv->out_mu);
    return none;
}

/* Polls (stop only) until done(srv) or ms passed. */
static void wait_until(wb_http_server *srv, bool (*done)(wb_http_server *), int ms) {
    int64_t deadline = wb_monotonic_ms() + ms;
    while (!done(srv) && wb_monotonic_ms() < deadline) {
        struct timespec t = {0, 5 * 1000000L};
        nanosleep(&t, NULL);
    }
}

static bool no_live(wb_http_server *srv) { return atomic_load(&srv->live) == 0; }

/* Joins the workers; the requests still queued are answered 503. */
static void stop_workers(wb_http_server *srv) {
    pthread_mutex_lock(&srv->work_mu);
    srv->accepting = false;
    srv->workers_stop = true;
    pthread_cond_broadcast(&srv->work_cv);
    pthread_mutex_unlock(&srv->work_mu);
    for (int i = 0; i < srv->workers_started; i++) pthread_join(srv->workers[i], NULL);
    free(srv->workers);
    srv->workers = NULL;
    wb_http_pending *p = srv->work_head;
    srv->work_head = srv->work_tail = NULL;
    while (p) {
        wb_http_pending *next = p->next;
        finish(p, 503, NULL, strdup(STOPPING_BODY));
        p = next;
    }
}

/* What an async handler still keeps is answered 503 now; its own answer,
 * when it comes, only frees (finish() sees it answered). */
static void answer_kept(wb_http_server *srv) {
    pthread_mutex_lock(&pending_mu);
    pthread_mutex_lock(&srv->out_mu);
    wb_http_pending *p = srv->outstanding;
    srv->outstanding = NULL;
    pthread_mutex_unlock(&srv->out_mu);
    int n = 0;
    for (; p; p = p->out_next) {
        if (!p->answered) { /* else answered, and held by its thread: resumed here */
            p->answered = true;
            p->status = 503;
            p->answer = strdup(STOPPING_BODY);
            n++;
        }
        p->srv = NULL;
        p->req.connection = NULL;
        p->resumed = true;
        MHD_resume_connection(p->conn);
    }
    pthread_mutex_unlock(&pending_mu);
    if (n) wb_warn(NULL, "http: stopping: %d requests not answered in time, answered 503", n);
}

void wb_http_stop(wb_http_server *srv) {
    if (!srv) return;
    if (srv->reaper_running) {
        pthread_mutex_lock(&srv->watch_lock);
        srv->reaper_stop = true;
        pthread_cond_signal(&srv->reaper_wake);
        pthread_mutex_unlock(&srv->watch_lock);
        pthread_join(srv->reaper, NULL);
    }
    if (srv->daemon) {
        /* Requests being handled get their answers first, within the grace. */
        wait_until(srv, none_outstanding, srv->stop_grace_ms);
        stop_workers(srv);
        answer_kept(srv);
        /* Every connection is resumed; give the event thread a moment to
         * send those answers before the daemon closes what is left. */
        wait_until(srv, no_live, 1000);
        MHD_stop_daemon(srv->daemon);
    } else if (srv->workers) {
        stop_workers(srv);
    }
    for (int i = 0; i < srv->route_count; i++) free(srv->routes[i].prefix);
    for (int i = 0; i < srv->check_count; i++) free(srv->checks[i].name);
    free(srv->bind_address);
    pthread_mutex_destroy(&srv->watch_lock);
    pthread_cond_destroy(&srv->reaper_wake);
    pthread_mutex_destroy(&srv->work_mu);
    pthread_cond_destroy(&srv->work_cv);
    pthread_mutex_destroy(&srv->out_mu);
    free(srv);
}
