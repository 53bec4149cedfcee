/* Validation and encoding helpers for the proto_*.c decoders and encoders.
 * They apply JSON Schema draft 2020-12 the way python-jsonschema does, so the
 * C decoder and the schema give the same verdict on every message (the
 * examples in proto/examples prove it, see tests/proto/test_schemas.py):
 * lengths count code points, an integer is any whole JSON number (1.0 too),
 * date-time and email are checked as its FormatChecker checks them. */
#include "wb/proto.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

const char *const wb_pv_platforms[] = {"shopify", "woocommerce", NULL};

const char *wb_platform_name(wb_platform p) {
    return (unsigned)p < 2 ? wb_pv_platforms[p] : "?";
}

/* ------------------------------------------------------------ errors, paths */

int wb_pv_fail(wb_pv *v, const char *path, const char *fmt, ...) {
    if (!v->err || !v->errlen)
        return -1;
    int n = snprintf(v->err, v->errlen, "%s: ", *path ? path : "(root)");
    if (n >= 0 && (size_t)n < v->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(v->err + n, v->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* A path longer than WB_PV_PATH is cut short; that only shortens an error.
 * Built by hand, not with snprintf: every field of every message checked
 * gets one, and the formatting was a tenth of order-ingest's CPU. */
static size_t path_put(char out[WB_PV_PATH], size_t at, const char *s) {
    while (*s && at + 1 < WB_PV_PATH) out[at++] = *s++;
    out[at] = 0;
    return at;
}

static void join_path(char out[WB_PV_PATH], const char *path, const char *key) {
    size_t at = path_put(out, 0, path);
    if (*path) at = path_put(out, at, ".");
    path_put(out, at, key);
}

static void index_path(char out[WB_PV_PATH], const char *path, size_t i) {
    char digits[24], *d = digits + sizeof digits - 1;
    *d = 0;
    do *--d = (char)('0' + i % 10); while ((i /= 10) != 0);
    size_t at = path_put(out, 0, path);
    at = path_put(out, at, "[");
    at = path_put(out, at, d);
    path_put(out, at, "]");
}

/* ------------------------------------------------------- string formats */

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static bool digits(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!is_digit(s[i]))
            return false;
    return true;
}

static int number(const char *s, size_t n) {
    int x = 0;
    for (size_t i = 0; i < n; i++)
        x = 10 * x + (s[i] - '0');
    return x;
}

static int days_in_month(int year, int month) {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    return month == 2 && leap ? 29 : days[month - 1];
}

/* YYYY-MM-DD + one of "Tt" + hh:mm:ss: the fields exist and are in range. */
static bool date_and_time_ok(const char *s) {
    if (!digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' || !digits(s + 8, 2) ||
        (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2) || s[13] != ':' ||
        !digits(s + 14, 2) || s[16] != ':' || !digits(s + 17, 2))
        return false;
    int year = number(s, 4), month = number(s + 5, 2), day = number(s + 8, 2);
    if (year == 0 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month))
        return false;
    /* No leap second: rfc3339-validator, which python-jsonschema uses, has none. */
    return number(s + 11, 2) <= 23 && number(s + 14, 2) <= 59 && number(s + 17, 2) <= 59;
}

/* RFC 3339 date-time: the zone (Z or +hh:mm) is not optional. */
static bool is_date_time(const char *s) {
    if (strlen(s) < 20 || !date_and_time_ok(s))
        return false;
    const char *p = s + 19;
    if (*p == '.') {
        if (!is_digit(*++p))
            return false;
        while (is_digit(*p))
            p++;
    }
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
        return true;
    return (*p == '+' || *p == '-') && digits(p + 1, 2) && p[3] == ':' && digits(p + 4, 2) &&
           p[6] == '\0' && number(p + 1, 2) <= 23 && number(p + 4, 2) <= 59;
}

/* ^(0|[1-9][0-9]{0,11})(\.[0-9]{1,6})?$ */
static bool is_decimal(const char *s) {
    size_t whole = s[0] == '0' ? 1 : strspn(s, "0123456789");
    if (whole == 0 || whole > 12)
        return false;
    const char *p = s + whole;
    if (*p == '\0')
        return true;
    size_t frac = strspn(p + 1, "0123456789");
    return *p == '.' && frac >= 1 && frac <= 6 && p[1 + frac] == '\0';
}

static bool upper_letters(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] < 'A' || s[i] > 'Z')
            return false;
    return s[n] == '\0';
}

