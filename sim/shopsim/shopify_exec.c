/* The GraphQL request cycle: auth, parse, cost and bucket, execution of the
 * root fields, and the response envelope with extensions.cost. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "oauth.h"
#include "orders.h"
#include "shopify.h"
#include "shopify_internal.h"
#include "util.h"

/* ---- helpers shared by resolvers ---- */

cJSON *arg_json(gctx *c, const gql_field *f, const char *name) {
  const gql_arg *a = gql_find_arg(f->args, f->nargs, name);
  return a ? gql_value_json(a->value, c->op, c->vars) : NULL;
}

const char *arg_str(gctx *c, const gql_field *f, const char *name, char *buf, size_t len) {
  cJSON *j = arg_json(c, f, name);
  const char *out = NULL;
  if (cJSON_IsString(j)) {
    snprintf(buf, len, "%s", j->valuestring);
    out = buf;
  }
  cJSON_Delete(j);
  return out;
}

long arg_int(gctx *c, const gql_field *f, const char *name, long dflt) {
  cJSON *j = arg_json(c, f, name);
  long v = cJSON_IsNumber(j) ? clamp_long(j->valuedouble) : dflt;
  cJSON_Delete(j);
  return v;
}

bool arg_bool(gctx *c, const gql_field *f, const char *name, bool dflt) {
  cJSON *j = arg_json(c, f, name);
  bool v = cJSON_IsBool(j) ? cJSON_IsTrue(j) : dflt;
  cJSON_Delete(j);
  return v;
}

static cJSON *error_object(const char *message, const gql_field *f, const char *code) {
  cJSON *e = cJSON_CreateObject();
  cJSON_AddStringToObject(e, "message", message);
  if (f) {
    cJSON *locs = cJSON_AddArrayToObject(e, "locations");
    cJSON *loc = cJSON_CreateObject();
    cJSON_AddNumberToObject(loc, "line", f->line);
    cJSON_AddNumberToObject(loc, "column", f->col);
    cJSON_AddItemToArray(locs, loc);
    cJSON *path = cJSON_AddArrayToObject(e, "path");
    cJSON_AddItemToArray(path, cJSON_CreateString(gql_key(f)));
  }
  if (code) {
    cJSON *ext = cJSON_AddObjectToObject(e, "extensions");
    cJSON_AddStringToObject(ext, "code", code);
  }
  return e;
}

void add_error(gctx *c, const gql_field *f, const char *code, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  cJSON_AddItemToArray(c->errors, error_object(msg, f, code));
}

cJSON *gid_json(const char *type, uint64_t id) {
  char buf[96];
  gid_fmt(type, id, buf);
  return cJSON_CreateString(buf);
}

cJSON *time_json(int64_t ms) {
  if (ms <= 0) return cJSON_CreateNull();
  char buf[32];
  fmt_time(ms, true, buf);
  return cJSON_CreateString(buf);
}

cJSON *money_bag(gctx *c, long cents, const char *currency, const gql_field *f) {
  char amount[32];
  money_fmt(cents, amount);
  cJSON *money = cJSON_CreateObject();
  cJSON_AddStringToObject(money, "amount", amount);
  cJSON_AddStringToObject(money, "currencyCode", currency);
  cJSON *bag = cJSON_CreateObject();
  cJSON_AddItemToObject(bag, "shopMoney", money);
  cJSON_AddItemToObject(bag, "presentmentMoney", cJSON_Duplicate(money, 1));
  cJSON *out = project(c, bag, &f->sel);
  cJSON_Delete(bag);
  return out;
}

/* Interfaces match every concrete type we serve. */
static bool type_matches(const char *cond, const char *type) {
  return !cond || strcmp(cond, type) == 0 || strcmp(cond, "Node") == 0 ||
         strcmp(cond, "HasMetafields") == 0 || strcmp(cond, "LegacyInteroperability") == 0;
}

/* Two fragments may select the same key: merge objects instead of duplicating. */
static void add_merged(cJSON *obj, const char *key, cJSON *value) {
  cJSON *existing = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (!existing) {
    cJSON_AddItemToObject(obj, key, value);
    return;
  }
  if (cJSON_IsObject(existing) && cJSON_IsObject(value)) {
    cJSON *child = value->child;
    while (child) {
      cJSON *next = child->next;
      cJSON_DetachItemViaPointer(value, child);
      add_merged(existing, child->string, child);
      child = next;
    }
  }
  cJSON_Delete(value);
}

