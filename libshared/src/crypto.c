/* HMAC, base64, constant-time compare and AES-256-GCM sealing on OpenSSL. */
#include "wb/crypto.h"

#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

void wb_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
                    unsigned char out[WB_SHA256_LEN]) {
    unsigned int len = WB_SHA256_LEN;
    HMAC(EVP_sha256(), key, (int)key_len, msg, msg_len, out, &len);
}

static void hex(const unsigned char *in, size_t len, char *out) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = 0;
}

void wb_sha256_hex(const void *data, size_t len, char out[2 * WB_SHA256_LEN + 1]) {
    unsigned char digest[WB_SHA256_LEN];
    SHA256(data, len, digest);
    hex(digest, sizeof digest, out);
}

size_t wb_base64_encode(const void *in, size_t len, char *out, size_t out_size) {
    size_t need = 4 * ((len + 2) / 3) + 1;
    if (out_size < need) return 0;
    return (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)len);
}

int wb_base64_decode(const char *in, size_t in_len, unsigned char *out, size_t out_size,
                     size_t *out_len) {
    if (in_len % 4 != 0) return -1;
    size_t max = in_len / 4 * 3;
    if (out_size < max) return -1;
    for (size_t i = 0; i < in_len; i++) {
        char c = in[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                  (c >= '0' && c <= '9') || c == '+' || c == '/' ||
                  (c == '=' && i >= in_len - 2);
        if (!ok) return -1;
    }
    if (in_len >= 2 && in[in_len - 2] == '=' && in[in_len - 1] != '=') return -1;
    int n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)in_len);
    if (n < 0) return -1;
    /* EVP_DecodeBlock counts padding as zero bytes; take them off. */
    size_t pad = (in_len && in[in_len - 1] == '=') + (in_len > 1 && in[in_len - 2] == '=');
    *out_len = (size_t)n - pad;
    return 0;
}

bool wb_ct_equal(const void *a, const void *b, size_t len) {
    return CRYPTO_memcmp(a, b, len) == 0;
}

bool wb_webhook_signature_ok(const char *secret, const void *body, size_t body_len,
                             const char *header_b64) {
    if (!secret || !*secret || !header_b64) return false;
    unsigned char expected[WB_SHA256_LEN], given[64];
    size_t given_len = 0;
    wb_hmac_sha256(secret, strlen(secret), body, body_len, expected);
    if (wb_base64_decode(header_b64, strlen(header_b64), given, sizeof given, &given_len) != 0)
        return false;
    /* The length is public (always 32); only the bytes need constant time. */
    if (given_len != WB_SHA256_LEN) return false;
    return wb_ct_equal(expected, given, WB_SHA256_LEN);
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int wb_master_key_parse(const char *text, unsigned char key[WB_KEY_LEN]) {
    if (!text) return -1;
    size_t len = strlen(text);
    if (len == 2 * WB_KEY_LEN) {
        for (size_t i = 0; i < WB_KEY_LEN; i++) {
            int hi = hexval(text[2 * i]), lo = hexval(text[2 * i + 1]);
            if (hi < 0 || lo < 0) return -1;
            key[i] = (unsigned char)(hi << 4 | lo);
        }
        return 0;
    }
    unsigned char buf[64];
    size_t n;
    if (wb_base64_decode(text, len, buf, sizeof buf, &n) != 0 || n != WB_KEY_LEN) return -1;
    memcpy(key, buf, WB_KEY_LEN);
    OPENSSL_cleanse(buf, sizeof buf);
    return 0;
}

#define NONCE_LEN 12
#define TAG_LEN 16
#define SEAL_PREFIX "v1:"

/* One GCM pass; encrypt selects the direction. Returns 0 or -1. */
static int gcm(bool encrypt, const unsigned char *key, const unsigned char *nonce,
               const char *aad, const unsigned char *in, int len, unsigned char *out,
               unsigned char *tag) {
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, ok = ctx && EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce, encrypt);
    if (ok && aad) ok = EVP_CipherUpdate(ctx, NULL, &n, (const unsigned char *)aad, (int)strlen(aad));
    if (ok) ok = EVP_CipherUpdate(ctx, out, &n, in, len);
    if (ok && !encrypt) ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag);
    if (ok) ok = EVP_CipherFinal_ex(ctx, out + n, &n);
    if (ok && encrypt) ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag);
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -1;
}

char *wb_seal(const unsigned char key[WB_KEY_LEN], const void *plain, size_t len,
              const char *aad) {
    size_t raw_len = NONCE_LEN + len + TAG_LEN;
    unsigned char *raw = malloc(raw_len);
    size_t out_size = strlen(SEAL_PREFIX) + 4 * ((raw_len + 2) / 3) + 1;
    char *out = malloc(out_size);
    if (!raw || !out || RAND_bytes(raw, NONCE_LEN) != 1 ||
        gcm(true, key, raw, aad, plain, (int)len, raw + NONCE_LEN, raw + NONCE_LEN + len) != 0) {
        free(raw);
        free(out);
        return NULL;
    }
    strcpy(out, SEAL_PREFIX);
    wb_base64_encode(raw, raw_len, out + strlen(SEAL_PREFIX), out_size - strlen(SEAL_PREFIX));
    free(raw);
    return out;
}

int wb_unseal(const unsigned char key[WB_KEY_LEN], const char *sealed, const char *aad,
              char **plain, size_t *len) {
    *plain = NULL;
    if (!sealed || strncmp(sealed, SEAL_PREFIX, strlen(SEAL_PREFIX)) != 0) return -1;
    const char *b64 = sealed + strlen(SEAL_PREFIX);
    size_t b64_len = strlen(b64), raw_len;
    unsigned char *raw = malloc(b64_len / 4 * 3 + 1);
    if (!raw || wb_base64_decode(b64, b64_len, raw, b64_len / 4 * 3 + 1, &raw_len) != 0 ||
        raw_len < NONCE_LEN + TAG_LEN) {
        free(raw);
        return -1;
    }
    size_t text_len = raw_len - NONCE_LEN - TAG_LEN;
    char *text = malloc(text_len + 1);
    if (!text || gcm(false, key, raw, aad, raw + NONCE_LEN, (int)text_len,
                     (unsigned char *)text, raw + NONCE_LEN + text_len) != 0) {
        free(raw);
        free(text);
        return -1;
    }
    text[text_len] = 0;
    free(raw);
    *plain = text;
    if (len) *len = text_len;
    return 0;
}
