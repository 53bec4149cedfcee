/* bridgectl fulfilment: the fulfilment path's per-store options
 * (fulfilment_settings) and the return reason codes whose refund includes
 * shipping (return_reason_rules). They live outside the stores table, so
 * `store set` does not reach them. */
#include <stdio.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "bridgectl.h"

static const struct {
    const char *key, *kind, *dflt, *help;
} settings[] = {
    {"notify_customer", "bool", "true", "Shopify notifyCustomer on fulfilments, tracking updates, returns"},
    {"auto_close", "bool", "false", "Shopify orderClose once fully fulfilled, or fully returned and refunded"},
    {"tracking_on_packed", "bool", "false", "`packed` with shipments already reports tracking"},
    {"cancelled_report", "record|note|cancel", "record", "what a WMS `cancelled` does in the shop"},
};
#define SETTING_COUNT (int)(sizeof settings / sizeof settings[0])

static int known_store(wb_pg *pg, const char *store) {
    const char *p[] = {store};
    PGresult *r = wb_pg_query(pg, "SELECT 1 FROM stores WHERE id = $1", 1, p);
    if (!r) {
        fprintf(stderr, "bridgectl: %s\n", wb_pg_error(pg));
        return -1;
    }
    int found = PQntuples(r) == 1;
    PQclear(r);
    if (!found) fprintf(stderr, "bridgectl: unknown store %s\n", store);
    return found ? 0 : -1;
}

static const char *bool_text(const char *v) {
    if (strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 || strcmp(v, "on") == 0 || strcmp(v, "1") == 0)
        return "true";
    if (strcmp(v, "false") == 0 || strcmp(v, "no") == 0 || strcmp(v, "off") == 0 || strcmp(v, "0") == 0)
        return "false";
    return NULL;
}

int bctl_fulfilment_show(int argc, char **argv) {
    bctl_option opts[] = {{"json", .is_flag = true}, {0}};
    const char *store;
    if (bctl_parse(argc, argv, opts, &store, 1, "fulfilment show STORE [--json]")) return 2;
    wb_pg *pg = bctl_pg();
    if (known_store(pg, store) != 0) {
        wb_pg_close(pg);
        return 1;
    }
    const char *p[] = {store};
    PGresult *s = wb_pg_query(pg,
        "SELECT d.notify_customer, d.auto_close, d.tracking_on_packed, d.cancelled_report FROM "
        "(SELECT coalesce(f.notify_customer, true) AS notify_customer, coalesce(f.auto_close, false) AS auto_close, "
        " coalesce(f.tracking_on_packed, false) AS tracking_on_packed, "
        " coalesce(f.cancelled_report, 'record') AS cancelled_report "
        " FROM (SELECT 1) one LEFT JOIN fulfilment_settings f ON f.store_id = $1) d", 1, p);
    PGresult *rr = s ? wb_pg_query(pg,
        "SELECT reason_code, refund_shipping FROM return_reason_rules WHERE store_id = $1 ORDER BY reason_code",
        1, p) : NULL;
    if (!s || !rr) {
        fprintf(stderr, "bridgectl: %s\n", wb_pg_error(pg));
        if (s) PQclear(s);
        wb_pg_close(pg);
        return 1;
    }
    if (opts[0].flag) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "store", store);
        for (int i = 0; i < 3; i++) cJSON_AddBoolToObject(o, settings[i].key, PQgetvalue(s, 0, i)[0] == 't');
        cJSON_AddStringToObject(o, "cancelled_report", PQgetvalue(s, 0, 3));
        cJSON *rules = cJSON_AddObjectToObject(o, "return_reasons");
        for (int i = 0; i < PQntuples(rr); i++)
            cJSON_AddBoolToObject(rules, PQgetvalue(rr, i, 0), PQgetvalue(rr, i, 1)[0] == 't');
        bctl_print_json(o);
    } else {
        printf("store %s\n", store);
        for (int i = 0; i < 3; i++)
            printf("  %-20s %s\n", settings[i].key, PQgetvalue(s, 0, i)[0] == 't' ? "true" : "false");
        printf("  %-20s %s\n", "cancelled_report", PQgetvalue(s, 0, 3));
        if (PQntuples(rr) == 0) printf("  return reasons: none (no return refunds shipping)\n");
        for (int i = 0; i < PQntuples(rr); i++)
            printf("  reason %-13s %s\n", PQgetvalue(rr, i, 0),
                   PQgetvalue(rr, i, 1)[0] == 't' ? "refunds shipping" : "keeps shipping");
    }
    PQclear(s);
    PQclear(rr);
    wb_pg_close(pg);
    return 0;
}

