/* Plays a shop's answers from a fuzz input through the real shop client code.
 *
 * A fuzz target defines the macros below and then #includes
 * libshared/src/shop_http.c and a client (shopify.c or woocommerce.c): every
 * line of the retry loop, the header and body callbacks, the throttle and
 * cost handling runs as in production, but libcurl's transfer is this file's
 * fz_curl_perform (which feeds the callbacks from the input) and the clock is
 * a counter that a sleep advances, so a Retry-After of a day costs nothing.
 *
 * The input is a list of answers separated by a line "=====":
 *     HTTP/1.1 200 OK            status line (or TIMEOUT, RESET)
 *     X-WP-TotalPages: 3         header lines, up to an empty line
 *
 *     {"data": ...}              the body
 * When the answers run out every further attempt fails to connect. */
#ifndef WB_FUZZ_FAKE_SHOP_H
#define WB_FUZZ_FAKE_SHOP_H

#define CURL_DISABLE_TYPECHECK 1
#define curl_easy_setopt fz_curl_setopt
#define curl_easy_perform fz_curl_perform
#define curl_easy_getinfo fz_curl_getinfo
#define wb_monotonic_ms fz_monotonic_ms
#define wb_sleep_ms fz_sleep_ms

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
/* curl.h defines these two as macros of themselves; point them at ours again. */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_easy_setopt fz_curl_setopt
#define curl_easy_getinfo fz_curl_getinfo

#include "wb/runloop.h"

static struct {
    const char *data;
    size_t left;
    curl_write_callback on_body, on_header;
    void *body_arg, *header_arg;
    long status;
    curl_off_t retry_after;
    int64_t now;
} fz;

static void fz_feed(const uint8_t *data, size_t size) {
    fz.data = (const char *)data;
    fz.left = size;
}

int64_t fz_monotonic_ms(void) { return fz.now; }

bool fz_sleep_ms(int ms) {
    if (ms > 0) fz.now += ms;
    return true;
}

CURLcode fz_curl_setopt(CURL *c, CURLoption opt, ...) {
    (void)c;
    va_list ap;
    va_start(ap, opt);
    switch (opt) {
    case CURLOPT_WRITEFUNCTION: fz.on_body = va_arg(ap, curl_write_callback); break;
    case CURLOPT_HEADERFUNCTION: fz.on_header = va_arg(ap, curl_write_callback); break;
    case CURLOPT_WRITEDATA: fz.body_arg = va_arg(ap, void *); break;
    case CURLOPT_HEADERDATA: fz.header_arg = va_arg(ap, void *); break;
    default: break;
    }
    va_end(ap);
    return CURLE_OK;
}

CURLcode fz_curl_getinfo(CURL *c, CURLINFO info, ...) {
    (void)c;
    va_list ap;
    va_start(ap, info);
    CURLcode rc = CURLE_OK;
    if (info == CURLINFO_RESPONSE_CODE) *va_arg(ap, long *) = fz.status;
    else if (info == CURLINFO_RETRY_AFTER) *va_arg(ap, curl_off_t *) = fz.retry_after;
    else rc = CURLE_UNKNOWN_OPTION;
    va_end(ap);
    return rc;
}

/* Hands a callback a copy of exactly len bytes (libcurl's buffers are not
 * NUL-terminated either), in pieces as a network read would. */
static bool fz_deliver(curl_write_callback cb, void *arg, const char *p, size_t len, size_t piece) {
    while (len) {
        size_t n = len < piece ? len : piece;
        char *copy = malloc(n);
        memcpy(copy, p, n);
        size_t took = cb(copy, 1, n, arg);
        free(copy);
        if (took != n) return false;
        p += n, len -= n;
    }
    return true;
}

CURLcode fz_curl_perform(CURL *c) {
    (void)c;
    fz.status = 0;
    fz.retry_after = 0;
    if (!fz.left) return CURLE_COULDNT_CONNECT;
    const char *sep = memmem(fz.data, fz.left, "\n=====\n", 7);
    size_t len = sep ? (size_t)(sep - fz.data) : fz.left;
    const char *p = fz.data;
    fz.data += sep ? len + 7 : len;
    fz.left -= sep ? len + 7 : len;

    const char *eol = memchr(p, '\n', len);
    size_t line = eol ? (size_t)(eol - p) : len;
    if (line >= 7 && memcmp(p, "TIMEOUT", 7) == 0) return CURLE_OPERATION_TIMEDOUT;
    if (line >= 5 && memcmp(p, "RESET", 5) == 0) return CURLE_RECV_ERROR;
    /* Status line and headers, each handed over with its CRLF as libcurl does. */
    char status_line[64];
    size_t sl = line < sizeof status_line - 1 ? line : sizeof status_line - 1;
    memcpy(status_line, p, sl);
    status_line[sl] = 0;
    const char *sp = strchr(status_line, ' ');
    fz.status = sp ? strtol(sp + 1, NULL, 10) : 200;
    if (fz.status < 100 || fz.status > 599) fz.status = 200; /* libcurl would refuse it */
    size_t piece = 1 + (unsigned char)(len ? p[len - 1] : 0) % 64;
    while (1) {
        char hdr[1024];
        size_t n = line < sizeof hdr - 3 ? line : sizeof hdr - 3;
        memcpy(hdr, p, n);
        memcpy(hdr + n, "\r\n", 3);
        if (fz.on_header && !fz_deliver(fz.on_header, fz.header_arg, hdr, n + 2, n + 2))
            return CURLE_WRITE_ERROR;
        if (n > 12 && strncasecmp(hdr, "Retry-After:", 12) == 0) {
            long v = strtol(hdr + 12, NULL, 10);
            fz.retry_after = v > 0 ? v : 0;
        }
        size_t used = eol ? line + 1 : line;
        p += used, len -= used;
        if (!len) break;
        eol = memchr(p, '\n', len);
        line = eol ? (size_t)(eol - p) : len;
        if (line == 0) { /* the empty line: the body follows */
            p++, len--;
            break;
        }
    }
    if (fz.on_body && len && !fz_deliver(fz.on_body, fz.body_arg, p, len, piece * 97))
        return CURLE_WRITE_ERROR;
    return CURLE_OK;
}

#endif
