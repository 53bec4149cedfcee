/* Debounce windows in Redis (see windows.h). Scripts keep every step atomic:
 * touching a window and indexing its deadline, claiming and removing it. */
#include "windows.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb/log.h"

static void keys(int32_t partition, char *win, char *due, char *owner, size_t size) {
    snprintf(win, size, "wb:{sp:%d}:win", partition);
    snprintf(due, size, "wb:{sp:%d}:due", partition);
    snprintf(owner, size, "wb:{sp:%d}:owner", partition);
}

/* KEYS win due owner bystore; ARGV token now then (window, window_ms, first_offset, touches)... */
static wb_redis_script touch_script = {
    "if redis.call('GET', KEYS[3]) ~= ARGV[1] then return redis.error_reply('NOTOWNER') end\n"
    "local now = tonumber(ARGV[2])\n"
    "local opened = 0\n"
    "for i = 3, #ARGV, 4 do\n"
    "  local w, len, first, n = ARGV[i], tonumber(ARGV[i+1]), tonumber(ARGV[i+2]), tonumber(ARGV[i+3])\n"
    "  local cur = redis.call('HGET', KEYS[1], w)\n"
    "  if cur then\n"
    "    local o, d, f, t = string.match(cur, '^(%d+) (%d+) (%-?%d+) (%d+)$')\n"
    "    f = math.min(tonumber(f), first)\n"
    "    redis.call('HSET', KEYS[1], w, string.format('%d %d %d %d', o, d, f, tonumber(t) + n))\n"
    "  else\n"
    "    local d = now + len\n"
    "    redis.call('HSET', KEYS[1], w, string.format('%d %d %d %d', now, d, first, n))\n"
    "    redis.call('ZADD', KEYS[2], d, w)\n"
    "    redis.call('ZADD', KEYS[4], 0, w)\n"
    "    opened = opened + 1\n"
    "  end\n"
    "end\n"
    "return opened\n",
    ""};

/* KEYS win due owner bystore; ARGV token now limit, then (store, horizon)
 * pairs -> {window, value, ...}. Claims the windows of the listed stores due
 * by that store's horizon: a burst that opened its windows over a while
 * leaves in one batch, and a store left out (its last job is still out)
 * keeps its windows for later. A store's windows are found by name in
 * `bystore` (all scores 0, so ZRANGEBYLEX "[store|" .. "(store}" lists
 * them: '}' follows '|'), not by scanning every deadline up to the horizon
 * (a name in `bystore` whose window is gone is dropped). A store is claimed
 * whole or not
 * at all: the limit (windows per call) is checked between stores, oldest
 * first, never inside one, so a store's due items are not split over two
 * flushes (and two rounds of calls); the first store always goes. */
static wb_redis_script claim_script = {
    "if redis.call('GET', KEYS[3]) ~= ARGV[1] then return redis.error_reply('NOTOWNER') end\n"
    "local limit, chunk = tonumber(ARGV[3]), 1000\n"
    "local stores, lists = {}, {}\n"
    "local function each_chunk(list, fn)\n"
    "  for c = 1, #list, chunk do fn(c, math.min(c + chunk - 1, #list)) end\n"
    "end\n"
    "for i = 4, #ARGV, 2 do\n"
    "  local store, h = ARGV[i], tonumber(ARGV[i+1])\n"
    "  if not lists[store] then\n"
    "    local l, gone = {oldest = math.huge}, {}\n"
    "    stores[#stores+1] = store\n"
    "    lists[store] = l\n"
    "    local names = redis.call('ZRANGEBYLEX', KEYS[4], '[' .. store .. '|', '(' .. store .. '}')\n"
    "    each_chunk(names, function(a, b)\n"
    "      local scores = redis.call('ZMSCORE', KEYS[2], unpack(names, a, b))\n"
    "      for j = a, b do\n"
    "        local score = tonumber(scores[j - a + 1])\n"
    "        if not score then gone[#gone+1] = names[j]\n"
    "        elseif score <= h then\n"
    "          l[#l+1] = names[j]\n"
    "          if score < l.oldest then l.oldest = score end\n"
    "        end\n"
    "      end\n"
    "    end)\n"
    "    each_chunk(gone, function(a, b) redis.call('ZREM', KEYS[4], unpack(gone, a, b)) end)\n"
    "  end\n"
    "end\n"
    "table.sort(stores, function(a, b) return lists[a].oldest < lists[b].oldest end)\n"
    "local out, taken = {}, 0\n"
    "for _, store in ipairs(stores) do\n"
    "  local l = lists[store]\n"
    "  if #l > 0 then\n"
    "    if taken > 0 and taken + #l > limit then break end\n"
    "    each_chunk(l, function(a, b)\n"
    "      local values = redis.call('HMGET', KEYS[1], unpack(l, a, b))\n"
    "      redis.call('HDEL', KEYS[1], unpack(l, a, b))\n"
    "      redis.call('ZREM', KEYS[2], unpack(l, a, b))\n"
    "      redis.call('ZREM', KEYS[4], unpack(l, a, b))\n"
    "      for j = a, b do\n"
    "        local v = values[j - a + 1]\n"
    "        if v then out[#out+1] = l[j]; out[#out+1] = v end\n"
    "      end\n"
    "    end)\n"
    "    taken = taken + #l\n"
    "  end\n"
    "end\n"
    "return out\n",
    ""};

