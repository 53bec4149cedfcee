/* Small shared helpers: clocks, time formatting, ids, growable arrays,
 * signing, JSON conveniences. */
#ifndef SHOPSIM_UTIL_H
#define SHOPSIM_UTIL_H
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Append one zeroed element to a malloc'd array; returns the new element. */
#define VEC_PUSH(arr, n) \
  ((arr) = xrealloc((arr), ((n) + 1) * sizeof(*(arr))), \
   memset(&(arr)[(n)], 0, sizeof(*(arr))), &(arr)[(n)++])

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s); /* NULL-safe */
void set_str(char **dst, const char *src); /* free old, dup new */

/* Wall clock in ms (timestamps on resources) and monotonic ms (delays). */
int64_t now_ms(void);
int64_t mono_ms(void);
/* The simulated clock runs `factor` times faster than real time; it only
 * shortens delays (webhook retry schedule, WooCommerce delivery period). */
void clock_set_factor(double factor);
double clock_factor(void);
/* Real milliseconds to wait for `sim_ms` simulated milliseconds. */
int64_t clock_real_delay(int64_t sim_ms);

/* "2026-11-25T10:00:00Z" (utc=true) or "2026-11-25T10:00:00" (WooCommerce). */
void fmt_time(int64_t ms, bool zulu, char out[32]);
/* Parses ISO 8601 (date, optional time, optional Z or +hh:mm). -1 on error. */
int64_t parse_time(const char *s);

/* gid://shopify/<Type>/<id> */
void gid_fmt(const char *type, uint64_t id, char out[96]);
/* Returns the numeric id if `s` is a gid of `type` (or any type when
 * type==NULL), else 0. */
uint64_t gid_parse(const char *s, const char *type);

char *base64_encode(const unsigned char *data, size_t len); /* malloc'd */
/* Decodes into out (NUL-terminated); returns the length or -1. */
int base64_decode(const char *in, unsigned char *out, size_t cap);
/* base64(HMAC-SHA256(key, data)), malloc'd. */
char *hmac_sha256_b64(const char *key, const char *data, size_t len);
/* Random hex / uuid-like strings for delivery ids. */
void random_uuid(char out[37]);
bool const_time_eq(const char *a, const char *b);

/* JSON helpers. */
const char *jstr(const cJSON *obj, const char *key);  /* NULL unless string */
bool jnum(const cJSON *obj, const char *key, double *out);
long jint(const cJSON *obj, const char *key, long dflt);
/* double -> long clamped to +-1e12: client numbers never overflow our
 * arithmetic (signed overflow is undefined behaviour). */
long clamp_long(double d);
bool jbool(const cJSON *obj, const char *key, bool dflt);
char *json_print(const cJSON *j); /* unformatted, malloc'd */
#endif
