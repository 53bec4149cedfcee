/* wmssim's configuration: every setting is a flag and a WB_WMSSIM_*
 * variable (the broker is WB_KAFKA_BROKERS, as for the services); a flag
 * wins over the variable. One table, so the help text cannot drift. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wmssim.h"

typedef enum { OPT_STR, OPT_INT, OPT_DBL, OPT_FLAG } opt_kind;

typedef struct opt {
    const char *flag, *env, *def, *help;
    opt_kind kind;
    double min, max;
    const char *value; /* the raw text after env and argv */
} opt;

enum {
    O_SCENARIO, O_LOAD, O_SCRIPT, O_BROKERS, O_GROUP, O_OWNER, O_OWNERS, O_WAREHOUSE, O_WAREHOUSES,
    O_SKU_LIST, O_SKU_PREFIX, O_SKUS, O_STORES, O_SPEED, O_STOCK_EVERY, O_ACTIVE, O_INITIAL,
    O_PARTIAL, O_RETURN, O_NO_SNAPSHOT, O_SEED, O_RATE, O_DURATION, O_COUNT, O_LOG_LEVEL, O_N
};

static opt options[O_N] = {
    [O_SCENARIO] = {"scenario", "WB_WMSSIM_SCENARIO", "gentle", "scripted scenario: gentle", OPT_STR, 0, 0, NULL},
    [O_LOAD] = {"load", "WB_WMSSIM_LOAD", NULL, "load mode: stock events at --rate", OPT_FLAG, 0, 0, NULL},
    [O_SCRIPT] = {"script", "WB_WMSSIM_SCRIPT", NULL, "emit the events of a JSON file, then exit", OPT_STR, 0, 0, NULL},
    [O_BROKERS] = {"brokers", "WB_KAFKA_BROKERS", NULL, "Kafka bootstrap servers (required)", OPT_STR, 0, 0, NULL},
    [O_GROUP] = {"group", "WB_WMSSIM_GROUP", "wmssim", "consumer group for shop.orders.v1", OPT_STR, 0, 0, NULL},
    [O_OWNER] = {"owner", "WB_WMSSIM_OWNER", "demo", "goods owner of the stock", OPT_STR, 0, 0, NULL},
    [O_OWNERS] = {"owners", "WB_WMSSIM_OWNERS", "1", "load: goods owners (OWNER-01..)", OPT_INT, 1, 10000, NULL},
    [O_WAREHOUSE] = {"warehouse", "WB_WMSSIM_WAREHOUSE", "WH1", "warehouse codes, comma list (orders ship from the first)", OPT_STR, 0, 0, NULL},
    [O_WAREHOUSES] = {"warehouses", "WB_WMSSIM_WAREHOUSES", "1", "load: warehouses (WAREHOUSE-01..)", OPT_INT, 1, 1000, NULL},
    [O_SKU_LIST] = {"sku-list", "WB_WMSSIM_SKU_LIST", NULL, "the SKUs, comma list (default PREFIX-00001..)", OPT_STR, 0, 0, NULL},
    [O_SKU_PREFIX] = {"sku-prefix", "WB_WMSSIM_SKU_PREFIX", "SKU", "prefix of generated SKUs", OPT_STR, 0, 0, NULL},
    [O_SKUS] = {"skus", "WB_WMSSIM_SKUS", "0", "generated SKUs (0: 5 gentle, 1000 load)", OPT_INT, 0, 10000000, NULL},
    [O_STORES] = {"stores", "WB_WMSSIM_STORES", NULL, "answer only these stores' orders: S[=OWNER],..", OPT_STR, 0, 0, NULL},
    [O_SPEED] = {"speed", "WB_WMSSIM_SPEED", "1", "gentle: divide every delay by this", OPT_DBL, 0.01, 1000, NULL},
    [O_STOCK_EVERY] = {"stock-every-ms", "WB_WMSSIM_STOCK_EVERY_MS", "4000", "gentle: one stock movement this often (0: none)", OPT_INT, 0, 3600000, NULL},
    [O_ACTIVE] = {"active", "WB_WMSSIM_ACTIVE", "6", "gentle: how many SKUs the movements touch", OPT_INT, 1, 100000, NULL},
    [O_INITIAL] = {"initial", "WB_WMSSIM_INITIAL", "40", "on_hand of a level when first seen", OPT_INT, 0, 1000000000, NULL},
    [O_PARTIAL] = {"partial-every", "WB_WMSSIM_PARTIAL_EVERY", "0", "gentle: every Nth order ships in two parcels", OPT_INT, 0, 1000000, NULL},
    [O_RETURN] = {"return-every", "WB_WMSSIM_RETURN_EVERY", "0", "gentle: every Nth dispatched order is returned", OPT_INT, 0, 1000000, NULL},
    [O_NO_SNAPSHOT] = {"no-snapshot", "WB_WMSSIM_NO_SNAPSHOT", NULL, "gentle: no snapshot of every level at start", OPT_FLAG, 0, 0, NULL},
    [O_SEED] = {"seed", "WB_WMSSIM_SEED", "0", "random seed (0: from the clock)", OPT_INT, 0, 4294967295.0, NULL},
    [O_RATE] = {"rate", "WB_WMSSIM_RATE", "1000", "load: stock events a second", OPT_DBL, 0.001, 10000000, NULL},
    [O_DURATION] = {"duration", "WB_WMSSIM_DURATION", "10", "load: seconds (0: until SIGTERM or --count)", OPT_DBL, 0, 31536000, NULL},
    [O_COUNT] = {"count", "WB_WMSSIM_COUNT", "0", "load: stop after this many events (0: no limit)", OPT_INT, 0, 1e15, NULL},
    [O_LOG_LEVEL] = {"log-level", "WB_LOG_LEVEL", "info", "debug, info, warn or error", OPT_STR, 0, 0, NULL},
};