static int script_error(redisReply *reply, const char *what, wb_redis *r);

/* KEYS win bystore: every open window gets its `bystore` name. Windows
 * written by a replica older than `bystore` have none. */
static wb_redis_script index_script = {
    "local n = 0\n"
    "for _, w in ipairs(redis.call('HKEYS', KEYS[1])) do\n"
    "  n = n + redis.call('ZADD', KEYS[2], 0, w)\n"
    "end\n"
    "return n\n",
    ""};

int sp_windows_index(wb_redis *r, int32_t partition) {
    char win[64], due[64], owner[64], bystore[64];
    keys(partition, win, due, owner, sizeof win);
    snprintf(bystore, sizeof bystore, "wb:{sp:%d}:bystore", partition);
    const char *argv[] = {win, bystore};
    redisReply *reply = wb_redis_eval(r, &index_script, 2, 2, argv);
    if (!reply || reply->type != REDIS_REPLY_INTEGER) return script_error(reply, "window index", r);
    int n = (int)reply->integer;
    freeReplyObject(reply);
    return n;
}

int sp_windows_own(wb_redis *r, int32_t partition, const char *token) {
    char win[64], due[64], owner[64];
    keys(partition, win, due, owner, sizeof win);
    redisReply *reply = wb_redis_command(r, "SET %s %s", owner, token);
    int rc = reply && reply->type == REDIS_REPLY_STATUS ? 0 : -1;
    if (reply) freeReplyObject(reply);
    return rc;
}

int sp_windows_own_if_free(wb_redis *r, int32_t partition, const char *token) {
    char win[64], due[64], owner[64];
    keys(partition, win, due, owner, sizeof win);
    redisReply *reply = wb_redis_command(r, "SET %s %s NX", owner, token);
    int rc = reply && reply->type == REDIS_REPLY_STATUS ? 0 : reply && reply->type == REDIS_REPLY_NIL ? 1 : -1;
    if (reply) freeReplyObject(reply);
    return rc;
}

sp_owner_state sp_windows_check(wb_redis *r, int32_t partition, const char *token) {
    char win[64], due[64], owner[64];
    keys(partition, win, due, owner, sizeof win);
    redisReply *reply = wb_redis_command(r, "GET %s", owner);
    sp_owner_state st = SP_OWNER_ERROR;
    if (reply && reply->type == REDIS_REPLY_NIL) st = SP_OWNER_LOST;
    else if (reply && reply->type == REDIS_REPLY_STRING)
        st = strcmp(reply->str, token) == 0 ? SP_OWNED : SP_OWNED_BY_OTHER;
    if (reply) freeReplyObject(reply);
    return st;
}

