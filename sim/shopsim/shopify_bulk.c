/* Shopify bulk query operations, as the Admin API 2026-07 documents them:
 *
 * - bulkOperationRunQuery(query:, groupObjects:) checks the query (one
 *   top-level connection, not node/nodes; at most 5 connections nested at
 *   most 2 deep) and answers at once with the operation CREATED; it then
 *   runs on a thread of its own (RUNNING), its root connection's objects a
 *   chunk at a time with the store unlocked in between, so the store goes
 *   on answering meanwhile;
 * - the result is JSONL: one line per object, a nested connection's nodes
 *   on lines of their own carrying `__parentId` (the parent's id), first/
 *   after and pageInfo ignored (everything is read); COMPLETED gives `url`
 *   (served by shopsim under /_sim, as Shopify's storage would, without the
 *   access token) and `fileSize`; FAILED gives `errorCode` (ACCESS_DENIED,
 *   INTERNAL_SERVER_ERROR, TIMEOUT) and `partialDataUrl` when some lines
 *   were written;
 * - at most `concurrency` (5 from 2026-01 on) operations of the app run at
 *   once on a shop; one more is refused with a userError, LIMIT_REACHED
 *   (OPERATION_IN_PROGRESS when the limit is 1, as before 2026-01);
 * - bulkOperation(id:), bulkOperations(query: "status:running
 *   operation_type:query") and the deprecated currentBulkOperation read
 *   them; bulkOperationCancel cancels one.
 *
 * The bulk operation is free for the rate limit: only the mutation (10) and
 * the polls cost points. Not simulated: expiry after 7 days (EXPIRED) and
 * the 10-day limit; PUT /_sim/stores/{id}/bulk sets the failures instead. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "shopify_bulk.h"
#include "shopify_internal.h"
#include "util.h"

#define BULK_CHUNK 250 /* root objects resolved per hold of the store lock */

typedef struct bulk_op {
  uint64_t num; /* gid://shopify/BulkOperation/<num> */
  const char *status;
  char error_code[32];
  char *query;
  int64_t created_ms, completed_ms;
  long objects, roots;
  char *data;
  size_t len, cap;
  bool cancel;
  char url_prefix[256];
  /* fixed when created, from the store's settings */
  char fail[32];
  long fail_after;
} bulk_op;

typedef struct bulk_ops {
  bulk_op **ops;
  size_t n;
  char fail[32];
  long fail_after, chunk_delay_ms;
  int concurrency;
} bulk_ops;

struct bulk_run {
  const gql_field *root;
  bool taken;
  conn_item *items;
  size_t n;
  const char *type;
  field_fn fn;
};

static bulk_ops *ops_of(store_t *s) {
  if (!s->bulk) {
    s->bulk = xcalloc(1, sizeof *s->bulk);
    s->bulk->concurrency = 5;
  }
  return s->bulk;
}

static bool running(const bulk_op *op) {
  return strcmp(op->status, "CREATED") == 0 || strcmp(op->status, "RUNNING") == 0 ||
         strcmp(op->status, "CANCELING") == 0;
}

static bulk_op *find_op(store_t *s, uint64_t num) {
  bulk_ops *b = ops_of(s);
  for (size_t i = 0; i < b->n; i++)
    if (b->ops[i]->num == num) return b->ops[i];
  return NULL;
}

/* ---- the query's checks ---- */

static bool is_connection(const gql_field *f) {
  for (size_t i = 0; i < f->sel.n; i++)
    if (FIELD_IS(&f->sel.fields[i], "edges") || FIELD_IS(&f->sel.fields[i], "nodes")) return true;
  return false;
}

/* Connections below sel, and the deepest nesting of connections. */
static void count_connections(const gql_selset *sel, int depth, int *count, int *deepest) {
  for (size_t i = 0; i < sel->n; i++) {
    const gql_field *f = &sel->fields[i];
    int d = depth;
    if (is_connection(f)) {
      (*count)++;
      d = depth + 1;
      if (d > *deepest) *deepest = d;
    }
    count_connections(&f->sel, d, count, deepest);
  }
}

