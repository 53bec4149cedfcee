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
    {"store", "add", "add a store: ID --platform --url --owner --credentials FILE|-", bctl_store_add},
    {"store", "list", "list the stores [--json]", bctl_store_list},
    {"store", "show", "show a store's settings; checks its credentials decrypt [--json]", bctl_store_show},
    {"store", "set", "change a setting: ID KEY VALUE", bctl_store_set},
    {"store", "disable", "stop working for a store: ID", bctl_store_disable},
    {"store", "settings", "list the settings `store set` changes", bctl_store_settings},
    {"location", "map", "map a shop location to a warehouse: STORE LOCATION WAREHOUSE [--default]", bctl_location_map},
    {"location", "list", "list a store's location mappings [--json]", bctl_location_list},
    {"mapping", "add", "map a shop item to a sku: STORE SKU --product ID [--variant ID] [--item GID] [--barcode CODE]", bctl_mapping_add},
    {"mapping", "list", "list a store's product mappings [--json]", bctl_mapping_list},
    {"products", "sync", "sync a store's catalog now and show its progress: STORE [--no-wait]", bctl_products_sync},
    {"products", "conflicts", "list a store's product mapping conflicts: STORE [--json]", bctl_products_conflicts},
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
