#include "webhooks.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "util.h"
#include "webhook_payloads.h"

/* Shopify's retry schedule in simulated seconds: 8 retries, 4 hours in all. */
static const int64_t retry_delay_s[SHOPIFY_WEBHOOK_RETRIES] = {10, 30, 60, 300, 900, 1800, 3600, 7700};

typedef struct job {
  char store_id[64];
  uint64_t webhook_id, resource_id;
  char topic[48];
  char *body;          /* Shopify: the snapshot taken at event time */
  char event_uuid[37]; /* Shopify: X-Shopify-Webhook-Id, the same on retries */
  int attempt;
  int64_t due; /* monotonic ms */
  bool started;
  struct job *next;
} job_t;

static pthread_mutex_t q_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cv = PTHREAD_COND_INITIALIZER;
static job_t *queue; /* sorted by due */
static unsigned in_flight, queued;
static bool stopping;
static pthread_t *workers;
static unsigned nworkers;

/* ---- subscriptions ---- */

static void normalize_topic(const store_t *s, const char *topic, char out[48]) {
  snprintf(out, 48, "%s", topic);
  if (s->platform != PLATFORM_SHOPIFY || strchr(out, '/')) return;
  /* ORDERS_CREATE -> orders/create: the first underscore separates resource and event */
  bool slashed = false;
  for (char *c = out; *c; c++) {
    if (*c >= 'A' && *c <= 'Z') *c = (char)(*c + 32);
    if (*c == '_' && !slashed) {
      *c = '/';
      slashed = true;
    }
  }
}

webhook_t *webhook_add(store_t *s, const char *topic, const char *address, const char *secret, const char *name) {
  webhook_t *w = VEC_PUSH(s->webhooks, s->nwebhooks);
  char norm[48];
  normalize_topic(s, topic, norm);
  w->id = store_next_id(s);
  w->topic = xstrdup(norm);
  w->address = xstrdup(address);
  w->secret = xstrdup(secret && *secret ? secret : s->app_secret);
  w->name = xstrdup(name ? name : norm);
  w->status = xstrdup("active");
  w->created_ms = w->updated_ms = now_ms();
  return w;
}

cJSON *webhook_json(const store_t *s, const webhook_t *w) {
  cJSON *j = cJSON_CreateObject();
  cJSON_AddNumberToObject(j, "id", (double)w->id);
  cJSON_AddStringToObject(j, "name", w->name);
  cJSON_AddStringToObject(j, "status", w->status);
  cJSON_AddStringToObject(j, "topic", w->topic);
  if (s->platform == PLATFORM_WOO) {
    char resource[48];
    snprintf(resource, sizeof resource, "%s", w->topic);
    char *dot = strchr(resource, '.');
    cJSON_AddStringToObject(j, "event", dot ? dot + 1 : "");
    if (dot) *dot = '\0';
    cJSON_AddStringToObject(j, "resource", resource);
    cJSON_AddItemToObject(j, "hooks", cJSON_CreateArray());
  }
  cJSON_AddStringToObject(j, "delivery_url", w->address);
  char buf[32];
  fmt_time(w->created_ms, false, buf);
  cJSON_AddStringToObject(j, "date_created", buf);
  cJSON_AddStringToObject(j, "date_created_gmt", buf);
  fmt_time(w->updated_ms, false, buf);
  cJSON_AddStringToObject(j, "date_modified", buf);
  cJSON_AddStringToObject(j, "date_modified_gmt", buf);
  return j;
}

/* ---- queue ---- */

static void enqueue_locked(job_t *j) {
  job_t **pp = &queue;
  while (*pp && (*pp)->due <= j->due) pp = &(*pp)->next;
  j->next = *pp;
  *pp = j;
  queued++;
  pthread_cond_signal(&q_cv);
}

static void enqueue(job_t *j) {
  pthread_mutex_lock(&q_mu);
  if (stopping) {
    free(j->body);
    free(j);
  } else {
    enqueue_locked(j);
  }
  pthread_mutex_unlock(&q_mu);
}

/* WooCommerce keeps at most one pending delivery per webhook and resource. */
static bool already_pending(const store_t *s, uint64_t webhook_id, uint64_t resource_id) {
  bool found = false;
  pthread_mutex_lock(&q_mu);
  for (job_t *j = queue; j && !found; j = j->next)
    found = j->webhook_id == webhook_id && j->resource_id == resource_id && strcmp(j->store_id, s->id) == 0;
  pthread_mutex_unlock(&q_mu);
  return found;
}

static const char *woo_topic_for(const char *event) {
  if (strcmp(event, EV_ORDER_CREATE) == 0) return "order.created";
  if (strcmp(event, EV_ORDER_UPDATED) == 0 || strcmp(event, EV_ORDER_CANCELLED) == 0) return "order.updated";
  if (strcmp(event, EV_PRODUCT_UPDATE) == 0) return "product.updated";
  return NULL;
}

