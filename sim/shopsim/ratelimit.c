#include "ratelimit.h"
#include "util.h"

#include <math.h>
#include <string.h>

/* Restore rates per plan as Shopify documents them for the GraphQL Admin API. */
static const struct {
  const char *name;
  double rate;
} plans[] = {{"standard", 100}, {"advanced", 200}, {"plus", 1000}, {"enterprise", 2000}};

int plan_parse(const char *name) {
  if (!name) return 0;
  for (int i = 0; i < 4; i++)
    if (strcmp(plans[i].name, name) == 0) return i;
  return -1;
}
const char *plan_name(int plan) { return plans[plan].name; }
double plan_restore_rate(int plan) { return plans[plan].rate; }

int throttle_mode_parse(const char *name) {
  if (!name || strcmp(name, "alternate") == 0) return THROTTLE_ALTERNATE;
  if (strcmp(name, "graphql") == 0 || strcmp(name, "200") == 0) return THROTTLE_GRAPHQL;
  if (strcmp(name, "http429") == 0 || strcmp(name, "429") == 0) return THROTTLE_HTTP429;
  return -1;
}
const char *throttle_mode_name(throttle_mode_t m) {
  return m == THROTTLE_GRAPHQL ? "graphql" : m == THROTTLE_HTTP429 ? "http429" : "alternate";
}

void bucket_init(bucket_t *b, double size, double rate) {
  b->size = size;
  b->available = size;
  b->rate = rate;
  b->last_ms = mono_ms();
}

void bucket_refill(bucket_t *b) {
  int64_t now = mono_ms();
  double gained = (double)(now - b->last_ms) / 1000.0 * b->rate;
  b->available = fmin(b->size, b->available + gained);
  b->last_ms = now;
}

bool bucket_take(bucket_t *b, double cost) {
  bucket_refill(b);
  if (cost > b->available) return false;
  b->available -= cost;
  return true;
}

void bucket_refund(bucket_t *b, double amount) {
  if (amount > 0) b->available = fmin(b->size, b->available + amount);
}

int bucket_retry_after(const bucket_t *b, double cost) {
  double missing = cost - b->available;
  int secs = (int)ceil(missing / b->rate);
  return secs < 1 ? 1 : secs;
}
