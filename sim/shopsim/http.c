#include "http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control.h"
#include "log.h"
#include "shopify.h"
#include "store.h"
#include "util.h"
#include "woo.h"

#define MAX_BODY (32u * 1024u * 1024u)

const char *req_header(const http_request *r, const char *name) {
  return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}
const char *req_query(const http_request *r, const char *name) {
  return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}
typedef struct {
  char *out;
  size_t size, len;
} query_text;

static enum MHD_Result add_arg(void *arg, enum MHD_ValueKind kind, const char *key, const char *value) {
  (void)kind;
  query_text *q = arg;
  if (strncmp(key, "oauth_", 6) == 0 || q->len >= q->size) return MHD_YES; /* the signature is noise */
  int n = snprintf(q->out + q->len, q->size - q->len, "%s%s=%s", q->len ? "&" : "", key, value ? value : "");
  q->len = n < 0 ? q->size : q->len + (size_t)n;
  return MHD_YES;
}

void req_query_text(const http_request *r, char *out, size_t size) {
  query_text q = {out, size, 0};
  out[0] = '\0';
  MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, add_arg, &q);
}

cJSON *req_json(const http_request *r) {
  if (!r->body || r->body_len == 0) return NULL;
  return cJSON_ParseWithLength(r->body, r->body_len);
}

void reply_json(http_reply *rep, int status, cJSON *body) {
  rep->status = status;
  free(rep->body);
  rep->body = json_print(body);
  rep->len = strlen(rep->body);
  rep->content_type = "application/json; charset=utf-8";
  cJSON_Delete(body);
}

void reply_text(http_reply *rep, int status, const char *text) {
  rep->status = status;
  free(rep->body);
  rep->body = xstrdup(text);
  rep->len = strlen(text);
  rep->content_type = "text/plain; charset=utf-8";
}

void reply_header(http_reply *rep, const char *name, const char *value) {
  if (rep->nheaders >= HTTP_MAX_HEADERS) return;
  snprintf(rep->headers[rep->nheaders].name, sizeof rep->headers[0].name, "%s", name);
  snprintf(rep->headers[rep->nheaders].value, sizeof rep->headers[0].value, "%s", value);
  rep->nheaders++;
}

void reply_error(http_reply *rep, int status, const char *message) {
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "error", message);
  reply_json(rep, status, j);
}

/* ---- per-store faults ---- */

static void fault_reply(store_t *s, const fault_decision *d, http_reply *rep) {
  if (d->kind == FAULT_ERROR) {
    if (s->platform == PLATFORM_SHOPIFY) {
      reply_json(rep, d->status, cJSON_Parse("{\"errors\":\"Internal Server Error\"}"));
    } else {
      reply_json(rep, d->status,
                 cJSON_Parse("{\"code\":\"internal_server_error\",\"message\":\"There has been a critical "
                             "error on this website.\",\"data\":{\"status\":500}}"));
    }
  } else { /* FAULT_THROTTLE */
    char secs[16];
    snprintf(secs, sizeof secs, "%d", d->retry_after);
    reply_header(rep, "Retry-After", secs);
    if (s->platform == PLATFORM_SHOPIFY)
      reply_json(rep, 429, cJSON_Parse("{\"errors\":[{\"message\":\"Throttled\",\"extensions\":{\"code\":"
                                       "\"THROTTLED\"}}]}"));
    else
      reply_json(rep, 429, cJSON_Parse("{\"code\":\"too_many_requests\",\"message\":\"Too many requests."
                                       "\",\"data\":{\"status\":429}}"));
  }
}

static void handle_store(store_t *s, http_request *req, http_reply *rep) {
  pthread_mutex_lock(&s->mu);
  fault_decision d = faults_decide(&s->faults);
  if (d.kind != FAULT_NONE || d.slow_ms > 0) s->counters.faults++;
  if (d.kind == FAULT_ERROR || d.kind == FAULT_THROTTLE) {
    s->counters.calls++;
    store_log_call(s, req->method, req->path, d.kind == FAULT_ERROR ? "fault:error" : "fault:429",
                   d.status, d.kind == FAULT_THROTTLE, 0);
    fault_reply(s, &d, rep);
    pthread_mutex_unlock(&s->mu);
    rep->delay_ms = d.slow_ms;
    return;
  }
  pthread_mutex_unlock(&s->mu);
  if (s->platform == PLATFORM_SHOPIFY) shopify_handle(s, req, rep);
  else woo_handle(s, req, rep);
  rep->delay_ms = d.slow_ms;
  rep->reset = d.kind == FAULT_RESET;
}

