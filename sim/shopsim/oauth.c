/* Shopify OAuth for shopsim (see oauth.h). Codes are single use and expire
 * after 10 minutes; the token a code buys is the store's access_token, and
 * the store's granted scopes become the ones asked for, so
 * currentAppInstallation.accessScopes shows what the install asked. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oauth.h"
#include "util.h"

#define CODE_TTL_MS (10 * 60 * 1000)

struct oauth_code {
  char code[33];
  char *scope;
  int64_t expires_ms;
  struct oauth_code *next;
};

/* Scopes Shopify knows that a bridge might ask for; anything else is refused
 * as Shopify refuses an unknown scope. */
static const char *const known_scopes[] = {
    "read_orders", "write_orders", "read_products", "write_products", "read_inventory", "write_inventory",
    "read_locations", "read_merchant_managed_fulfillment_orders", "write_merchant_managed_fulfillment_orders",
    "read_assigned_fulfillment_orders", "write_assigned_fulfillment_orders", "read_returns", "write_returns",
    "read_customers", "read_fulfillments", "write_fulfillments", "read_shipping", NULL};

void oauth_codes_free(store_t *s) {
  for (struct oauth_code *c = s->oauth_codes, *next; c; c = next) {
    next = c->next;
    free(c->scope);
    free(c);
  }
  s->oauth_codes = NULL;
}

static bool scopes_known(const char *scope) {
  char *list = xstrdup(scope), *save = NULL;
  bool ok = *scope != '\0';
  for (char *h = strtok_r(list, ",", &save); h && ok; h = strtok_r(NULL, ",", &save)) {
    bool found = false;
    for (int i = 0; known_scopes[i]; i++) found |= strcmp(known_scopes[i], h) == 0;
    ok = found;
  }
  free(list);
  return ok;
}

static char *url_encode(const char *s) {
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

static void oauth_error(http_reply *rep, int status, const char *error, const char *description) {
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "error", error);
  cJSON_AddStringToObject(j, "error_description", description);
  reply_json(rep, status, j);
}

/* The merchant approves: a code, then the redirect with Shopify's query and
 * its hmac (hex HMAC-SHA256 with the client secret of the other parameters,
 * sorted, joined as k=v&k=v, unencoded). */
