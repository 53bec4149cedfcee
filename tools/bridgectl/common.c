/* What every bridgectl command needs: its connections and its options. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "bridgectl.h"
#include "wb/config.h"
#include "wb/crypto.h"

wb_pg *bctl_pg(void) {
    static const char *const schemes[] = {"postgresql", "postgres", NULL};
    wb_env env = {{0}};
    const char *dsn = wb_env_url(&env, "WB_PG_DSN", NULL, schemes);
    wb_env_exit_if_bad(&env, "bridgectl");
    char err[512];
    wb_pg *pg = wb_pg_connect(dsn, err, sizeof err);
    if (!pg) {
        fprintf(stderr, "bridgectl: postgresql: %s\n", err);
        exit(1);
    }
    return pg;
}

void bctl_master_key(unsigned char key[32]) {
    const char *text = getenv("WB_MASTER_KEY");
    if (!text || !*text) {
        fprintf(stderr, "bridgectl: WB_MASTER_KEY is required for credentials but not set\n");
        exit(2);
    }
    if (wb_master_key_parse(text, key) != 0) {
        fprintf(stderr, "bridgectl: WB_MASTER_KEY: expected 32 bytes written as 64 hex digits or as base64\n");
        exit(2);
    }
}

int bctl_parse(int argc, char **argv, bctl_option *options, const char **positional,
               int positional_count, const char *usage) {
    int seen = 0;
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) != 0) {
            if (seen == positional_count) goto bad;
            positional[seen++] = argv[i];
            continue;
        }
        bctl_option *o = options;
        while (o && o->name && strcmp(o->name, argv[i] + 2) != 0) o++;
        if (!o || !o->name) {
            fprintf(stderr, "bridgectl: unknown option %s\n", argv[i]);
            goto bad;
        }
        if (o->is_flag) {
            o->flag = true;
        } else {
            if (i + 1 == argc) {
                fprintf(stderr, "bridgectl: %s needs a value\n", argv[i]);
                goto bad;
            }
            o->value = argv[++i];
        }
    }
    if (seen != positional_count) goto bad;
    for (bctl_option *o = options; o && o->name; o++) {
        if (o->required && !o->value) {
            fprintf(stderr, "bridgectl: --%s is required\n", o->name);
            goto bad;
        }
    }
    return 0;
bad:
    fprintf(stderr, "usage: bridgectl %s\n", usage);
    return -1;
}

char *bctl_read_all(const char *path, char *err, size_t err_size) {
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f) {
        snprintf(err, err_size, "cannot open %s", path);
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len + 1 == cap) {
            if (cap > (1u << 20)) break;
            buf = realloc(buf, cap *= 2);
        }
    }
    buf[len] = 0;
    if (f != stdin) fclose(f);
    return buf;
}

int bctl_random_hex(char *out, size_t bytes) {
    unsigned char raw[64];
    if (bytes > sizeof raw || RAND_bytes(raw, (int)bytes) != 1) return -1;
    for (size_t i = 0; i < bytes; i++) snprintf(out + 2 * i, 3, "%02x", raw[i]);
    return 0;
}

void bctl_print_json(cJSON *doc) {
    char *text = cJSON_Print(doc);
    printf("%s\n", text ? text : "null");
    cJSON_free(text);
    cJSON_Delete(doc);
}
