#ifndef BRIDGECTL_H
#define BRIDGECTL_H

typedef struct bctl_command {
    const char *group, *name, *help;
    int (*run)(int argc, char **argv);
} bctl_command;

int bctl_topics_ensure(int argc, char **argv);
int bctl_topics_list(int argc, char **argv);
int bctl_db_migrate(int argc, char **argv);

#endif