cJSON *resolve_object(gctx *c, const char *type, field_fn fn, void *obj, const gql_selset *sel) {
  if (!obj) return cJSON_CreateNull();
  c->actual_cost += 1;
  cJSON *out = cJSON_CreateObject();
  for (size_t i = 0; i < sel->n; i++) {
    const gql_field *f = &sel->fields[i];
    if (!type_matches(f->type_cond, type)) continue;
    cJSON *v = FIELD_IS(f, "__typename") ? cJSON_CreateString(type) : fn(c, obj, f);
    add_merged(out, gql_key(f), v ? v : cJSON_CreateNull());
  }
  return out;
}

cJSON *project(gctx *c, const cJSON *src, const gql_selset *sel) {
  if (!src || cJSON_IsNull(src)) return cJSON_CreateNull();
  if (sel->n == 0) return cJSON_Duplicate(src, 1);
  if (cJSON_IsArray(src)) {
    cJSON *arr = cJSON_CreateArray();
    const cJSON *item;
    cJSON_ArrayForEach(item, src) cJSON_AddItemToArray(arr, project(c, item, sel));
    return arr;
  }
  cJSON *out = cJSON_CreateObject();
  const char *type = jstr(src, "__typename");
  for (size_t i = 0; i < sel->n; i++) {
    const gql_field *f = &sel->fields[i];
    if (type && !type_matches(f->type_cond, type)) continue;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(src, f->name);
    add_merged(out, gql_key(f), project(c, v, &f->sel));
  }
  return out;
}

/* ---- connections ---- */

static void cursor_fmt(const conn_item *it, char out[64]) {
  char raw[48];
  int n = snprintf(raw, sizeof raw, "%lld:%llu", (long long)it->sort, (unsigned long long)it->id);
  char *b = base64_encode((const unsigned char *)raw, (size_t)n);
  snprintf(out, 64, "%s", b);
  free(b);
}

static bool cursor_parse(const char *cursor, conn_item *out) {
  unsigned char raw[64] = {0};
  size_t len = strlen(cursor);
  if (len == 0 || len > 80) return false;
  int n = base64_decode(cursor, raw, sizeof raw - 1);
  if (n <= 0) return false;
  long long sort;
  unsigned long long id;
  if (sscanf((const char *)raw, "%lld:%llu", &sort, &id) != 2) return false;
  out->sort = sort;
  out->id = id;
  return true;
}

/* Position of `it` relative to the cursor in presentation order. */
static int cmp_item(const conn_item *a, const conn_item *b, int dir) {
  int r = a->sort < b->sort ? -1 : a->sort > b->sort ? 1 : a->id < b->id ? -1 : a->id > b->id ? 1 : 0;
  return r * dir;
}

static bool read_window(gctx *c, const gql_field *f, conn_item *items, size_t n, int dir, size_t *from,
                        size_t *to) {
  long first = arg_int(c, f, "first", -1), last = arg_int(c, f, "last", -1);
  if (first < 0 && last < 0) {
    add_error(c, f, "BAD_REQUEST", "you must provide one of first or last");
    return false;
  }
  if (first > 250 || last > 250) {
    add_error(c, f, "BAD_REQUEST", "The maximum page size is 250 (first/last)");
    return false;
  }
  char buf[128];
  conn_item cur;
  size_t lo = 0, hi = n;
  const char *after = arg_str(c, f, "after", buf, sizeof buf);
  if (after) {
    if (!cursor_parse(after, &cur)) {
      add_error(c, f, "BAD_REQUEST", "Invalid cursor for current pagination sort.");
      return false;
    }
    while (lo < n && cmp_item(&items[lo], &cur, dir) <= 0) lo++;
  }
  const char *before = arg_str(c, f, "before", buf, sizeof buf);
  if (before) {
    if (!cursor_parse(before, &cur)) {
      add_error(c, f, "BAD_REQUEST", "Invalid cursor for current pagination sort.");
      return false;
    }
    while (hi > lo && cmp_item(&items[hi - 1], &cur, dir) >= 0) hi--;
  }
  if (first >= 0 && hi - lo > (size_t)first) hi = lo + (size_t)first;
  if (last >= 0 && hi - lo > (size_t)last) lo = hi - (size_t)last;
  *from = lo;
  *to = hi;
  return true;
}

