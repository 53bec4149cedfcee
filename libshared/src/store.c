/* Store configuration (see wb/store.h). Every value reaches SQL as a
 * parameter; column names come only from the fixed settings table below. */
#include "wb/store.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "wb/crypto.h"

const wb_store_setting wb_store_settings[] = {
    {"enabled", "enabled", "bool", "the bridge works for this store"},
    {"goods_owner", "goods_owner", "text", "the 3PL tenant that owns the store"},
    {"url", "base_url", "url", "the shop's base URL"},
    {"stock_sync", "stock_sync", "bool", "send WMS stock to the shop"},
    {"stock_mode", "stock_mode", "absolute|delta", "set values, or send differences"},
    {"window_seconds", "window_seconds", "int 0-3600", "stock debounce window, 0 = at once"},
    {"safety_stock", "safety_stock", "int >= 0", "kept back from sellable stock"},
    {"rate_limit_rps", "rate_limit_rps", "int >= 0", "WooCommerce requests per second, all services and replicas together, 0 = no limit"},
    {"order_statuses", "order_statuses", "list", "WooCommerce order statuses sent to the WMS"},
    {"financial_statuses", "financial_statuses", "list", "Shopify financial statuses sent (empty: all)"},
    {"fulfillment_statuses", "fulfillment_statuses", "list", "Shopify fulfilment statuses sent (empty: all)"},
    {"note_visibility", "note_visibility", "private|customer", "who sees tracking notes"},
    {"complete_on_dispatch", "complete_on_dispatch", "bool", "complete the order when dispatched"},
    {"shipment_tracking", "shipment_tracking", "bool", "WooCommerce Shipment Tracking extension present"},
    {"virtual_as_non_stock", "virtual_as_non_stock", "bool", "virtual products become non-stock articles"},
    {"variations_limit", "variations_limit", "int >= 0", "variations imported per product, 0 = all"},
    {"catalog_categories", "catalog_categories", "bool", "send product categories on shop.catalog.v1"},
    {"require_sku_mapping", "require_sku_mapping", "bool", "dead-letter an order whose SKU has no product mapping"},
};
const int wb_store_setting_count = sizeof wb_store_settings / sizeof wb_store_settings[0];

static const char *const platform_fields[][4] = {
    {"shopify", "access_token", "api_secret", NULL},
    {"woocommerce", "consumer_key", "consumer_secret", "webhook_secret"},
};

static bool valid_id(const char *id) {
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > 63 || !(islower((unsigned char)id[0]) || isdigit((unsigned char)id[0])))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!islower((unsigned char)id[i]) && !isdigit((unsigned char)id[i]) && id[i] != '-' &&
            id[i] != '_')
            return false;
    return true;
}

static bool valid_url(const char *url) {
    const char *host;
    if (!url) return false;
    if (strncmp(url, "https://", 8) == 0) host = url + 8;
    else if (strncmp(url, "http://", 7) == 0) host = url + 7;
    else return false;
    if (!*host || *host == '/' || *host == ':') return false;
    for (const char *p = host; *p; p++)
        if (isspace((unsigned char)*p) || *p == '"' || *p == '<' || *p == '>' || *p == '\\') return false;
    return true;
}

static int check_credentials(const char *platform, const char *json, char *err, size_t err_size) {
    cJSON *doc = cJSON_Parse(json ? json : "");
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        snprintf(err, err_size, "credentials: expected a JSON object");
        return -1;
    }
    int rc = 0;
    for (size_t p = 0; p < 2 && rc == 0; p++) {
        if (strcmp(platform, platform_fields[p][0]) != 0) continue;
        for (int f = 1; f < 4 && platform_fields[p][f] && rc == 0; f++) {
            cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, platform_fields[p][f]);
            if (!cJSON_IsString(v) || !*v->valuestring) {
                snprintf(err, err_size, "credentials: %s needs a non-empty \"%s\"", platform,
                         platform_fields[p][f]);
                rc = -1;
            }
        }
    }
    cJSON_Delete(doc);
    return rc;
}

