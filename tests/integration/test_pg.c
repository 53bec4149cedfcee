/* PostgreSQL: parameterised queries, reconnect after the server drops us, and
 * migrations applied exactly once even when replicas race. Runs on the test
 * database (WB_TEST_PG_DSN), whose public schema it recreates. */
#include <pthread.h>
#include <stdlib.h>

#include "testlib.h"
#include "wb/log.h"
#include "wb/pg.h"

static const char *dsn;

static wb_pg *connect_or_null(void) {
    char err[256];
    wb_pg *pg = wb_pg_connect(dsn, err, sizeof err);
    if (!pg) printf("# connect: %s\n", err);
    return pg;
}

static int fresh_schema(wb_pg *pg) {
    return wb_pg_exec(pg, "DROP SCHEMA public CASCADE", 0, NULL) ||
           wb_pg_exec(pg, "CREATE SCHEMA public", 0, NULL);
}

static long count(wb_pg *pg, const char *sql) {
    PGresult *res = wb_pg_query(pg, sql, 0, NULL);
    long n = res && PQntuples(res) ? atol(PQgetvalue(res, 0, 0)) : -1;
    PQclear(res);
    return n;
}

TEST(parameters_never_become_sql) {
    wb_pg *pg = connect_or_null();
    CHECK(pg != NULL);
    const char *hostile = "x'); DROP TABLE stores; --";
    const char *params[] = {hostile, NULL};
    PGresult *res = wb_pg_query(pg, "SELECT $1::text, $2::text IS NULL", 2, params);
    CHECK(res != NULL);
    CHECK_STR(PQgetvalue(res, 0, 0), hostile);
    CHECK_STR(PQgetvalue(res, 0, 1), "t");
    PQclear(res);
    wb_pg_close(pg);
}

TEST(errors_are_reported_not_fatal) {
    wb_pg *pg = connect_or_null();
    CHECK(pg != NULL);
    CHECK(wb_pg_query(pg, "SELECT * FROM no_such_table", 0, NULL) == NULL);
    CHECK_CONTAINS(wb_pg_error(pg), "no_such_table");
    CHECK_INT(count(pg, "SELECT 41 + 1"), 42); /* the connection is still usable */
    wb_pg_close(pg);
}

TEST(reconnects_after_server_drops_connection) {
    wb_pg *pg = connect_or_null(), *admin = connect_or_null();
    CHECK(pg && admin);
    char pid[16];
    snprintf(pid, sizeof pid, "%d", PQbackendPID(wb_pg_conn(pg)));
    const char *params[] = {pid};
    CHECK(wb_pg_exec(admin, "SELECT pg_terminate_backend($1::int)", 1, params) == 0);
    CHECK_INT(count(pg, "SELECT 7"), 7);
    CHECK(PQbackendPID(wb_pg_conn(pg)) != atoi(pid));
    wb_pg_close(pg);
    wb_pg_close(admin);
}

TEST(no_silent_retry_inside_transaction) {
    wb_pg *pg = connect_or_null(), *admin = connect_or_null();
    CHECK(pg && admin);
    CHECK(wb_pg_exec(pg, "BEGIN", 0, NULL) == 0);
    char pid[16];
    snprintf(pid, sizeof pid, "%d", PQbackendPID(wb_pg_conn(pg)));
    const char *params[] = {pid};
    CHECK(wb_pg_exec(admin, "SELECT pg_terminate_backend($1::int)", 1, params) == 0);
    /* The transaction died with the connection: this must fail, not run
     * half a transaction on a new connection. */
    CHECK(wb_pg_query(pg, "SELECT 1", 0, NULL) == NULL);
    CHECK_INT(count(pg, "SELECT 8"), 8); /* and afterwards it reconnects */
    wb_pg_close(pg);
    wb_pg_close(admin);
}

