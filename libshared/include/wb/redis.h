/* Redis through hiredis: one connection per wb_redis (not shared between
 * threads), re-established when it breaks. Redis holds only what can be
 * rebuilt (debounce windows, rate-limit buckets, short locks).
 *
 * Keys carry the store as a hash tag, wb:{store}:kind:rest, so everything of
 * one store lands in one Redis Cluster slot and multi-key scripts work there.
 * Lua scripts run by SHA (EVALSHA) and are loaded when Redis answers NOSCRIPT. */
#ifndef WB_REDIS_H
#define WB_REDIS_H

#include <stddef.h>
#include <hiredis/hiredis.h>

typedef struct wb_redis wb_redis;

/* url: redis://[:password@]host:port[/db] */
wb_redis *wb_redis_connect(const char *url, char *err, size_t err_size);
/* A command with binary-safe arguments. Retries once on a fresh connection
 * when the connection broke: use it for idempotent commands and scripts.
 * Returns a reply the caller frees with freeReplyObject(), or NULL with
 * wb_redis_error(). An error reply from Redis is returned as a reply. */
redisReply *wb_redis_argv(wb_redis *r, int argc, const char **argv, const size_t *lens);
/* Same with printf-like hiredis formatting (%s, %b, %d ...). */
redisReply *wb_redis_command(wb_redis *r, const char *fmt, ...);
const char *wb_redis_error(const wb_redis *r);
void wb_redis_close(wb_redis *r);

typedef struct wb_redis_script {
    const char *source;
    char sha[41]; /* filled on first use */
} wb_redis_script;

redisReply *wb_redis_eval(wb_redis *r, wb_redis_script *script, int key_count,
                          int argc, const char **argv);

/* Writes wb:{store}:kind[:rest] into buf; returns its length or -1 if too small. */
int wb_redis_key(char *buf, size_t size, const char *store, const char *kind,
                 const char *rest);

/* Live check with its own short connection (thread-safe). */
int wb_redis_ping(const char *url, char *reason, size_t reason_size);

#endif
