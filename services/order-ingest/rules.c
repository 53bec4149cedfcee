/* See rules.h. */
#include "rules.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *oi_action_name(oi_action a) {
    switch (a) {
    case OI_ACT_CREATE: return "created";
    case OI_ACT_UPDATE: return "updated";
    case OI_ACT_CANCEL: return "cancelled";
    case OI_ACT_DUPLICATE: return "duplicate";
    case OI_ACT_STALE: return "stale";
    case OI_ACT_FILTERED: return "filtered";
    case OI_ACT_PICKING: return "suppressed_picking";
    case OI_ACT_ALREADY_CANCELLED: return "already_cancelled";
    case OI_ACT_UNKNOWN_CANCEL: return "unknown_cancelled";
    }
    return "?";
}

bool oi_action_sends(oi_action a) {
    return a == OI_ACT_CREATE || a == OI_ACT_UPDATE || a == OI_ACT_CANCEL;
}

static const char *skip_prefix(const char *s, size_t *len) {
    while (*len && isspace((unsigned char)*s)) s++, (*len)--;
    while (*len && isspace((unsigned char)s[*len - 1])) (*len)--;
    if (*len >= 3 && strncasecmp(s, "wc-", 3) == 0) s += 3, *len -= 3;
    return s;
}

bool oi_list_has(const char *list, const char *value) {
    if (!list) return true;
    bool empty = true;
    for (const char *p = list; *p; p++)
        if (*p != ',' && !isspace((unsigned char)*p)) empty = false;
    if (empty) return true;
    if (!value) return false;
    size_t vlen = strlen(value);
    const char *v = skip_prefix(value, &vlen);
    const char *p = list;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *item = skip_prefix(p, &len);
        if (len == vlen && strncasecmp(item, v, len) == 0) return true;
        if (!end) break;
        p = end + 1;
    }
    return false;
}

bool oi_filter_pass(const wb_store *store, const oi_order *order) {
    if (order->msg.platform == WB_PLATFORM_WOOCOMMERCE)
        return oi_list_has(store->order_statuses, order->status);
    return oi_list_has(store->financial_statuses, order->financial_status) &&
           oi_list_has(store->fulfillment_statuses, order->fulfillment_status);
}

oi_action oi_decide(const oi_prior *prior, bool cancelled, int64_t version, bool passes_filter) {
    if (!prior->exists) {
        if (cancelled) return OI_ACT_UNKNOWN_CANCEL;
        return passes_filter ? OI_ACT_CREATE : OI_ACT_FILTERED;
    }
    if (version == prior->version) return OI_ACT_DUPLICATE;
    if (version < prior->version) return OI_ACT_STALE;
    if (prior->state && strcmp(prior->state, "cancelled") == 0) return OI_ACT_ALREADY_CANCELLED;
    if (cancelled) return OI_ACT_CANCEL;
    if (prior->state && (strcmp(prior->state, "sent") == 0 || strcmp(prior->state, "accepted") == 0))
        return OI_ACT_UPDATE;
    return OI_ACT_PICKING;
}

bool oi_refuse_nothing_open(const oi_order *order, oi_action action, char *err, size_t errlen) {
    if (!order->nothing_open || (action != OI_ACT_CREATE && action != OI_ACT_UPDATE)) return false;
    snprintf(err, errlen, "order %s: lines: every line was refunded, returned or removed "
             "(current_quantity 0): nothing to fulfil, not sent as %s", order->msg.order_id,
             oi_action_name(action));
    return true;
}