static int script_error(redisReply *reply, const char *what, wb_redis *r) {
    int rc = reply && reply->type == REDIS_REPLY_ERROR && strstr(reply->str, "NOTOWNER") ? SP_NOT_OWNER : -1;
    if (rc == -1)
        wb_warn(NULL, "redis %s failed: %s", what,
                reply && reply->type == REDIS_REPLY_ERROR ? reply->str : wb_redis_error(r));
    if (reply) freeReplyObject(reply);
    return rc;
}

void sp_windows_load_scripts(wb_redis *r) {
    if (touch_script.sha[0]) return;
    redisReply *reply = wb_redis_command(r, "SCRIPT LOAD %s", touch_script.source);
    if (reply && reply->type == REDIS_REPLY_STRING && reply->len == 40) memcpy(touch_script.sha, reply->str, 41);
    if (reply) freeReplyObject(reply);
}

int sp_windows_touch(wb_redis *r, int32_t partition, const char *token, int64_t now_ms,
                     const sp_touch *touches, int count) {
    if (count == 0) return 0;
    char win[64], due[64], owner[64], bystore[64], now[24];
    keys(partition, win, due, owner, sizeof win);
    snprintf(bystore, sizeof bystore, "wb:{sp:%d}:bystore", partition);
    snprintf(now, sizeof now, "%lld", (long long)now_ms);
    int argc = 6 + 4 * count;
    const char **argv = malloc(sizeof(char *) * (size_t)argc);
    char (*nums)[3][24] = malloc(sizeof *nums * (size_t)count);
    argv[0] = win, argv[1] = due, argv[2] = owner, argv[3] = bystore, argv[4] = token, argv[5] = now;
    for (int i = 0; i < count; i++) {
        snprintf(nums[i][0], 24, "%lld", (long long)touches[i].window_ms);
        snprintf(nums[i][1], 24, "%lld", (long long)touches[i].first_offset);
        snprintf(nums[i][2], 24, "%lld", (long long)touches[i].touches);
        argv[6 + 4 * i] = touches[i].window;
        argv[7 + 4 * i] = nums[i][0];
        argv[8 + 4 * i] = nums[i][1];
        argv[9 + 4 * i] = nums[i][2];
    }
    redisReply *reply = wb_redis_eval(r, &touch_script, 4, argc, argv);
    free(argv);
    free(nums);
    if (!reply || reply->type != REDIS_REPLY_INTEGER) return script_error(reply, "window touch", r);
    int opened = (int)reply->integer;
    freeReplyObject(reply);
    return opened;
}

/* "opened deadline first_offset touches" (strtoll: sscanf was 4% of the
 * main loop's time claiming 86,000 windows). */
static bool parse_value(const char *value, sp_window *w) {
    int64_t n[4];
    const char *s = value;
    for (int i = 0; i < 4; i++) {
        char *end;
        if (i > 0 && *s++ != ' ') return false;
        errno = 0;
        n[i] = strtoll(s, &end, 10);
        if (end == s || errno) return false;
        s = end;
    }
    if (*s) return false;
    w->opened_ms = n[0], w->deadline_ms = n[1], w->first_offset = n[2], w->touches = n[3];
    return true;
}

/* Reads a flat {window, value, ...} array reply into sp_window records. */
static int read_pairs(redisReply *reply, sp_window **out) {
    int n = 0;
    *out = calloc(reply->elements / 2 + 1, sizeof **out);
    for (size_t i = 0; i + 1 < reply->elements; i += 2) {
        sp_window *w = &(*out)[n];
        if (!parse_value(reply->element[i + 1]->str, w)) {
            wb_warn(NULL, "redis window %s has a malformed value; skipped", reply->element[i]->str);
            continue;
        }
        w->window = strdup(reply->element[i]->str);
        n++;
    }
    return n;
}

/* KEYS due; ARGV now -> the distinct stores of the windows due by now
 * (at most 10,000 windows looked at). Only the names come back: once many
 * stores are due the windows are tens of thousands, and sending them all to
 * find 50 names cost the main loop up to 0.36 s a flush (bench). */