static void route(http_request *req, http_reply *rep) {
  const char *path = req->full_path;
  if (strncmp(path, "/_sim", 5) == 0 && (path[5] == '/' || path[5] == '\0')) {
    req->path = path + 5;
    control_handle(req, rep);
    return;
  }
  const char *start = path + 1;
  const char *slash = strchr(start, '/');
  size_t n = slash ? (size_t)(slash - start) : strlen(start);
  char id[64];
  if (n == 0 || n >= sizeof id) {
    reply_error(rep, 404, "no such store; paths are /<store-id>/... or /_sim/...");
    return;
  }
  memcpy(id, start, n);
  id[n] = '\0';
  store_t *s = store_find(id);
  if (!s) {
    reply_error(rep, 404, "no such store");
    return;
  }
  req->path = slash ? slash : "/";
  handle_store(s, req, rep);
  if (log_debug_enabled()) {
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "store", id);
    cJSON_AddStringToObject(f, "method", req->method);
    cJSON_AddStringToObject(f, "path", req->path);
    cJSON_AddNumberToObject(f, "status", rep->status);
    log_json("debug", "request", f);
  }
}

/* ---- delayed replies: suspended connections resumed by a timer thread ---- */

typedef struct delayed {
  struct MHD_Connection *conn;
  int64_t due;
  struct delayed *next;
} delayed_t;

static pthread_mutex_t delay_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t delay_cv = PTHREAD_COND_INITIALIZER;
static delayed_t *delay_list;
static bool delay_stop;
static pthread_t delay_thread;
static struct MHD_Daemon *daemon_handle;

