#include "util.h"

#include <openssl/hmac.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) abort();
  return p;
}
void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p) abort();
  return p;
}
void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) abort();
  return q;
}
char *xstrdup(const char *s) {
  if (!s) return NULL;
  char *d = strdup(s);
  if (!d) abort();
  return d;
}
void set_str(char **dst, const char *src) {
  char *copy = xstrdup(src);
  free(*dst);
  *dst = copy;
}

int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static pthread_mutex_t clock_mu = PTHREAD_MUTEX_INITIALIZER;
static double g_factor = 1.0;

void clock_set_factor(double factor) {
  pthread_mutex_lock(&clock_mu);
  g_factor = factor > 0 ? (factor < 0.001 ? 0.001 : factor > 1e6 ? 1e6 : factor) : 1.0;
  pthread_mutex_unlock(&clock_mu);
}
double clock_factor(void) {
  pthread_mutex_lock(&clock_mu);
  double f = g_factor;
  pthread_mutex_unlock(&clock_mu);
  return f;
}
int64_t clock_real_delay(int64_t sim_ms) {
  return (int64_t)llround((double)sim_ms / clock_factor());
}

void fmt_time(int64_t ms, bool zulu, char out[32]) {
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 32, zulu ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%dT%H:%M:%S", &tm);
}

int64_t parse_time(const char *s) {
  if (!s) return -1;
  struct tm tm = {0};
  int y, mo, d, h = 0, mi = 0, sec = 0, used = 0;
  if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &used) != 3) return -1;
  const char *p = s + used;
  if (*p == 'T' || *p == ' ') {
    int n2 = 0;
    if (sscanf(p + 1, "%2d:%2d:%2d%n", &h, &mi, &sec, &n2) < 2) return -1;
    p += 1 + n2;
    if (*p == '.') {
      p++;
      while (*p >= '0' && *p <= '9') p++;
    }
  }
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  int64_t secs = (int64_t)timegm(&tm);
  if (*p == '+' || *p == '-') {
    int oh = 0, om = 0;
    sscanf(p + 1, "%2d:%2d", &oh, &om);
    int64_t off = (int64_t)oh * 3600 + om * 60;
    secs += (*p == '+') ? -off : off;
  }
  return secs * 1000;
}

void gid_fmt(const char *type, uint64_t id, char out[96]) {
  snprintf(out, 96, "gid://shopify/%s/%llu", type, (unsigned long long)id);
}

uint64_t gid_parse(const char *s, const char *type) {
  static const char prefix[] = "gid://shopify/";
  if (!s || strncmp(s, prefix, sizeof prefix - 1) != 0) return 0;
  const char *t = s + sizeof prefix - 1;
  const char *slash = strchr(t, '/');
  if (!slash) return 0;
  if (type && ((size_t)(slash - t) != strlen(type) || strncmp(t, type, strlen(type)) != 0))
    return 0;
  char *end = NULL;
  unsigned long long v = strtoull(slash + 1, &end, 10);
  if (end == slash + 1 || (*end && *end != '?')) return 0;
  return (uint64_t)v;
}

char *base64_encode(const unsigned char *data, size_t len) {
  size_t out_len = 4 * ((len + 2) / 3);
  char *out = xmalloc(out_len + 1);
  EVP_EncodeBlock((unsigned char *)out, data, (int)len);
  out[out_len] = '\0';
  return out;
}

int base64_decode(const char *in, unsigned char *out, size_t cap) {
  size_t len = strlen(in);
  if (len % 4 != 0 || (len / 4) * 3 + 1 > cap) return -1;
  int n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)len);
  if (n < 0) return -1;
  while (len > 0 && in[len - 1] == '=') { /* EVP_DecodeBlock counts padding as zero bytes */
    n--;
    len--;
  }
  out[n] = '\0';
  return n;
}

char *hmac_sha256_b64(const char *key, const char *data, size_t len) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)data, len, mac, &mac_len);
  return base64_encode(mac, mac_len);
}

void random_uuid(char out[37]) {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) memset(b, 0x5a, sizeof b);
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
  snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
           b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
           b[12], b[13], b[14], b[15]);
}

bool const_time_eq(const char *a, const char *b) {
  if (!a || !b) return false;
  size_t la = strlen(a), lb = strlen(b);
  if (la != lb) return false;
  return CRYPTO_memcmp(a, b, la) == 0;
}

const char *jstr(const cJSON *obj, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}
bool jnum(const cJSON *obj, const char *key, double *out) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (cJSON_IsNumber(v)) {
    *out = v->valuedouble;
    return true;
  }
  if (cJSON_IsString(v) && v->valuestring[0]) {
    char *end = NULL;
    double d = strtod(v->valuestring, &end);
    if (end && *end == '\0') {
      *out = d;
      return true;
    }
  }
  return false;
}
long clamp_long(double d) {
  if (!(d == d)) return 0; /* NaN */
  if (d > 1e12) return 1000000000000L;
  if (d < -1e12) return -1000000000000L;
  return (long)d;
}

long jint(const cJSON *obj, const char *key, long dflt) {
  double d;
  return jnum(obj, key, &d) ? clamp_long(d) : dflt;
}
bool jbool(const cJSON *obj, const char *key, bool dflt) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (cJSON_IsBool(v)) return cJSON_IsTrue(v);
  if (cJSON_IsString(v)) return strcmp(v->valuestring, "true") == 0 || strcmp(v->valuestring, "1") == 0;
  if (cJSON_IsNumber(v)) return v->valuedouble != 0;
  return dflt;
}
char *json_print(const cJSON *j) {
  char *s = cJSON_PrintUnformatted(j);
  if (!s) abort();
  return s;
}