TEST(migrations_apply_once) {
    wb_pg *pg = connect_or_null();
    CHECK(pg != NULL);
    CHECK(fresh_schema(pg) == 0);
    char err[512];
    CHECK_INT(wb_pg_migrate(pg, wb_migrations, wb_migration_count, err, sizeof err), wb_migration_count);
    CHECK_INT(wb_pg_migrate(pg, wb_migrations, wb_migration_count, err, sizeof err), 0);
    CHECK_INT(count(pg, "SELECT count(*) FROM schema_migrations"), wb_migration_count);
    CHECK_INT(count(pg, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'stores'"), 1);
    for (int i = 1; i < wb_migration_count; i++)
        CHECK(wb_migrations[i].version > wb_migrations[i - 1].version);
    wb_pg_close(pg);
}

typedef struct {
    int applied;
    char err[512];
} racer;

static void *race(void *arg) {
    racer *r = arg;
    char err[256];
    wb_pg *pg = wb_pg_connect(dsn, err, sizeof err);
    r->applied = pg ? wb_pg_migrate(pg, wb_migrations, wb_migration_count, r->err, sizeof r->err) : -1;
    wb_pg_close(pg);
    return NULL;
}

TEST(parallel_replicas_do_not_race) {
    wb_pg *pg = connect_or_null();
    CHECK(pg != NULL);
    CHECK(fresh_schema(pg) == 0);
    enum { N = 6 };
    pthread_t threads[N];
    racer racers[N];
    memset(racers, 0, sizeof racers);
    for (int i = 0; i < N; i++) pthread_create(&threads[i], NULL, race, &racers[i]);
    int total = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(threads[i], NULL);
        if (racers[i].applied < 0) {
            wb_pg_close(pg);
            FAILF("replica %d failed: %s", i, racers[i].err);
        }
        total += racers[i].applied;
    }
    CHECK_INT(total, wb_migration_count);
    CHECK_INT(count(pg, "SELECT count(*) FROM schema_migrations"), wb_migration_count);
    wb_pg_close(pg);
}

TEST(failed_migration_rolls_back_whole) {
    wb_pg *pg = connect_or_null();
    CHECK(pg != NULL);
    CHECK(fresh_schema(pg) == 0);
    wb_migration broken[] = {
        {1, "0001_good", "CREATE TABLE first_table (id int)"},
        {2, "0002_bad", "CREATE TABLE second_table (id int); SELECT no_such_column FROM first_table"},
    };
    char err[512];
    CHECK_INT(wb_pg_migrate(pg, broken, 2, err, sizeof err), -1);
    CHECK_CONTAINS(err, "0002_bad");
    CHECK_CONTAINS(err, "no_such_column");
    CHECK_INT(count(pg, "SELECT count(*) FROM information_schema.tables WHERE table_name IN ('first_table','second_table','schema_migrations')"), 0);
    wb_pg_close(pg);
}

TEST(arrays_travel_as_one_parameter) {
    wb_pg *pg = connect_or_null();
    CHECK(pg != NULL);
    const char *items[] = {"plain", "with \"quote\"", "back\\slash", "comma,brace}", ""};
    char *array = wb_pg_array(items, 5);
    const char *params[] = {array};
    PGresult *res = wb_pg_query(pg, "SELECT x FROM unnest($1::text[]) WITH ORDINALITY AS t(x, n) ORDER BY n", 1, params);
    free(array);
    CHECK(res && PQntuples(res) == 5);
    for (int i = 0; i < 5; i++) CHECK_STR(PQgetvalue(res, i, 0), items[i]);
    PQclear(res);
    char *empty = wb_pg_array(NULL, 0);
    CHECK_STR(empty, "{}");
    free(empty);
    wb_pg_close(pg);
}

TEST(ping_live_and_dead) {
    char reason[256] = "";
    CHECK(wb_pg_ping(dsn, reason, sizeof reason) == 0);
    CHECK(wb_pg_ping("postgresql://wmsbridge:secretpw@127.0.0.1:1/x", reason, sizeof reason) == -1);
    CHECK_CONTAINS(reason, "postgresql unreachable");
    CHECK_NOT_CONTAINS(reason, "secretpw");
}

int main(void) {
    dsn = wb_test_env("WB_TEST_PG_DSN");
    wb_log_init("test_pg", WB_LOG_ERROR);
    wb_log_set_output(stderr);
    RUN(parameters_never_become_sql);
    RUN(errors_are_reported_not_fatal);
    RUN(reconnects_after_server_drops_connection);
    RUN(no_silent_retry_inside_transaction);
    RUN(migrations_apply_once);
    RUN(parallel_replicas_do_not_race);
    RUN(failed_migration_rolls_back_whole);
    RUN(arrays_travel_as_one_parameter);
    RUN(ping_live_and_dead);
    TEST_EXIT();
}
