/* The contract's date-time (RFC 3339, e.g. 2026-11-25T10:00:00.250+01:00)
 * as milliseconds since the epoch, for the end-to-end latency metric. */
#ifndef SP_OCCURRED_H
#define SP_OCCURRED_H

#include <stdint.h>

/* 0 when the text is not such a date-time. */
int64_t sp_occurred_ms(const char *rfc3339);

#endif
