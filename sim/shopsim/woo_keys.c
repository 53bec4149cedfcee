/* WooCommerce's application authentication endpoint, as a shop serves it:
 *   GET /wc-auth/v1/authorize?app_name&scope&user_id&return_url&callback_url
 * The shop's owner approves at once: the keys are POSTed as JSON
 * {key_id, user_id, consumer_key, consumer_secret, key_permissions} to
 * callback_url, and on a 200 there the answer is a 302 to
 * return_url?success=1&user_id=..; otherwise WooCommerce's error page (here
 * 400 with the message). Validation as WC_Auth::make_validation: every
 * parameter present, scope read|write|read_write, both URLs valid, the
 * callback over SSL, except that shopsim also takes plain http to a
 * loopback address (the tests serve no TLS). The keys handed out are the
 * store's own, and the store's key_permissions become the scope granted. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "woo_internal.h"

static size_t discard(char *p, size_t size, size_t n, void *ctx) {
  (void)p, (void)ctx;
  return size * n;
}

static bool callback_ok(const char *url) {
  if (strncmp(url, "https://", 8) == 0) return true;
  return strncmp(url, "http://127.0.0.1", 16) == 0 || strncmp(url, "http://localhost", 16) == 0;
}

static long post_keys(const char *url, const char *body) {
  CURL *curl = curl_easy_init();
  if (!curl) return 0;
  struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json;charset=UTF-8");
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 60000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
  long status = 0;
  if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(h);
  curl_easy_cleanup(curl);
  return status;
}

void woo_keys_authorize(store_t *s, http_request *req, http_reply *rep) {
  static const char *const params[] = {"app_name", "user_id", "return_url", "callback_url", "scope"};
  char msg[200];
  for (int i = 0; i < 5; i++) {
    const char *v = req_query(req, params[i]);
    if (!v || !*v) {
      snprintf(msg, sizeof msg, "Missing parameter %s", params[i]);
      reply_error(rep, 400, msg);
      return;
    }
  }
  const char *scope = req_query(req, "scope"), *callback = req_query(req, "callback_url");
  const char *ret = req_query(req, "return_url"), *user = req_query(req, "user_id");
  if (strcmp(scope, "read") != 0 && strcmp(scope, "write") != 0 && strcmp(scope, "read_write") != 0) {
    reply_error(rep, 400, "Invalid scope");
    return;
  }
  if ((strncmp(ret, "http://", 7) != 0 && strncmp(ret, "https://", 8) != 0) ||
      (strncmp(callback, "http://", 7) != 0 && strncmp(callback, "https://", 8) != 0)) {
    reply_error(rep, 400, "The return_url or callback_url is not a valid URL");
    return;
  }
  if (!callback_ok(callback)) {
    reply_error(rep, 400, "The callback_url needs to be over SSL");
    return;
  }
  pthread_mutex_lock(&s->mu);
  free(s->key_permissions);
  s->key_permissions = xstrdup(scope);
  cJSON *j = cJSON_CreateObject();
  cJSON_AddNumberToObject(j, "key_id", (double)(s->next_id % 100000 + 1));
  cJSON_AddStringToObject(j, "user_id", user);
  cJSON_AddStringToObject(j, "consumer_key", s->consumer_key);
  cJSON_AddStringToObject(j, "consumer_secret", s->consumer_secret);
  cJSON_AddStringToObject(j, "key_permissions", scope);
  store_log_call(s, req->method, req->path, "wc-auth:authorize", 302, false, 0);
  pthread_mutex_unlock(&s->mu);
  char *body = cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  long status = post_keys(callback, body);
  free(body);
  if (status != 200) {
    reply_error(rep, 400, "An error occurred in the request and at the time were unable to send the consumer data");
    return;
  }
  char *location = xmalloc(strlen(ret) + strlen(user) * 3 + 40);
  char *e_user = curl_easy_escape(NULL, user, 0);
  sprintf(location, "%s%ssuccess=1&user_id=%s", ret, strchr(ret, '?') ? "&" : "?", e_user ? e_user : "");
  curl_free(e_user);
  if (strlen(location) < sizeof rep->headers[0].value) reply_header(rep, "Location", location);
  cJSON *out = cJSON_CreateObject();
  cJSON_AddStringToObject(out, "redirect", location);
  reply_json(rep, 302, out);
  free(location);
}
