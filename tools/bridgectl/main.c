/* bridgectl: the operator's command line. main.c dispatches; each command
 * group lives in its own file. Exit status: 0 ok, 1 the operation failed,
 * 2 bad usage or configuration. */
#include <stdio.h>
#include <string.h>

#include "bridgectl.h"

static const bctl_command commands[] = {
    {"topics", "ensure", "create the bridge's topics that do not exist yet", bctl_topics_ensure},
    {"topics", "list", "list the bridge's topics and their partition counts", bctl_topics_list},
    {"db", "migrate", "apply the PostgreSQL migrations not yet applied", bctl_db_migrate},
    {"store", "add", "add a store: ID --platform --url --owner --credentials FILE|-, or install: --shop NAME.myshopify.com", bctl_store_add},
    {"store", "list", "list the stores [--json]", bctl_store_list},
    {"store", "show", "show a store's settings; checks its credentials decrypt [--json]", bctl_store_show},
    {"store", "set", "change a setting: ID KEY VALUE", bctl_store_set},
    {"store", "disable", "stop working for a store: ID", bctl_store_disable},
    {"store", "test", "call the shop with the store's credentials: API, scopes or permissions, webhooks: ID [--json]", bctl_store_test},
    {"store", "remove", "unregister the bridge's webhooks and delete the store and its credentials: ID [--force]", bctl_store_remove},
    {"store", "settings", "list the settings `store set` changes", bctl_store_settings},
    {"location", "map", "map a shop location to a warehouse: STORE LOCATION WAREHOUSE [--default]", bctl_location_map},
    {"location", "list", "list a store's location mappings [--json]", bctl_location_list},
    {"mapping", "add", "map a shop item to a sku: STORE SKU --product ID [--variant ID] [--item GID] [--barcode CODE]", bctl_mapping_add},
    {"mapping", "list", "list a store's product mappings [--json]", bctl_mapping_list},
    {"products", "sync", "sync a store's catalog now and show its progress: STORE [--no-wait]", bctl_products_sync},
    {"stock", "reconcile", "compare a store's shop stock with the WMS and correct it: STORE [--no-wait]", bctl_stock_reconcile},
    {"products", "conflicts", "list a store's product mapping conflicts: STORE [--json]", bctl_products_conflicts},
    {"articles", "load", "load the WMS's articles (CSV sku,barcode; upsert) for mapping by barcode: GOODS_OWNER FILE.csv|- [--json]", bctl_articles_load},
    {"articles", "list", "list a goods owner's WMS articles: GOODS_OWNER [--sku SKU] [--barcode CODE] [--json]", bctl_articles_list},
    {"fulfilment", "show", "a store's fulfilment options and return reason codes: STORE [--json]", bctl_fulfilment_show},
    {"fulfilment", "set", "set a fulfilment option: STORE KEY VALUE (notify_customer, auto_close, tracking_on_packed, cancelled_report)", bctl_fulfilment_set},
    {"fulfilment", "reason", "whether a return reason code refunds shipping: STORE CODE refund_shipping|keep_shipping|remove", bctl_fulfilment_reason},
    {"status", "", "services up/down, consumer lag, per store orders, stock, windows, dead letters [--json]", bctl_status},
    {"deadletters", "list", "list dead letters [--store ID] [--source TOPIC] [--since 2h] [--json]", bctl_deadletters_list},
    {"deadletters", "show", "show a dead letter in full: ID [--json]", bctl_deadletters_show},
    {"deadletters", "replay", "send a dead letter back to its source topic: ID [--force] [--by NAME]", bctl_deadletters_replay},
};
static const int command_count = sizeof commands / sizeof commands[0];

static void usage(FILE *out) {
    fprintf(out, "usage: bridgectl GROUP COMMAND [ARGS]\n\n");
    for (int i = 0; i < command_count; i++)
        fprintf(out, "  %-9s %-9s %s\n", commands[i].group, commands[i].name, commands[i].help);
    fprintf(out, "\nConfiguration comes from WB_PG_DSN, WB_KAFKA_BROKERS and (for credentials)\n"
                 "WB_MASTER_KEY. Exit status: 0 done, 1 failed, 2 bad usage or configuration.\n");
}

int main(int argc, char **argv) {
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        usage(stdout);
        return 0;
    }
    /* A command without a second word (status) takes the rest as arguments. */
    for (int i = 0; argc >= 2 && i < command_count; i++)
        if (!*commands[i].name && strcmp(argv[1], commands[i].group) == 0)
            return commands[i].run(argc - 2, argv + 2);
    if (argc < 3) {
        usage(stderr);
        return 2;
    }
    for (int i = 0; i < command_count; i++)
        if (strcmp(argv[1], commands[i].group) == 0 && strcmp(argv[2], commands[i].name) == 0)
            return commands[i].run(argc - 3, argv + 3);
    fprintf(stderr, "bridgectl: unknown command '%s %s'\n\n", argv[1], argv[2]);
    usage(stderr);
    return 2;
}
