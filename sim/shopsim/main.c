/* shopsim: many simulated Shopify and WooCommerce stores in one process.
 * Wiring only: configuration, the HTTP server, the webhook workers, stores
 * from a file, and a clean stop on SIGTERM/SIGINT. */
#include <curl/curl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "http.h"
#include "log.h"
#include "store.h"
#include "util.h"
#include "webhooks.h"

typedef struct {
  unsigned port, threads, webhook_threads;
  char bind[64];
  double clock_factor;
  const char *stores_file;
  bool debug;
} config_t;

static const char *env_or(const char *name, const char *dflt) {
  const char *v = getenv(name);
  return v && *v ? v : dflt;
}

static void usage(void) {
  fprintf(stderr,
          "usage: shopsim [--port N] [--bind ADDR] [--threads N] [--webhook-threads N]\n"
          "               [--clock-factor F] [--stores FILE] [--debug]\n"
          "env: WB_SHOPSIM_PORT (8787; 0 = any free port), WB_SHOPSIM_BIND (127.0.0.1),\n"
          "     WB_SHOPSIM_THREADS (4), WB_SHOPSIM_WEBHOOK_THREADS (4), WB_SHOPSIM_CLOCK_FACTOR (1),\n"
          "     WB_SHOPSIM_STORES (JSON file: array of store configs), WB_SHOPSIM_LOG_LEVEL (info|debug)\n");
}

static bool parse_config(int argc, char **argv, config_t *cfg) {
  cfg->port = (unsigned)atoi(env_or("WB_SHOPSIM_PORT", "8787"));
  snprintf(cfg->bind, sizeof cfg->bind, "%s", env_or("WB_SHOPSIM_BIND", "127.0.0.1"));
  cfg->threads = (unsigned)atoi(env_or("WB_SHOPSIM_THREADS", "4"));
  cfg->webhook_threads = (unsigned)atoi(env_or("WB_SHOPSIM_WEBHOOK_THREADS", "4"));
  cfg->clock_factor = atof(env_or("WB_SHOPSIM_CLOCK_FACTOR", "1"));
  cfg->stores_file = getenv("WB_SHOPSIM_STORES");
  cfg->debug = strcmp(env_or("WB_SHOPSIM_LOG_LEVEL", "info"), "debug") == 0;
  static const struct option opts[] = {{"port", required_argument, 0, 'p'},    {"bind", required_argument, 0, 'b'},
                                       {"threads", required_argument, 0, 't'}, {"webhook-threads", required_argument, 0, 'w'},
                                       {"clock-factor", required_argument, 0, 'c'}, {"stores", required_argument, 0, 's'},
                                       {"debug", no_argument, 0, 'd'},          {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  int ch;
  while ((ch = getopt_long(argc, argv, "p:b:t:w:c:s:dh", opts, NULL)) != -1) {
    switch (ch) {
      case 'p': cfg->port = (unsigned)atoi(optarg); break;
      case 'b': snprintf(cfg->bind, sizeof cfg->bind, "%s", optarg); break;
      case 't': cfg->threads = (unsigned)atoi(optarg); break;
      case 'w': cfg->webhook_threads = (unsigned)atoi(optarg); break;
      case 'c': cfg->clock_factor = atof(optarg); break;
      case 's': cfg->stores_file = optarg; break;
      case 'd': cfg->debug = true; break;
      default: usage(); return false;
    }
  }
  if (cfg->threads < 1) cfg->threads = 1;
  if (cfg->threads > 64) cfg->threads = 64;
  return true;
}

static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = xmalloc((size_t)n + 1);
  size_t got = fread(buf, 1, (size_t)n, f);
  buf[got] = '\0';
  fclose(f);
  return buf;
}

/* Stores given at start-up: a JSON array of the control API's store bodies
 * (each may carry "seed" and "webhooks": [{topic, address}]). */
static bool load_stores(const char *path) {
  char *text = read_file(path);
  cJSON *arr = text ? cJSON_Parse(text) : NULL;
  free(text);
  if (!cJSON_IsArray(arr)) {
    log_kv("error", "cannot read stores file", "path", path, NULL);
    cJSON_Delete(arr);
    return false;
  }
  const cJSON *cfg;
  cJSON_ArrayForEach(cfg, arr) {
    char err[200];
    store_t *s = store_create(cfg, err, sizeof err);
    if (!s) {
      log_kv("error", "bad store in stores file", "error", err, NULL);
      continue;
    }
    pthread_mutex_lock(&s->mu);
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(cfg, "seed");
    if (cJSON_IsObject(seed)) cJSON_Delete(control_seed(s, seed));
    const cJSON *w;
    cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(cfg, "webhooks")) if (jstr(w, "topic") && jstr(w, "address"))
        webhook_add(s, jstr(w, "topic"), jstr(w, "address"), jstr(w, "secret"), NULL);
    pthread_mutex_unlock(&s->mu);
    log_kv("info", "store created", "store", s->id, NULL);
  }
  cJSON_Delete(arr);
  return true;
}

static void log_listening(const config_t *cfg) {
  cJSON *f = cJSON_CreateObject();
  cJSON_AddNumberToObject(f, "port", http_bound_port());
  cJSON_AddStringToObject(f, "bind", cfg->bind);
  cJSON_AddNumberToObject(f, "threads", cfg->threads);
  cJSON_AddNumberToObject(f, "clock_factor", clock_factor());
  log_json("info", "listening", f);
}

int main(int argc, char **argv) {
  config_t cfg;
  if (!parse_config(argc, argv, &cfg)) return 2;
  log_set_debug(cfg.debug);
  clock_set_factor(cfg.clock_factor);
  /* Block the stop signals in every thread; main waits for them with sigwait. */
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, NULL);
  signal(SIGPIPE, SIG_IGN);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  stores_init();
  if (cfg.stores_file && !load_stores(cfg.stores_file)) return 1;
  webhooks_start(cfg.webhook_threads);
  http_config hc = {.port = cfg.port, .bind = cfg.bind, .threads = cfg.threads};
  if (!http_start(&hc)) {
    log_kv("error", "cannot listen", "bind", cfg.bind, NULL);
    webhooks_stop();
    return 1;
  }
  log_listening(&cfg);
  int sig = 0;
  sigwait(&stop, &sig);
  log_kv("info", "stopping", "signal", sig == SIGTERM ? "SIGTERM" : "SIGINT", NULL);
  http_stop();
  webhooks_stop();
  stores_shutdown();
  curl_global_cleanup();
  log_kv("info", "stopped", NULL);
  return 0;
}