static cJSON *page_info(const gql_field *pf, bool next, bool prev, const char *start, const char *end) {
  cJSON *pi = cJSON_CreateObject();
  for (size_t i = 0; i < pf->sel.n; i++) {
    const gql_field *f = &pf->sel.fields[i];
    cJSON *v = NULL;
    if (FIELD_IS(f, "hasNextPage")) v = cJSON_CreateBool(next);
    else if (FIELD_IS(f, "hasPreviousPage")) v = cJSON_CreateBool(prev);
    else if (FIELD_IS(f, "startCursor")) v = start ? cJSON_CreateString(start) : cJSON_CreateNull();
    else if (FIELD_IS(f, "endCursor")) v = end ? cJSON_CreateString(end) : cJSON_CreateNull();
    else if (FIELD_IS(f, "__typename")) v = cJSON_CreateString("PageInfo");
    add_merged(pi, gql_key(f), v ? v : cJSON_CreateNull());
  }
  return pi;
}

static void reverse_items(conn_item *items, size_t n) {
  for (size_t i = 0; i < n / 2; i++) {
    conn_item t = items[i];
    items[i] = items[n - 1 - i];
    items[n - 1 - i] = t;
  }
}

static cJSON *edges_json(gctx *c, const gql_field *ef, conn_item *items, size_t lo, size_t hi, const char *type,
                         field_fn fn) {
  cJSON *edges = cJSON_CreateArray();
  for (size_t i = lo; i < hi; i++) {
    cJSON *edge = cJSON_CreateObject();
    for (size_t k = 0; k < ef->sel.n; k++) {
      const gql_field *sub = &ef->sel.fields[k];
      cJSON *v = NULL;
      if (FIELD_IS(sub, "cursor")) {
        char cur[64];
        cursor_fmt(&items[i], cur);
        v = cJSON_CreateString(cur);
      } else if (FIELD_IS(sub, "node")) {
        v = resolve_object(c, type, fn, items[i].obj, &sub->sel);
      }
      add_merged(edge, gql_key(sub), v ? v : cJSON_CreateNull());
    }
    cJSON_AddItemToArray(edges, edge);
  }
  return edges;
}

cJSON *connection(gctx *c, const gql_field *f, conn_item *items, size_t n, const char *type, field_fn fn) {
  bool rev = arg_bool(c, f, "reverse", false);
  if (rev) reverse_items(items, n);
  /* A bulk operation takes its root connection's items to run them a chunk
   * at a time, and ignores first/after in nested ones: it reads them all,
   * as Shopify does. */
  if (c->bulk && bulk_take_root(c, f, items, n, type, fn)) return NULL;
  size_t lo = 0, hi = n;
  if (!c->bulk && !read_window(c, f, items, n, rev ? -1 : 1, &lo, &hi)) return NULL;
  c->actual_cost += 2;
  char start[64] = "", end[64] = "";
  if (hi > lo) {
    cursor_fmt(&items[lo], start);
    cursor_fmt(&items[hi - 1], end);
  }
  cJSON *out = cJSON_CreateObject();
  for (size_t i = 0; i < f->sel.n; i++) {
    const gql_field *sub = &f->sel.fields[i];
    cJSON *v = NULL;
    if (FIELD_IS(sub, "edges")) {
      v = edges_json(c, sub, items, lo, hi, type, fn);
    } else if (FIELD_IS(sub, "nodes")) {
      v = cJSON_CreateArray();
      for (size_t k = lo; k < hi; k++) cJSON_AddItemToArray(v, resolve_object(c, type, fn, items[k].obj, &sub->sel));
    } else if (FIELD_IS(sub, "pageInfo")) {
      v = page_info(sub, hi < n, lo > 0, hi > lo ? start : NULL, hi > lo ? end : NULL);
    } else if (FIELD_IS(sub, "__typename")) {
      char name[80];
      snprintf(name, sizeof name, "%sConnection", type);
      v = cJSON_CreateString(name);
    }
    add_merged(out, gql_key(sub), v ? v : cJSON_CreateNull());
  }
  return out;
}

