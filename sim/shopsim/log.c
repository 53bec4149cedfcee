#include "log.h"
#include "util.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static int g_debug;

void log_set_debug(int on) { g_debug = on; }
int log_debug_enabled(void) { return g_debug; }

void log_json(const char *level, const char *msg, cJSON *fields) {
  if (!g_debug && strcmp(level, "debug") == 0) {
    cJSON_Delete(fields);
    return;
  }
  cJSON *line = cJSON_CreateObject();
  char ts[32];
  fmt_time(now_ms(), true, ts);
  cJSON_AddStringToObject(line, "ts", ts);
  cJSON_AddStringToObject(line, "level", level);
  cJSON_AddStringToObject(line, "service", "shopsim");
  cJSON_AddStringToObject(line, "msg", msg);
  if (fields) {
    cJSON *item = fields->child;
    while (item) {
      cJSON *next = item->next;
      cJSON_AddItemToObject(line, item->string, cJSON_Duplicate(item, 1));
      item = next;
    }
    cJSON_Delete(fields);
  }
  char *text = json_print(line);
  pthread_mutex_lock(&log_mu);
  fputs(text, stdout);
  fputc('\n', stdout);
  fflush(stdout);
  pthread_mutex_unlock(&log_mu);
  free(text);
  cJSON_Delete(line);
}

void log_kv(const char *level, const char *msg, ...) {
  cJSON *fields = cJSON_CreateObject();
  va_list ap;
  va_start(ap, msg);
  for (;;) {
    const char *k = va_arg(ap, const char *);
    if (!k) break;
    const char *v = va_arg(ap, const char *);
    cJSON_AddStringToObject(fields, k, v ? v : "");
  }
  va_end(ap);
  log_json(level, msg, fields);
}