static void usage(FILE *out) {
    fprintf(out, "usage: wmssim [--scenario gentle | --load | --script FILE] [options]\n\n");
    for (int i = 0; i < O_N; i++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s", options[i].flag, options[i].kind == OPT_FLAG ? "" : " V");
        fprintf(out, "  %-22s %-26s %s%s%s\n", left, options[i].env, options[i].help,
                options[i].def ? "; default " : "", options[i].def ? options[i].def : "");
    }
}

static int bad(const opt *o, const char *why) {
    fprintf(stderr, "wmssim: --%s (%s): %s\n", o->flag, o->env, why);
    return 2;
}

static int number(const opt *o, double *out) {
    if (!o->value) {
        *out = 0;
        return 0;
    }
    char *end;
    errno = 0;
    double d = strtod(o->value, &end);
    if (errno || end == o->value || *end || !isfinite(d) || d < o->min || d > o->max ||
        (o->kind == OPT_INT && d != floor(d))) {
        char why[128];
        snprintf(why, sizeof why, "expected %s from %.15g to %.15g",
                 o->kind == OPT_INT ? "an integer" : "a number", o->min, o->max);
        return bad(o, why);
    }
    *out = d;
    return 0;
}

/* Splits a comma list into malloc'd items, skipping empty ones. */
static void split(const char *text, ws_list *out) {
    out->items = NULL;
    out->count = 0;
    if (!text) return;
    const char *p = text;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        while (n && (*p == ' ' || *p == '\n')) p++, n--;
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\n')) n--;
        if (n) {
            out->items = realloc(out->items, sizeof(char *) * (size_t)(out->count + 1));
            out->items[out->count++] = strndup(p, n);
        }
        if (!e) break;
        p = e + 1;
    }
}

static void list_free(ws_list *l) {
    for (int i = 0; i < l->count; i++) free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->count = 0;
}

void ws_config_free(ws_config *cfg) {
    list_free(&cfg->warehouses);
    list_free(&cfg->skus);
    list_free(&cfg->stores);
    list_free(&cfg->store_owners);
}

const char *ws_owner_of(const ws_config *cfg, const char *store_id) {
    if (cfg->stores.count == 0) return cfg->owner;
    for (int i = 0; i < cfg->stores.count; i++)
        if (strcmp(cfg->stores.items[i], store_id) == 0)
            return cfg->store_owners.items[i] ? cfg->store_owners.items[i] : cfg->owner;
    return NULL;
}

static bool no_slash(const char *s) { return s && *s && !strchr(s, '/') && strlen(s) <= 64; }