int wb_store_validate(const char *id, const char *goods_owner, const char *platform,
                      const char *base_url, const char *credentials_json, char *err,
                      size_t err_size) {
    if (!valid_id(id)) {
        snprintf(err, err_size, "store id '%s': use 1-63 of a-z, 0-9, '-' and '_', starting with a letter or digit",
                 id ? id : "");
        return -1;
    }
    if (!goods_owner || !*goods_owner) {
        snprintf(err, err_size, "goods owner: required");
        return -1;
    }
    if (!platform || (strcmp(platform, "shopify") != 0 && strcmp(platform, "woocommerce") != 0)) {
        snprintf(err, err_size, "platform '%s': expected shopify or woocommerce", platform ? platform : "");
        return -1;
    }
    if (!valid_url(base_url)) {
        snprintf(err, err_size, "url '%s': expected http://host[:port][/path] or https://...",
                 base_url ? base_url : "");
        return -1;
    }
    return check_credentials(platform, credentials_json, err, err_size);
}

static int pg_fail(wb_pg *pg, char *err, size_t err_size) {
    snprintf(err, err_size, "%s", wb_pg_error(pg));
    return -1;
}

int wb_store_add(wb_pg *pg, const unsigned char key[32], const char *id,
                 const char *goods_owner, const char *platform, const char *base_url,
                 const char *credentials_json, char *err, size_t err_size) {
    if (wb_store_validate(id, goods_owner, platform, base_url, credentials_json, err, err_size))
        return -1;
    char *sealed = wb_seal(key, credentials_json, strlen(credentials_json), id);
    if (!sealed) {
        snprintf(err, err_size, "sealing the credentials failed");
        return -1;
    }
    const char *params[] = {id, goods_owner, platform, base_url, sealed};
    PGresult *res = wb_pg_query(pg,
        "INSERT INTO stores (id, goods_owner, platform, base_url, credentials_sealed) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING RETURNING id", 5, params);
    free(sealed);
    if (!res) return pg_fail(pg, err, err_size);
    int inserted = PQntuples(res);
    PQclear(res);
    if (!inserted) {
        snprintf(err, err_size, "store '%s' already exists", id);
        return -1;
    }
    return 0;
}

#define STORE_COLUMNS                                                                   \
    "id, goods_owner, platform, base_url, enabled, credentials_sealed, stock_sync, "     \
    "stock_mode, window_seconds, safety_stock, array_to_string(order_statuses, ','), "   \
    "array_to_string(financial_statuses, ','), array_to_string(fulfillment_statuses, ','), " \
    "note_visibility, complete_on_dispatch, shipment_tracking, virtual_as_non_stock, "   \
    "variations_limit, rate_limit_rps"

static char *dup_col(PGresult *res, int row, int col) { return strdup(PQgetvalue(res, row, col)); }
static bool bool_col(PGresult *res, int row, int col) { return PQgetvalue(res, row, col)[0] == 't'; }

static void store_from_row(PGresult *res, int row, wb_store *s) {
    memset(s, 0, sizeof *s);
    s->id = dup_col(res, row, 0);
    s->goods_owner = dup_col(res, row, 1);
    s->platform = dup_col(res, row, 2);
    s->base_url = dup_col(res, row, 3);
    s->enabled = bool_col(res, row, 4);
    s->stock_sync = bool_col(res, row, 6);
    s->stock_mode = dup_col(res, row, 7);
    s->window_seconds = atoi(PQgetvalue(res, row, 8));
    s->safety_stock = atoi(PQgetvalue(res, row, 9));
    s->order_statuses = dup_col(res, row, 10);
    s->financial_statuses = dup_col(res, row, 11);
    s->fulfillment_statuses = dup_col(res, row, 12);
    s->note_visibility = dup_col(res, row, 13);
    s->complete_on_dispatch = bool_col(res, row, 14);
    s->shipment_tracking = bool_col(res, row, 15);
    s->virtual_as_non_stock = bool_col(res, row, 16);
    s->variations_limit = atoi(PQgetvalue(res, row, 17));
    s->rate_limit_rps = atoll(PQgetvalue(res, row, 18));
}

int wb_store_load(wb_pg *pg, const unsigned char *key, const char *id, wb_store *store,
                  char *err, size_t err_size) {
    memset(store, 0, sizeof *store);
    const char *params[] = {id};
    PGresult *res = wb_pg_query(pg, "SELECT " STORE_COLUMNS " FROM stores WHERE id = $1", 1, params);
    if (!res) return pg_fail(pg, err, err_size);
    if (PQntuples(res) == 0) {
        PQclear(res);
        snprintf(err, err_size, "no store '%s'", id);
        return 1;
    }
    store_from_row(res, 0, store);
    int rc = 0;
    if (key && wb_unseal(key, PQgetvalue(res, 0, 5), id, &store->credentials, NULL) != 0) {
        snprintf(err, err_size,
                 "cannot decrypt the credentials of store '%s': wrong WB_MASTER_KEY or a damaged value", id);
        wb_store_free(store);
        rc = -1;
    }
    PQclear(res);
    return rc;
}