void webhooks_emit(store_t *s, const char *event, uint64_t resource_id) {
  const char *topic = s->platform == PLATFORM_SHOPIFY ? event : woo_topic_for(event);
  if (!topic) return;
  char *snapshot = NULL;
  for (size_t i = 0; i < s->nwebhooks; i++) {
    webhook_t *w = &s->webhooks[i];
    if (strcmp(w->topic, topic) != 0) continue;
    if (s->platform == PLATFORM_WOO && (strcmp(w->status, "active") != 0 || already_pending(s, w->id, resource_id)))
      continue;
    job_t *j = xcalloc(1, sizeof *j);
    snprintf(j->store_id, sizeof j->store_id, "%s", s->id);
    snprintf(j->topic, sizeof j->topic, "%s", topic);
    j->webhook_id = w->id;
    j->resource_id = resource_id;
    j->due = mono_ms() + clock_real_delay(s->webhook_delay_ms);
    if (s->platform == PLATFORM_SHOPIFY) {
      if (!snapshot) snapshot = webhook_body(s, topic, resource_id);
      j->body = xstrdup(snapshot);
      random_uuid(j->event_uuid);
    }
    enqueue(j);
  }
  free(snapshot);
}

unsigned webhooks_pending(void) {
  pthread_mutex_lock(&q_mu);
  unsigned n = queued + in_flight;
  pthread_mutex_unlock(&q_mu);
  return n;
}

/* ---- delivery ---- */

typedef struct {
  char *address, *body, *secret, *domain;
  char topic[48], delivery_id[64], webhook_id_hdr[64];
  platform_t platform;
} send_t;

static size_t discard(char *ptr, size_t size, size_t n, void *ud) {
  (void)ptr;
  (void)ud;
  return size * n;
}

static struct curl_slist *add_header(struct curl_slist *h, const char *name, const char *value) {
  char line[512];
  snprintf(line, sizeof line, "%s: %s", name, value);
  return curl_slist_append(h, line);
}

static struct curl_slist *build_headers(const send_t *m, const job_t *j) {
  char *sig = hmac_sha256_b64(m->secret, m->body, strlen(m->body));
  struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
  char ts[32];
  fmt_time(now_ms(), true, ts);
  if (m->platform == PLATFORM_SHOPIFY) {
    h = add_header(h, "X-Shopify-Topic", m->topic);
    h = add_header(h, "X-Shopify-Hmac-Sha256", sig);
    h = add_header(h, "X-Shopify-Shop-Domain", m->domain);
    h = add_header(h, "X-Shopify-Webhook-Id", j->event_uuid);
    h = add_header(h, "X-Shopify-Event-Id", j->event_uuid);
    h = add_header(h, "X-Shopify-API-Version", "2026-07");
    h = add_header(h, "X-Shopify-Triggered-At", ts);
  } else {
    char resource[48];
    snprintf(resource, sizeof resource, "%s", m->topic);
    char *dot = strchr(resource, '.');
    if (dot) *dot = '\0';
    char source[300];
    snprintf(source, sizeof source, "https://%s/", m->domain);
    h = add_header(h, "X-WC-Webhook-Source", source);
    h = add_header(h, "X-WC-Webhook-Topic", m->topic);
    h = add_header(h, "X-WC-Webhook-Resource", resource);
    h = add_header(h, "X-WC-Webhook-Event", dot ? dot + 1 : "");
    h = add_header(h, "X-WC-Webhook-Signature", sig);
    h = add_header(h, "X-WC-Webhook-ID", m->webhook_id_hdr);
    h = add_header(h, "X-WC-Webhook-Delivery-ID", m->delivery_id);
  }
  free(sig);
  return h;
}

static long post(CURL *curl, const send_t *m, const job_t *j) {
  struct curl_slist *h = build_headers(m, j);
  curl_easy_reset(curl);
  curl_easy_setopt(curl, CURLOPT_URL, m->address);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, m->body);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(m->body));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)WEBHOOK_TIMEOUT_MS);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)WEBHOOK_TIMEOUT_MS);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, m->platform == PLATFORM_SHOPIFY ? "Shopify-Captain-Hook" : "WooCommerce/9.4.0 Hookshot (WordPress/6.7)");
  long status = 0;
  if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(h);
  return status;
}

static void record(store_t *s, const job_t *j, const send_t *m, long status, const char *outcome) {
  delivery_t d = {.webhook_id = j->webhook_id, .attempt = j->attempt + 1, .status = (int)status, .ms = now_ms()};
  snprintf(d.topic, sizeof d.topic, "%s", j->topic);
  snprintf(d.delivery_id, sizeof d.delivery_id, "%s", m && m->platform == PLATFORM_WOO ? m->delivery_id : j->event_uuid);
  snprintf(d.outcome, sizeof d.outcome, "%s", outcome);
  store_log_delivery(s, &d);
  cJSON *f = cJSON_CreateObject();
  cJSON_AddStringToObject(f, "store", s->id);
  cJSON_AddStringToObject(f, "topic", j->topic);
  cJSON_AddNumberToObject(f, "webhook_id", (double)j->webhook_id);
  cJSON_AddNumberToObject(f, "attempt", j->attempt + 1);
  cJSON_AddNumberToObject(f, "status", (double)status);
  cJSON_AddStringToObject(f, "outcome", outcome);
  log_json(strcmp(outcome, "delivered") == 0 ? "debug" : "info", "webhook", f);
}

