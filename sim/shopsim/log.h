/* JSON-lines logging to stdout: one object per line, so the local run and
 * the tests can read the simulator's log with a JSON parser. */
#ifndef SHOPSIM_LOG_H
#define SHOPSIM_LOG_H
#include <cjson/cJSON.h>

void log_set_debug(int on);
int log_debug_enabled(void);
/* Logs {"ts","level","msg", ...fields}; takes ownership of `fields` (may be NULL). */
void log_json(const char *level, const char *msg, cJSON *fields);
/* Convenience: fields given as key/value string pairs ending with NULL. */
void log_kv(const char *level, const char *msg, ...);
#endif
