/* WooCommerce REST routing, pagination and the request cycle. */
#include <stdio.h>
#include <stdlib.h>

#include "util.h"
#include "woo_internal.h"

bool woo_is(const woo_call *c, int i, const char *text) { return i < c->nseg && strcmp(c->seg[i], text) == 0; }

uint64_t woo_seg_id(const woo_call *c, int i) {
  if (i >= c->nseg) return 0;
  char *end = NULL;
  unsigned long long v = strtoull(c->seg[i], &end, 10);
  return (end && *end == '\0') ? (uint64_t)v : 0;
}

bool woo_method(const woo_call *c, const char *m) {
  if (strcmp(m, "PUT") == 0) return strcmp(c->req->method, "PUT") == 0 || strcmp(c->req->method, "PATCH") == 0 ||
                                    (strcmp(c->req->method, "POST") == 0 && c->nseg && woo_seg_id(c, c->nseg - 1));
  return strcmp(c->req->method, m) == 0;
}

static void invalid_param(woo_call *c, const char *name, const char *why) {
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "code", "rest_invalid_param");
  char msg[96];
  snprintf(msg, sizeof msg, "Invalid parameter(s): %s", name);
  cJSON_AddStringToObject(j, "message", msg);
  cJSON *data = cJSON_AddObjectToObject(j, "data");
  cJSON_AddNumberToObject(data, "status", 400);
  cJSON *params = cJSON_AddObjectToObject(data, "params");
  cJSON_AddStringToObject(params, name, why);
  reply_json(c->rep, 400, j);
}

/* The lists' date filters, checked as WooCommerce's schema does (format
 * date-time, dates_are_gmt a boolean): a date it cannot read is a 400, never
 * a filter silently left out (which would answer the whole list). The
 * simulated shops run on UTC, so dates_are_gmt changes nothing else. */
static bool dates_valid(woo_call *c) {
  static const char *const dates[] = {"after", "before", "modified_after", "modified_before"};
  for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
    const char *v = req_query(c->req, dates[i]);
    if (v && parse_time(v) < 0) {
      invalid_param(c, dates[i], "Invalid date.");
      return false;
    }
  }
  const char *gmt = req_query(c->req, "dates_are_gmt");
  static const char *const bools[] = {"true", "false", "1", "0"};
  bool ok = !gmt;
  for (size_t i = 0; gmt && !ok && i < 4; i++) ok = strcmp(gmt, bools[i]) == 0;
  if (!ok) invalid_param(c, "dates_are_gmt", "dates_are_gmt is not of type boolean.");
  return ok;
}

bool woo_read_page(woo_call *c, woo_page *pg) {
  const char *page = req_query(c->req, "page"), *per = req_query(c->req, "per_page");
  pg->page = page ? atol(page) : 1;
  pg->per_page = per ? atol(per) : 10;
  if (pg->page > 1000000) pg->page = 1000000; /* keeps (page - 1) * per_page in range */
  if (pg->per_page < 1 || pg->per_page > 100) {
    invalid_param(c, "per_page", "per_page must be between 1 (inclusive) and 100 (inclusive)");
    return false;
  }
  if (pg->page < 1) pg->page = 1;
  return dates_valid(c);
}

void woo_reply_page(woo_call *c, const woo_page *pg, cJSON *all) {
  long total = cJSON_GetArraySize(all);
  long pages = (total + pg->per_page - 1) / pg->per_page;
  cJSON *out = cJSON_CreateArray();
  long from = (pg->page - 1) * pg->per_page;
  for (long i = from; i < total && i < from + pg->per_page; i++)
    cJSON_AddItemToArray(out, cJSON_DetachItemFromArray(all, (int)from));
  cJSON_Delete(all);
  char buf[32];
  snprintf(buf, sizeof buf, "%ld", total);
  reply_header(c->rep, "X-WP-Total", buf);
  snprintf(buf, sizeof buf, "%ld", pages);
  reply_header(c->rep, "X-WP-TotalPages", buf);
  reply_json(c->rep, 200, out);
}

bool woo_time_filter(const woo_call *c, const char *param, int64_t value, bool after) {
  const char *q = req_query(c->req, param);
  if (!q) return true;
  int64_t ref = parse_time(q);
  if (ref < 0) return true;
  /* WooCommerce stores dates in whole seconds. */
  int64_t a = value / 1000, b = ref / 1000;
  return after ? a > b : a < b;
}

static void split_path(woo_call *c, const char *rest) {
  snprintf(c->segbuf, sizeof c->segbuf, "%s", rest);
  char *save = NULL;
  for (char *tok = strtok_r(c->segbuf, "/", &save); tok && c->nseg < WOO_MAX_SEGMENTS; tok = strtok_r(NULL, "/", &save))
    c->seg[c->nseg++] = tok;
}

/* GET system_status: the parts of WooCommerce's report a client checks
 * (versions, whether the REST API is on, the active plugins). */
