#ifndef BRIDGECTL_H
#define BRIDGECTL_H

typedef struct bctl_command {
    const char *group, *name, *help;
    int (*run)(int argc, char **argv);
} bctl_command;

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>
#include "wb/pg.h"

/* An option of a command: --name VALUE, or --name alone when is_flag. */
typedef struct bctl_option {
    const char *name;
    bool is_flag, required;
    const char *value;
    bool flag;
} bctl_option;

/* Parses argv into options (terminated by {0}) and exactly positional_count
 * positional arguments; prints usage and returns -1 on anything else. */
int bctl_parse(int argc, char **argv, bctl_option *options, const char **positional,
               int positional_count, const char *usage);
/* Connects with WB_PG_DSN, or exits (2 bad configuration, 1 unreachable). */
wb_pg *bctl_pg(void);
/* Reads WB_MASTER_KEY, or exits 2 naming it. */
void bctl_master_key(unsigned char key[32]);
/* A whole file ("-" = stdin), malloc'd and NUL-terminated, up to 1 MiB. */
char *bctl_read_all(const char *path, char *err, size_t err_size);
/* bytes random bytes (OpenSSL's generator) as 2*bytes hex digits and a NUL
 * into out; bytes <= 64. 0, or -1 when no random bytes could be had. */
int bctl_random_hex(char *out, size_t bytes);
/* Prints doc as indented JSON and a newline, then frees it (--json output). */
void bctl_print_json(cJSON *doc);

int bctl_topics_ensure(int argc, char **argv);
int bctl_topics_list(int argc, char **argv);
int bctl_db_migrate(int argc, char **argv);
int bctl_store_add(int argc, char **argv);
int bctl_store_list(int argc, char **argv);
int bctl_store_show(int argc, char **argv);
int bctl_store_set(int argc, char **argv);
int bctl_store_disable(int argc, char **argv);
int bctl_store_settings(int argc, char **argv);
int bctl_location_map(int argc, char **argv);
int bctl_location_list(int argc, char **argv);
int bctl_mapping_add(int argc, char **argv);
int bctl_mapping_list(int argc, char **argv);
int bctl_products_sync(int argc, char **argv);
int bctl_products_conflicts(int argc, char **argv);
int bctl_articles_load(int argc, char **argv);
int bctl_articles_list(int argc, char **argv);
int bctl_stock_reconcile(int argc, char **argv);
int bctl_fulfilment_show(int argc, char **argv);
int bctl_fulfilment_set(int argc, char **argv);
int bctl_fulfilment_reason(int argc, char **argv);

/* WB_KAFKA_BROKERS, or exits 2 naming it. */
const char *bctl_kafka_brokers(void);
int bctl_store_test(int argc, char **argv);
/* Starts a Shopify install: stores the state nonce, prints the install URL. */
/* store add --connect for WooCommerce (connect_woo.c). */
int bctl_woo_connect(const char *id, const char *url, const char *owner, const char *credentials);
/* store add --authorize for WooCommerce: the key-granting flow, then connect. */
int bctl_woo_authorize(const char *id, const char *url, const char *owner, int wait_s);
int bctl_shopify_install(const char *id, const char *shop, const char *owner, const char *url, bool json);
int bctl_store_remove(int argc, char **argv);
/* Copies the dead letters bridgectl has not seen yet from
 * bridge.deadletter.v1 into the deadletters table. 0, or 1 after printing
 * why (when report). */
int bctl_deadletters_index(wb_pg *pg, bool report);
int bctl_status(int argc, char **argv);
int bctl_deadletters_list(int argc, char **argv);
int bctl_deadletters_show(int argc, char **argv);
int bctl_deadletters_replay(int argc, char **argv);

#endif
