/* bridgectl topics ensure|list */
#include <stdio.h>

#include "bridgectl.h"
#include "wb/config.h"
#include "wb/kafka.h"

int bctl_topics_ensure(int argc, char **argv) {
    (void)argc, (void)argv;
    wb_env env = {{0}};
    const char *brokers = wb_env_hostports(&env, "WB_KAFKA_BROKERS", NULL);
    /* -1: the broker's default.replication.factor; 0 for min.insync: the broker's. */
    int replication = (int)wb_env_int(&env, "WB_KAFKA_REPLICATION_FACTOR", -1, -1, 32767);
    int min_insync = (int)wb_env_int(&env, "WB_KAFKA_MIN_INSYNC_REPLICAS", 0, 0, 32767);
    if (replication == 0) wb_env_fail(&env, "WB_KAFKA_REPLICATION_FACTOR", "%s", "0 is no replication factor (-1 for the broker's default, or 1 or more)");
    if (replication > 0 && min_insync > replication)
        wb_env_fail(&env, "WB_KAFKA_MIN_INSYNC_REPLICAS", "%s", "more than WB_KAFKA_REPLICATION_FACTOR: no write could ever be acknowledged");
    wb_env_exit_if_bad(&env, "bridgectl");
    char err[512];
    if (wb_kafka_ensure_topics_replicated(brokers, wb_bridge_topics, wb_bridge_topic_count, replication,
                                          min_insync, 30000, err, sizeof err) != 0) {
        fprintf(stderr, "bridgectl: %s\n", err);
        return 1;
    }
    for (int i = 0; i < wb_bridge_topic_count; i++)
        printf("topic %s ready (%d partitions)\n", wb_bridge_topics[i].name,
               wb_bridge_topics[i].partitions);
    return 0;
}

int bctl_topics_list(int argc, char **argv) {
    (void)argc, (void)argv;
    for (int i = 0; i < wb_bridge_topic_count; i++)
        printf("%s\t%d\n", wb_bridge_topics[i].name, wb_bridge_topics[i].partitions);
    return 0;
}
