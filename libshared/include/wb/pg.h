/* PostgreSQL through libpq: one connection per wb_pg (not shared between
 * threads), re-established when it breaks, and parameterised queries only:
 * values never enter SQL text.
 *
 * Migrations: numbered SQL files in libshared/migrations, compiled in, applied
 * at start-up in one transaction under an advisory lock, so two replicas that
 * start together apply each migration exactly once. */
#ifndef WB_PG_H
#define WB_PG_H

#include <stddef.h>
#include <libpq-fe.h>

typedef struct wb_migration {
    int version;
    const char *name;
    const char *sql;
} wb_migration;

extern const wb_migration wb_migrations[];
extern const int wb_migration_count;

typedef struct wb_pg wb_pg;

wb_pg *wb_pg_connect(const char *dsn, char *err, size_t err_size);
/* PQexecParams with text parameters (NULL = SQL NULL). On a broken connection
 * outside a transaction it reconnects and tries once more. Returns a result
 * the caller PQclear()s, or NULL with wb_pg_error() telling why. */
PGresult *wb_pg_query(wb_pg *pg, const char *sql, int param_count,
                      const char *const *params);
/* For statements with no rows: returns 0, or -1 with wb_pg_error(). */
int wb_pg_exec(wb_pg *pg, const char *sql, int param_count, const char *const *params);
const char *wb_pg_error(const wb_pg *pg);
PGconn *wb_pg_conn(wb_pg *pg);
void wb_pg_close(wb_pg *pg);

/* Applies the migrations not yet applied; returns how many, or -1 with err. */
int wb_pg_migrate(wb_pg *pg, const wb_migration *migrations, int count, char *err,
                  size_t err_size);

/* A PostgreSQL array literal ({"a","b\"c"}) of the strings, malloc'd, to
 * pass a list as one parameter ($1::text[]). */
char *wb_pg_array(const char *const *items, int count);

/* Live check with its own short connection (thread-safe). */
int wb_pg_ping(const char *dsn, char *reason, size_t reason_size);

#endif