static const char *const bulk_roots[] = {"products",          "productVariants",      "inventoryItems", "orders",
                                         "locations",         "fulfillmentOrders",    "webhookSubscriptions"};

static bool check_query(const char *q, char *msg, size_t len) {
  char err[300];
  gql_document *doc = gql_parse(q, err, sizeof err);
  const gql_operation *op = doc ? gql_pick_operation(doc, NULL) : NULL;
  bool ok = false;
  if (!doc) snprintf(msg, len, "Invalid bulk query: %s", err);
  else if (!op || op->kind != GQL_QUERY) snprintf(msg, len, "Invalid bulk query: one query operation is required");
  else if (op->sel.n != 1) snprintf(msg, len, "Bulk queries must contain exactly one top-level field");
  else if (FIELD_IS(&op->sel.fields[0], "node") || FIELD_IS(&op->sel.fields[0], "nodes"))
    snprintf(msg, len, "Bulk queries cannot contain a top level `node` or `nodes` field");
  else if (!is_connection(&op->sel.fields[0]))
    snprintf(msg, len, "Bulk queries must contain at least one connection");
  else {
    bool known = false;
    for (size_t i = 0; i < sizeof bulk_roots / sizeof bulk_roots[0]; i++)
      known = known || FIELD_IS(&op->sel.fields[0], bulk_roots[i]);
    int count = 0, deepest = 0;
    count_connections(&op->sel, 0, &count, &deepest);
    if (!known)
      snprintf(msg, len, "Invalid bulk query: Field '%s' doesn't exist on type 'QueryRoot'", op->sel.fields[0].name);
    else if (count > 5) snprintf(msg, len, "Bulk queries cannot contain more than 5 connections");
    else if (deepest > 2)
      snprintf(msg, len, "Bulk queries cannot contain connections with a nesting depth greater than 2");
    else ok = true;
  }
  gql_free(doc);
  return ok;
}

/* ---- the JSONL ---- */

static void append(bulk_op *op, const char *text, size_t n) {
  if (op->len + n + 1 > op->cap) {
    op->cap = (op->len + n + 1) * 2;
    op->data = xrealloc(op->data, op->cap);
  }
  memcpy(op->data + op->len, text, n);
  op->len += n;
}

static bool connection_value(const cJSON *v) {
  return cJSON_IsObject(v) && (cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(v, "edges")) ||
                               cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(v, "nodes")));
}

/* Moves the nested connections out of an object (and its plain objects). */
static void detach_connections(cJSON *obj, cJSON *out) {
  cJSON *child = obj->child;
  while (child) {
    cJSON *next = child->next;
    if (connection_value(child)) cJSON_AddItemToArray(out, cJSON_DetachItemViaPointer(obj, child));
    else if (cJSON_IsObject(child)) detach_connections(child, out);
    child = next;
  }
}

/* One object's line, then its nested connections' nodes, each a line with
 * __parentId. Takes node. */
static void emit(bulk_op *op, cJSON *node, const char *parent) {
  cJSON *conns = cJSON_CreateArray();
  detach_connections(node, conns);
  if (parent) cJSON_AddStringToObject(node, "__parentId", parent);
  char *line = cJSON_PrintUnformatted(node);
  append(op, line, strlen(line));
  append(op, "\n", 1);
  free(line);
  op->objects++;
  char id[128] = "";
  if (jstr(node, "id")) snprintf(id, sizeof id, "%s", jstr(node, "id"));
  cJSON_Delete(node);
  const cJSON *conn;
  cJSON_ArrayForEach(conn, conns) {
    cJSON *edges = cJSON_GetObjectItemCaseSensitive(conn, "edges");
    cJSON *nodes = cJSON_GetObjectItemCaseSensitive(conn, "nodes");
    for (cJSON *e = edges ? edges->child : nodes ? nodes->child : NULL; e; e = e->next) {
      cJSON *child = edges ? cJSON_GetObjectItemCaseSensitive(e, "node") : e;
      if (cJSON_IsObject(child)) emit(op, cJSON_Duplicate(child, 1), id[0] ? id : NULL);
    }
  }
  cJSON_Delete(conns);
}

