/* PostgreSQL connection, parameterised queries and migrations (see wb/pg.h). */
#include "wb/pg.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb/log.h"

/* Any 64-bit constant shared by every replica: "wmsbrdg" in ASCII. */
#define MIGRATION_LOCK_KEY "8245924216813927"

struct wb_pg {
    char *dsn;
    PGconn *conn;
    char error[512];
};

static void set_error(wb_pg *pg, const char *what, const char *detail) {
    snprintf(pg->error, sizeof pg->error, "%s: %s", what, detail ? detail : "");
    size_t n = strlen(pg->error);
    while (n && (pg->error[n - 1] == '\n' || pg->error[n - 1] == ' ')) pg->error[--n] = 0;
}

static void quiet_notices(void *arg, const char *message) { (void)arg, (void)message; }

static PGconn *open_conn(const char *dsn, int timeout_s, char *err, size_t err_size) {
    char timeout[16];
    snprintf(timeout, sizeof timeout, "%d", timeout_s);
    const char *keys[] = {"dbname", "connect_timeout", "application_name", NULL};
    const char *vals[] = {dsn, timeout, "wmsbridge", NULL};
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(conn) != CONNECTION_OK) {
        snprintf(err, err_size, "%s", conn ? PQerrorMessage(conn) : "out of memory");
        /* libpq's message spans lines ("...refused\n\tIs the server running");
         * one line reads better in a log and in /readyz. */
        for (char *p = err; *p; p++)
            if (*p == '\n' || *p == '\t') *p = ' ';
        size_t n = strlen(err);
        while (n && err[n - 1] == ' ') err[--n] = 0;
        PQfinish(conn);
        return NULL;
    }
    PQsetNoticeProcessor(conn, quiet_notices, NULL);
    return conn;
}

wb_pg *wb_pg_connect(const char *dsn, char *err, size_t err_size) {
    PGconn *conn = open_conn(dsn, 10, err, err_size);
    if (!conn) return NULL;
    wb_pg *pg = calloc(1, sizeof *pg);
    pg->dsn = strdup(dsn);
    pg->conn = conn;
    return pg;
}

const char *wb_pg_error(const wb_pg *pg) { return pg->error; }
PGconn *wb_pg_conn(wb_pg *pg) { return pg->conn; }

static bool reconnect(wb_pg *pg) {
    char err[256];
    PGconn *conn = open_conn(pg->dsn, 5, err, sizeof err);
    if (!conn) {
        set_error(pg, "reconnect failed", err);
        return false;
    }
    PQfinish(pg->conn);
    pg->conn = conn;
    wb_info(NULL, "postgresql: reconnected");
    return true;
}

static PGresult *exec_once(wb_pg *pg, const char *sql, int n, const char *const *params) {
    return PQexecParams(pg->conn, sql, n, NULL, params, NULL, NULL, 0);
}