static void system_status(woo_call *c) {
  if (!woo_method(c, "GET") || c->nseg != 1) {
    woo_error(c->rep, 404, "rest_no_route", "No route was found matching the URL and request method.");
    return;
  }
  cJSON *j = cJSON_CreateObject();
  cJSON *env = cJSON_AddObjectToObject(j, "environment");
  char url[160];
  snprintf(url, sizeof url, "https://%s", c->s->shop_domain);
  cJSON_AddStringToObject(env, "home_url", url);
  cJSON_AddStringToObject(env, "site_url", url);
  cJSON_AddStringToObject(env, "version", SIM_WOO_VERSION);
  cJSON_AddStringToObject(env, "wp_version", SIM_WP_VERSION);
  cJSON *plugins = cJSON_AddArrayToObject(j, "active_plugins");
  cJSON *wc = cJSON_CreateObject();
  cJSON_AddStringToObject(wc, "plugin", "woocommerce/woocommerce.php");
  cJSON_AddStringToObject(wc, "name", "WooCommerce");
  cJSON_AddStringToObject(wc, "version", SIM_WOO_VERSION);
  cJSON_AddItemToArray(plugins, wc);
  if (c->s->shipment_tracking) {
    cJSON *st = cJSON_CreateObject();
    cJSON_AddStringToObject(st, "plugin", "woocommerce-shipment-tracking/woocommerce-shipment-tracking.php");
    cJSON_AddStringToObject(st, "name", "WooCommerce Shipment Tracking");
    cJSON_AddStringToObject(st, "version", "2.6.0");
    cJSON_AddItemToArray(plugins, st);
  }
  cJSON *settings = cJSON_AddObjectToObject(j, "settings");
  cJSON_AddBoolToObject(settings, "api_enabled", true);
  cJSON_AddStringToObject(settings, "currency", c->s->currency);
  cJSON *security = cJSON_AddObjectToObject(j, "security");
  cJSON_AddBoolToObject(security, "secure_connection", false);
  reply_json(c->rep, 200, j);
}

/* GET settings/products: the product settings group, as WooCommerce lists
 * a group's options ({id, label, type, default, value, options}); only the
 * two units are kept. */
static void settings_products(woo_call *c) {
  if (!woo_method(c, "GET") || c->nseg != 2 || strcmp(c->seg[1], "products") != 0) {
    woo_error(c->rep, 404, "rest_setting_setting_group_invalid", "Invalid setting group.");
    return;
  }
  static const char *const weights[] = {"kg", "g", "lbs", "oz"}, *const dims[] = {"m", "cm", "mm", "in", "yd"};
  cJSON *arr = cJSON_CreateArray();
  for (int k = 0; k < 2; k++) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", k ? "woocommerce_dimension_unit" : "woocommerce_weight_unit");
    cJSON_AddStringToObject(o, "label", k ? "Dimensions unit" : "Weight unit");
    cJSON_AddStringToObject(o, "type", "select");
    cJSON_AddStringToObject(o, "default", k ? "cm" : "kg");
    cJSON_AddStringToObject(o, "value", k ? c->s->dimension_unit : c->s->weight_unit);
    cJSON *opts = cJSON_AddObjectToObject(o, "options");
    for (int i = 0; i < (k ? 5 : 4); i++) cJSON_AddStringToObject(opts, k ? dims[i] : weights[i], k ? dims[i] : weights[i]);
    cJSON_AddItemToArray(arr, o);
  }
  reply_json(c->rep, 200, arr);
}

static void dispatch(woo_call *c, bool tracking) {
  if (tracking) {
    woo_tracking(c);
  } else if (woo_is(c, 0, "products")) {
    woo_products(c);
  } else if (woo_is(c, 0, "orders")) {
    woo_orders(c);
  } else if (woo_is(c, 0, "webhooks")) {
    woo_webhooks(c);
  } else if (woo_is(c, 0, "system_status")) {
    system_status(c);
  } else if (woo_is(c, 0, "settings")) {
    settings_products(c);
  } else {
    woo_error(c->rep, 404, "rest_no_route", "No route was found matching the URL and request method.");
  }
}

void woo_handle(store_t *s, http_request *req, http_reply *rep) {
  static const char wc[] = "/wp-json/wc/v3/", st[] = "/wp-json/wc-shipment-tracking/v3/";
  bool tracking = strncmp(req->path, st, sizeof st - 1) == 0;
  if (strcmp(req->path, "/wc-auth/v1/authorize") == 0 && strcmp(req->method, "GET") == 0) {
    woo_keys_authorize(s, req, rep);
    return;
  }
  if (!tracking && strncmp(req->path, wc, sizeof wc - 1) != 0) {
    woo_error(rep, 404, "rest_no_route", "No route was found matching the URL and request method.");
    return;
  }
  if (!woo_check_auth(s, req, rep)) return;
  woo_call c = {.s = s, .req = req, .rep = rep};
  split_path(&c, req->path + (tracking ? sizeof st : sizeof wc) - 1);
  pthread_mutex_lock(&s->mu);
  s->counters.calls++;
  s->counters.rest_calls++;
  rep->status = 0;
  if (tracking && !s->shipment_tracking)
    woo_error(rep, 404, "rest_no_route", "No route was found matching the URL and request method.");
  else
    dispatch(&c, tracking);
  char op[160];
  snprintf(op, sizeof op, "%s %s", req->method, req->path);
  store_log_call(s, req->method, req->path, op, rep->status, false, 0);
  char query[512];
  req_query_text(req, query, sizeof query);
  store_log_query(s, query);
  pthread_mutex_unlock(&s->mu);
}