int bctl_fulfilment_set(int argc, char **argv) {
    const char *pos[3];
    if (bctl_parse(argc, argv, NULL, pos, 3, "fulfilment set STORE KEY VALUE")) return 2;
    int k = 0;
    while (k < SETTING_COUNT && strcmp(settings[k].key, pos[1]) != 0) k++;
    if (k == SETTING_COUNT) {
        fprintf(stderr, "bridgectl: unknown fulfilment setting %s; one of:", pos[1]);
        for (int i = 0; i < SETTING_COUNT; i++) fprintf(stderr, " %s", settings[i].key);
        fprintf(stderr, "\n");
        return 2;
    }
    const char *value = pos[2];
    if (strcmp(settings[k].kind, "bool") == 0) value = bool_text(pos[2]);
    else if (strcmp(value, "record") != 0 && strcmp(value, "note") != 0 && strcmp(value, "cancel") != 0)
        value = NULL;
    if (!value) {
        fprintf(stderr, "bridgectl: %s takes %s, not %s\n", settings[k].key, settings[k].kind, pos[2]);
        return 2;
    }
    wb_pg *pg = bctl_pg();
    if (known_store(pg, pos[0]) != 0) {
        wb_pg_close(pg);
        return 1;
    }
    const char *p[] = {pos[0], value};
    int rc;
    /* One fixed statement per column. */
    switch (k) {
    case 0: rc = wb_pg_exec(pg, "INSERT INTO fulfilment_settings (store_id, notify_customer) VALUES ($1, $2::boolean) "
                            "ON CONFLICT (store_id) DO UPDATE SET notify_customer = EXCLUDED.notify_customer", 2, p);
        break;
    case 1: rc = wb_pg_exec(pg, "INSERT INTO fulfilment_settings (store_id, auto_close) VALUES ($1, $2::boolean) "
                            "ON CONFLICT (store_id) DO UPDATE SET auto_close = EXCLUDED.auto_close", 2, p);
        break;
    case 2: rc = wb_pg_exec(pg, "INSERT INTO fulfilment_settings (store_id, tracking_on_packed) VALUES ($1, $2::boolean) "
                            "ON CONFLICT (store_id) DO UPDATE SET tracking_on_packed = EXCLUDED.tracking_on_packed", 2, p);
        break;
    default: rc = wb_pg_exec(pg, "INSERT INTO fulfilment_settings (store_id, cancelled_report) VALUES ($1, $2) "
                             "ON CONFLICT (store_id) DO UPDATE SET cancelled_report = EXCLUDED.cancelled_report", 2, p);
        break;
    }
    if (rc) fprintf(stderr, "bridgectl: %s\n", wb_pg_error(pg));
    else printf("store %s: %s = %s\n", pos[0], settings[k].key, value);
    wb_pg_close(pg);
    return rc ? 1 : 0;
}

int bctl_fulfilment_reason(int argc, char **argv) {
    const char *pos[3];
    if (bctl_parse(argc, argv, NULL, pos, 3,
                   "fulfilment reason STORE REASON_CODE refund_shipping|keep_shipping|remove"))
        return 2;
    const char *action = pos[2];
    bool remove = strcmp(action, "remove") == 0;
    if (!remove && strcmp(action, "refund_shipping") != 0 && strcmp(action, "keep_shipping") != 0) {
        fprintf(stderr, "bridgectl: %s: expected refund_shipping, keep_shipping or remove\n", action);
        return 2;
    }
    if (!pos[1][0] || strlen(pos[1]) > 64) {
        fprintf(stderr, "bridgectl: a reason code is 1-64 characters, as the WMS sends it\n");
        return 2;
    }
    wb_pg *pg = bctl_pg();
    if (known_store(pg, pos[0]) != 0) {
        wb_pg_close(pg);
        return 1;
    }
    const char *refund = strcmp(action, "refund_shipping") == 0 ? "true" : "false";
    const char *p[] = {pos[0], pos[1], refund};
    int rc = remove ? wb_pg_exec(pg, "DELETE FROM return_reason_rules WHERE store_id = $1 AND reason_code = $2",
                                 2, p)
                    : wb_pg_exec(pg,
                                 "INSERT INTO return_reason_rules (store_id, reason_code, refund_shipping) "
                                 "VALUES ($1, $2, $3::boolean) ON CONFLICT (store_id, reason_code) "
                                 "DO UPDATE SET refund_shipping = EXCLUDED.refund_shipping",
                                 3, p);
    if (rc) fprintf(stderr, "bridgectl: %s\n", wb_pg_error(pg));
    else if (remove) printf("store %s: reason %s removed (its returns keep shipping)\n", pos[0], pos[1]);
    else printf("store %s: reason %s %s\n", pos[0], pos[1], remove ? "removed" : action);
    wb_pg_close(pg);
    return rc ? 1 : 0;
}