static bool result_ok(PGresult *res) {
    ExecStatusType st = PQresultStatus(res);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

PGresult *wb_pg_query(wb_pg *pg, const char *sql, int param_count, const char *const *params) {
    /* Only a statement outside a transaction may be repeated on a new
     * connection: inside one, the transaction died with the old connection. */
    /* A connection that broke earlier already failed its caller (and any
     * transaction on it is gone): start this statement on a fresh one. */
    if (PQstatus(pg->conn) == CONNECTION_BAD && !reconnect(pg)) return NULL;
    bool idle = PQtransactionStatus(pg->conn) == PQTRANS_IDLE;
    PGresult *res = exec_once(pg, sql, param_count, params);
    if (!result_ok(res) && PQstatus(pg->conn) == CONNECTION_BAD && idle) {
        PQclear(res);
        if (!reconnect(pg)) return NULL;
        res = exec_once(pg, sql, param_count, params);
    }
    if (!result_ok(res)) {
        set_error(pg, "query failed", res ? PQresultErrorMessage(res) : PQerrorMessage(pg->conn));
        if (!res || !*PQresultErrorMessage(res)) set_error(pg, "query failed", PQerrorMessage(pg->conn));
        PQclear(res);
        return NULL;
    }
    return res;
}

int wb_pg_exec(wb_pg *pg, const char *sql, int param_count, const char *const *params) {
    PGresult *res = wb_pg_query(pg, sql, param_count, params);
    if (!res) return -1;
    PQclear(res);
    return 0;
}

void wb_pg_close(wb_pg *pg) {
    if (!pg) return;
    PQfinish(pg->conn);
    free(pg->dsn);
    free(pg);
}

/* ---- migrations ---- */

static const char create_table_sql[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version integer PRIMARY KEY,"
    " name text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())";

static bool applied(wb_pg *pg, int version, bool *yes) {
    char v[16];
    snprintf(v, sizeof v, "%d", version);
    const char *params[] = {v};
    PGresult *res = wb_pg_query(pg, "SELECT 1 FROM schema_migrations WHERE version = $1", 1, params);
    if (!res) return false;
    *yes = PQntuples(res) > 0;
    PQclear(res);
    return true;
}

/* A migration file holds several statements, so it goes through the simple
 * query protocol; it is fixed text compiled into the binary, never input. */
static bool apply_one(wb_pg *pg, const wb_migration *m) {
    PGresult *res = PQexec(pg->conn, m->sql);
    bool ok = result_ok(res);
    if (!ok) set_error(pg, m->name, PQresultErrorMessage(res));
    PQclear(res);
    if (!ok) return false;
    char v[16];
    snprintf(v, sizeof v, "%d", m->version);
    const char *params[] = {v, m->name};
    return wb_pg_exec(pg, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", 2,
                      params) == 0;
}

static int migrate_locked(wb_pg *pg, const wb_migration *migrations, int count) {
    if (wb_pg_exec(pg, "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK_KEY ")", 0, NULL) != 0 ||
        wb_pg_exec(pg, create_table_sql, 0, NULL) != 0)
        return -1;
    int done = 0;
    for (int i = 0; i < count; i++) {
        bool yes = false;
        if (!applied(pg, migrations[i].version, &yes)) return -1;
        if (yes) continue;
        if (!apply_one(pg, &migrations[i])) return -1;
        wb_info(NULL, "postgresql: applied migration %s", migrations[i].name);
        done++;
    }
    return done;
}

int wb_pg_migrate(wb_pg *pg, const wb_migration *migrations, int count, char *err,
                  size_t err_size) {
    /* One transaction holding a transaction-level advisory lock: a second
     * replica waits for the first to commit, then finds nothing left to do. */
    if (wb_pg_exec(pg, "BEGIN", 0, NULL) != 0) {
        snprintf(err, err_size, "%s", pg->error);
        return -1;
    }
    int done = migrate_locked(pg, migrations, count);
    if (done < 0 || wb_pg_exec(pg, "COMMIT", 0, NULL) != 0) {
        snprintf(err, err_size, "%s", pg->error);
        PGresult *res = PQexec(pg->conn, "ROLLBACK");
        PQclear(res);
        return -1;
    }
    return done;
}

char *wb_pg_array(const char *const *items, int count) {
    size_t size = 3;
    for (int i = 0; i < count; i++) size += 2 * strlen(items[i]) + 3;
    char *out = malloc(size), *o = out;
    *o++ = '{';
    for (int i = 0; i < count; i++) {
        if (i) *o++ = ',';
        *o++ = '"';
        for (const char *c = items[i]; *c; c++) {
            if (*c == '"' || *c == '\\') *o++ = '\\';
            *o++ = *c;
        }
        *o++ = '"';
    }
    *o++ = '}';
    *o = 0;
    return out;
}

int wb_pg_ping(const char *dsn, char *reason, size_t reason_size) {
    char err[256];
    PGconn *conn = open_conn(dsn, 2, err, sizeof err);
    if (!conn) {
        snprintf(reason, reason_size, "postgresql unreachable: %s", err);
        return -1;
    }
    PGresult *res = PQexec(conn, "SELECT 1");
    int rc = PQresultStatus(res) == PGRES_TUPLES_OK ? 0 : -1;
    if (rc) snprintf(reason, reason_size, "postgresql: %s", PQresultErrorMessage(res));
    PQclear(res);
    PQfinish(conn);
    return rc;
}
