/* HTTP glue over libmicrohttpd: request/reply structs, the router that
 * sends /_sim/... to the control API and /<store-id>/... to the store's
 * platform, and the per-request faults (5xx, 429, slow, reset). */
#ifndef SHOPSIM_HTTP_H
#define SHOPSIM_HTTP_H
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

struct MHD_Connection;

typedef struct {
  const char *method;
  const char *path; /* after the store prefix for store requests */
  const char *full_path;
  struct MHD_Connection *conn;
  const char *body;
  size_t body_len;
} http_request;

#define HTTP_MAX_HEADERS 10

typedef struct {
  int status;
  char *body; /* malloc'd */
  size_t len;
  const char *content_type;
  struct {
    char name[48];
    char value[1024]; /* an OAuth redirect's Location is long */
  } headers[HTTP_MAX_HEADERS];
  int nheaders;
  bool reset;   /* send half the body, then close the connection */
  int delay_ms; /* hold the reply this long (the worker thread stays free) */
} http_reply;

const char *req_header(const http_request *r, const char *name);
const char *req_query(const http_request *r, const char *name);
/* The query's parameters, decoded, "a=1&b=2", OAuth 1.0a's left out (the
 * call log's `query`); cut at size. */
void req_query_text(const http_request *r, char *out, size_t size);
/* Parses the body as JSON (NULL if empty or invalid). */
cJSON *req_json(const http_request *r);

/* Takes ownership of body. */
void reply_json(http_reply *rep, int status, cJSON *body);
void reply_text(http_reply *rep, int status, const char *text);
void reply_header(http_reply *rep, const char *name, const char *value);
void reply_error(http_reply *rep, int status, const char *message); /* {"error": message} */

typedef struct {
  unsigned port;
  const char *bind;
  unsigned threads;
} http_config;

bool http_start(const http_config *cfg);
unsigned http_bound_port(void);
void http_stop(void);
#endif
