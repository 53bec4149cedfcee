/* JSON-lines logging with redaction (see wb/log.h). Lines are built whole and
 * written with one fwrite under a lock, so lines from threads never interleave. */
#include "wb/log.h"

#include <ctype.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "wb/runloop.h"

#define MAX_SECRETS 256
#define REDACTED "[REDACTED]"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char service_name[64] = "wmsbridge";
static wb_log_level min_level = WB_LOG_INFO;
static FILE *log_out;
static char *secrets[MAX_SECRETS];
static int secret_count;

static const char *level_names[] = {"debug", "info", "warn", "error"};

void wb_log_init(const char *service, wb_log_level level) {
    pthread_mutex_lock(&log_lock);
    snprintf(service_name, sizeof service_name, "%s", service);
    min_level = level;
    pthread_mutex_unlock(&log_lock);
}

int wb_log_parse_level(const char *text, wb_log_level *out) {
    for (int i = 0; i < 4; i++) {
        if (text && strcmp(text, level_names[i]) == 0) {
            *out = (wb_log_level)i;
            return 0;
        }
    }
    return -1;
}

void wb_log_set_output(FILE *out) {
    pthread_mutex_lock(&log_lock);
    log_out = out;
    pthread_mutex_unlock(&log_lock);
}

void wb_log_add_secret(const char *secret) {
    if (!secret || strlen(secret) < 4) return;
    pthread_mutex_lock(&log_lock);
    bool known = false;
    for (int i = 0; i < secret_count; i++)
        if (strcmp(secrets[i], secret) == 0) known = true;
    if (!known && secret_count < MAX_SECRETS) secrets[secret_count++] = strdup(secret);
    pthread_mutex_unlock(&log_lock);
}

void wb_log_clear_secrets(void) {
    pthread_mutex_lock(&log_lock);
    for (int i = 0; i < secret_count; i++) free(secrets[i]);
    secret_count = 0;
    pthread_mutex_unlock(&log_lock);
}

/* A growing output buffer that silently stops at its capacity. */
typedef struct {
    char *buf;
    size_t size, len;
} out_buf;

static void put(out_buf *o, const char *s, size_t n) {
    if (o->len + 1 >= o->size) return;
    size_t room = o->size - 1 - o->len;
    if (n > room) n = room;
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = 0;
}

static bool ieq_prefix(const char *s, const char *prefix) {
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* Credential-shaped text redacted even when nobody registered the value:
 * "password=...", "token: ...", "Authorization: Basic ...", and the password
 * of a URL's user-info (scheme://user:PASSWORD@host). Returns the length of the
 * prefix kept; *value_len receives the length of the value to redact. */
static const char *const key_words[] = {
    "password", "passwd", "secret", "token", "consumer_key", "api_key", "apikey",
    "authorization", "hmac", "signature", "access_token", "master_key", NULL};

static bool is_value_char(char c) {
    return c && !isspace((unsigned char)c) && c != '"' && c != '&' && c != ',' &&
           c != ';' && c != '\'' && c != '}' && c != ')';
}

static size_t keyword_value(const char *s, size_t *value_len) {
    for (int k = 0; key_words[k]; k++) {
        size_t kl = strlen(key_words[k]);
        if (!ieq_prefix(s, key_words[k])) continue;
        const char *p = s + kl;
        while (*p && (isalnum((unsigned char)*p) || *p == '_' || *p == '-')) p++;
        if (*p == '"' || *p == '\\') { /* JSON-ish "key":"value" */
            while (*p == '"' || *p == '\\') p++;
        }
        while (*p == ' ') p++;
        if (*p != '=' && *p != ':') continue;
        p++;
        while (*p == ' ' || *p == '"' || *p == '\\') p++;
        /* "Authorization: Basic xyz" keeps the scheme word, hides the rest. */
        if (ieq_prefix(p, "basic ") || ieq_prefix(p, "bearer ")) p = strchr(p, ' ') + 1;
        const char *v = p;
        while (is_value_char(*p) && *p != '\\') p++;
        if (p == v) continue;
        *value_len = (size_t)(p - v);
        return (size_t)(v - s);
    }
    return 0;
}

static size_t url_password(const char *s, size_t *value_len) {
    if (strncmp(s, "://", 3) != 0) return 0;
    const char *p = s + 3, *colon = NULL;
    while (is_value_char(*p) && *p != '/' && *p != '@') {
        if (*p == ':' && !colon) colon = p;
        p++;
    }
    if (*p != '@' || !colon || colon + 1 == p) return 0;
    *value_len = (size_t)(p - colon - 1);
    return (size_t)(colon + 1 - s);
}

static void redact_locked(const char *in, out_buf *o) {
    const char *p = in;
    while (*p) {
        size_t keep = 0, hide = 0;
        for (int i = 0; i < secret_count; i++) {
            size_t n = strlen(secrets[i]);
            if (strncmp(p, secrets[i], n) == 0 && n > hide) hide = n;
        }
        if (!hide) keep = keyword_value(p, &hide);
        if (!hide) keep = url_password(p, &hide);
        if (hide) {
            put(o, p, keep);
            put(o, REDACTED, strlen(REDACTED));
            p += keep + hide;
            continue;
        }
        put(o, p, 1);
        p++;
    }
}

void wb_redact(const char *in, char *out, size_t out_size) {
    if (!out_size) return;
    out[0] = 0;
    out_buf o = {out, out_size, 0};
    pthread_mutex_lock(&log_lock);
    redact_locked(in, &o);
    pthread_mutex_unlock(&log_lock);
}

void wb_log(wb_log_level level, const char *store_id, const char *fmt, ...) {
    if (level < min_level) return;
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    /* Redact the message before JSON escaping, so an escaped quote or
     * backslash inside a secret cannot hide it from the match. */
    size_t size = strlen(msg) * 2 + 64;
    char *clean = malloc(size);
    out_buf o = {clean, size, 0};
    clean[0] = 0;

    char ts[40];
    wb_format_time(wb_wall_ms(), ts, sizeof ts);
    pthread_mutex_lock(&log_lock);
    redact_locked(msg, &o);
    cJSON *line = cJSON_CreateObject();
    cJSON_AddStringToObject(line, "ts", ts);
    cJSON_AddStringToObject(line, "level", level_names[level]);
    cJSON_AddStringToObject(line, "service", service_name);
    if (store_id) cJSON_AddStringToObject(line, "store", store_id);
    cJSON_AddStringToObject(line, "msg", clean);
    char *json = cJSON_PrintUnformatted(line);
    cJSON_Delete(line);
    FILE *out = log_out ? log_out : stdout;
    fprintf(out, "%s\n", json);
    fflush(out);
    pthread_mutex_unlock(&log_lock);
    cJSON_free(json);
    free(clean);
}
