/* Helpers the two mappers share: amounts, times, text limits, addresses. */
#include "map_internal.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int oi_decimal_parse(const char *s, int64_t *micros) {
    if (!s) return -1;
    while (*s == ' ') s++;
    if (!isdigit((unsigned char)*s)) return -1;
    int64_t whole = 0;
    int digits = 0;
    for (; isdigit((unsigned char)*s); s++) {
        if (++digits > 12) return -1;
        whole = whole * 10 + (*s - '0');
    }
    int64_t frac = 0;
    int places = 0;
    bool round_up = false;
    if (*s == '.') {
        s++;
        if (!isdigit((unsigned char)*s)) return -1;
        for (; isdigit((unsigned char)*s); s++) {
            if (places < 6) {
                frac = frac * 10 + (*s - '0');
                places++;
            } else if (places == 6) {
                round_up = *s >= '5';
                places++;
            }
        }
    }
    while (*s == ' ') s++;
    if (*s) return -1;
    for (int p = places > 6 ? 6 : places; p < 6; p++) frac *= 10;
    *micros = whole * 1000000 + frac + (round_up ? 1 : 0);
    return 0;
}

/* By hand: two per line, and snprintf cost more than the rest of a line. */
void oi_decimal_format(int64_t micros, char out[32]) {
    if (micros < 0) micros = 0;
    uint64_t whole = (uint64_t)micros / 1000000, frac = (uint64_t)micros % 1000000;
    char digits[24], *d = digits + sizeof digits;
    do *--d = (char)('0' + whole % 10); while ((whole /= 10) != 0);
    size_t n = (size_t)(digits + sizeof digits - d);
    memcpy(out, d, n);
    out[n++] = '.';
    for (int i = 5; i >= 0; i--, frac /= 10) out[n + (size_t)i] = (char)('0' + frac % 10);
    int keep = 6;
    while (keep > 2 && out[n + (size_t)keep - 1] == '0') keep--;
    out[n + (size_t)keep] = 0;
}

static int digits(const char **p, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (!isdigit((unsigned char)**p)) return -1;
        v = v * 10 + (**p - '0');
    }
    *out = v;
    return 0;
}

int oi_parse_time_ms(const char *s, bool assume_utc, int64_t *ms) {
    if (!s) return -1;
    const char *p = s;
    int y, mo, d, h, mi, sec;
    if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
        digits(&p, 2, &d) || (*p != 'T' && *p != 't' && *p != ' '))
        return -1;
    p++;
    if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' ||
        digits(&p, 2, &sec))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return -1;
    int frac_ms = 0;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p)) return -1;
        int scale = 100;
        for (; isdigit((unsigned char)*p); p++) {
            frac_ms += (*p - '0') * scale;
            scale /= 10;
        }
    }
    int offset_min = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om;
        if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) || oh > 23 || om > 59)
            return -1;
        offset_min = sign * (oh * 60 + om);
    } else if (!assume_utc) {
        return -1;
    }
    if (*p) return -1;
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    *ms = ((int64_t)t - (int64_t)offset_min * 60) * 1000 + frac_ms;
    return *ms > 0 ? 0 : -1;
}

char *oi_text(const char *s, size_t max_chars) {
    if (!s) return NULL;
    while (*s && isspace((unsigned char)*s)) s++;
    size_t len = strlen(s);
    while (len && isspace((unsigned char)s[len - 1])) len--;
    /* Cut after max_chars characters (a UTF-8 character starts with any byte
     * but 10xxxxxx). */
    size_t chars = 0, i = 0;
    for (; i < len; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (chars == max_chars) break;
            chars++;
        }
    }
    len = i;
    while (len && isspace((unsigned char)s[len - 1])) len--;
    if (!len) return NULL;
    return strndup(s, len);
}

const cJSON *oi_jget(const cJSON *o, const char *key) {
    if (!o || !key) return NULL;
    for (const cJSON *c = o->child; c && c->string; c = c->next)
        if (c->string[0] == key[0] && strcmp(c->string, key) == 0) return c;
    return NULL;
}

const char *oi_jstr(const cJSON *o, const char *key) {
    const cJSON *v = oi_jget(o, key);
    if (!cJSON_IsString(v) || !v->valuestring) return NULL;
    const char *s = v->valuestring;
    while (*s && isspace((unsigned char)*s)) s++;
    return *s ? v->valuestring : NULL;
}

int64_t oi_jint(const cJSON *n) {
    if (!cJSON_IsNumber(n) || n->valuedouble != n->valuedouble) return 0;
    if (n->valuedouble > (double)WB_PV_INT_MAX) return WB_PV_INT_MAX;
    if (n->valuedouble < -(double)WB_PV_INT_MAX) return -WB_PV_INT_MAX;
    return (int64_t)n->valuedouble;
}

const char *oi_jid(const cJSON *o, const char *key, char *buf, size_t size) {
    const cJSON *v = oi_jget(o, key);
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (!(d >= 0 && d <= 9007199254740991.0) || floor(d) != d) return NULL;
        char digits[24], *p = digits + sizeof digits;
        uint64_t u = (uint64_t)d;
        *--p = 0;
        do *--p = (char)('0' + u % 10); while ((u /= 10) != 0);
        size_t n = strlen(p);
        if (n >= size) n = size ? size - 1 : 0; /* cut, as snprintf would */
        if (size) memcpy(buf, p, n), buf[n] = 0;
        return buf;
    }
    if (cJSON_IsString(v) && v->valuestring && *v->valuestring) {
        size_t n = strnlen(v->valuestring, size ? size - 1 : 0);
        if (size) memcpy(buf, v->valuestring, n), buf[n] = 0;
        return buf;
    }
    return NULL;
}

