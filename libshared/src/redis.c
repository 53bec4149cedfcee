/* Redis connection, reconnect, hash-tagged keys and Lua scripts by SHA. */
#include "wb/redis.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "wb/log.h"

typedef struct {
    char host[256];
    int port;
    char password[256];
    int db;
} redis_addr;

struct wb_redis {
    redis_addr addr;
    redisContext *ctx;
    char error[256];
};

/* redis://[[user]:password@]host[:port][/db] */
static int parse_url(const char *url, redis_addr *a, char *err, size_t err_size) {
    memset(a, 0, sizeof *a);
    a->port = 6379;
    if (strncmp(url, "redis://", 8) != 0) {
        snprintf(err, err_size, "redis URL must start with redis://");
        return -1;
    }
    const char *p = url + 8, *at = strchr(p, '@'), *slash;
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (colon) snprintf(a->password, sizeof a->password, "%.*s", (int)(at - colon - 1), colon + 1);
        p = at + 1;
    }
    slash = strchr(p, '/');
    size_t hostport_len = slash ? (size_t)(slash - p) : strlen(p);
    const char *colon = memchr(p, ':', hostport_len);
    size_t host_len = colon ? (size_t)(colon - p) : hostport_len;
    if (host_len == 0 || host_len >= sizeof a->host) {
        snprintf(err, err_size, "redis URL has no host");
        return -1;
    }
    memcpy(a->host, p, host_len);
    if (colon) a->port = atoi(colon + 1);
    if (slash && slash[1]) a->db = atoi(slash + 1);
    if (a->port <= 0 || a->port > 65535) {
        snprintf(err, err_size, "redis URL has a bad port");
        return -1;
    }
    return 0;
}

static bool reply_ok(redisReply *r) { return r && r->type != REDIS_REPLY_ERROR; }

static redisContext *open_ctx(const redis_addr *a, int timeout_ms, char *err, size_t err_size) {
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    redisContext *ctx = redisConnectWithTimeout(a->host, a->port, tv);
    if (!ctx || ctx->err) {
        snprintf(err, err_size, "cannot connect to %s:%d: %s", a->host, a->port,
                 ctx ? ctx->errstr : "out of memory");
        redisFree(ctx);
        return NULL;
    }
    redisSetTimeout(ctx, (struct timeval){5, 0});
    redisReply *r = NULL;
    if (a->password[0]) {
        r = redisCommand(ctx, "AUTH %s", a->password);
        if (!reply_ok(r)) {
            snprintf(err, err_size, "redis AUTH failed");
            goto fail;
        }
        freeReplyObject(r);
    }
    if (a->db) {
        r = redisCommand(ctx, "SELECT %d", a->db);
        if (!reply_ok(r)) {
            snprintf(err, err_size, "redis SELECT %d failed", a->db);
            goto fail;
        }
        freeReplyObject(r);
    }
    return ctx;
fail:
    if (r) freeReplyObject(r);
    redisFree(ctx);
    return NULL;
}

wb_redis *wb_redis_connect(const char *url, char *err, size_t err_size) {
    redis_addr a;
    if (parse_url(url, &a, err, err_size) != 0) return NULL;
    redisContext *ctx = open_ctx(&a, 5000, err, err_size);
    if (!ctx) return NULL;
    wb_redis *r = calloc(1, sizeof *r);
    r->addr = a;
    r->ctx = ctx;
    return r;
}

const char *wb_redis_error(const wb_redis *r) { return r->error; }

static bool reconnect(wb_redis *r) {
    char err[256];
    redisContext *ctx = open_ctx(&r->addr, 2000, err, sizeof err);
    if (!ctx) {
        snprintf(r->error, sizeof r->error, "%s", err);
        return false;
    }
    redisFree(r->ctx);
    r->ctx = ctx;
    wb_info(NULL, "redis: reconnected");
    return true;
}