int wb_store_list(wb_pg *pg, wb_store **stores, char *err, size_t err_size) {
    *stores = NULL;
    PGresult *res = wb_pg_query(pg, "SELECT " STORE_COLUMNS " FROM stores ORDER BY id", 0, NULL);
    if (!res) return pg_fail(pg, err, err_size);
    int n = PQntuples(res);
    *stores = calloc((size_t)n + 1, sizeof **stores);
    for (int i = 0; i < n; i++) store_from_row(res, i, &(*stores)[i]);
    PQclear(res);
    return n;
}

void wb_store_free(wb_store *s) {
    if (!s) return;
    char *fields[] = {s->id, s->goods_owner, s->platform, s->base_url, s->stock_mode,
                      s->order_statuses, s->financial_statuses, s->fulfillment_statuses,
                      s->note_visibility};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) free(fields[i]);
    if (s->credentials) {
        /* Credentials are wiped, not just freed. */
        memset(s->credentials, 0, strlen(s->credentials));
        free(s->credentials);
    }
    memset(s, 0, sizeof *s);
}

void wb_store_list_free(wb_store *stores, int count) {
    for (int i = 0; i < count; i++) wb_store_free(&stores[i]);
    free(stores);
}

/* ---- settings ---- */

static const wb_store_setting *find_setting(const char *key) {
    for (int i = 0; i < wb_store_setting_count; i++)
        if (strcmp(wb_store_settings[i].key, key) == 0) return &wb_store_settings[i];
    return NULL;
}

/* Turns the text form into the SQL parameter; returns the cast to apply or NULL on bad input. */
static const char *normalise(const wb_store_setting *s, const char *value, char *out, size_t size,
                             char *err, size_t err_size) {
    const char *kind = s->kind;
    if (strcmp(kind, "bool") == 0) {
        const char *yes[] = {"true", "on", "yes", "1"}, *no[] = {"false", "off", "no", "0"};
        for (int i = 0; i < 4; i++) {
            if (strcasecmp(value, yes[i]) == 0) return snprintf(out, size, "true"), "boolean";
            if (strcasecmp(value, no[i]) == 0) return snprintf(out, size, "false"), "boolean";
        }
        snprintf(err, err_size, "%s: expected true or false, got '%s'", s->key, value);
        return NULL;
    }
    if (strncmp(kind, "int", 3) == 0) {
        char *end;
        long n = strtol(value, &end, 10);
        long max = strcmp(s->key, "window_seconds") == 0 ? 3600 : 1000000000L;
        if (!*value || *end || n < 0 || n > max) {
            snprintf(err, err_size, "%s: expected an integer from 0 to %ld, got '%s'", s->key, max, value);
            return NULL;
        }
        return snprintf(out, size, "%ld", n), "integer";
    }
    if (strcmp(kind, "list") == 0) {
        for (const char *p = value; *p; p++)
            if (!islower((unsigned char)*p) && *p != '_' && *p != '-' && *p != ',') {
                snprintf(err, err_size, "%s: expected a comma-separated list of lowercase statuses", s->key);
                return NULL;
            }
        return snprintf(out, size, "%s", value), "list";
    }
    if (strcmp(kind, "url") == 0 && !valid_url(value)) {
        snprintf(err, err_size, "url '%s': expected http://host[:port][/path] or https://...", value);
        return NULL;
    }
    if (strchr(kind, '|')) { /* an enumeration like absolute|delta */
        size_t n = strlen(value);
        const char *p = kind;
        while (p) {
            if (strncmp(p, value, n) == 0 && (p[n] == '|' || p[n] == 0) && n) return snprintf(out, size, "%s", value), "text";
            p = strchr(p, '|');
            if (p) p++;
        }
        snprintf(err, err_size, "%s: expected %s, got '%s'", s->key, kind, value);
        return NULL;
    }
    if (!*value) {
        snprintf(err, err_size, "%s: must not be empty", s->key);
        return NULL;
    }
    return snprintf(out, size, "%s", value), "text";
}