static bool is_country(const char *s) { return strlen(s) == 2 && upper_letters(s, 2); }
static bool is_currency(const char *s) { return strlen(s) == 3 && upper_letters(s, 3); }

static bool is_hex64(const char *s) {
    return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

static bool no_slash(const char *s) { return strchr(s, '/') == NULL; }

/* python-jsonschema's email format asks for an @ and nothing more. */
static bool has_at(const char *s) { return strchr(s, '@') != NULL; }

/* ^https?://[!-~]+$ : printable ASCII, no spaces. */
static bool is_http_url(const char *s) {
    size_t scheme = strncmp(s, "https://", 8) == 0 ? 8 : strncmp(s, "http://", 7) == 0 ? 7 : 0;
    if (!scheme || !s[scheme])
        return false;
    for (const char *p = s + scheme; *p; p++)
        if (*p < '!' || *p > '~')
            return false;
    return true;
}

/* ^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$ */
static bool is_base64(const char *s) {
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(s);
    if (n % 4)
        return false;
    size_t pad = (n >= 1 && s[n - 1] == '=') + (n >= 2 && s[n - 2] == '=');
    return strspn(s, alphabet) == n - pad;
}

const wb_pv_rule wb_pv_short = {1, 64, NULL, NULL};
const wb_pv_rule wb_pv_text = {1, 255, NULL, NULL};
const wb_pv_rule wb_pv_long = {1, 2000, NULL, NULL};
const wb_pv_rule wb_pv_keypart = {1, 64, no_slash, "free of '/' (it is part of a Kafka key)"};
const wb_pv_rule wb_pv_email = {1, 254, has_at, "an email address"};
const wb_pv_rule wb_pv_date_time = {0, SIZE_MAX, is_date_time,
                                    "an RFC 3339 date-time with a zone, like 2026-11-20T14:03:11+01:00"};
const wb_pv_rule wb_pv_decimal = {0, SIZE_MAX, is_decimal,
                                  "a decimal string like \"12.50\" (at most 6 decimals)"};
const wb_pv_rule wb_pv_country = {0, SIZE_MAX, is_country, "an ISO 3166-1 alpha-2 code like \"SE\""};
const wb_pv_rule wb_pv_currency = {0, SIZE_MAX, is_currency, "an ISO 4217 code like \"EUR\""};
const wb_pv_rule wb_pv_hex64 = {0, SIZE_MAX, is_hex64, "64 lowercase hex digits"};
const wb_pv_rule wb_pv_url = {1, 2000, is_http_url, "an http(s) URL without spaces"};
const wb_pv_rule wb_pv_base64 = {0, SIZE_MAX, is_base64, "standard base64 with padding"};

/* ---------------------------------------------------------------- strings */

/* Bytes in the UTF-8 sequence at p, 0 when it is not valid UTF-8. */
static int utf8_sequence(const unsigned char *p) {
    if (p[0] < 0x80)
        return 1;
    if (p[0] < 0xC2 || p[0] > 0xF4)
        return 0;
    int n = p[0] < 0xE0 ? 2 : p[0] < 0xF0 ? 3 : 4;
    unsigned char lo = 0x80, hi = 0xBF; /* second byte: no overlong form, no surrogate */
    if (p[0] == 0xE0)
        lo = 0xA0;
    else if (p[0] == 0xED)
        hi = 0x9F;
    else if (p[0] == 0xF0)
        lo = 0x90;
    else if (p[0] == 0xF4)
        hi = 0x8F;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (int i = 2; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

/* Code points in s (JSON Schema lengths count those, not bytes); -1 when s is
 * not UTF-8, which cJSON lets through but a JSON reader must refuse. */
static long utf8_length(const char *s) {
    long n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; n++) {
        int len = utf8_sequence(p);
        if (!len)
            return -1;
        p += len;
    }
    return n;
}

static int length_fail(wb_pv *v, const char *path, const wb_pv_rule *rule) {
    if (rule->min_len == 0)
        return wb_pv_fail(v, path, "must be at most %zu characters", rule->max_len);
    if (rule->max_len == SIZE_MAX)
        return wb_pv_fail(v, path, "must not be empty");
    return wb_pv_fail(v, path, "must be %zu to %zu characters", rule->min_len, rule->max_len);
}

int wb_pv_string_node(wb_pv *v, const cJSON *node, const char *path, const wb_pv_rule *rule,
                      char **out) {
    if (!cJSON_IsString(node))
        return wb_pv_fail(v, path, "must be a string");
    const char *s = node->valuestring;
    long n = utf8_length(s);
    if (n < 0)
        return wb_pv_fail(v, path, "must be valid UTF-8");
    if ((size_t)n < rule->min_len || (size_t)n > rule->max_len)
        return length_fail(v, path, rule);
    if (rule->ok && !rule->ok(s))
        return wb_pv_fail(v, path, "must be %s", rule->what);
    if (v->check_only)
        return 0;
    if (!(*out = strdup(s)))
        return wb_pv_fail(v, path, "out of memory");
    return 0;
}

/* ------------------------------------------------------------ objects */

/* The value of key in obj, NULL when absent; the last one when a key repeats,
 * as Python's json module reads it. (The first byte is compared before
 * strcmp is called: every field of every message checked walks its object.) */
static const cJSON *member(const cJSON *obj, const char *key) {
    const cJSON *found = NULL;
    for (const cJSON *c = obj ? obj->child : NULL; c; c = c->next)
        if (c->string && c->string[0] == key[0] && strcmp(c->string, key) == 0)
            found = c;
    return found;
}

int wb_pv_field(wb_pv *v, const cJSON *obj, const char *path, const char *key, int flags,
                char fpath[WB_PV_PATH], const cJSON **node) {
    join_path(fpath, path, key);
    *node = member(obj, key);
    if (!*node && (flags & WB_PV_REQUIRED))
        return wb_pv_fail(v, fpath, "is required");
    return 0;
}

static bool listed(const char *const names[], const char *s) {
    for (size_t i = 0; names[i]; i++)
        if (names[i][0] == s[0] && strcmp(names[i], s) == 0)
            return true;
    return false;
}

int wb_pv_object(wb_pv *v, const cJSON *node, const char *path, const char *const fields[]) {
    if (!cJSON_IsObject(node))
        return wb_pv_fail(v, path, "must be an object");
    for (const cJSON *c = node->child; c; c = c->next) {
        if (!listed(fields, c->string)) {
            char p[WB_PV_PATH];
            join_path(p, path, c->string);
            return wb_pv_fail(v, p, "is not a known field");
        }
    }
    return 0;
}

/* A string the rule takes, checked without a word about why not. */
static bool string_fits(const cJSON *node, const wb_pv_rule *rule) {
    if (!cJSON_IsString(node))
        return false;
    long n = utf8_length(node->valuestring);
    return n >= 0 && (size_t)n >= rule->min_len && (size_t)n <= rule->max_len &&
           (!rule->ok || rule->ok(node->valuestring));
}

/* wb_pv_string, wb_pv_int, wb_pv_bool and wb_pv_enum first try the common
 * case, a field that is absent and optional or has a valid value, without
 * building the field's path (a message has dozens of fields, and only an
 * error names one); anything else takes the full way, which gives the same
 * verdict and says why. */
int wb_pv_string(wb_pv *v, const cJSON *obj, const char *path, const char *key, int flags,
                 const wb_pv_rule *rule, char **out) {
    const cJSON *node = member(obj, key);
    if (!node && !(flags & WB_PV_REQUIRED))
        return 0;
    if (node && string_fits(node, rule) && (v->check_only || (*out = strdup(node->valuestring))))
        return 0;
    char p[WB_PV_PATH];
    if (wb_pv_field(v, obj, path, key, flags, p, &node))
        return -1;
    if (!node || ((flags & WB_PV_NULLABLE) && cJSON_IsNull(node)))
        return 0;
    if ((flags & WB_PV_NULLABLE) && !cJSON_IsString(node))
        return wb_pv_fail(v, p, "must be a string or null");
    return wb_pv_string_node(v, node, p, rule, out);
}

static int int_fail(wb_pv *v, const char *path, double d, int64_t min, int64_t max) {
    if (isfinite(d) && d == floor(d) && d > (double)max && max >= WB_PV_INT_MAX)
        return wb_pv_fail(v, path, "must be at most %lld", (long long)max);
    if (min <= -WB_PV_INT_MAX && max >= WB_PV_INT_MAX)
        return wb_pv_fail(v, path, "must be an integer");
    if (max >= WB_PV_INT_MAX)
        return wb_pv_fail(v, path, "must be an integer >= %lld", (long long)min);
    return wb_pv_fail(v, path, "must be an integer from %lld to %lld", (long long)min,
                      (long long)max);
}

bool wb_json_int(const cJSON *node, int64_t min, int64_t max, int64_t *out) {
    /* JSON Schema's integer is a whole number however it is written: 7.0 is one.
     * min and max should stay within 2^53, where a double is exact; the
     * int64 range is checked too, so even a careless bound cannot make the
     * cast undefined. */
    double d = cJSON_IsNumber(node) ? node->valuedouble : NAN;
    if (!isfinite(d) || d != floor(d) || d < (double)min || d > (double)max ||
        d < -0x1p63 || d >= 0x1p63)
        return false;
    *out = (int64_t)d;
    return true;
}

/* An encoder's wb_pv_put_int digits as the parser reads them back (cJSON
 * reads a number with strtod); false when they are not one JSON number. */
static bool raw_number(const cJSON *raw, cJSON *num) {
    const char *s = raw->valuestring, *p = s && *s == '-' ? s + 1 : s;
    if (!p || !is_digit(*p) || (*p == '0' && is_digit(p[1])) || strspn(p, "0123456789") != strlen(p))
        return false;
    memset(num, 0, sizeof *num);
    num->type = cJSON_Number;
    size_t n = strlen(p);
    if (n <= 15) { /* below 2^53: the integer is the double strtod reads, exactly */
        int64_t x = 0;
        for (size_t i = 0; i < n; i++)
            x = 10 * x + (p[i] - '0');
        num->valuedouble = (double)(p == s ? x : -x);
        return true;
    }
    char *end;
    num->valuedouble = strtod(s, &end);
    return *end == '\0';
}

int wb_pv_int(wb_pv *v, const cJSON *obj, const char *path, const char *key, int flags,
              int64_t min, int64_t max, int64_t *out) {
    const cJSON *node = member(obj, key);
    if (!node && !(flags & WB_PV_REQUIRED))
        return 0;
    cJSON num;
    if (node && cJSON_IsRaw(node) && raw_number(node, &num))
        node = &num;
    if (node && wb_json_int(node, min, max, out))
        return 0;
    char p[WB_PV_PATH];
    if (wb_pv_field(v, obj, path, key, flags, p, &node))
        return -1;
    if (!node)
        return 0;
    if (cJSON_IsRaw(node)) { /* only an encoder's tree has one */
        if (!raw_number(node, &num))
            return wb_pv_fail(v, "", "not valid JSON");
        node = &num;
    }
    if (!wb_json_int(node, min, max, out))
        return int_fail(v, p, cJSON_IsNumber(node) ? node->valuedouble : NAN, min, max);
    return 0;
}

int wb_pv_bool(wb_pv *v, const cJSON *obj, const char *path, const char *key, int flags,
               bool *out) {
    const cJSON *node = member(obj, key);
    if (!node && !(flags & WB_PV_REQUIRED))
        return 0;
    if (cJSON_IsBool(node)) {
        *out = cJSON_IsTrue(node);
        return 0;
    }
    char p[WB_PV_PATH];
    if (wb_pv_field(v, obj, path, key, flags, p, &node))
        return -1;
    if (!node)
        return 0;
    if (!cJSON_IsBool(node))
        return wb_pv_fail(v, p, "must be true or false");
    *out = cJSON_IsTrue(node);
    return 0;
}

static int enum_fail(wb_pv *v, const char *path, const char *const names[]) {
    char list[512] = "";
    size_t used = 0;
    for (size_t i = 0; names[i] && used < sizeof list; i++) {
        int n = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", names[i]);
        used += n > 0 ? (size_t)n : 0;
    }
    return wb_pv_fail(v, path, "must be one of: %s", list);
}

int wb_pv_enum(wb_pv *v, const cJSON *obj, const char *path, const char *key, int flags,
               const char *const names[], int *out) {
    const cJSON *node = member(obj, key);
    if (!node && !(flags & WB_PV_REQUIRED))
        return 0;
    char p[WB_PV_PATH];
    if (wb_pv_field(v, obj, path, key, flags, p, &node))
        return -1;
    if (!node)
        return 0;
    for (int i = 0; cJSON_IsString(node) && names[i]; i++) {
        if (strcmp(names[i], node->valuestring) == 0) {
            *out = i;
            return 0;
        }
    }
    return enum_fail(v, p, names);
}

/* An array field: *items is its first element (NULL when absent), *n its size. */
static int array_field(wb_pv *v, const cJSON *obj, const char *path, const char *key, int flags,
                       size_t min_items, size_t max_items, const cJSON **items, size_t *n) {
    char p[WB_PV_PATH];
    const cJSON *node;
    *items = NULL;
    *n = 0;
    if (wb_pv_field(v, obj, path, key, flags, p, &node))
        return -1;
    if (!node)
        return 0;
    if (!cJSON_IsArray(node))
        return wb_pv_fail(v, p, "must be an array");
    size_t size = (size_t)cJSON_GetArraySize(node);
    if (size < min_items)
        return wb_pv_fail(v, p, "must have at least %zu item%s", min_items,
                          min_items == 1 ? "" : "s");
    if (size > max_items)
        return wb_pv_fail(v, p, "must have at most %zu items", max_items);
    *items = node->child;
    *n = size;
    return 0;
}

int wb_pv_list(wb_pv *v, const cJSON *obj, const char *path, const char *key, int flags,
               size_t min_items, size_t max_items, size_t size, wb_pv_item_decoder fn,
               void **items, size_t *n) {
    const cJSON *node;
    size_t count;
    *items = NULL;
    *n = 0;
    if (array_field(v, obj, path, key, flags, min_items, max_items, &node, &count))
        return -1;
    char p[WB_PV_PATH];
    join_path(p, path, key);
    if (count && !(*items = calloc(count, size)))
        return wb_pv_fail(v, p, "out of memory");
    *n = count;
    for (size_t i = 0; i < count; i++, node = node->next) {
        char ip[WB_PV_PATH];
        index_path(ip, p, i);
        if (fn(v, node, ip, (char *)*items + i * size))
            return -1;
    }
    return 0;
}

int wb_pv_needs(wb_pv *v, const cJSON *obj, const char *path, const char *key,
                const char *because) {
    char p[WB_PV_PATH];
    join_path(p, path, key);
    return member(obj, key) ? 0 : wb_pv_fail(v, p, "is required %s", because);
}

int wb_pv_forbids(wb_pv *v, const cJSON *obj, const char *path, const char *key,
                  const char *because) {
    char p[WB_PV_PATH];
    join_path(p, path, key);
    return member(obj, key) ? wb_pv_fail(v, p, "is not allowed %s", because) : 0;
}

/* ------------------------------------------------------------ parsing */

static bool only_space(const char *p, const char *end) {
    for (; p < end; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            return false;
    return true;
}

int wb_pv_decode(const char *json, size_t len, wb_pv_decoder decode, void *out, char *err,
                 size_t errlen) {
    wb_pv v = {err, errlen, false};
    if (err && errlen)
        err[0] = '\0';
    /* cJSON skips a byte order mark and stops after the first value; JSON
     * allows neither a BOM nor anything but space after the value. */
    const char *end = NULL;
    bool bom = json && len >= 3 && memcmp(json, "\xEF\xBB\xBF", 3) == 0;
    cJSON *root = json && !bom ? cJSON_ParseWithLengthOpts(json, len, &end, false) : NULL;
    if (!root || !only_space(end, json + len)) {
        cJSON_Delete(root);
        return wb_pv_fail(&v, "", "not valid JSON");
    }
    int rc = decode(&v, root, out);
    cJSON_Delete(root);
    return rc;
}

/* ------------------------------------------------------------ encoding */

/* Keys are literals and values outlive the tree (it is printed and deleted
 * within the encoder): both are referred to, not copied. A message's tree
 * was three allocations per field, and freeing them as many again. */
static int put_item(cJSON *obj, const char *key, cJSON *item) {
    if (!item)
        return -1;
    if (!cJSON_AddItemToObjectCS(obj, key, item)) {
        cJSON_Delete(item);
        return -1;
    }
    return 0;
}

int wb_pv_put_str(cJSON *obj, const char *key, const char *s) {
    return !s ? 0 : put_item(obj, key, cJSON_CreateStringReference(s));
}

int wb_pv_put_nullable(cJSON *obj, const char *key, const char *s) {
    return put_item(obj, key, s ? cJSON_CreateStringReference(s) : cJSON_CreateNull());
}

/* Written as digits: cJSON would print 1e+15 for a large whole double. */
int wb_pv_put_int(cJSON *obj, const char *key, int64_t n) {
    char digits_buf[24], *d = digits_buf + sizeof digits_buf - 1;
    uint64_t u = n < 0 ? -(uint64_t)n : (uint64_t)n;
    *d = 0;
    do *--d = (char)('0' + u % 10); while ((u /= 10) != 0);
    if (n < 0)
        *--d = '-';
    return put_item(obj, key, cJSON_CreateRaw(d));
}

int wb_pv_put_bool(cJSON *obj, const char *key, bool b) {
    return put_item(obj, key, cJSON_CreateBool(b));
}

/* An out-of-range value goes out as "?" so the check names the field. */
int wb_pv_put_enum(cJSON *obj, const char *key, const char *const names[], size_t count,
                   int value) {
    const char *s = value >= 0 && (size_t)value < count ? names[value] : "?";
    return put_item(obj, key, cJSON_CreateStringReference(s));
}

int wb_pv_put_child(cJSON *obj, const char *key, cJSON *child) {
    return put_item(obj, key, child);
}

int wb_pv_append(cJSON *arr, cJSON *child) {
    if (!child)
        return -1;
    if (!cJSON_AddItemToArray(arr, child)) {
        cJSON_Delete(child);
        return -1;
    }
    return 0;
}

cJSON *wb_pv_encode_list(const void *items, size_t n, size_t size, wb_pv_item_encoder fn) {
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) {
        if (wb_pv_append(a, fn((const char *)items + i * size))) {
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

/* ------------------------------------------------------------ printing */

/* The encoders' trees hold objects, arrays, strings, raw digits, booleans
 * and null; they are printed here byte for byte as cJSON_PrintUnformatted
 * prints them, in one allocation of the exact size: cJSON's printer
 * measured the text after every value and grew its buffer from 256 bytes by
 * realloc, and each allocation past 1 KiB makes glibc consolidate its fast
 * bins. Anything else (a number node) goes to cJSON. */

/* Bytes each byte takes in a JSON string as cJSON writes it: 1, or 2 for
 * \\" \\\\ \\b \\f \\n \\r \\t, or 6 for \\u00xx (other control characters). */
static const unsigned char escaped_len[256] = {
    6, 6, 6, 6, 6, 6, 6, 6, 2, 2, 2, 6, 2, 2, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
    1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

/* A string as cJSON's print_string_ptr writes it (the rest as it is, UTF-8
 * included); out NULL: only measured. */
static size_t put_string(char *out, const char *s) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t n = 1;
    if (!out) {
        for (; *p; p++)
            n += escaped_len[*p];
        return n + 1;
    }
    out[0] = '"';
    for (;; p++) {
        while (escaped_len[*p] == 1)
            out[n++] = (char)*p++;
        if (!*p)
            break;
        char e = *p == '\\' ? '\\' : *p == '"' ? '"' : *p == '\b' ? 'b' : *p == '\f' ? 'f'
               : *p == '\n' ? 'n' : *p == '\r' ? 'r' : *p == '\t' ? 't' : 'u';
        out[n] = '\\';
        out[n + 1] = e;
        if (e == 'u') {
            out[n + 2] = '0', out[n + 3] = '0';
            out[n + 4] = hex[*p >> 4], out[n + 5] = hex[*p & 15];
        }
        n += e == 'u' ? 6 : 2;
    }
    out[n] = '"';
    return n + 1;
}

static size_t put_text(char *out, const char *s, size_t len) {
    if (out)
        memcpy(out, s, len);
    return len;
}

/* Bytes of item's text, written to out unless out is NULL; SIZE_MAX when
 * the tree holds what only cJSON prints. */
static size_t put_value(char *out, const cJSON *item) {
    char *o = NULL;
    size_t n = 0, part;
#define AT (out ? out + n : o)
    switch (item->type & 0xFF) {
    case cJSON_NULL: return put_text(out, "null", 4);
    case cJSON_True: return put_text(out, "true", 4);
    case cJSON_False: return put_text(out, "false", 5);
    case cJSON_String: return put_string(out, item->valuestring);
    case cJSON_Raw:
        return item->valuestring ? put_text(out, item->valuestring, strlen(item->valuestring)) : SIZE_MAX;
    case cJSON_Array:
    case cJSON_Object: {
        bool object = (item->type & 0xFF) == cJSON_Object;
        n += put_text(AT, object ? "{" : "[", 1);
        for (const cJSON *c = item->child; c; c = c->next) {
            if (object) {
                n += put_string(AT, c->string);
                n += put_text(AT, ":", 1);
            }
            if ((part = put_value(AT, c)) == SIZE_MAX)
                return SIZE_MAX;
            n += part;
            if (c->next)
                n += put_text(AT, ",", 1);
        }
        return n + put_text(AT, object ? "}" : "]", 1);
    }
    default: return SIZE_MAX;
    }
#undef AT
}

char *wb_pv_print(const cJSON *doc) {
    if (!doc)
        return NULL;
    size_t n = put_value(NULL, doc);
    if (n == SIZE_MAX)
        return cJSON_PrintUnformatted(doc);
    char *json = malloc(n + 1);
    if (!json)
        return NULL;
    put_value(json, doc);
    json[n] = '\0';
    return json;
}

char *wb_pv_encode_tree(cJSON *doc, wb_pv_tree_checker check, char *err, size_t errlen) {
    wb_pv v = {err, errlen, false};
    if (!doc) {
        wb_pv_fail(&v, "", "out of memory");
        return NULL;
    }
    if (err && errlen)
        err[0] = '\0';
    if (check(doc, err, errlen) != 0) {
        cJSON_Delete(doc);
        return NULL;
    }
    char *json = wb_pv_print(doc);
    cJSON_Delete(doc);
    if (!json)
        wb_pv_fail(&v, "", "out of memory");
    return json;
}

char *wb_pv_encode(cJSON *doc, wb_pv_checker check, char *err, size_t errlen) {
    wb_pv v = {err, errlen, false};
    char *json = wb_pv_print(doc);
    cJSON_Delete(doc);
    if (!json) {
        wb_pv_fail(&v, "", "out of memory");
        return NULL;
    }
    /* The output goes through the decoder, so nothing invalid leaves here. */
    if (check(json, strlen(json), err, errlen) != 0) {
        free(json);
        return NULL;
    }
    return json;
}
