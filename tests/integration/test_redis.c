/* Redis: hash-tagged keys, scripts by SHA that survive SCRIPT FLUSH, and a
 * reconnect when the server closes the connection. */
#include <stdlib.h>
#include <unistd.h>

#include "testlib.h"
#include "wb/log.h"
#include "wb/redis.h"

static const char *url;

static wb_redis *connect_or_null(void) {
    char err[256];
    wb_redis *r = wb_redis_connect(url, err, sizeof err);
    if (!r) printf("# connect: %s\n", err);
    return r;
}

TEST(keys_carry_store_hash_tag) {
    char key[64];
    CHECK(wb_redis_key(key, sizeof key, "acme-eu", "window", "gid://shopify/InventoryItem/1@loc1") > 0);
    CHECK_STR(key, "wb:{acme-eu}:window:gid://shopify/InventoryItem/1@loc1");
    CHECK(wb_redis_key(key, sizeof key, "acme-eu", "bucket", NULL) > 0);
    CHECK_STR(key, "wb:{acme-eu}:bucket");
    char tiny[8];
    CHECK_INT(wb_redis_key(tiny, sizeof tiny, "acme-eu", "window", "x"), -1);
}

TEST(binary_safe_commands) {
    wb_redis *r = connect_or_null();
    CHECK(r != NULL);
    char key[64];
    wb_redis_key(key, sizeof key, "test", "bin", NULL);
    const char value[] = {'a', 0, 'b'};
    const char *argv[] = {"SET", key, value};
    size_t lens[] = {3, strlen(key), 3};
    redisReply *reply = wb_redis_argv(r, 3, argv, lens);
    CHECK(reply && reply->type == REDIS_REPLY_STATUS);
    freeReplyObject(reply);
    reply = wb_redis_command(r, "GET %s", key);
    CHECK(reply && reply->type == REDIS_REPLY_STRING && reply->len == 3 && memcmp(reply->str, value, 3) == 0);
    freeReplyObject(reply);
    wb_redis_close(r);
}

static wb_redis_script max_script = {
    "local cur = tonumber(redis.call('GET', KEYS[1]) or '-1')\n"
    "local new = tonumber(ARGV[1])\n"
    "if new > cur then redis.call('SET', KEYS[1], new) return 1 end\n"
    "return 0\n",
    ""};

TEST(scripts_run_by_sha_and_reload_after_flush) {
    wb_redis *r = connect_or_null();
    CHECK(r != NULL);
    char key[64];
    wb_redis_key(key, sizeof key, "test", "version", NULL);
    redisReply *reply = wb_redis_command(r, "DEL %s", key);
    freeReplyObject(reply);
    const char *args1[] = {key, "5"}, *args2[] = {key, "3"};
    reply = wb_redis_eval(r, &max_script, 1, 2, args1);
    CHECK(reply && reply->type == REDIS_REPLY_INTEGER && reply->integer == 1);
    freeReplyObject(reply);
    CHECK_INT(strlen(max_script.sha), 40);
    reply = wb_redis_eval(r, &max_script, 1, 2, args2); /* older version: ignored */
    CHECK(reply && reply->type == REDIS_REPLY_INTEGER && reply->integer == 0);
    freeReplyObject(reply);
    reply = wb_redis_command(r, "SCRIPT FLUSH");
    freeReplyObject(reply);
    const char *args3[] = {key, "9"};
    reply = wb_redis_eval(r, &max_script, 1, 2, args3); /* NOSCRIPT -> load -> run */
    CHECK(reply && reply->type == REDIS_REPLY_INTEGER && reply->integer == 1);
    freeReplyObject(reply);
    reply = wb_redis_command(r, "GET %s", key);
    CHECK(reply && reply->type == REDIS_REPLY_STRING);
    CHECK_STR(reply->str, "9");
    freeReplyObject(reply);
    wb_redis_close(r);
}

TEST(reconnects_after_server_closes_connection) {
    wb_redis *r = connect_or_null(), *admin = connect_or_null();
    CHECK(r && admin);
    redisReply *id = wb_redis_command(r, "CLIENT ID");
    CHECK(id && id->type == REDIS_REPLY_INTEGER);
    redisReply *kill = wb_redis_command(admin, "CLIENT KILL ID %lld", id->integer);
    CHECK(kill && kill->type == REDIS_REPLY_INTEGER && kill->integer == 1);
    freeReplyObject(kill);
    redisReply *pong = wb_redis_command(r, "PING");
    CHECK(pong && pong->type == REDIS_REPLY_STATUS);
    CHECK_STR(pong->str, "PONG");
    freeReplyObject(pong);
    redisReply *id2 = wb_redis_command(r, "CLIENT ID");
    CHECK(id2 && id2->integer != id->integer);
    freeReplyObject(id);
    freeReplyObject(id2);
    wb_redis_close(r);
    wb_redis_close(admin);
}

TEST(bad_urls_and_dead_server) {
    char err[256] = "", reason[256] = "";
    CHECK(wb_redis_connect("http://x:1", err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "redis://");
    CHECK(wb_redis_connect("redis://127.0.0.1:1", err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "cannot connect to 127.0.0.1:1");
    CHECK(wb_redis_ping(url, reason, sizeof reason) == 0);
    CHECK(wb_redis_ping("redis://:topsecret@127.0.0.1:1", reason, sizeof reason) == -1);
    CHECK_CONTAINS(reason, "redis unreachable");
    CHECK_NOT_CONTAINS(reason, "topsecret");
}

int main(void) {
    url = wb_test_env("WB_REDIS_URL");
    wb_log_init("test_redis", WB_LOG_ERROR);
    wb_log_set_output(stderr);
    RUN(keys_carry_store_hash_tag);
    RUN(binary_safe_commands);
    RUN(scripts_run_by_sha_and_reload_after_flush);
    RUN(reconnects_after_server_closes_connection);
    RUN(bad_urls_and_dead_server);
    TEST_EXIT();
}