static wb_redis_script due_stores_script = {
    "local seen, out = {}, {}\n"
    "for _, w in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 10000)) do\n"
    "  local bar = string.find(w, '|', 1, true)\n"
    "  if bar then\n"
    "    local s = string.sub(w, 1, bar - 1)\n"
    "    if not seen[s] then seen[s] = true; out[#out+1] = s end\n"
    "  end\n"
    "end\n"
    "return out\n",
    ""};

int sp_windows_due_stores(wb_redis *r, int32_t partition, int64_t now_ms, wb_strmap *stores) {
    char win[64], due[64], owner[64], now[24];
    keys(partition, win, due, owner, sizeof win);
    snprintf(now, sizeof now, "%lld", (long long)now_ms);
    const char *argv[] = {due, now};
    redisReply *reply = wb_redis_eval(r, &due_stores_script, 1, 2, argv);
    if (!reply || reply->type != REDIS_REPLY_ARRAY) return script_error(reply, "due stores", r);
    for (size_t i = 0; i < reply->elements; i++)
        if (reply->element[i]->type == REDIS_REPLY_STRING) wb_strmap_put(stores, reply->element[i]->str, NULL);
    int n = (int)reply->elements;
    freeReplyObject(reply);
    return n;
}

int sp_windows_claim(wb_redis *r, int32_t partition, const char *token, int64_t now_ms, int limit,
                     const sp_horizon *horizons, int horizon_count, sp_window **out) {
    char win[64], due[64], owner[64], bystore[64], now[24], lim[16];
    keys(partition, win, due, owner, sizeof win);
    snprintf(bystore, sizeof bystore, "wb:{sp:%d}:bystore", partition);
    snprintf(now, sizeof now, "%lld", (long long)now_ms);
    snprintf(lim, sizeof lim, "%d", limit);
    int argc = 7 + 2 * horizon_count;
    const char **argv = malloc(sizeof(char *) * (size_t)argc);
    char (*nums)[24] = malloc(24 * (size_t)(horizon_count + 1));
    argv[0] = win, argv[1] = due, argv[2] = owner, argv[3] = bystore, argv[4] = token, argv[5] = now,
    argv[6] = lim;
    for (int i = 0; i < horizon_count; i++) {
        snprintf(nums[i], 24, "%lld", (long long)horizons[i].horizon_ms);
        argv[7 + 2 * i] = horizons[i].store;
        argv[8 + 2 * i] = nums[i];
    }
    *out = NULL;
    redisReply *reply = wb_redis_eval(r, &claim_script, 4, argc, argv);
    free(argv);
    free(nums);
    if (!reply || reply->type != REDIS_REPLY_ARRAY) return script_error(reply, "window claim", r);
    int n = read_pairs(reply, out);
    freeReplyObject(reply);
    return n;
}

int sp_windows_list(wb_redis *r, int32_t partition, sp_window **out) {
    char win[64], due[64], owner[64];
    keys(partition, win, due, owner, sizeof win);
    *out = NULL;
    redisReply *reply = wb_redis_command(r, "HGETALL %s", win);
    if (!reply || reply->type != REDIS_REPLY_ARRAY) return script_error(reply, "window list", r);
    int n = read_pairs(reply, out);
    freeReplyObject(reply);
    return n;
}

void sp_windows_free(sp_window *w, int count) {
    for (int i = 0; w && i < count; i++) free(w[i].window);
    free(w);
}

bool sp_window_split(char *window, char **store, char **item, char **location) {
    char *a = strchr(window, '|'), *b = a ? strchr(a + 1, '|') : NULL;
    if (!a || !b || strchr(b + 1, '|')) return false;
    *a = *b = 0;
    *store = window, *item = a + 1, *location = b + 1;
    return **store && **item && **location;
}

int64_t sp_windows_earliest_deadline(wb_redis *r, int32_t partition) {
    char win[64], due[64], owner[64];
    keys(partition, win, due, owner, sizeof win);
    redisReply *reply = wb_redis_command(r, "ZRANGE %s 0 0 WITHSCORES", due);
    int64_t deadline = -1;
    if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2)
        deadline = atoll(reply->element[1]->str);
    if (reply) freeReplyObject(reply);
    return deadline;
}