redisReply *wb_redis_argv(wb_redis *r, int argc, const char **argv, const size_t *lens) {
    for (int attempt = 0; attempt < 2; attempt++) {
        if (r->ctx && !r->ctx->err) {
            redisReply *reply = redisCommandArgv(r->ctx, argc, argv, lens);
            if (reply) return reply;
            snprintf(r->error, sizeof r->error, "redis: %s", r->ctx->errstr);
        }
        if (attempt == 0 && !reconnect(r)) return NULL;
    }
    return NULL;
}

redisReply *wb_redis_command(wb_redis *r, const char *fmt, ...) {
    for (int attempt = 0; attempt < 2; attempt++) {
        if (r->ctx && !r->ctx->err) {
            va_list ap;
            va_start(ap, fmt);
            redisReply *reply = redisvCommand(r->ctx, fmt, ap);
            va_end(ap);
            if (reply) return reply;
            snprintf(r->error, sizeof r->error, "redis: %s", r->ctx->errstr);
        }
        if (attempt == 0 && !reconnect(r)) return NULL;
    }
    return NULL;
}

void wb_redis_close(wb_redis *r) {
    if (!r) return;
    redisFree(r->ctx);
    free(r);
}

static bool load_script(wb_redis *r, wb_redis_script *s) {
    redisReply *reply = wb_redis_command(r, "SCRIPT LOAD %s", s->source);
    bool ok = reply && reply->type == REDIS_REPLY_STRING && reply->len == 40;
    if (ok) memcpy(s->sha, reply->str, 41);
    else if (reply && reply->type == REDIS_REPLY_ERROR)
        snprintf(r->error, sizeof r->error, "SCRIPT LOAD failed: %.200s", reply->str);
    if (reply) freeReplyObject(reply);
    return ok;
}

redisReply *wb_redis_eval(wb_redis *r, wb_redis_script *script, int key_count, int argc,
                          const char **argv) {
    if (!script->sha[0] && !load_script(r, script)) return NULL;
    int n = argc + 3;
    const char **args = malloc(sizeof(char *) * (size_t)n);
    size_t *lens = malloc(sizeof(size_t) * (size_t)n);
    char keys[16];
    snprintf(keys, sizeof keys, "%d", key_count);
    args[0] = "EVALSHA";
    args[1] = script->sha;
    args[2] = keys;
    for (int i = 0; i < argc; i++) args[i + 3] = argv[i];
    for (int i = 0; i < n; i++) lens[i] = strlen(args[i]);
    redisReply *reply = wb_redis_argv(r, n, args, lens);
    /* A restarted or flushed Redis forgets scripts: load again and retry. */
    if (reply && reply->type == REDIS_REPLY_ERROR && strncmp(reply->str, "NOSCRIPT", 8) == 0) {
        freeReplyObject(reply);
        reply = load_script(r, script) ? wb_redis_argv(r, n, args, lens) : NULL;
    }
    free(args);
    free(lens);
    return reply;
}

int wb_redis_key(char *buf, size_t size, const char *store, const char *kind,
                 const char *rest) {
    int n = rest ? snprintf(buf, size, "wb:{%s}:%s:%s", store, kind, rest)
                 : snprintf(buf, size, "wb:{%s}:%s", store, kind);
    return n < 0 || (size_t)n >= size ? -1 : n;
}

int wb_redis_ping(const char *url, char *reason, size_t reason_size) {
    redis_addr a;
    char err[256];
    if (parse_url(url, &a, err, sizeof err) != 0) {
        snprintf(reason, reason_size, "redis: %s", err);
        return -1;
    }
    redisContext *ctx = open_ctx(&a, 2000, err, sizeof err);
    if (!ctx) {
        snprintf(reason, reason_size, "redis unreachable: %s", err);
        return -1;
    }
    redisReply *r = redisCommand(ctx, "PING");
    int rc = r && r->type == REDIS_REPLY_STATUS ? 0 : -1;
    if (rc) snprintf(reason, reason_size, "redis: PING failed");
    if (r) freeReplyObject(r);
    redisFree(ctx);
    return rc;
}
