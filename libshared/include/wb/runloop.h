/* Graceful stop: SIGTERM and SIGINT set a flag (and wake a pipe) that every
 * loop in a service watches. The service then stops taking new work, finishes
 * what is in flight, commits its offsets and exits 0. SIGPIPE is ignored, so a
 * peer that hangs up is an error return, not a dead process. */
#ifndef WB_RUNLOOP_H
#define WB_RUNLOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void wb_runloop_init(void);
bool wb_stopping(void);
void wb_request_stop(void);
/* A descriptor that becomes readable once a stop was requested. */
int wb_stop_fd(void);
/* Sleeps up to ms, returning early when a stop is requested. Returns true
 * when it slept the whole time. */
bool wb_sleep_ms(int ms);

/* Liveness: the main loop calls wb_heartbeat() each turn; /healthz reads it. */
void wb_heartbeat(void);
int64_t wb_heartbeat_age_ms(void);

/* Monotonic and wall clocks in milliseconds. */
int64_t wb_monotonic_ms(void);
int64_t wb_wall_ms(void);
/* RFC 3339 UTC with milliseconds: 2026-11-25T10:00:00.123Z (buf >= 32). */
void wb_format_time(int64_t wall_ms, char *buf, size_t size);

#endif
