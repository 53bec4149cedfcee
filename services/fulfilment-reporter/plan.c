/* The pure parts of the fulfilment path (see plan.h). */
#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fr_match_lines(const fr_fo_line *fol, size_t n_fol, const wb_shipment_line *lines,
                   size_t n_lines, fr_alloc **out, size_t *n_out, char *err, size_t errlen) {
    *out = NULL;
    *n_out = 0;
    int64_t *want = calloc(n_lines ? n_lines : 1, sizeof *want);
    if (!want) return -1;
    /* Two shipment lines of one order line add up: the first keeps the sum. */
    for (size_t i = 0; i < n_lines; i++) {
        size_t j = 0;
        while (j < i && strcmp(lines[j].line_id, lines[i].line_id) != 0) j++;
        want[j] += lines[i].quantity;
    }
    fr_alloc *a = calloc(n_fol ? n_fol : 1, sizeof *a);
    size_t n = 0;
    for (size_t k = 0; k < n_fol; k++) {
        if (fol[k].remaining <= 0) continue;
        for (size_t i = 0; i < n_lines; i++) {
            if (want[i] <= 0 || strcmp(fol[k].line_id, lines[i].line_id) != 0) continue;
            int64_t take = want[i] < fol[k].remaining ? want[i] : fol[k].remaining;
            want[i] -= take;
            a[n++] = (fr_alloc){fol[k].fo_id, fol[k].fo_line_id, take};
            break;
        }
    }
    for (size_t i = 0; i < n_lines; i++) {
        if (want[i] > 0) {
            snprintf(err, errlen, "line %s (sku %s): %lld more than the shop has open to fulfil",
                     lines[i].line_id, lines[i].sku, (long long)want[i]);
            free(want);
            free(a);
            return -1;
        }
    }
    free(want);
    *out = a;
    *n_out = n;
    return 0;
}

int fr_match_return(const fr_fo_line *fl, size_t n_fl, const wb_return *ret, fr_ret_alloc **out,
                    size_t *n_out, char *err, size_t errlen) {
    *out = NULL;
    *n_out = 0;
    fr_ret_alloc *agg = calloc(n_fl ? n_fl : 1, sizeof *agg);
    int64_t *rem = calloc(n_fl ? n_fl : 1, sizeof *rem);
    if (!agg || !rem) {
        free(agg);
        free(rem);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t k = 0; k < n_fl; k++) rem[k] = fl[k].remaining;
    for (size_t i = 0; i < ret->n_lines; i++) {
        const wb_return_line *rl = &ret->lines[i];
        int64_t want = rl->quantity;
        for (size_t k = 0; k < n_fl && want > 0; k++) {
            if (rem[k] <= 0 || strcmp(fl[k].line_id, rl->line_id) != 0) continue;
            int64_t take = want < rem[k] ? want : rem[k];
            rem[k] -= take;
            want -= take;
            agg[k].quantity += take;
            if (rl->restock) agg[k].restock += take;
        }
        if (want > 0) {
            snprintf(err, errlen, "return %s: line %s (sku %s): %lld more than the shop has fulfilled and not returned",
                     ret->id, rl->line_id, rl->sku, (long long)want);
            free(agg);
            free(rem);
            return -1;
        }
    }
    size_t n = 0;
    for (size_t k = 0; k < n_fl; k++) {
        if (agg[k].quantity == 0) continue;
        agg[n] = agg[k];
        agg[n].fli_id = fl[k].fo_line_id;
        agg[n].line_id = fl[k].line_id;
        n++;
    }
    free(rem);
    *out = agg;
    *n_out = n;
    return 0;
}

void fr_note_marker(const char *shipment_id, char *buf, size_t size) {
    snprintf(buf, size, "[shipment %s]", shipment_id);
}

char *fr_note_text(const wb_shipment *s) {
    char marker[128];
    fr_note_marker(s->id, marker, sizeof marker);
    size_t size = strlen(s->carrier) + (s->tracking_number ? strlen(s->tracking_number) : 0) +
                  (s->tracking_url ? strlen(s->tracking_url) : 0) + strlen(marker) + 64;
    char *out = malloc(size);
    if (!out) return NULL;
    int n = snprintf(out, size, "Shipped with %s", s->carrier);
    if (s->tracking_number) n += snprintf(out + n, size - (size_t)n, ", tracking number %s", s->tracking_number);
    if (s->tracking_url) n += snprintf(out + n, size - (size_t)n, ": %s", s->tracking_url);
    snprintf(out + n, size - (size_t)n, " %s", marker);
    return out;
}

int64_t fr_parse_cents(const char *s) {
    if (!s || !*s) return -1;
    const char *p = s;
    bool neg = false;
    if (*p == '-') neg = true, p++;
    int64_t whole = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9') {
        if (++digits > 15) return -1;
        whole = whole * 10 + (*p++ - '0');
    }
    if (digits == 0) return -1;
    int64_t frac = 0;
    if (*p == '.') {
        p++;
        int places = 0;
        while (*p >= '0' && *p <= '9') {
            if (places < 2) frac = frac * 10 + (*p - '0');
            else if (*p != '0') return -1;
            places++, p++;
        }
        if (places == 0) return -1;
        if (places == 1) frac *= 10;
    }
    if (*p) return -1;
    int64_t v = whole * 100 + frac;
    return neg ? -v : v;
}

void fr_format_cents(int64_t cents, char *buf, size_t size) {
    const char *sign = cents < 0 ? "-" : "";
    if (cents < 0) cents = -cents;
    snprintf(buf, size, "%s%lld.%02lld", sign, (long long)(cents / 100), (long long)(cents % 100));
}

int64_t fr_line_refund_cents(int64_t total_cents, int64_t quantity, int64_t returned) {
    if (quantity <= 0 || returned <= 0) return 0;
    if (returned >= quantity) return total_cents;
    return (total_cents * returned * 2 + quantity) / (2 * quantity);
}
