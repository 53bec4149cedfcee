/* JSON-lines logging to stdout, one object per line:
 *   {"ts":"2026-11-25T10:00:00.123Z","level":"info","service":"order-ingest",
 *    "store":"acme-eu","msg":"..."}
 * Every line passes through redaction before it is written: values registered
 * with wb_log_add_secret() and the common shapes of credentials (passwords in
 * URLs, Authorization headers, token=/secret=/password= pairs) are replaced by
 * "[REDACTED]", so a secret cannot reach a log even through an error message
 * that quotes it. */
#ifndef WB_LOG_H
#define WB_LOG_H

#include <stddef.h>
#include <stdio.h>

typedef enum { WB_LOG_DEBUG, WB_LOG_INFO, WB_LOG_WARN, WB_LOG_ERROR } wb_log_level;

void wb_log_init(const char *service, wb_log_level min_level);
/* "debug", "info", "warn" or "error"; returns -1 for anything else. */
int wb_log_parse_level(const char *text, wb_log_level *out);
/* Where lines go (stdout by default); tests point it at a memory stream. */
void wb_log_set_output(FILE *out);
/* Registers a secret value (copied); shorter than 4 bytes is ignored. */
void wb_log_add_secret(const char *secret);
void wb_log_clear_secrets(void);

void wb_log(wb_log_level level, const char *store_id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes `in` with every secret replaced into out (always NUL-terminated). */
void wb_redact(const char *in, char *out, size_t out_size);

#define wb_debug(store, ...) wb_log(WB_LOG_DEBUG, store, __VA_ARGS__)
#define wb_info(store, ...)  wb_log(WB_LOG_INFO, store, __VA_ARGS__)
#define wb_warn(store, ...)  wb_log(WB_LOG_WARN, store, __VA_ARGS__)
#define wb_error(store, ...) wb_log(WB_LOG_ERROR, store, __VA_ARGS__)

#endif
