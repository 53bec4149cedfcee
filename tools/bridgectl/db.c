/* bridgectl db migrate: what the Helm chart's migration Job runs. */
#include <stdio.h>

#include "bridgectl.h"
#include "wb/config.h"
#include "wb/pg.h"

int bctl_db_migrate(int argc, char **argv) {
    (void)argc, (void)argv;
    static const char *const schemes[] = {"postgresql", "postgres", NULL};
    wb_env env = {{0}};
    const char *dsn = wb_env_url(&env, "WB_PG_DSN", NULL, schemes);
    wb_env_exit_if_bad(&env, "bridgectl");
    char err[512];
    wb_pg *pg = wb_pg_connect(dsn, err, sizeof err);
    if (!pg) {
        fprintf(stderr, "bridgectl: postgresql: %s\n", err);
        return 1;
    }
    int applied = wb_pg_migrate(pg, wb_migrations, wb_migration_count, err, sizeof err);
    wb_pg_close(pg);
    if (applied < 0) {
        fprintf(stderr, "bridgectl: migration failed: %s\n", err);
        return 1;
    }
    printf("schema current: %d of %d migrations applied now\n", applied, wb_migration_count);
    return 0;
}
