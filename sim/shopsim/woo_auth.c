/* WooCommerce REST authentication: HTTP Basic with consumer key and secret
 * (or the same as consumer_key/consumer_secret query parameters), and
 * OAuth 1.0a one-legged query signatures as WooCommerce checks them for
 * plain-HTTP stores (its own base-string construction, HMAC-SHA1/SHA256,
 * a 15 minute timestamp window). */
#include <microhttpd.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "woo_internal.h"

static bool check_basic(store_t *s, const char *header) {
  if (strncasecmp(header, "Basic ", 6) != 0) return false;
  unsigned char raw[512];
  if (base64_decode(header + 6, raw, sizeof raw) < 0) return false;
  char *colon = strchr((char *)raw, ':');
  if (!colon) return false;
  *colon = '\0';
  return const_time_eq((char *)raw, s->consumer_key) && const_time_eq(colon + 1, s->consumer_secret);
}

typedef struct {
  char *key, *value;
} param_t;

typedef struct {
  param_t items[64];
  int n;
} params_t;

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
  (void)kind;
  params_t *p = cls;
  if (p->n < 64) {
    p->items[p->n].key = xstrdup(key);
    p->items[p->n].value = xstrdup(value ? value : "");
    p->n++;
  }
  return MHD_YES;
}

static char *rawurlencode(const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  char *out = xmalloc(strlen(s) * 3 + 1), *o = out;
  for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
    if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || strchr("-_.~", *c)) {
      *o++ = (char)*c;
    } else {
      *o++ = '%';
      *o++ = hex[*c >> 4];
      *o++ = hex[*c & 15];
    }
  }
  *o = '\0';
  return out;
}

static int cmp_param(const void *a, const void *b) { return strcmp(((const param_t *)a)->key, ((const param_t *)b)->key); }

static const char *param(const params_t *p, const char *key) {
  for (int i = 0; i < p->n; i++)
    if (strcmp(p->items[i].key, key) == 0) return p->items[i].value;
  return NULL;
}

/* METHOD&rawurlencode(url)&k%3Dv%26k%3Dv with keys sorted, as WooCommerce
 * builds it: normalize_parameters() encodes each key and value, then
 * join_with_equals_sign() encodes "key=value" again, so both are encoded
 * twice (a ':' in modified_after becomes %253A). */
static char *base_string(const http_request *req, params_t *p) {
  const char *host = req_header(req, "Host");
  char url[1024];
  snprintf(url, sizeof url, "http://%s%s", host ? host : "localhost", req->full_path);
  char *enc_url = rawurlencode(url);
  qsort(p->items, (size_t)p->n, sizeof p->items[0], cmp_param);
  size_t cap = strlen(req->method) + strlen(enc_url) + 8;
  for (int i = 0; i < p->n; i++) cap += strlen(p->items[i].key) * 9 + strlen(p->items[i].value) * 9 + 8;
  char *out = xmalloc(cap);
  size_t used = (size_t)snprintf(out, cap, "%s&%s&", req->method, enc_url);
  free(enc_url);
  bool first = true;
  for (int i = 0; i < p->n; i++) {
    if (strcmp(p->items[i].key, "oauth_signature") == 0) continue;
    char *k0 = rawurlencode(p->items[i].key), *v0 = rawurlencode(p->items[i].value);
    char *k = rawurlencode(k0), *v = rawurlencode(v0);
    free(k0);
    free(v0);
    used += (size_t)snprintf(out + used, cap - used, "%s%s%%3D%s", first ? "" : "%26", k, v);
    first = false;
    free(k);
    free(v);
  }
  return out;
}

static const char *check_oauth(store_t *s, const http_request *req, params_t *p) {
  const char *key = param(p, "oauth_consumer_key"), *sig = param(p, "oauth_signature");
  const char *method = param(p, "oauth_signature_method"), *ts = param(p, "oauth_timestamp");
  if (!key || !const_time_eq(key, s->consumer_key)) return "Consumer key is invalid.";
  if (!sig || !method || !ts || !param(p, "oauth_nonce")) return "Missing OAuth parameter(s).";
  const EVP_MD *md = strcmp(method, "HMAC-SHA1") == 0 ? EVP_sha1() : strcmp(method, "HMAC-SHA256") == 0 ? EVP_sha256() : NULL;
  if (!md) return "Invalid signature method - must be HMAC-SHA1 or HMAC-SHA256.";
  long long t = atoll(ts), now = now_ms() / 1000;
  if (t < now - 900 || t > now + 900) return "Invalid timestamp.";
  char *base = base_string(req, p);
  char secret[256];
  snprintf(secret, sizeof secret, "%s&", s->consumer_secret);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(md, secret, (int)strlen(secret), (unsigned char *)base, strlen(base), mac, &len);
  free(base);
  char *expected = base64_encode(mac, len);
  char given[200];
  snprintf(given, sizeof given, "%s", sig);
  for (char *c = given; *c; c++)
    if (*c == ' ') *c = '+'; /* a '+' decoded as space by the query parser */
  bool ok = const_time_eq(expected, given);
  free(expected);
  return ok ? NULL : "Invalid signature - provided signature does not match.";
}

/* What WooCommerce's REST authentication checks after the key: a read key
 * may HEAD and GET only, a write key may POST, PUT, PATCH and DELETE only,
 * read_write may do both; otherwise 401 with its own message. */
static bool permitted(store_t *s, http_request *req, http_reply *rep) {
  bool reading = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
  const char *need = reading ? "read" : "write";
  if (strcmp(s->key_permissions, "read_write") == 0 || strcmp(s->key_permissions, need) == 0) return true;
  char msg[96];
  snprintf(msg, sizeof msg, "The API key provided does not have %s permissions.", need);
  woo_error(rep, 401, "woocommerce_rest_authentication_error", msg);
  pthread_mutex_lock(&s->mu);
  s->counters.unauthorized++;
  store_log_call(s, req->method, req->path, "unauthorized", 401, false, 0);
  pthread_mutex_unlock(&s->mu);
  return false;
}

bool woo_check_auth(store_t *s, http_request *req, http_reply *rep) {
  const char *auth = req_header(req, "Authorization");
  const char *problem = "Sorry, you cannot list resources.";
  const char *code = "woocommerce_rest_cannot_view";
  if (auth) {
    if (check_basic(s, auth)) return permitted(s, req, rep);
    problem = "Consumer secret is invalid.";
    code = "woocommerce_rest_authentication_error";
  } else if (req_query(req, "consumer_key")) {
    const char *ck = req_query(req, "consumer_key"), *cs = req_query(req, "consumer_secret");
    if (const_time_eq(ck, s->consumer_key) && cs && const_time_eq(cs, s->consumer_secret)) return permitted(s, req, rep);
    problem = "Consumer secret is invalid.";
    code = "woocommerce_rest_authentication_error";
  } else if (req_query(req, "oauth_consumer_key")) {
    params_t p = {.n = 0};
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, collect, &p);
    problem = check_oauth(s, req, &p);
    for (int i = 0; i < p.n; i++) {
      free(p.items[i].key);
      free(p.items[i].value);
    }
    if (!problem) return permitted(s, req, rep);
    code = "woocommerce_rest_authentication_error";
  }
  woo_error(rep, 401, code, problem);
  pthread_mutex_lock(&s->mu);
  s->counters.unauthorized++;
  store_log_call(s, req->method, req->path, "unauthorized", 401, false, 0);
  pthread_mutex_unlock(&s->mu);
  return false;
}