int wb_store_set(wb_pg *pg, const char *id, const char *key, const char *value, char *err,
                 size_t err_size) {
    const wb_store_setting *s = find_setting(key);
    if (!s) {
        snprintf(err, err_size, "unknown setting '%s' (see `bridgectl store settings`)", key);
        return -1;
    }
    char param[1024];
    const char *cast = normalise(s, value, param, sizeof param, err, err_size);
    if (!cast) return -1;
    char sql[256];
    /* The column and cast come from the fixed table above, never from input. */
    if (strcmp(cast, "list") == 0)
        snprintf(sql, sizeof sql,
                 "UPDATE stores SET %s = coalesce(string_to_array(NULLIF($2, ''), ','), '{}'), updated_at = now() "
                 "WHERE id = $1 RETURNING id", s->column);
    else
        snprintf(sql, sizeof sql, "UPDATE stores SET %s = $2::%s, updated_at = now() WHERE id = $1 RETURNING id",
                 s->column, cast);
    const char *params[] = {id, param};
    PGresult *res = wb_pg_query(pg, sql, 2, params);
    if (!res) return pg_fail(pg, err, err_size);
    int updated = PQntuples(res);
    PQclear(res);
    if (!updated) {
        snprintf(err, err_size, "no store '%s'", id);
        return 1;
    }
    return 0;
}

/* ---- locations ---- */

static bool store_exists(wb_pg *pg, const char *id) {
    const char *params[] = {id};
    PGresult *res = wb_pg_query(pg, "SELECT 1 FROM stores WHERE id = $1", 1, params);
    bool yes = res && PQntuples(res) > 0;
    PQclear(res);
    return yes;
}

static char *current_default(wb_pg *pg, const char *store_id) {
    const char *params[] = {store_id};
    PGresult *res = wb_pg_query(pg,
        "SELECT shop_location_id || ' -> ' || warehouse FROM store_locations "
        "WHERE store_id = $1 AND is_default", 1, params);
    char *text = res && PQntuples(res) ? strdup(PQgetvalue(res, 0, 0)) : NULL;
    PQclear(res);
    return text;
}

int wb_location_map(wb_pg *pg, const char *store_id, const char *shop_location_id,
                    const char *warehouse, bool is_default, char *err, size_t err_size) {
    if (!store_exists(pg, store_id)) {
        snprintf(err, err_size, "no store '%s'", store_id);
        return 1;
    }
    if (!*shop_location_id || !*warehouse) {
        snprintf(err, err_size, "location and warehouse must not be empty");
        return -1;
    }
    const char *params[] = {store_id, shop_location_id, warehouse, is_default ? "true" : "false"};
    PGresult *res = wb_pg_query(pg,
        "INSERT INTO store_locations (store_id, shop_location_id, warehouse, is_default) "
        "VALUES ($1, $2, $3, $4::boolean) ON CONFLICT (store_id, shop_location_id, warehouse) "
        "DO UPDATE SET is_default = EXCLUDED.is_default", 4, params);
    if (res) {
        PQclear(res);
        return 0;
    }
    if (is_default && strstr(wb_pg_error(pg), "store_locations_one_default")) {
        char *existing = current_default(pg, store_id);
        snprintf(err, err_size, "store '%s' already has a default location (%s); a store has exactly one",
                 store_id, existing ? existing : "?");
        free(existing);
        return -1;
    }
    return pg_fail(pg, err, err_size);
}

int wb_location_list(wb_pg *pg, const char *store_id, wb_store_location **out, char *err,
                     size_t err_size) {
    *out = NULL;
    if (!store_exists(pg, store_id)) {
        snprintf(err, err_size, "no store '%s'", store_id);
        return -1;
    }
    const char *params[] = {store_id};
    PGresult *res = wb_pg_query(pg,
        "SELECT shop_location_id, warehouse, is_default FROM store_locations "
        "WHERE store_id = $1 ORDER BY shop_location_id, warehouse", 1, params);
    if (!res) return pg_fail(pg, err, err_size);
    int n = PQntuples(res);
    *out = calloc((size_t)n + 1, sizeof **out);
    for (int i = 0; i < n; i++) {
        (*out)[i].shop_location_id = dup_col(res, i, 0);
        (*out)[i].warehouse = dup_col(res, i, 1);
        (*out)[i].is_default = bool_col(res, i, 2);
    }
    PQclear(res);
    return n;
}

void wb_location_list_free(wb_store_location *locations, int count) {
    for (int i = 0; i < count; i++) {
        free(locations[i].shop_location_id);
        free(locations[i].warehouse);
    }
    free(locations);
}