static void *delay_main(void *arg) {
  (void)arg;
  pthread_mutex_lock(&delay_mu);
  while (!delay_stop) {
    int64_t now = mono_ms(), next_due = now + 1000;
    for (delayed_t **pp = &delay_list; *pp;) {
      delayed_t *d = *pp;
      if (d->due <= now) {
        *pp = d->next;
        MHD_resume_connection(d->conn);
        free(d);
      } else {
        if (d->due < next_due) next_due = d->due;
        pp = &d->next;
      }
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t wait = next_due - now;
    ts.tv_sec += wait / 1000;
    ts.tv_nsec += (wait % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&delay_cv, &delay_mu, &ts);
  }
  /* Resume what is left so MHD can close those connections on stop. */
  while (delay_list) {
    delayed_t *d = delay_list;
    delay_list = d->next;
    MHD_resume_connection(d->conn);
    free(d);
  }
  pthread_mutex_unlock(&delay_mu);
  return NULL;
}

static void delay_connection(struct MHD_Connection *conn, int ms) {
  delayed_t *d = xcalloc(1, sizeof *d);
  d->conn = conn;
  d->due = mono_ms() + ms;
  MHD_suspend_connection(conn);
  pthread_mutex_lock(&delay_mu);
  d->next = delay_list;
  delay_list = d;
  pthread_cond_signal(&delay_cv);
  pthread_mutex_unlock(&delay_mu);
}

/* ---- MHD callbacks ---- */

typedef struct {
  char *body;
  size_t len, cap;
  bool too_large;
  bool replied; /* reply computed (and possibly delayed) */
  http_reply rep;
} conn_state;

typedef struct {
  char *body;
  size_t len, sent;
} reset_state;

/* Sends the first half of the body, then reports an error so MHD closes the
 * connection: the client sees a reply cut off mid-way. */
static ssize_t reset_reader(void *cls, uint64_t pos, char *buf, size_t max) {
  reset_state *rs = cls;
  size_t half = rs->len / 2;
  if (pos >= half) return MHD_CONTENT_READER_END_WITH_ERROR;
  size_t n = half - (size_t)pos;
  if (n > max) n = max;
  memcpy(buf, rs->body + pos, n);
  return (ssize_t)n;
}

static void reset_free(void *cls) {
  reset_state *rs = cls;
  free(rs->body);
  free(rs);
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, http_reply *rep) {
  struct MHD_Response *resp;
  if (rep->reset && rep->len > 1) {
    reset_state *rs = xcalloc(1, sizeof *rs);
    rs->body = rep->body;
    rs->len = rep->len;
    rep->body = NULL;
    resp = MHD_create_response_from_callback(rs->len, 4096, reset_reader, rs, reset_free);
  } else {
    resp = MHD_create_response_from_buffer(rep->len, rep->body ? rep->body : (char *)"",
                                           rep->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    rep->body = NULL;
  }
  if (!resp) return MHD_NO;
  if (rep->content_type) MHD_add_response_header(resp, "Content-Type", rep->content_type);
  for (int i = 0; i < rep->nheaders; i++)
    MHD_add_response_header(resp, rep->headers[i].name, rep->headers[i].value);
  enum MHD_Result ret = MHD_queue_response(conn, (unsigned)rep->status, resp);
  MHD_destroy_response(resp);
  return ret;
}

static bool append_body(conn_state *st, const char *data, size_t n) {
  if (st->len + n > MAX_BODY) return false;
  if (st->len + n + 1 > st->cap) {
    st->cap = (st->len + n + 1) * 2;
    st->body = xrealloc(st->body, st->cap);
  }
  memcpy(st->body + st->len, data, n);
  st->len += n;
  st->body[st->len] = '\0';
  return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size,
                                  void **con_cls) {
  (void)cls;
  (void)version;
  conn_state *st = *con_cls;
  if (!st) {
    *con_cls = xcalloc(1, sizeof(conn_state));
    return MHD_YES;
  }
  if (*upload_size) {
    if (!st->too_large && !append_body(st, upload, *upload_size)) st->too_large = true;
    *upload_size = 0;
    return MHD_YES;
  }
  if (st->replied) return send_reply(conn, &st->rep); /* resumed after a delay */
  st->rep.status = 200;
  if (st->too_large) {
    reply_error(&st->rep, 413, "request body too large");
  } else {
    http_request req = {.method = method, .full_path = url, .path = url, .conn = conn,
                        .body = st->body ? st->body : "", .body_len = st->len};
    route(&req, &st->rep);
  }
  st->replied = true;
  if (st->rep.delay_ms > 0) {
    delay_connection(conn, st->rep.delay_ms);
    return MHD_YES;
  }
  return send_reply(conn, &st->rep);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  (void)cls;
  (void)conn;
  (void)toe;
  conn_state *st = *con_cls;
  if (!st) return;
  free(st->body);
  free(st->rep.body);
  free(st);
  *con_cls = NULL;
}

bool http_start(const http_config *cfg) {
  struct sockaddr_in addr = {0};
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)cfg->port);
  if (inet_pton(AF_INET, cfg->bind, &addr.sin_addr) != 1) {
    log_kv("error", "bad bind address", "bind", cfg->bind, NULL);
    return false;
  }
  daemon_handle = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
      (uint16_t)cfg->port, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
      MHD_OPTION_THREAD_POOL_SIZE, cfg->threads, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
      MHD_OPTION_CONNECTION_LIMIT, 4096u, MHD_OPTION_CONNECTION_TIMEOUT, 120u, MHD_OPTION_LISTEN_BACKLOG_SIZE,
      1024u, MHD_OPTION_END);
  if (!daemon_handle) return false;
  delay_stop = false;
  pthread_create(&delay_thread, NULL, delay_main, NULL);
  return true;
}

unsigned http_bound_port(void) {
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon_handle, MHD_DAEMON_INFO_BIND_PORT);
  return info ? info->port : 0;
}

void http_stop(void) {
  if (!daemon_handle) return;
  pthread_mutex_lock(&delay_mu);
  delay_stop = true;
  pthread_cond_signal(&delay_cv);
  pthread_mutex_unlock(&delay_mu);
  pthread_join(delay_thread, NULL);
  MHD_stop_daemon(daemon_handle);
  daemon_handle = NULL;
}
