/* A small GraphQL document parser: operations, variables with defaults,
 * fields with aliases, arguments, directives, nested selection sets,
 * fragments (named and inline, flattened with their type condition).
 * All memory lives in one arena freed with gql_free. */
#ifndef SHOPSIM_GQL_H
#define SHOPSIM_GQL_H
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum {
  GQL_NULL, GQL_INT, GQL_FLOAT, GQL_STRING, GQL_BOOL, GQL_ENUM, GQL_LIST, GQL_OBJECT, GQL_VAR
} gql_kind;

typedef struct gql_value {
  gql_kind kind;
  const char *text; /* number text, string, enum name, variable name */
  bool boolean;
  size_t n;                 /* list or object size */
  struct gql_value **items; /* list items or object values */
  const char **keys;        /* object keys */
} gql_value;

typedef struct { const char *name; gql_value *value; } gql_arg;
typedef struct { const char *name; gql_arg *args; size_t nargs; } gql_directive;

typedef struct gql_field gql_field;
typedef struct { gql_field *fields; size_t n; } gql_selset;

struct gql_field {
  const char *alias; /* NULL when not aliased */
  const char *name;
  const char *type_cond; /* set when the field came from a fragment "on Type" */
  const char *spread;    /* internal: fragment spread before flattening */
  gql_arg *args;
  size_t nargs;
  gql_directive *dirs;
  size_t ndirs;
  gql_selset sel;
  int line, col;
};

typedef struct { const char *name; const char *type; gql_value *defval; } gql_vardef;

typedef enum { GQL_QUERY, GQL_MUTATION, GQL_SUBSCRIPTION } gql_op_kind;

typedef struct {
  gql_op_kind kind;
  const char *name;
  gql_vardef *vars;
  size_t nvars;
  gql_selset sel;
} gql_operation;

typedef struct {
  const char *name;
  const char *type_cond;
  gql_selset sel;
} gql_fragment;

typedef struct gql_arena gql_arena;

typedef struct {
  gql_arena *arena;
  gql_operation *ops;
  size_t nops;
  gql_fragment *frags;
  size_t nfrags;
} gql_document;

/* Parses `src`. On error returns NULL and writes a message (with line and
 * column) into err. */
gql_document *gql_parse(const char *src, char *err, size_t errlen);
void gql_free(gql_document *doc);

/* The operation to run: by name, or the only one. NULL if none matches. */
const gql_operation *gql_pick_operation(const gql_document *doc, const char *name);

/* Key under which a field's value is returned. */
static inline const char *gql_key(const gql_field *f) { return f->alias ? f->alias : f->name; }

const gql_arg *gql_find_arg(const gql_arg *args, size_t n, const char *name);
const gql_directive *gql_find_directive(const gql_field *f, const char *name);

/* Converts a value to JSON, substituting variables from `vars` (the request's
 * variables object) or the operation's defaults. Returns NULL when the value
 * is a variable that was not provided (an absent value, unlike JSON null).
 * Inside lists and objects absent variables are left out. */
cJSON *gql_value_json(const gql_value *v, const gql_operation *op, const cJSON *vars);

/* Checks the request's variables: every variable used must be declared and
 * every required (`!`) variable without default must be given and non-null.
 * Returns false with a message in err. */
bool gql_check_variables(const gql_operation *op, const cJSON *vars, char *err, size_t errlen);
#endif
