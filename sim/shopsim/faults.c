#include "faults.h"
#include "util.h"

#include <string.h>

void faults_init(faults_t *f, unsigned seed) {
  memset(f, 0, sizeof *f);
  f->error_status = 503;
  f->retry_after = 2;
  f->rng = seed ? seed : 1;
}

/* xorshift: cheap, and reproducible per store for a given seed. */
static double next_random(faults_t *f) {
  unsigned x = f->rng;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  f->rng = x;
  return (double)(x % 1000000u) / 1000000.0;
}

static void read_rate(const cJSON *cfg, const char *key, double *dst) {
  double d;
  if (jnum(cfg, key, &d)) *dst = d < 0 ? 0 : (d > 1 ? 1 : d);
}

static void read_int(const cJSON *cfg, const char *key, int *dst) {
  double d;
  if (jnum(cfg, key, &d)) *dst = d < 0 ? 0 : d > 1e9 ? 1000000000 : (int)d;
}

void faults_configure(faults_t *f, const cJSON *cfg) {
  read_rate(cfg, "error_rate", &f->error_rate);
  read_int(cfg, "next_errors", &f->next_errors);
  read_int(cfg, "error_status", &f->error_status);
  if (f->error_status < 500 || f->error_status > 599) f->error_status = 503;
  read_rate(cfg, "throttle_rate", &f->throttle_rate);
  read_int(cfg, "next_throttles", &f->next_throttles);
  read_int(cfg, "retry_after", &f->retry_after);
  read_int(cfg, "slow_ms", &f->slow_ms);
  read_rate(cfg, "slow_rate", &f->slow_rate);
  if (f->slow_ms && !cJSON_GetObjectItemCaseSensitive(cfg, "slow_rate") && f->slow_rate == 0)
    f->slow_rate = 1;
  read_rate(cfg, "reset_rate", &f->reset_rate);
  read_int(cfg, "next_resets", &f->next_resets);
  read_rate(cfg, "drop_webhook_rate", &f->drop_webhook_rate);
  read_int(cfg, "next_drop_webhooks", &f->next_drop_webhooks);
  double seed;
  if (jnum(cfg, "seed", &seed)) f->rng = (unsigned)seed ? (unsigned)seed : 1;
}

cJSON *faults_json(const faults_t *f) {
  cJSON *j = cJSON_CreateObject();
  cJSON_AddNumberToObject(j, "error_rate", f->error_rate);
  cJSON_AddNumberToObject(j, "next_errors", f->next_errors);
  cJSON_AddNumberToObject(j, "error_status", f->error_status);
  cJSON_AddNumberToObject(j, "throttle_rate", f->throttle_rate);
  cJSON_AddNumberToObject(j, "next_throttles", f->next_throttles);
  cJSON_AddNumberToObject(j, "retry_after", f->retry_after);
  cJSON_AddNumberToObject(j, "slow_ms", f->slow_ms);
  cJSON_AddNumberToObject(j, "slow_rate", f->slow_rate);
  cJSON_AddNumberToObject(j, "reset_rate", f->reset_rate);
  cJSON_AddNumberToObject(j, "next_resets", f->next_resets);
  cJSON_AddNumberToObject(j, "drop_webhook_rate", f->drop_webhook_rate);
  cJSON_AddNumberToObject(j, "next_drop_webhooks", f->next_drop_webhooks);
  return j;
}

static bool hit(faults_t *f, int *next, double rate) {
  if (*next > 0) {
    (*next)--;
    return true;
  }
  return rate > 0 && next_random(f) < rate;
}

fault_decision faults_decide(faults_t *f) {
  fault_decision d = {FAULT_NONE, 0, 0, 0};
  if (f->slow_ms > 0 && f->slow_rate > 0 && next_random(f) < f->slow_rate) d.slow_ms = f->slow_ms;
  if (hit(f, &f->next_resets, f->reset_rate)) {
    d.kind = FAULT_RESET;
  } else if (hit(f, &f->next_errors, f->error_rate)) {
    d.kind = FAULT_ERROR;
    d.status = f->error_status;
  } else if (hit(f, &f->next_throttles, f->throttle_rate)) {
    d.kind = FAULT_THROTTLE;
    d.status = 429;
    d.retry_after = f->retry_after;
  }
  return d;
}

bool faults_drop_webhook(faults_t *f) {
  return hit(f, &f->next_drop_webhooks, f->drop_webhook_rate);
}
