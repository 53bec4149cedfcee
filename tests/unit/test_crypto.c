/* HMAC-SHA256 against RFC 4231, base64 against RFC 4648, webhook signatures,
 * and sealed credentials that fail loudly under a wrong key. */
#include <stdlib.h>

#include "testlib.h"
#include "wb/crypto.h"

static void to_hex(const unsigned char *in, size_t len, char *out) {
    for (size_t i = 0; i < len; i++) sprintf(out + 2 * i, "%02x", in[i]);
}

TEST(hmac_rfc4231_vectors) {
    unsigned char out[32], key1[20], key3[20], data3[50], key6[131];
    char hex[65];
    memset(key1, 0x0b, sizeof key1);
    wb_hmac_sha256(key1, sizeof key1, "Hi There", 8, out);
    to_hex(out, 32, hex);
    CHECK_STR(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");

    wb_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, out);
    to_hex(out, 32, hex);
    CHECK_STR(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");

    memset(key3, 0xaa, sizeof key3);
    memset(data3, 0xdd, sizeof data3);
    wb_hmac_sha256(key3, sizeof key3, data3, sizeof data3, out);
    to_hex(out, 32, hex);
    CHECK_STR(hex, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");

    memset(key6, 0xaa, sizeof key6); /* a key longer than the block size */
    const char *msg6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    wb_hmac_sha256(key6, sizeof key6, msg6, strlen(msg6), out);
    to_hex(out, 32, hex);
    CHECK_STR(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(sha256_hex) {
    char hex[65];
    wb_sha256_hex("abc", 3, hex);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(base64_rfc4648_vectors) {
    const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *enc[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        char out[16];
        unsigned char back[16];
        size_t n = 99;
        CHECK_INT(wb_base64_encode(plain[i], strlen(plain[i]), out, sizeof out), strlen(enc[i]));
        CHECK_STR(out, enc[i]);
        CHECK(wb_base64_decode(enc[i], strlen(enc[i]), back, sizeof back, &n) == 0);
        CHECK_INT(n, strlen(plain[i]));
        CHECK(memcmp(back, plain[i], n) == 0);
    }
}

TEST(base64_rejects_bad_input) {
    const char *bad[] = {"Zg=", "Zm9v!A==", "Z===", "=Zm9", "Zm9vYg=a", "Zm 9v"};
    unsigned char out[16];
    size_t n;
    for (int i = 0; i < 6; i++)
        if (wb_base64_decode(bad[i], strlen(bad[i]), out, sizeof out, &n) == 0)
            FAILF("'%s' was accepted", bad[i]);
    char small[4];
    CHECK_INT(wb_base64_encode("foo", 3, small, sizeof small), 0);
    CHECK(wb_base64_decode("Zm9vYmFy", 8, out, 3, &n) == -1);
}

TEST(constant_time_equal) {
    CHECK(wb_ct_equal("abcdef", "abcdef", 6));
    CHECK(!wb_ct_equal("abcdef", "abcdeg", 6));
    CHECK(!wb_ct_equal("xbcdef", "abcdef", 6));
}

/* Shopify and WooCommerce both send base64(HMAC-SHA256(secret, raw body)).
 * Reference value: printf '%s' '{"id":820982911946154508,"email":"jon@example.com"}'
 *   | openssl dgst -sha256 -hmac 'shpss_test_secret' -binary | base64 */
TEST(webhook_signature_checks) {
    const char *body = "{\"id\":820982911946154508,\"email\":\"jon@example.com\"}";
    const char *secret = "shpss_test_secret";
    unsigned char mac[32];
    char header[64];
    wb_hmac_sha256(secret, strlen(secret), body, strlen(body), mac);
    wb_base64_encode(mac, 32, header, sizeof header);
    CHECK(wb_webhook_signature_ok(secret, body, strlen(body), header));
    CHECK(!wb_webhook_signature_ok("other", body, strlen(body), header));
    CHECK(!wb_webhook_signature_ok(secret, body, strlen(body) - 1, header)); /* one byte less */
    CHECK(!wb_webhook_signature_ok(secret, body, strlen(body), "not base64!"));
    CHECK(!wb_webhook_signature_ok(secret, body, strlen(body), "Zm9v")); /* too short */
    CHECK(!wb_webhook_signature_ok(secret, body, strlen(body), ""));
    CHECK(!wb_webhook_signature_ok(secret, body, strlen(body), NULL));
    CHECK(!wb_webhook_signature_ok("", body, strlen(body), header));
    header[5] ^= 1;
    CHECK(!wb_webhook_signature_ok(secret, body, strlen(body), header));
}

TEST(webhook_signature_matches_openssl_cli) {
    const char *body = "{\"id\":820982911946154508,\"email\":\"jon@example.com\"}";
    FILE *p = popen("printf '%s' '{\"id\":820982911946154508,\"email\":\"jon@example.com\"}'"
                    " | openssl dgst -sha256 -hmac 'shpss_test_secret' -binary | base64", "r");
    CHECK(p != NULL);
    char header[128] = {0};
    CHECK(fgets(header, sizeof header, p) != NULL);
    pclose(p);
    header[strcspn(header, "\n")] = 0;
    CHECK(wb_webhook_signature_ok("shpss_test_secret", body, strlen(body), header));
}

TEST(master_key_parsing) {
    unsigned char key[32];
    CHECK(wb_master_key_parse("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", key) == 0);
    CHECK(key[0] == 0 && key[31] == 0x1f);
    CHECK(wb_master_key_parse("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", key) == 0);
    CHECK(key[1] == 1 && key[31] == 0x1f);
    CHECK(wb_master_key_parse("short", key) == -1);
    CHECK(wb_master_key_parse("zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", key) == -1);
    CHECK(wb_master_key_parse("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==", key) == -1); /* 31 bytes */
    CHECK(wb_master_key_parse(NULL, key) == -1);
}

TEST(seal_round_trip_and_wrong_key) {
    unsigned char key[32], other[32];
    for (int i = 0; i < 32; i++) key[i] = (unsigned char)i, other[i] = (unsigned char)(i + 1);
    const char *secret = "{\"consumer_key\":\"ck_1\",\"consumer_secret\":\"cs_2\"}";
    char *sealed = wb_seal(key, secret, strlen(secret), "store-a");
    CHECK(sealed != NULL);
    CHECK(strncmp(sealed, "v1:", 3) == 0);
    CHECK_NOT_CONTAINS(sealed, "cs_2");
    char *plain = NULL;
    size_t len = 0;
    CHECK(wb_unseal(key, sealed, "store-a", &plain, &len) == 0);
    CHECK_STR(plain, secret);
    CHECK_INT(len, strlen(secret));
    free(plain);
    CHECK(wb_unseal(other, sealed, "store-a", &plain, &len) == -1 && plain == NULL);
    CHECK(wb_unseal(key, sealed, "store-b", &plain, &len) == -1); /* moved to another row */
    sealed[10] = sealed[10] == 'A' ? 'B' : 'A';
    CHECK(wb_unseal(key, sealed, "store-a", &plain, &len) == -1); /* tampered */
    CHECK(wb_unseal(key, "plaintext", "store-a", &plain, &len) == -1);
    CHECK(wb_unseal(key, "v1:!!!!", "store-a", &plain, &len) == -1);
    CHECK(wb_unseal(key, "v1:AAAA", "store-a", &plain, &len) == -1);
    /* Two seals of one value differ (fresh nonce each time). */
    char *a = wb_seal(key, "x", 1, "s"), *b = wb_seal(key, "x", 1, "s");
    CHECK(a && b && strcmp(a, b) != 0);
    free(a);
    free(b);
    free(sealed);
}

int main(void) {
    RUN(hmac_rfc4231_vectors);
    RUN(sha256_hex);
    RUN(base64_rfc4648_vectors);
    RUN(base64_rejects_bad_input);
    RUN(constant_time_equal);
    RUN(webhook_signature_checks);
    RUN(webhook_signature_matches_openssl_cli);
    RUN(master_key_parsing);
    RUN(seal_round_trip_and_wrong_key);
    TEST_EXIT();
}
