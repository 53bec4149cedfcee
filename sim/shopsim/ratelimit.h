/* Shopify's leaky bucket of query cost points, one per store. */
#ifndef SHOPSIM_RATELIMIT_H
#define SHOPSIM_RATELIMIT_H
#include <stdbool.h>
#include <stdint.h>

/* How a throttled GraphQL call is answered: Shopify answers 200 with a
 * THROTTLED error, and some paths/edges answer HTTP 429; "alternate" flips
 * between the two so a client must handle both. */
typedef enum { THROTTLE_ALTERNATE, THROTTLE_GRAPHQL, THROTTLE_HTTP429 } throttle_mode_t;

typedef struct {
  double size, available, rate;
  int64_t last_ms;
} bucket_t;

int plan_parse(const char *name); /* -1 if unknown */
const char *plan_name(int plan);
double plan_restore_rate(int plan);
int throttle_mode_parse(const char *name); /* -1 if unknown */
const char *throttle_mode_name(throttle_mode_t m);

void bucket_init(bucket_t *b, double size, double rate);
void bucket_refill(bucket_t *b);
/* Refills, then takes `cost` if there is enough. */
bool bucket_take(bucket_t *b, double cost);
void bucket_refund(bucket_t *b, double amount);
/* Whole seconds until `cost` points are available (at least 1). */
int bucket_retry_after(const bucket_t *b, double cost);
#endif