int ws_config_read(ws_config *cfg, int argc, char **argv) {
    memset(cfg, 0, sizeof *cfg);
    for (int i = 0; i < O_N; i++) {
        const char *v = getenv(options[i].env);
        options[i].value = v && *v ? v : NULL;
        if (options[i].kind == OPT_FLAG && options[i].value &&
            (strcmp(v, "0") == 0 || strcmp(v, "false") == 0 || strcmp(v, "no") == 0))
            options[i].value = NULL;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 1;
        }
        if (strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "wmssim: unexpected argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t n = eq ? (size_t)(eq - name) : strlen(name);
        int k = 0;
        while (k < O_N && !(strlen(options[k].flag) == n && strncmp(options[k].flag, name, n) == 0)) k++;
        if (k == O_N) {
            fprintf(stderr, "wmssim: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
        if (options[k].kind == OPT_FLAG) {
            if (eq) return bad(&options[k], "takes no value");
            options[k].value = "1";
        } else if (eq) {
            options[k].value = eq + 1;
        } else if (i + 1 < argc) {
            options[k].value = argv[++i];
        } else {
            return bad(&options[k], "needs a value");
        }
    }
    for (int i = 0; i < O_N; i++)
        if (!options[i].value && options[i].kind != OPT_FLAG) options[i].value = options[i].def;

    cfg->brokers = options[O_BROKERS].value;
    if (!cfg->brokers) return bad(&options[O_BROKERS], "is required");
    cfg->group = options[O_GROUP].value;
    cfg->owner = options[O_OWNER].value;
    cfg->script = options[O_SCRIPT].value;
    cfg->sku_prefix = options[O_SKU_PREFIX].value;
    if (!no_slash(cfg->owner)) return bad(&options[O_OWNER], "1-64 characters without '/'");
    if (wb_log_parse_level(options[O_LOG_LEVEL].value, &cfg->log_level))
        return bad(&options[O_LOG_LEVEL], "expected debug, info, warn or error");
    if (strcmp(options[O_SCENARIO].value, "gentle") != 0)
        return bad(&options[O_SCENARIO], "the scenarios are: gentle");
    if (options[O_LOAD].value && cfg->script) {
        fprintf(stderr, "wmssim: --load and --script exclude each other\n");
        return 2;
    }
    cfg->mode = options[O_LOAD].value ? WS_MODE_LOAD : cfg->script ? WS_MODE_SCRIPT : WS_MODE_GENTLE;

    double d[O_N] = {0};
    for (int i = 0; i < O_N; i++)
        if (options[i].kind == OPT_INT || options[i].kind == OPT_DBL)
            if (number(&options[i], &d[i])) return 2;
    cfg->owners_n = (int)d[O_OWNERS];
    cfg->warehouses_n = (int)d[O_WAREHOUSES];
    cfg->skus_n = (int)d[O_SKUS];
    if (!cfg->skus_n) cfg->skus_n = cfg->mode == WS_MODE_LOAD ? 1000 : 5;
    cfg->speed = d[O_SPEED];
    cfg->stock_every_ms = (int)d[O_STOCK_EVERY];
    cfg->active = (int)d[O_ACTIVE];
    cfg->initial = (int64_t)d[O_INITIAL];
    cfg->partial_every = (int)d[O_PARTIAL];
    cfg->return_every = (int)d[O_RETURN];
    cfg->snapshot = !options[O_NO_SNAPSHOT].value;
    cfg->seed = (unsigned)d[O_SEED];
    if (!cfg->seed) cfg->seed = (unsigned)time(NULL) ^ 0x9e3779b9u;
    cfg->rate = d[O_RATE];
    cfg->duration = d[O_DURATION];
    cfg->count = (int64_t)d[O_COUNT];

    split(options[O_WAREHOUSE].value, &cfg->warehouses);
    split(options[O_SKU_LIST].value, &cfg->skus);
    ws_list stores;
    split(options[O_STORES].value, &stores);
    if (cfg->warehouses.count == 0) {
        ws_config_free(cfg);
        list_free(&stores);
        return bad(&options[O_WAREHOUSE], "needs at least one warehouse");
    }
    for (int i = 0; i < cfg->warehouses.count; i++)
        if (!no_slash(cfg->warehouses.items[i])) {
            ws_config_free(cfg);
            list_free(&stores);
            return bad(&options[O_WAREHOUSE], "codes are 1-64 characters without '/'");
        }
    if (cfg->skus.count == 0) { /* generated: PREFIX-00001 .. */
        int n = cfg->mode == WS_MODE_LOAD ? 0 : cfg->skus_n; /* load makes its own */
        for (int i = 0; i < n; i++) {
            char sku[300];
            snprintf(sku, sizeof sku, "%s-%05d", cfg->sku_prefix, i + 1);
            cfg->skus.items = realloc(cfg->skus.items, sizeof(char *) * (size_t)(cfg->skus.count + 1));
            cfg->skus.items[cfg->skus.count++] = strdup(sku);
        }
    }
    /* STORE=OWNER pairs into two parallel lists. */
    cfg->stores.items = calloc((size_t)stores.count + 1, sizeof(char *));
    cfg->store_owners.items = calloc((size_t)stores.count + 1, sizeof(char *));
    for (int i = 0; i < stores.count; i++) {
        char *eq = strchr(stores.items[i], '=');
        cfg->store_owners.items[i] = eq ? strdup(eq + 1) : NULL;
        if (eq) *eq = 0;
        cfg->stores.items[i] = strdup(stores.items[i]);
        cfg->stores.count = cfg->store_owners.count = i + 1;
        if (!no_slash(cfg->stores.items[i]) ||
            (cfg->store_owners.items[i] && !no_slash(cfg->store_owners.items[i]))) {
            list_free(&stores);
            ws_config_free(cfg);
            return bad(&options[O_STORES], "expected STORE[=OWNER],.. without '/'");
        }
    }
    list_free(&stores);
    return 0;
}