/* ---- request cycle ---- */

static void reply_shopify_error(http_reply *rep, int status, const char *json) {
  reply_json(rep, status, cJSON_Parse(json));
}

static bool check_auth(store_t *s, http_request *req, http_reply *rep) {
  const char *token = req_header(req, "X-Shopify-Access-Token");
  if (token && const_time_eq(token, s->access_token)) return true;
  reply_shopify_error(rep, 401,
                      "{\"errors\":\"[API] Invalid API key or access token (unrecognized login or wrong password)\"}");
  pthread_mutex_lock(&s->mu);
  s->counters.unauthorized++;
  store_log_call(s, req->method, req->path, "unauthorized", 401, false, 0);
  pthread_mutex_unlock(&s->mu);
  return false;
}

static bool check_path(http_request *req, http_reply *rep) {
  static const char prefix[] = "/admin/api/";
  if (strncmp(req->path, prefix, sizeof prefix - 1) != 0) {
    reply_shopify_error(rep, 404, "{\"errors\":\"Not Found\"}");
    return false;
  }
  const char *ver = req->path + sizeof prefix - 1;
  if (strcmp(ver, SHOPIFY_API_VERSION "/graphql.json") != 0) {
    reply_shopify_error(rep, 404, "{\"errors\":\"Not Found: shopsim serves /admin/api/" SHOPIFY_API_VERSION
                                  "/graphql.json only\"}");
    return false;
  }
  if (strcmp(req->method, "POST") != 0) {
    reply_shopify_error(rep, 405, "{\"errors\":\"Method Not Allowed\"}");
    return false;
  }
  return true;
}

static cJSON *cost_json(store_t *s, int requested, int actual, bool has_actual) {
  cJSON *cost = cJSON_CreateObject();
  cJSON_AddNumberToObject(cost, "requestedQueryCost", requested);
  if (has_actual) cJSON_AddNumberToObject(cost, "actualQueryCost", actual);
  else cJSON_AddNullToObject(cost, "actualQueryCost");
  cJSON *ts = cJSON_AddObjectToObject(cost, "throttleStatus");
  cJSON_AddNumberToObject(ts, "maximumAvailable", s->bucket.size);
  cJSON_AddNumberToObject(ts, "currentlyAvailable", (double)(long)s->bucket.available);
  cJSON_AddNumberToObject(ts, "restoreRate", s->bucket.rate);
  cJSON *ext = cJSON_CreateObject();
  cJSON_AddItemToObject(ext, "cost", cost);
  return ext;
}

/* Root field names, comma separated, for the call log. */
static void op_summary(const gql_operation *op, char *out, size_t len) {
  size_t used = (size_t)snprintf(out, len, "%s:", op->kind == GQL_MUTATION ? "mutation" : "query");
  for (size_t i = 0; i < op->sel.n && used < len; i++)
    used += (size_t)snprintf(out + used, len - used, "%s%s", i ? "," : "", op->sel.fields[i].name);
}

static bool throttled(gctx *c, int requested, http_reply *rep, cJSON *resp) {
  store_t *s = c->s;
  if (requested > s->bucket.size) {
    add_error(c, NULL, "MAX_COST_EXCEEDED",
              "Query cost is %d, which exceeds the single query max cost limit (%.0f).", requested, s->bucket.size);
    cJSON_AddItemToObject(resp, "extensions", cost_json(s, requested, 0, false));
    return true;
  }
  if (bucket_take(&s->bucket, requested)) return false;
  s->counters.throttled++;
  bool as_429 = s->throttle_mode == THROTTLE_HTTP429 ||
                (s->throttle_mode == THROTTLE_ALTERNATE && (s->throttle_seq++ % 2 == 1));
  add_error(c, NULL, "THROTTLED", "Throttled");
  cJSON *err = cJSON_GetArrayItem(c->errors, cJSON_GetArraySize(c->errors) - 1);
  cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(err, "extensions"), "documentation",
                          "https://shopify.dev/api/usage/rate-limits");
  cJSON_AddItemToObject(resp, "extensions", cost_json(s, requested, 0, false));
  if (as_429) {
    char secs[16];
    snprintf(secs, sizeof secs, "%d", bucket_retry_after(&s->bucket, requested));
    reply_header(rep, "Retry-After", secs);
    rep->status = 429;
  }
  return true;
}