int oi_jamount(const cJSON *o, const char *key, int64_t *micros) {
    const cJSON *v = oi_jget(o, key);
    if (cJSON_IsString(v)) return oi_decimal_parse(v->valuestring, micros);
    if (cJSON_IsNumber(v)) {
        if (!(v->valuedouble >= 0 && v->valuedouble < 1e12)) return -1;
        char buf[64];
        snprintf(buf, sizeof buf, "%.6f", v->valuedouble);
        return oi_decimal_parse(buf, micros);
    }
    return -1;
}

bool oi_addr_present(const oi_addr_in *in) {
    char *a = oi_text(in->address1, 255), *c = oi_text(in->city, 255);
    bool present = a || c;
    free(a);
    free(c);
    return present;
}

/* first + last name, either may be missing; NULL when both are. */
static char *person(const oi_addr_in *in) {
    char *f = oi_text(in->first, 255), *l = oi_text(in->last, 255);
    char *out = NULL;
    if (f && l) {
        char *both;
        if (asprintf(&both, "%s %s", f, l) >= 0) {
            out = oi_text(both, 255);
            free(both);
        }
    } else {
        out = f ? strdup(f) : l ? strdup(l) : NULL;
    }
    free(f);
    free(l);
    if (!out) out = oi_text(in->full_name, 255);
    return out;
}

static char *upper_country(const char *s) {
    char *c = oi_text(s, 8);
    if (!c) return NULL;
    for (char *p = c; *p; p++) *p = (char)toupper((unsigned char)*p);
    if (!wb_pv_country.ok(c)) {
        free(c);
        return NULL;
    }
    return c;
}

static char *email_or_null(const char *s) {
    char *e = oi_text(s, 254);
    if (e && (!wb_pv_email.ok(e) || strlen(e) > 254 || strchr(e, ' '))) {
        free(e);
        return NULL;
    }
    return e;
}

void oi_addr_build(const oi_addr_in *in, wb_address *out) {
    memset(out, 0, sizeof *out);
    char *company = oi_text(in->company, 255), *who = person(in);
    if (company) {
        out->name = company;
        out->contact = who;
    } else {
        out->name = who;
    }
    out->address1 = oi_text(in->address1, 255);
    out->address2 = oi_text(in->address2, 255);
    out->postcode = oi_text(in->postcode, 64);
    out->city = oi_text(in->city, 255);
    out->state = oi_text(in->state, 255);
    out->country_code = upper_country(in->country);
    out->email = email_or_null(in->email);
    out->phone = oi_text(in->phone, 64);
}

void oi_addr_free(wb_address *a) {
    free(a->name), free(a->contact), free(a->address1), free(a->address2);
    free(a->postcode), free(a->city), free(a->state), free(a->country_code);
    free(a->email), free(a->phone);
    memset(a, 0, sizeof *a);
}

void oi_order_free(oi_order *o) {
    if (!o) return;
    free(o->json);
    o->json = NULL;
    wb_order_msg *m = &o->msg;
    free(m->event_id), free(m->store_id), free(m->order_id), free(m->order_number);
    free(m->created_at), free(m->currency), free(m->delivery_method.code);
    free(m->delivery_method.name), free(m->remark), free(m->warehouse);
    oi_addr_free(&m->customer);
    oi_addr_free(&m->invoice);
    free(m->notification.email), free(m->notification.mobile);
    for (size_t i = 0; i < m->n_lines; i++) {
        wb_order_line *l = &m->lines[i];
        free(l->line_id), free(l->sku), free(l->name), free(l->unit_price), free(l->line_total);
    }
    free(m->lines);
    free(o->status), free(o->financial_status), free(o->fulfillment_status), free(o->shop_location);
    memset(o, 0, sizeof *o);
}

int oi_map_finish(oi_order *o, char *err, size_t errlen) {
    wb_order_msg *m = &o->msg;
    char id[65];
    wb_order_event_id(m->store_id, m->order_id, m->version, id);
    m->event_id = strdup(id);
    m->type = o->cancelled ? WB_ORDER_CANCELLED : WB_ORDER_CREATED;
    /* Both or neither: the schema wants code and name together. */
    if (!m->delivery_method.code != !m->delivery_method.name) {
        if (!m->delivery_method.code) m->delivery_method.code = oi_text(m->delivery_method.name, 64);
        else m->delivery_method.name = oi_text(m->delivery_method.code, 255);
    }
    m->notification.by_email = m->notification.email != NULL;
    m->notification.by_sms = m->notification.mobile != NULL;
    char why[256];
    char *json = wb_order_msg_encode_err(m, why, sizeof why);
    if (!json) {
        snprintf(err, errlen, "order %s: %s", m->order_id, why);
        return OI_MAP_UNMAPPABLE;
    }
    o->json = json;
    o->json_type = m->type;
    return OI_MAP_OK;
}

int oi_map_raw(oi_json_mapper map, const char *store_id, const char *json, size_t len, oi_order *out,
               char **order_id, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    if (order_id) *order_id = NULL;
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root) {
        snprintf(err, errlen, "malformed JSON");
        return OI_MAP_MALFORMED;
    }
    int rc = map(store_id, root, out, order_id, err, errlen);
    cJSON_Delete(root);
    return rc;
}