bool bulk_take_root(gctx *c, const gql_field *f, conn_item *items, size_t n, const char *type, field_fn fn) {
  struct bulk_run *run = c->bulk;
  if (run->taken || f != run->root) return false;
  run->taken = true;
  run->items = xcalloc(n + 1, sizeof *items);
  memcpy(run->items, items, n * sizeof *items);
  run->n = n;
  run->type = type;
  run->fn = fn;
  return true;
}

/* What edges{node{...}} or nodes{...} selects of each root object. */
static const gql_selset *node_selection(const gql_field *root) {
  for (size_t i = 0; i < root->sel.n; i++) {
    const gql_field *f = &root->sel.fields[i];
    if (FIELD_IS(f, "nodes")) return &f->sel;
    if (FIELD_IS(f, "edges"))
      for (size_t k = 0; k < f->sel.n; k++)
        if (FIELD_IS(&f->sel.fields[k], "node")) return &f->sel.fields[k].sel;
  }
  return NULL;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

typedef struct {
  store_t *s;
  bulk_op *op;
} bulk_job;

/* The store's chunk_delay_ms before each chunk, read as it goes (a test
 * holds an operation RUNNING, then lets it go), in short slices. */
static void pace(store_t *s, bulk_op *op) {
  for (long waited = 0;; waited += 50) {
    pthread_mutex_lock(&s->mu);
    long delay = s->bulk->chunk_delay_ms;
    bool cancel = op->cancel;
    pthread_mutex_unlock(&s->mu);
    if (cancel || waited >= delay) return;
    sleep_ms(50);
  }
}

/* Resolves the root objects a chunk at a time; a configured failure stops
 * it after fail_after of them (the lines so far are the partial data). */
static const char *run_chunks(store_t *s, bulk_op *op, gctx *c, struct bulk_run *run, const gql_selset *sel) {
  size_t i = 0;
  while (i < run->n) {
    pace(s, op);
    pthread_mutex_lock(&s->mu);
    for (size_t k = 0; k < BULK_CHUNK && i < run->n; k++, i++) {
      if (op->fail[0] && op->roots >= op->fail_after) {
        pthread_mutex_unlock(&s->mu);
        return op->fail;
      }
      emit(op, resolve_object(c, run->type, run->fn, run->items[i].obj, sel), NULL);
      op->roots++;
    }
    bool cancel = op->cancel;
    pthread_mutex_unlock(&s->mu);
    if (cancel) return NULL;
  }
  return op->fail[0] && op->roots >= op->fail_after ? op->fail : NULL;
}

static void *worker(void *arg) {
  bulk_job *j = arg;
  store_t *s = j->s;
  bulk_op *op = j->op;
  free(j);
  char err[300];
  gql_document *doc = gql_parse(op->query, err, sizeof err);
  const gql_operation *o = doc ? gql_pick_operation(doc, NULL) : NULL;
  struct bulk_run run = {.root = o ? &o->sel.fields[0] : NULL};
  cJSON *vars = cJSON_CreateObject();
  gctx c = {.s = s, .op = o, .vars = vars, .errors = cJSON_CreateArray(), .bulk = &run};
  pthread_mutex_lock(&s->mu);
  op->status = "RUNNING";
  if (o) cJSON_Delete(query_root(&c, run.root));
  bool ok = run.taken && cJSON_GetArraySize(c.errors) == 0;
  pthread_mutex_unlock(&s->mu);
  const char *fail = ok ? run_chunks(s, op, &c, &run, node_selection(run.root)) : "INTERNAL_SERVER_ERROR";
  pthread_mutex_lock(&s->mu);
  if (fail) {
    op->status = "FAILED";
    snprintf(op->error_code, sizeof op->error_code, "%s", fail);
  } else if (op->cancel) {
    op->status = "CANCELED";
  } else {
    op->status = "COMPLETED";
    op->completed_ms = now_ms();
  }
  pthread_mutex_unlock(&s->mu);
  free(run.items);
  cJSON_Delete(vars);
  cJSON_Delete(c.errors);
  gql_free(doc);
  return NULL;
}

/* ---- GraphQL ---- */

static cJSON *uint64_json(uint64_t v) {
  char buf[32]; /* UnsignedInt64 travels as a string */
  snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
  return cJSON_CreateString(buf);
}

static cJSON *result_url(const bulk_op *op) {
  char url[320];
  snprintf(url, sizeof url, "%s%llu.jsonl", op->url_prefix, (unsigned long long)op->num);
  return cJSON_CreateString(url);
}

static cJSON *field_bulk(gctx *c, void *obj, const gql_field *f) {
  (void)c;
  bulk_op *op = obj;
  bool done = strcmp(op->status, "COMPLETED") == 0, failed = strcmp(op->status, "FAILED") == 0;
  if (FIELD_IS(f, "id")) return gid_json("BulkOperation", op->num);
  if (FIELD_IS(f, "status")) return cJSON_CreateString(op->status);
  if (FIELD_IS(f, "type")) return cJSON_CreateString("QUERY");
  if (FIELD_IS(f, "query")) return cJSON_CreateString(op->query);
  if (FIELD_IS(f, "errorCode")) return op->error_code[0] ? cJSON_CreateString(op->error_code) : NULL;
  if (FIELD_IS(f, "createdAt")) return time_json(op->created_ms);
  if (FIELD_IS(f, "completedAt")) return done ? time_json(op->completed_ms) : NULL;
  if (FIELD_IS(f, "objectCount")) return uint64_json((uint64_t)op->objects);
  if (FIELD_IS(f, "rootObjectCount")) return uint64_json((uint64_t)op->roots);
  if (FIELD_IS(f, "fileSize")) return done && op->len ? uint64_json(op->len) : NULL;
  if (FIELD_IS(f, "url")) return done && op->len ? result_url(op) : NULL;
  if (FIELD_IS(f, "partialDataUrl")) return failed && op->len ? result_url(op) : NULL;
  return NULL;
}

static cJSON *user_errors(gctx *c, const gql_field *f, const char *field, const char *code, const char *message) {
  cJSON *list = cJSON_CreateArray();
  if (message) {
    cJSON *e = cJSON_CreateObject();
    if (field) {
      cJSON *path = cJSON_AddArrayToObject(e, "field");
      cJSON_AddItemToArray(path, cJSON_CreateString(field));
    } else {
      cJSON_AddNullToObject(e, "field");
    }
    cJSON_AddStringToObject(e, "message", message);
    cJSON_AddStringToObject(e, "code", code);
    cJSON_AddItemToArray(list, e);
  }
  cJSON *out = project(c, list, &f->sel);
  cJSON_Delete(list);
  return out;
}

static cJSON *payload(gctx *c, const gql_field *f, bulk_op *op, const char *field, const char *code,
                      const char *message) {
  cJSON *out = cJSON_CreateObject();
  for (size_t i = 0; i < f->sel.n; i++) {
    const gql_field *sub = &f->sel.fields[i];
    cJSON *v = NULL;
    if (FIELD_IS(sub, "bulkOperation")) v = op ? resolve_object(c, "BulkOperation", field_bulk, op, &sub->sel) : NULL;
    else if (FIELD_IS(sub, "userErrors")) v = user_errors(c, sub, field, code, message);
    else if (FIELD_IS(sub, "__typename"))
      v = cJSON_CreateString(FIELD_IS(f, "bulkOperationCancel") ? "BulkOperationCancelPayload"
                                                                 : "BulkOperationRunQueryPayload");
    cJSON_AddItemToObject(out, gql_key(sub), v ? v : cJSON_CreateNull());
  }
  return out;
}

static int running_count(store_t *s) {
  bulk_ops *b = ops_of(s);
  int n = 0;
  for (size_t i = 0; i < b->n; i++) n += running(b->ops[i]);
  return n;
}

static bulk_op *create_op(gctx *c, const char *query) {
  bulk_ops *b = ops_of(c->s);
  bulk_op *op = xcalloc(1, sizeof *op);
  op->num = store_next_id(c->s);
  op->status = "CREATED";
  op->query = xstrdup(query);
  op->created_ms = now_ms();
  snprintf(op->url_prefix, sizeof op->url_prefix, "http://%s/_sim/stores/%s/bulk/",
           c->host && *c->host ? c->host : "127.0.0.1", c->s->id);
  snprintf(op->fail, sizeof op->fail, "%s", b->fail);
  op->fail_after = b->fail_after;
  *VEC_PUSH(b->ops, b->n) = op;
  bulk_job *j = xcalloc(1, sizeof *j);
  *j = (bulk_job){c->s, op};
  pthread_t t;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  if (pthread_create(&t, &attr, worker, j) != 0) {
    free(j);
    op->status = "FAILED";
    snprintf(op->error_code, sizeof op->error_code, "INTERNAL_SERVER_ERROR");
  }
  pthread_attr_destroy(&attr);
  return op;
}

static cJSON *run_query(gctx *c, const gql_field *f) {
  cJSON *q = arg_json(c, f, "query");
  char msg[400];
  cJSON *out;
  if (!cJSON_IsString(q)) {
    out = payload(c, f, NULL, "query", "INVALID", "query is required");
  } else if (!check_query(q->valuestring, msg, sizeof msg)) {
    out = payload(c, f, NULL, "query", "INVALID", msg);
  } else if (running_count(c->s) >= ops_of(c->s)->concurrency) {
    bool single = ops_of(c->s)->concurrency <= 1;
    snprintf(msg, sizeof msg, single ? "A bulk query operation for this app and shop is already in progress."
                                     : "Bulk operations limit reached. Please try again later.");
    out = payload(c, f, NULL, NULL, single ? "OPERATION_IN_PROGRESS" : "LIMIT_REACHED", msg);
  } else {
    out = payload(c, f, create_op(c, q->valuestring), NULL, NULL, NULL);
  }
  cJSON_Delete(q);
  return out;
}

static cJSON *cancel(gctx *c, const gql_field *f) {
  char buf[128];
  const char *id = arg_str(c, f, "id", buf, sizeof buf);
  bulk_op *op = id ? find_op(c->s, gid_parse(id, "BulkOperation")) : NULL;
  if (!op) return payload(c, f, NULL, "id", "INVALID", "Bulk operation does not exist");
  if (!running(op))
    return payload(c, f, op, NULL, "INVALID", "A bulk operation cannot be canceled when it is completed");
  op->cancel = true;
  op->status = "CANCELING";
  return payload(c, f, op, NULL, NULL, NULL);
}

cJSON *bulk_mutation(gctx *c, const gql_field *f) {
  return FIELD_IS(f, "bulkOperationCancel") ? cancel(c, f) : run_query(c, f);
}

static bool op_matches(const search_term *t, int n, const bulk_op *op) {
  for (int i = 0; i < n; i++) {
    bool ok = true;
    if (strcmp(t[i].key, "status") == 0) ok = search_text(&t[i], op->status);
    else if (strcmp(t[i].key, "operation_type") == 0) ok = search_text(&t[i], "query");
    else if (strcmp(t[i].key, "id") == 0) ok = search_num(&t[i], op->num);
    else if (strcmp(t[i].key, "created_at") == 0) ok = search_time(&t[i], op->created_ms);
    if (!ok) return false;
  }
  return true;
}

/* The app's operations, newest first (sortKey CREATED_AT). */
static cJSON *list_ops(gctx *c, const gql_field *f) {
  char buf[256];
  search_term terms[8];
  int nt = search_parse(arg_str(c, f, "query", buf, sizeof buf), terms, 8);
  bulk_ops *b = ops_of(c->s);
  conn_item *items = xcalloc(b->n + 1, sizeof *items);
  size_t n = 0;
  for (size_t i = b->n; i-- > 0;)
    if (op_matches(terms, nt, b->ops[i]))
      items[n++] = (conn_item){b->ops[i], b->ops[i]->num, -(int64_t)b->ops[i]->num};
  cJSON *out = connection(c, f, items, n, "BulkOperation", field_bulk);
  free(items);
  return out;
}

cJSON *bulk_query(gctx *c, const gql_field *f, bool *handled) {
  *handled = true;
  if (FIELD_IS(f, "bulkOperations")) return list_ops(c, f);
  if (FIELD_IS(f, "bulkOperation") || FIELD_IS(f, "currentBulkOperation")) {
    char buf[128];
    bulk_op *op = NULL;
    if (FIELD_IS(f, "bulkOperation")) {
      const char *id = arg_str(c, f, "id", buf, sizeof buf);
      op = id ? find_op(c->s, gid_parse(id, "BulkOperation")) : NULL;
    } else if (ops_of(c->s)->n > 0) {
      op = ops_of(c->s)->ops[ops_of(c->s)->n - 1];
    }
    return op ? resolve_object(c, "BulkOperation", field_bulk, op, &f->sel) : NULL;
  }
  *handled = false;
  return NULL;
}

/* ---- control ---- */

static cJSON *op_summary(const bulk_op *op) {
  cJSON *j = cJSON_CreateObject();
  cJSON_AddNumberToObject(j, "id", (double)op->num);
  cJSON_AddStringToObject(j, "status", op->status);
  cJSON_AddStringToObject(j, "error_code", op->error_code);
  cJSON_AddNumberToObject(j, "objects", (double)op->objects);
  cJSON_AddNumberToObject(j, "roots", (double)op->roots);
  cJSON_AddNumberToObject(j, "bytes", (double)op->len);
  cJSON_AddStringToObject(j, "query", op->query);
  return j;
}

static void settings(bulk_ops *b, const cJSON *body) {
  const char *fail = jstr(body, "fail");
  double v;
  if (cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(body, "fail"))) b->fail[0] = 0;
  if (fail) snprintf(b->fail, sizeof b->fail, "%s", fail);
  if (jnum(body, "fail_after", &v) && v >= 0) b->fail_after = (long)v;
  if (jnum(body, "chunk_delay_ms", &v) && v >= 0) b->chunk_delay_ms = (long)v;
  if (jnum(body, "concurrency", &v) && v >= 1) b->concurrency = (int)v;
}