static void authorize(store_t *s, http_request *req, http_reply *rep) {
  const char *client_id = req_query(req, "client_id"), *scope = req_query(req, "scope");
  const char *redirect = req_query(req, "redirect_uri"), *state = req_query(req, "state");
  if (!client_id || !const_time_eq(client_id, s->client_id)) {
    oauth_error(rep, 400, "invalid_request", "Oauth error invalid_request: The client_id is invalid or missing.");
    return;
  }
  if (!redirect || (strncmp(redirect, "http://", 7) != 0 && strncmp(redirect, "https://", 8) != 0)) {
    oauth_error(rep, 400, "invalid_request", "Oauth error invalid_request: The redirect_uri is missing or not whitelisted.");
    return;
  }
  if (!scope || !scopes_known(scope)) {
    oauth_error(rep, 400, "invalid_scope", "Oauth error invalid_scope: The scope is missing or names an unknown scope.");
    return;
  }
  struct oauth_code *c = xmalloc(sizeof *c);
  unsigned char raw[16];
  RAND_bytes(raw, sizeof raw);
  for (int i = 0; i < 16; i++) snprintf(c->code + 2 * i, 3, "%02x", raw[i]);
  c->scope = xstrdup(scope);
  c->expires_ms = now_ms() + CODE_TTL_MS;
  char host_raw[160], timestamp[24];
  snprintf(host_raw, sizeof host_raw, "admin.shopify.com/store/%s", s->id);
  char *host = base64_encode((const unsigned char *)host_raw, strlen(host_raw));
  snprintf(timestamp, sizeof timestamp, "%lld", (long long)(now_ms() / 1000));
  const char *st = state ? state : "";
  size_t mlen = strlen(host) + strlen(s->shop_domain) + strlen(st) + 160;
  char *message = xmalloc(mlen);
  snprintf(message, mlen, "code=%s&host=%s&shop=%s&state=%s&timestamp=%s", c->code, host, s->shop_domain, st,
           timestamp);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int maclen = 0;
  HMAC(EVP_sha256(), s->client_secret, (int)strlen(s->client_secret), (unsigned char *)message, strlen(message),
       mac, &maclen);
  char hmac[2 * EVP_MAX_MD_SIZE + 1];
  for (unsigned i = 0; i < maclen; i++) snprintf(hmac + 2 * i, 3, "%02x", mac[i]);
  char *e_host = url_encode(host), *e_shop = url_encode(s->shop_domain), *e_state = url_encode(st);
  size_t llen = strlen(redirect) + strlen(e_host) + strlen(e_shop) + strlen(e_state) + 256;
  char *location = xmalloc(llen);
  snprintf(location, llen, "%s%scode=%s&hmac=%s&host=%s&shop=%s&state=%s&timestamp=%s", redirect,
           strchr(redirect, '?') ? "&" : "?", c->code, hmac, e_host, e_shop, e_state, timestamp);
  pthread_mutex_lock(&s->mu);
  c->next = s->oauth_codes;
  s->oauth_codes = c;
  store_log_call(s, req->method, req->path, "oauth:authorize", 302, false, 0);
  pthread_mutex_unlock(&s->mu);
  if (strlen(location) < sizeof rep->headers[0].value) reply_header(rep, "Location", location);
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "redirect", location);
  reply_json(rep, 302, j);
  free(location);
  free(e_host);
  free(e_shop);
  free(e_state);
  free(message);
  free(host);
}

static const char *param(const cJSON *body, const http_request *req, const char *name) {
  const char *v = body ? jstr(body, name) : NULL;
  return v ? v : req_query(req, name);
}

static void access_token(store_t *s, http_request *req, http_reply *rep) {
  cJSON *body = req_json(req);
  const char *client_id = param(body, req, "client_id"), *secret = param(body, req, "client_secret");
  const char *code = param(body, req, "code");
  if (!client_id || !secret || !const_time_eq(client_id, s->client_id) || !const_time_eq(secret, s->client_secret)) {
    oauth_error(rep, 400, "invalid_client", "Oauth error invalid_client: the client_id or client_secret is wrong.");
    cJSON_Delete(body);
    return;
  }
  pthread_mutex_lock(&s->mu);
  struct oauth_code **at = &s->oauth_codes, *found = NULL;
  for (; *at; at = &(*at)->next) {
    if (code && const_time_eq((*at)->code, code)) {
      found = *at;
      *at = found->next; /* single use */
      break;
    }
  }
  bool ok = found && found->expires_ms > now_ms();
  if (ok) {
    free(s->access_scopes);
    s->access_scopes = xstrdup(found->scope);
  }
  store_log_call(s, req->method, req->path, "oauth:access_token", ok ? 200 : 400, false, 0);
  pthread_mutex_unlock(&s->mu);
  if (!ok) {
    oauth_error(rep, 400, "invalid_request", "The authorization code was not found or was already used");
  } else {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "access_token", s->access_token);
    cJSON_AddStringToObject(j, "scope", found->scope);
    reply_json(rep, 200, j);
  }
  if (found) {
    free(found->scope);
    free(found);
  }
  cJSON_Delete(body);
}

bool oauth_handle(store_t *s, http_request *req, http_reply *rep) {
  if (strcmp(req->path, "/admin/oauth/authorize") == 0 && strcmp(req->method, "GET") == 0) {
    authorize(s, req, rep);
    return true;
  }
  if (strcmp(req->path, "/admin/oauth/access_token") == 0 && strcmp(req->method, "POST") == 0) {
    access_token(s, req, rep);
    return true;
  }
  return false;
}
