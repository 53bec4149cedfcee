/* bridgectl topics ensure|list */
#include <stdio.h>

#include "bridgectl.h"
#include "wb/config.h"
#include "wb/kafka.h"

int bctl_topics_ensure(int argc, char **argv) {
    (void)argc, (void)argv;
    wb_env env = {{0}};
    const char *brokers = wb_env_hostports(&env, "WB_KAFKA_BROKERS", NULL);
    wb_env_exit_if_bad(&env, "bridgectl");
    char err[512];
    if (wb_kafka_ensure_topics(brokers, wb_bridge_topics, wb_bridge_topic_count, 30000, err,
                               sizeof err) != 0) {
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