void bulk_control(store_t *s, const char *method, const char *file, const cJSON *body, http_reply *rep) {
  bulk_ops *b = ops_of(s);
  if (file) {
    bulk_op *op = strcmp(method, "GET") == 0 ? find_op(s, strtoull(file, NULL, 10)) : NULL;
    if (!op || !op->len || running(op)) {
      reply_error(rep, 404, "no such bulk operation result");
      return;
    }
    rep->status = 200;
    free(rep->body);
    rep->body = xmalloc(op->len + 1);
    memcpy(rep->body, op->data, op->len);
    rep->body[op->len] = 0;
    rep->len = op->len;
    rep->content_type = "application/jsonl";
    return;
  }
  if (strcmp(method, "PUT") == 0 || strcmp(method, "POST") == 0) settings(b, body);
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "fail", b->fail);
  cJSON_AddNumberToObject(j, "fail_after", (double)b->fail_after);
  cJSON_AddNumberToObject(j, "chunk_delay_ms", (double)b->chunk_delay_ms);
  cJSON_AddNumberToObject(j, "concurrency", b->concurrency);
  cJSON *list = cJSON_AddArrayToObject(j, "operations");
  for (size_t i = 0; i < b->n; i++) cJSON_AddItemToArray(list, op_summary(b->ops[i]));
  reply_json(rep, 200, j);
}
