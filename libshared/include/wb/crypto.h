/* HMAC-SHA256, base64, constant-time comparison and sealed secrets (OpenSSL).
 * Webhook signatures are checked on the raw body with CRYPTO_memcmp, before
 * anything parses the body. Credentials at rest are sealed with AES-256-GCM:
 * a wrong key or a tampered value is an error, never garbage. */
#ifndef WB_CRYPTO_H
#define WB_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#define WB_SHA256_LEN 32

void wb_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
                    unsigned char out[WB_SHA256_LEN]);
void wb_sha256_hex(const void *data, size_t len, char out[2 * WB_SHA256_LEN + 1]);

/* Returns the encoded length (out gets a NUL), or 0 if out is too small. */
size_t wb_base64_encode(const void *in, size_t len, char *out, size_t out_size);
/* Standard alphabet with padding. Returns 0, or -1 on bad input or small out. */
int wb_base64_decode(const char *in, size_t in_len, unsigned char *out, size_t out_size,
                     size_t *out_len);

bool wb_ct_equal(const void *a, const void *b, size_t len);

/* True when header_b64 is the base64 HMAC-SHA256 of body under secret
 * (Shopify's X-Shopify-Hmac-Sha256, WooCommerce's X-WC-Webhook-Signature). */
bool wb_webhook_signature_ok(const char *secret, const void *body, size_t body_len,
                             const char *header_b64);

#define WB_KEY_LEN 32
/* A 32-byte key written as 64 hex digits or as base64. Returns 0 or -1. */
int wb_master_key_parse(const char *text, unsigned char key[WB_KEY_LEN]);
/* "v1:" + base64(nonce | ciphertext | tag), malloc'd; aad binds the value to
 * its place (e.g. the store id) so it cannot be moved to another row. */
char *wb_seal(const unsigned char key[WB_KEY_LEN], const void *plain, size_t len,
              const char *aad);
/* Returns 0 with *plain malloc'd (NUL-terminated), or -1 when the key is
 * wrong, the value was changed or it is not a sealed value. */
int wb_unseal(const unsigned char key[WB_KEY_LEN], const char *sealed, const char *aad,
              char **plain, size_t *len);

#endif