/* Reads what the delivery needs under the store lock. false: nothing to send. */
static bool prepare(store_t *s, job_t *j, send_t *m) {
  webhook_t *w = store_find_webhook(s, j->webhook_id);
  if (!w || (s->platform == PLATFORM_WOO && strcmp(w->status, "active") != 0)) return false;
  if (faults_drop_webhook(&s->faults)) {
    s->counters.webhooks_dropped++;
    record(s, j, NULL, 0, "dropped");
    return false;
  }
  m->platform = s->platform;
  m->body = s->platform == PLATFORM_SHOPIFY ? xstrdup(j->body) : webhook_body(s, j->topic, j->resource_id);
  if (!m->body) return false;
  m->address = xstrdup(w->address);
  m->secret = xstrdup(w->secret);
  m->domain = xstrdup(s->shop_domain);
  snprintf(m->topic, sizeof m->topic, "%s", j->topic);
  snprintf(m->webhook_id_hdr, sizeof m->webhook_id_hdr, "%llu", (unsigned long long)w->id);
  char uuid[37];
  random_uuid(uuid);
  size_t k = 0;
  for (const char *c = uuid; *c && k < 32; c++)
    if (*c != '-') m->delivery_id[k++] = *c;
  m->delivery_id[k] = '\0';
  return true;
}

/* Applies the outcome; returns true when the job goes back in the queue. */
static bool settle(store_t *s, job_t *j, const send_t *m, long status) {
  webhook_t *w = store_find_webhook(s, j->webhook_id);
  bool ok = status >= 200 && status < 300;
  if (ok) s->counters.webhooks_sent++;
  else s->counters.webhooks_failed++;
  if (!w) return false;
  if (ok) {
    w->failures = 0;
    record(s, j, m, status, "delivered");
    return false;
  }
  w->failures++;
  if (s->platform == PLATFORM_WOO) {
    bool disable = w->failures > WOO_MAX_FAILURES;
    if (disable) set_str(&w->status, "disabled");
    record(s, j, m, status, disable ? "disabled" : "failed");
    return false;
  }
  if (j->attempt < SHOPIFY_WEBHOOK_RETRIES) {
    record(s, j, m, status, "failed");
    j->due = mono_ms() + clock_real_delay(retry_delay_s[j->attempt] * 1000);
    j->attempt++;
    return true;
  }
  record(s, j, m, status, "deleted");
  store_remove_webhook(s, j->webhook_id);
  return false;
}

static void free_send(send_t *m) {
  free(m->address);
  free(m->body);
  free(m->secret);
  free(m->domain);
}

static void deliver(CURL *curl, job_t *j) {
  store_t *s = store_find(j->store_id);
  send_t m = {0};
  bool send = false, again = false;
  if (s) {
    pthread_mutex_lock(&s->mu);
    send = prepare(s, j, &m);
    pthread_mutex_unlock(&s->mu);
  }
  if (send) {
    long status = post(curl, &m, j);
    pthread_mutex_lock(&s->mu);
    again = settle(s, j, &m, status);
    pthread_mutex_unlock(&s->mu);
  }
  free_send(&m);
  if (again) {
    j->started = false;
    enqueue(j);
  } else {
    free(j->body);
    free(j);
  }
}

static job_t *next_due(void) {
  for (;;) {
    if (stopping) return NULL;
    int64_t now = mono_ms();
    if (queue && queue->due <= now) {
      job_t *j = queue;
      queue = j->next;
      queued--;
      in_flight++;
      return j;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t wait = queue ? queue->due - now : 1000;
    if (wait > 1000) wait = 1000;
    ts.tv_sec += wait / 1000;
    ts.tv_nsec += (wait % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&q_cv, &q_mu, &ts);
  }
}

static void *worker(void *arg) {
  (void)arg;
  CURL *curl = curl_easy_init();
  pthread_mutex_lock(&q_mu);
  for (;;) {
    job_t *j = next_due();
    if (!j) break;
    pthread_mutex_unlock(&q_mu);
    deliver(curl, j);
    pthread_mutex_lock(&q_mu);
    in_flight--;
  }
  pthread_mutex_unlock(&q_mu);
  curl_easy_cleanup(curl);
  return NULL;
}

void webhooks_start(unsigned threads) {
  nworkers = threads ? threads : 1;
  workers = xcalloc(nworkers, sizeof *workers);
  stopping = false;
  for (unsigned i = 0; i < nworkers; i++) pthread_create(&workers[i], NULL, worker, NULL);
}

void webhooks_stop(void) {
  pthread_mutex_lock(&q_mu);
  stopping = true;
  pthread_cond_broadcast(&q_cv);
  pthread_mutex_unlock(&q_mu);
  for (unsigned i = 0; i < nworkers; i++) pthread_join(workers[i], NULL);
  free(workers);
  workers = NULL;
  while (queue) {
    job_t *j = queue;
    queue = j->next;
    free(j->body);
    free(j);
  }
  queued = 0;
}