static void execute(gctx *c, cJSON *resp, http_reply *rep, char *summary, size_t slen, bool *was_throttled,
                    int *cost_out) {
  store_t *s = c->s;
  const gql_operation *op = c->op;
  op_summary(op, summary, slen);
  int requested = query_cost(c, op);
  *cost_out = requested;
  if (cJSON_GetArraySize(c->errors) > 0) return;
  if (throttled(c, requested, rep, resp)) {
    *was_throttled = true;
    return;
  }
  cJSON *data = cJSON_CreateObject();
  for (size_t i = 0; i < op->sel.n; i++) {
    const gql_field *f = &op->sel.fields[i];
    cJSON *v;
    if (FIELD_IS(f, "__typename")) v = cJSON_CreateString(op->kind == GQL_MUTATION ? "Mutation" : "QueryRoot");
    else v = op->kind == GQL_MUTATION ? mutation_root(c, f) : query_root(c, f);
    add_merged(data, gql_key(f), v ? v : cJSON_CreateNull());
  }
  if (op->kind == GQL_MUTATION) {
    s->counters.mutations++;
    c->actual_cost = requested;
  } else {
    s->counters.queries++;
  }
  if (c->actual_cost > requested) c->actual_cost = requested;
  bucket_refund(&s->bucket, requested - c->actual_cost);
  cJSON_AddItemToObject(resp, "data", data);
  cJSON_AddItemToObject(resp, "extensions", cost_json(s, requested, c->actual_cost, true));
}

static bool read_request(const cJSON *body, const char **query, const cJSON **vars, const char **opname) {
  *query = jstr(body, "query");
  *vars = cJSON_GetObjectItemCaseSensitive(body, "variables");
  if (*vars && !cJSON_IsObject(*vars)) *vars = NULL;
  *opname = jstr(body, "operationName");
  return *query != NULL;
}

static void run_document(store_t *s, http_request *req, const cJSON *body, http_reply *rep) {
  const char *query, *opname;
  const cJSON *vars;
  if (!read_request(body, &query, &vars, &opname)) {
    reply_shopify_error(rep, 400, "{\"errors\":{\"query\":\"Required parameter missing or invalid\"}}");
    return;
  }
  char err[300];
  cJSON *resp = cJSON_CreateObject();
  gctx c = {.s = s, .vars = vars, .errors = cJSON_CreateArray(), .host = req_header(req, "Host")};
  gql_document *doc = gql_parse(query, err, sizeof err);
  char summary[200] = "invalid";
  bool was_throttled = false;
  int cost = 0;
  rep->status = 200;
  pthread_mutex_lock(&s->mu);
  s->counters.calls++;
  if (!doc) {
    add_error(&c, NULL, "PARSE_ERROR", "%s", err);
  } else if (!(c.op = gql_pick_operation(doc, opname))) {
    add_error(&c, NULL, "BAD_REQUEST", "An operation name is required when the document has several operations");
  } else if (!gql_check_variables(c.op, vars, err, sizeof err)) {
    add_error(&c, NULL, "INVALID_VARIABLE", "%s", err);
  } else {
    execute(&c, resp, rep, summary, sizeof summary, &was_throttled, &cost);
  }
  store_log_call(s, req->method, req->path, summary, rep->status, was_throttled, cost);
  s->calls[(s->ncalls - 1) % SIM_CALL_LOG].actual_cost = was_throttled || !c.op ? 0 : (int)c.actual_cost;
  pthread_mutex_unlock(&s->mu);
  if (cJSON_GetArraySize(c.errors) > 0) cJSON_AddItemToObject(resp, "errors", c.errors);
  else cJSON_Delete(c.errors);
  gql_free(doc);
  int status = rep->status;
  reply_json(rep, status, resp);
}

void shopify_handle(store_t *s, http_request *req, http_reply *rep) {
  if (oauth_handle(s, req, rep)) return;
  if (!check_path(req, rep) || !check_auth(s, req, rep)) return;
  cJSON *body = req_json(req);
  if (!body) {
    reply_shopify_error(rep, 400, "{\"errors\":{\"query\":\"Required parameter missing or invalid\"}}");
    return;
  }
  run_document(s, req, body, rep);
  cJSON_Delete(body);
}
