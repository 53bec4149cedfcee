#!/usr/bin/env python3
"""SQL only through parameters: every query handed to PostgreSQL
(PQexec, PQexecParams, PQprepare, PQsendQuery*, and libshared's wb_pg_query /
wb_pg_exec) in the C sources must be text fixed at compile time: string
literals (adjacent ones and literal macros included) or a constant that holds
one. A query built at run time (snprintf, strcat, ... into a buffer) or one
the scan cannot prove constant fails, naming file:line, unless it is in
ALLOWED below with the reason it is safe (e.g. an identifier that cannot be
a $n parameter, taken from a fixed table).

The rejects_* cases feed the checker small sources that must be refused, so
the scan is shown to catch what it is for.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
DIRS = ["libshared", "services", "tools", "sim"]
# function -> index of its query argument
CALLS = {"PQexec": 1, "PQexecParams": 1, "PQprepare": 2, "PQsendQuery": 1, "PQsendQueryParams": 1,
         "PQsendPrepare": 2, "wb_pg_query": 1, "wb_pg_exec": 1}
WRITERS = r"(?:snprintf|sprintf|vsnprintf|vsprintf|asprintf|vasprintf|strcat|strncat|strcpy|stpcpy|memcpy)"

# (file, enclosing function, query expression) -> why it is safe.
ALLOWED = {
    ("libshared/src/pg.c", "exec_once", "sql"):
        "the wrapper under wb_pg_query: PQexecParams with its caller's query, whose every call this scan checks",
    ("libshared/src/pg.c", "wb_pg_exec", "sql"):
        "the wrapper: passes its caller's query on to wb_pg_query, whose callers this scan checks",
    ("libshared/src/pg.c", "apply_one", "m->sql"):
        "migrations: fixed files of libshared/migrations compiled into the binary (embed_migrations.cmake)",
    ("libshared/src/store.c", "wb_store_set", "sql"):
        "a column name and cast (identifiers, which cannot be $n parameters) from the fixed table "
        "wb_store_settings, looked up by key; the value itself is $2",
    ("services/fulfilment-reporter/db.c", "fr_record_state", "sql"):
        "splices the constant state_rank_sql (a CASE over literals); every value is a $n parameter",
    ("services/order-ingest/batch.c", "prepare_statements", "statements[i].sql"):
        "the fixed table `statements` of string literals (the batch's lock, read and write); values are $n",
    ("services/order-ingest/batch.c", "pipeline", "s[i].sql"):
        "the literals \"BEGIN\" and \"COMMIT\" of lock_and_read and write_and_commit; the rest are prepared",
}


def strip_comments(src):
    """Comments become spaces (line breaks kept), strings stay."""
    out, i, n = [], 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", src[i:j]))
            i = j
        elif src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and src[j] != c:
                j += 2 if src[j] == "\\" else 1
            out.append(src[i:j + 1])
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def split_args(src, start):
    """Arguments of the call whose '(' is at start, as stripped strings."""
    args, depth, cur, i = [], 0, [], start + 1
    while i < len(src):
        c = src[i]
        if c in "\"'":
            j = i + 1
            while j < len(src) and src[j] != c:
                j += 2 if src[j] == "\\" else 1
            cur.append(src[i:j + 1])
            i = j + 1
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                args.append("".join(cur).strip())
                return args
            depth -= 1
        elif c == "," and depth == 0:
            args.append("".join(cur).strip())
            cur = []
            i += 1
            continue
        cur.append(c)
        i += 1
    return args


def literal_only(expr, src):
    """Adjacent string literals, possibly with macros that are literals."""
    rest = re.sub(r'"(?:[^"\\]|\\.)*"', " ", expr).split()
    if rest == [] and '"' in expr:
        return True
    return bool(rest) and '"' in expr and all(re.search(rf"#define\s+{re.escape(t)}\s+\S", src) for t in rest)


def fixed_choice(expr, src):
    """cond ? A : B where both A and B are literal_only (a choice of fixed texts)."""
    lits = re.findall(r'"(?:[^"\\]|\\.)*"', expr)
    masked = re.sub(r'"(?:[^"\\]|\\.)*"', "@", expr)
    m = re.fullmatch(r"([^?:@]+)\?([^?:]+):([^?:]+)", masked, re.S)
    if not m:
        return False
    it = iter(lits)
    def unmask(part):
        return re.sub("@", lambda _: next(it), part)
    unmask(m.group(1))
    return literal_only(unmask(m.group(2)).strip(), src) and literal_only(unmask(m.group(3)).strip(), src)


def constant_name(name, src):
    """name is declared once as a constant holding a literal."""
    decl = re.search(rf"\bconst\s+char\s*(?:\*\s*const\s+|\s)\s*{re.escape(name)}\s*(?:\[\s*\])?\s*=\s*\"", src)
    define = re.search(rf"#define\s+{re.escape(name)}\s+\"", src)
    return bool(decl or define)


def enclosing_function(src, pos):
    best = "?"
    for m in re.finditer(r"^[A-Za-z][^;{}()=]*?\b(\w+)\s*\([^;{}]*\)\s*\{", src[:pos], re.M):
        best = m.group(1)
    return best


def check_source(rel, text):
    """Problems as (line, message); nothing when every query is fixed."""
    src = strip_comments(text)
    problems = []
    for m in re.finditer(r"\b(" + "|".join(CALLS) + r")\s*\(", src):
        name = m.group(1)
        line = src.count("\n", 0, m.start()) + 1
        args = split_args(src, m.end() - 1)
        if len(args) <= CALLS[name]:
            continue
        expr = args[CALLS[name]]
        # The prototype or definition of a wrapper itself.
        if re.match(r"(const\s+)?char\s*\*", expr) or re.match(r"^[A-Za-z_][\w\s\*]*\b" + name + r"\s*\($",
                                                              src[src.rfind("\n", 0, m.start()) + 1:m.end()]):
            continue
        if literal_only(expr, src) or fixed_choice(expr, src):
            continue
        func = enclosing_function(src, m.start())
        why = ALLOWED.get((rel, func, expr))
        if why:
            continue
        ident = re.fullmatch(r"[A-Za-z_]\w*", expr)
        if ident and constant_name(expr, src):
            continue
        built = ident and re.search(rf"\b{WRITERS}\s*\(\s*&?\s*{re.escape(expr)}\b", src)
        what = "built at run time" if built else "not provably constant"
        problems.append((line, f"{name}() in {func}(): query `{expr}` is {what}; use $n parameters "
                               f"(or add a reviewed entry to ALLOWED in tests/unit/test_sql_params.py)"))
    return problems


def sources():
    for d in DIRS:
        for f in sorted((ROOT / d).rglob("*.c")):
            yield f


def main():
    failed = 0

    def case(name, ok, why=""):
        nonlocal failed
        if ok:
            print(f"PASS {name}")
        else:
            failed += 1
            print(f"FAIL {name}: {why}")

    # The checker itself: what it must refuse and what it must let through.
    built = 'void f(wb_pg *pg, const char *t) {\n  char q[99];\n  snprintf(q, sizeof q, "SELECT * FROM %s", t);\n' \
            '  wb_pg_query(pg, q, 0, NULL);\n}\n'
    case("rejects_snprintf_query", [l for l, _ in check_source("x.c", built)] == [4],
         f"got {check_source('x.c', built)}")
    cat = 'void g(PGconn *c, const char *id) {\n  char q[99] = "DELETE FROM t WHERE id = ";\n' \
          '  strcat(q, id);\n  PQexec(c, q);\n}\n'
    case("rejects_strcat_query", [l for l, _ in check_source("x.c", cat)] == [4], f"got {check_source('x.c', cat)}")
    arg = 'void h(wb_pg *pg, const char *sql) {\n  wb_pg_exec(pg, sql, 0, NULL);\n}\n'
    case("rejects_query_from_caller", len(check_source("x.c", arg)) == 1, f"got {check_source('x.c', arg)}")
    prep = 'void k(PGconn *c, char *q) {\n  asprintf(&q, "SELECT %d", 1);\n  PQprepare(c, "s", q, 0, NULL);\n}\n'
    case("rejects_prepared_built_query", len(check_source("x.c", prep)) == 1, f"got {check_source('x.c', prep)}")
    fine = '#define COLS "a, b"\nstatic const char sel[] = "SELECT 1";\nvoid ok(wb_pg *pg, const char *v) {\n' \
           '  const char *p[] = {v};\n  wb_pg_query(pg, "SELECT " COLS " FROM t "\n    "WHERE id = $1", 1, p);\n' \
           '  wb_pg_exec(pg, sel, 0, NULL); /* wb_pg_exec(pg, q, 0, NULL) in a comment */\n}\n'
    tern = 'void t(wb_pg *pg, bool l, char *q) {\n  wb_pg_query(pg, l ? "SELECT 1 FOR UPDATE" : "SELECT 1", 0, NULL);\n' \
           '  wb_pg_query(pg, l ? q : "SELECT 1", 0, NULL);\n}\n'
    case("ternary_of_literals_only", [l for l, _ in check_source("x.c", tern)] == [3], f"got {check_source('x.c', tern)}")
    case("accepts_literals_and_constants", check_source("x.c", fine) == [], f"got {check_source('x.c', fine)}")

    seen = 0
    problems = []
    for f in sources():
        rel = str(f.relative_to(ROOT))
        text = f.read_text(errors="replace")
        seen += len(re.findall(r"\b(?:" + "|".join(CALLS) + r")\s*\(", strip_comments(text)))
        problems += [f"{rel}:{line}: {msg}" for line, msg in check_source(rel, text)]
    case("sql_calls_found", seen > 50, f"only {seen} query calls found: is the scan looking in the right place?")
    case("sql_only_parameterised", not problems, "; ".join(problems))
    # An allow-list entry that no longer matches anything is stale: it would
    # silently allow whatever next takes its name.
    used = set()
    for f in sources():
        rel = str(f.relative_to(ROOT))
        src = strip_comments(f.read_text(errors="replace"))
        for m in re.finditer(r"\b(" + "|".join(CALLS) + r")\s*\(", src):
            args = split_args(src, m.end() - 1)
            if len(args) > CALLS[m.group(1)]:
                used.add((rel, enclosing_function(src, m.start()), args[CALLS[m.group(1)]]))
    stale = [f"{k[0]} {k[1]}() `{k[2]}`" for k in ALLOWED if k not in used]
    case("sql_allow_list_current", not stale, "entries that match no call: " + "; ".join(stale))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
