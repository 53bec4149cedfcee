/* bridgectl db migrate: what the Helm chart's migration Job runs. */
#include <stdio.h>

#include "bridgectl.h"
#include "wb/pg.h"

int bctl_db_migrate(int argc, char **argv) {
    if (bctl_parse(argc, argv, NULL, NULL, 0, "db migrate")) return 2;
    wb_pg *pg = bctl_pg();
    char err[512];
    int applied = wb_pg_migrate(pg, wb_migrations, wb_migration_count, err, sizeof err);
    wb_pg_close(pg);
    if (applied < 0) {
        fprintf(stderr, "bridgectl: migration failed: %s\n", err);
        return 1;
    }
    printf("schema current: %d of %d migrations applied now\n", applied, wb_migration_count);
    return 0;
}
