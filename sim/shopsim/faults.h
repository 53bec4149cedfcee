/* Fault injection per store: errors, throttling, slow replies, connection
 * resets, dropped webhooks. Each fault has a rate (0..1, random) and a
 * "next N" counter (deterministic, for tests); the counter wins. */
#ifndef SHOPSIM_FAULTS_H
#define SHOPSIM_FAULTS_H
#include <cjson/cJSON.h>
#include <stdbool.h>

typedef struct {
  double error_rate;
  int next_errors;
  int error_status; /* 500, 502, 503 ... default 503 */
  double throttle_rate;
  int next_throttles;
  int retry_after; /* seconds in Retry-After of injected 429s */
  int slow_ms;
  double slow_rate; /* share of requests made slow; 1 when only slow_ms is set */
  double reset_rate;
  int next_resets;
  double drop_webhook_rate;
  int next_drop_webhooks;
  unsigned rng;
} faults_t;

typedef enum { FAULT_NONE, FAULT_ERROR, FAULT_THROTTLE, FAULT_RESET } fault_kind;

typedef struct {
  fault_kind kind;
  int status;
  int retry_after;
  int slow_ms;
} fault_decision;

void faults_init(faults_t *f, unsigned seed);
/* Applies the fields present in cfg; absent fields keep their value. */
void faults_configure(faults_t *f, const cJSON *cfg);
cJSON *faults_json(const faults_t *f);
/* What to do with the next API request (caller holds the store lock). */
fault_decision faults_decide(faults_t *f);
bool faults_drop_webhook(faults_t *f);
#endif
