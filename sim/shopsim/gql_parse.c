#include "gql.h"
#include "util.h"

#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena: every node of a document is freed at once ---- */

struct gql_arena {
  struct gql_arena *next;
  size_t used, cap;
  unsigned char data[];
};

static void *arena_alloc(gql_arena **head, size_t n) {
  n = (n + 15) & ~(size_t)15;
  gql_arena *a = *head;
  if (!a || a->used + n > a->cap) {
    size_t cap = n > 16384 ? n : 16384;
    gql_arena *fresh = xmalloc(sizeof *fresh + cap);
    fresh->next = a;
    fresh->used = 0;
    fresh->cap = cap;
    *head = a = fresh;
  }
  void *p = a->data + a->used;
  a->used += n;
  memset(p, 0, n);
  return p;
}

/* Growable arrays inside the arena: the old block is simply abandoned. */
static void *arena_push(gql_arena **head, void *arr, size_t *n, size_t elem) {
  size_t count = *n;
  bool pow2 = count && (count & (count - 1)) == 0;
  if (count == 0 || pow2) {
    size_t cap = count ? count * 2 : 4;
    void *grown = arena_alloc(head, cap * elem);
    if (count) memcpy(grown, arr, count * elem);
    arr = grown;
  }
  (*n)++;
  return arr;
}
#define APUSH(p, arr, n) ((arr) = arena_push(&(p)->arena, (arr), &(n), sizeof(*(arr))), &(arr)[(n) - 1])

/* ---- lexer ---- */

typedef enum { T_EOF, T_PUNCT, T_NAME, T_INT, T_FLOAT, T_STRING, T_SPREAD } tok_kind;

typedef struct {
  const char *src, *p;
  gql_arena *arena;
  tok_kind kind;
  const char *text; /* arena copy for names/numbers/strings */
  char punct;
  int line, col;
  const char *line_start;
  int tline, tcol;
  int depth; /* selection-set nesting, bounded so hostile input cannot blow the stack */
  jmp_buf fail;
  char *err;
  size_t errlen;
} parser;

static void fail(parser *ps, const char *fmt, ...) {
  char msg[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  snprintf(ps->err, ps->errlen, "%s at [%d, %d]", msg, ps->tline, ps->tcol);
  longjmp(ps->fail, 1);
}

static char *arena_strndup(gql_arena **a, const char *s, size_t n) {
  char *d = arena_alloc(a, n + 1);
  memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

static void skip_ignored(parser *ps) {
  for (;;) {
    char c = *ps->p;
    if (c == '\n') {
      ps->p++;
      ps->line++;
      ps->line_start = ps->p;
    } else if (c == ' ' || c == '\t' || c == '\r' || c == ',' || (unsigned char)c == 0xEF) {
      /* 0xEF: start of a UTF-8 byte order mark; skip its three bytes */
      ps->p += ((unsigned char)c == 0xEF && ps->p[1] && ps->p[2]) ? 3 : 1;
    } else if (c == '#') {
      while (*ps->p && *ps->p != '\n') ps->p++;
    } else {
      return;
    }
  }
}

static void put_utf8(char **out, unsigned cp) {
  char *o = *out;
  if (cp < 0x80) {
    *o++ = (char)cp;
  } else if (cp < 0x800) {
    *o++ = (char)(0xC0 | (cp >> 6));
    *o++ = (char)(0x80 | (cp & 0x3F));
  } else {
    *o++ = (char)(0xE0 | (cp >> 12));
    *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
    *o++ = (char)(0x80 | (cp & 0x3F));
  }
  *out = o;
}

static void lex_block_string(parser *ps) {
  const char *start = ps->p + 3;
  const char *end = strstr(start, "\"\"\"");
  if (!end) fail(ps, "unterminated block string");
  for (const char *q = start; q < end; q++)
    if (*q == '\n') ps->line++;
  ps->text = arena_strndup(&ps->arena, start, (size_t)(end - start));
  ps->p = end + 3;
  ps->kind = T_STRING;
}

static void lex_string(parser *ps) {
  const char *q = ps->p + 1;
  char *buf = arena_alloc(&ps->arena, strlen(q) + 1), *o = buf;
  while (*q && *q != '"') {
    if (*q == '\n') fail(ps, "unterminated string");
    if (*q != '\\') {
      *o++ = *q++;
      continue;
    }
    q++;
    switch (*q) {
      case 'n': *o++ = '\n'; break;
      case 't': *o++ = '\t'; break;
      case 'r': *o++ = '\r'; break;
      case 'b': *o++ = '\b'; break;
      case 'f': *o++ = '\f'; break;
      case 'u': {
        unsigned cp = 0;
        for (int i = 1; i <= 4; i++) {
          if (!isxdigit((unsigned char)q[i])) fail(ps, "bad unicode escape");
          cp = cp * 16 + (unsigned)(isdigit((unsigned char)q[i]) ? q[i] - '0' : (tolower((unsigned char)q[i]) - 'a' + 10));
        }
        put_utf8(&o, cp);
        q += 4;
        break;
      }
      case '\0': fail(ps, "unterminated string"); break;
      default: *o++ = *q; break; /* \" \\ \/ */
    }
    q++;
  }
  if (*q != '"') fail(ps, "unterminated string");
  *o = '\0';
  ps->text = buf;
  ps->p = q + 1;
  ps->kind = T_STRING;
}

static void lex_number(parser *ps) {
  const char *q = ps->p;
  bool is_float = false;
  if (*q == '-') q++;
  while (isdigit((unsigned char)*q)) q++;
  if (*q == '.') {
    is_float = true;
    q++;
    while (isdigit((unsigned char)*q)) q++;
  }
  if (*q == 'e' || *q == 'E') {
    is_float = true;
    q++;
    if (*q == '+' || *q == '-') q++;
    while (isdigit((unsigned char)*q)) q++;
  }
  ps->text = arena_strndup(&ps->arena, ps->p, (size_t)(q - ps->p));
  ps->kind = is_float ? T_FLOAT : T_INT;
  ps->p = q;
}

static void next(parser *ps) {
  skip_ignored(ps);
  ps->tline = ps->line;
  ps->tcol = (int)(ps->p - ps->line_start) + 1;
  char c = *ps->p;
  if (!c) {
    ps->kind = T_EOF;
  } else if (c == '.' && ps->p[1] == '.' && ps->p[2] == '.') {
    ps->kind = T_SPREAD;
    ps->p += 3;
  } else if (strchr("!$&()=:@[]{}|", c)) {
    ps->kind = T_PUNCT;
    ps->punct = c;
    ps->p++;
  } else if (isalpha((unsigned char)c) || c == '_') {
    const char *q = ps->p;
    while (isalnum((unsigned char)*q) || *q == '_') q++;
    ps->text = arena_strndup(&ps->arena, ps->p, (size_t)(q - ps->p));
    ps->kind = T_NAME;
    ps->p = q;
  } else if (isdigit((unsigned char)c) || c == '-') {
    lex_number(ps);
  } else if (c == '"') {
    if (ps->p[1] == '"' && ps->p[2] == '"') lex_block_string(ps);
    else lex_string(ps);
  } else {
    fail(ps, "unexpected character '%c'", c);
  }
}

static bool is_punct(parser *ps, char c) { return ps->kind == T_PUNCT && ps->punct == c; }

static void expect_punct(parser *ps, char c) {
  if (!is_punct(ps, c)) fail(ps, "expected '%c'", c);
  next(ps);
}

static const char *expect_name(parser *ps) {
  if (ps->kind != T_NAME) fail(ps, "expected a name");
  const char *name = ps->text;
  next(ps);
  return name;
}

/* ---- values ---- */

static gql_value *parse_value(parser *ps, bool constant);

static gql_value *new_value(parser *ps, gql_kind kind, const char *text) {
  gql_value *v = arena_alloc(&ps->arena, sizeof *v);
  v->kind = kind;
  v->text = text;
  return v;
}

static gql_value *parse_list(parser *ps, bool constant) {
  gql_value *v = new_value(ps, GQL_LIST, NULL);
  next(ps);
  while (!is_punct(ps, ']')) {
    if (ps->kind == T_EOF) fail(ps, "unterminated list");
    gql_value *item = parse_value(ps, constant);
    *APUSH(ps, v->items, v->n) = item;
  }
  next(ps);
  return v;
}

static gql_value *parse_object(parser *ps, bool constant) {
  gql_value *v = new_value(ps, GQL_OBJECT, NULL);
  size_t nkeys = 0;
  next(ps);
  while (!is_punct(ps, '}')) {
    const char *key = expect_name(ps);
    expect_punct(ps, ':');
    gql_value *item = parse_value(ps, constant);
    *APUSH(ps, v->keys, nkeys) = key;
    *APUSH(ps, v->items, v->n) = item;
  }
  next(ps);
  return v;
}

static gql_value *parse_value(parser *ps, bool constant) {
  gql_value *v = NULL;
  switch (ps->kind) {
    case T_PUNCT:
      if (ps->punct == '[') return parse_list(ps, constant);
      if (ps->punct == '{') return parse_object(ps, constant);
      if (ps->punct == '$') {
        if (constant) fail(ps, "variable not allowed here");
        next(ps);
        return new_value(ps, GQL_VAR, expect_name(ps));
      }
      fail(ps, "unexpected '%c'", ps->punct);
      break;
    case T_INT: v = new_value(ps, GQL_INT, ps->text); break;
    case T_FLOAT: v = new_value(ps, GQL_FLOAT, ps->text); break;
    case T_STRING: v = new_value(ps, GQL_STRING, ps->text); break;
    case T_NAME:
      if (strcmp(ps->text, "true") == 0 || strcmp(ps->text, "false") == 0) {
        v = new_value(ps, GQL_BOOL, NULL);
        v->boolean = ps->text[0] == 't';
      } else if (strcmp(ps->text, "null") == 0) {
        v = new_value(ps, GQL_NULL, NULL);
      } else {
        v = new_value(ps, GQL_ENUM, ps->text);
      }
      break;
    default: fail(ps, "expected a value");
  }
  next(ps);
  return v;
}

static void parse_arguments(parser *ps, gql_arg **args, size_t *nargs, bool constant) {
  if (!is_punct(ps, '(')) return;
  next(ps);
  while (!is_punct(ps, ')')) {
    gql_arg *a = APUSH(ps, *args, *nargs);
    a->name = expect_name(ps);
    expect_punct(ps, ':');
    a->value = parse_value(ps, constant);
  }
  next(ps);
}

static void parse_directives(parser *ps, gql_directive **dirs, size_t *ndirs) {
  while (is_punct(ps, '@')) {
    next(ps);
    gql_directive *d = APUSH(ps, *dirs, *ndirs);
    d->name = expect_name(ps);
    parse_arguments(ps, &d->args, &d->nargs, false);
  }
}

/* ---- selections ---- */

static void parse_selset(parser *ps, gql_selset *out);

static void parse_fragment_use(parser *ps, gql_selset *out) {
  next(ps); /* ... */
  gql_field *f = APUSH(ps, out->fields, out->n);
  f->line = ps->tline;
  f->col = ps->tcol;
  if (ps->kind == T_NAME && strcmp(ps->text, "on") != 0) {
    f->spread = expect_name(ps);
    parse_directives(ps, &f->dirs, &f->ndirs);
    return;
  }
  if (ps->kind == T_NAME) { /* inline fragment with type condition */
    next(ps);
    f->type_cond = expect_name(ps);
  }
  f->spread = ""; /* inline: "" marks a fragment without a name */
  parse_directives(ps, &f->dirs, &f->ndirs);
  parse_selset(ps, &f->sel);
}

static void parse_field(parser *ps, gql_selset *out) {
  gql_field *f = APUSH(ps, out->fields, out->n);
  f->line = ps->tline;
  f->col = ps->tcol;
  const char *first = expect_name(ps);
  if (is_punct(ps, ':')) {
    next(ps);
    f->alias = first;
    f->name = expect_name(ps);
  } else {
    f->name = first;
  }
  /* Pointers into out->fields may move while nested selections grow other
   * arrays, but out->fields itself only grows here, so `f` stays valid. */
  parse_arguments(ps, &f->args, &f->nargs, false);
  parse_directives(ps, &f->dirs, &f->ndirs);
  if (is_punct(ps, '{')) parse_selset(ps, &f->sel);
}

static void parse_selset(parser *ps, gql_selset *out) {
  if (++ps->depth > 48) fail(ps, "selection sets nested too deep");
  expect_punct(ps, '{');
  while (!is_punct(ps, '}')) {
    if (ps->kind == T_EOF) fail(ps, "unterminated selection set");
    if (ps->kind == T_SPREAD) parse_fragment_use(ps, out);
    else parse_field(ps, out);
  }
  next(ps);
  if (out->n == 0) fail(ps, "empty selection set");
  ps->depth--;
}

/* ---- definitions ---- */

static const char *parse_type(parser *ps) {
  char buf[256];
  size_t len = 0;
  int depth = 0;
  for (;;) {
    const char *piece;
    if (is_punct(ps, '[')) {
      depth++;
      piece = "[";
    } else if (is_punct(ps, ']') && depth > 0) {
      depth--;
      piece = "]";
    } else if (is_punct(ps, '!')) {
      piece = "!";
    } else if (ps->kind == T_NAME && (len == 0 || buf[len - 1] == '[')) {
      piece = ps->text;
    } else {
      break;
    }
    size_t pl = strlen(piece);
    if (len + pl >= sizeof buf) fail(ps, "type too long");
    memcpy(buf + len, piece, pl);
    len += pl;
    next(ps);
  }
  if (len == 0 || depth != 0) fail(ps, "expected a type");
  return arena_strndup(&ps->arena, buf, len);
}

static void parse_variable_defs(parser *ps, gql_operation *op) {
  if (!is_punct(ps, '(')) return;
  next(ps);
  while (!is_punct(ps, ')')) {
    expect_punct(ps, '$');
    gql_vardef *vd = APUSH(ps, op->vars, op->nvars);
    vd->name = expect_name(ps);
    expect_punct(ps, ':');
    vd->type = parse_type(ps);
    if (is_punct(ps, '=')) {
      next(ps);
      vd->defval = parse_value(ps, true);
    }
    gql_directive *dirs = NULL;
    size_t nd = 0;
    parse_directives(ps, &dirs, &nd);
  }
  next(ps);
}

static void parse_operation(parser *ps, gql_document *doc) {
  gql_operation *op = APUSH(ps, doc->ops, doc->nops);
  if (is_punct(ps, '{')) { /* query shorthand */
    op->kind = GQL_QUERY;
    parse_selset(ps, &op->sel);
    return;
  }
  const char *kw = expect_name(ps);
  if (strcmp(kw, "query") == 0) op->kind = GQL_QUERY;
  else if (strcmp(kw, "mutation") == 0) op->kind = GQL_MUTATION;
  else if (strcmp(kw, "subscription") == 0) op->kind = GQL_SUBSCRIPTION;
  else fail(ps, "unknown definition '%s'", kw);
  if (ps->kind == T_NAME) op->name = expect_name(ps);
  parse_variable_defs(ps, op);
  gql_directive *dirs = NULL;
  size_t nd = 0;
  parse_directives(ps, &dirs, &nd);
  parse_selset(ps, &op->sel);
}

static void parse_fragment_def(parser *ps, gql_document *doc) {
  next(ps); /* fragment */
  gql_fragment *fr = APUSH(ps, doc->frags, doc->nfrags);
  fr->name = expect_name(ps);
  if (ps->kind != T_NAME || strcmp(ps->text, "on") != 0) fail(ps, "expected 'on'");
  next(ps);
  fr->type_cond = expect_name(ps);
  gql_directive *dirs = NULL;
  size_t nd = 0;
  parse_directives(ps, &dirs, &nd);
  parse_selset(ps, &fr->sel);
}

/* ---- fragment flattening ---- */

static const gql_fragment *find_fragment(const gql_document *doc, const char *name) {
  for (size_t i = 0; i < doc->nfrags; i++)
    if (strcmp(doc->frags[i].name, name) == 0) return &doc->frags[i];
  return NULL;
}

static void flatten(parser *ps, gql_document *doc, gql_selset *sel, int depth);

/* Appends the fields of `src` to `out`, each tagged with the fragment's
 * type condition, expanding nested spreads. */
static void splice(parser *ps, gql_document *doc, gql_selset *out, const gql_selset *src,
                   const char *type_cond, int depth) {
  for (size_t i = 0; i < src->n; i++) {
    const gql_field *f = &src->fields[i];
    if (f->spread) {
      const gql_selset *inner;
      const char *cond = f->type_cond;
      if (f->spread[0]) {
        const gql_fragment *fr = find_fragment(doc, f->spread);
        if (!fr) {
          ps->tline = f->line;
          ps->tcol = f->col;
          fail(ps, "Fragment %s was used, but not defined", f->spread);
        }
        inner = &fr->sel;
        cond = fr->type_cond;
      } else {
        inner = &f->sel;
      }
      if (depth > 16) fail(ps, "fragments nested too deep (cycle?)");
      splice(ps, doc, out, inner, cond ? cond : type_cond, depth + 1);
      continue;
    }
    gql_field *copy = APUSH(ps, out->fields, out->n);
    *copy = *f;
    if (!copy->type_cond) copy->type_cond = type_cond;
  }
}

static void flatten(parser *ps, gql_document *doc, gql_selset *sel, int depth) {
  bool has_spread = false;
  for (size_t i = 0; i < sel->n; i++)
    if (sel->fields[i].spread) has_spread = true;
  if (has_spread) {
    gql_selset out = {0};
    splice(ps, doc, &out, sel, NULL, depth);
    *sel = out;
  }
  for (size_t i = 0; i < sel->n; i++)
    if (sel->fields[i].sel.n) flatten(ps, doc, &sel->fields[i].sel, depth + 1);
}

gql_document *gql_parse(const char *src, char *err, size_t errlen) {
  parser ps = {.src = src, .p = src, .line = 1, .line_start = src, .err = err, .errlen = errlen};
  gql_document *doc = NULL;
  if (setjmp(ps.fail)) {
    gql_arena *a = ps.arena;
    while (a) {
      gql_arena *n = a->next;
      free(a);
      a = n;
    }
    return NULL;
  }
  doc = arena_alloc(&ps.arena, sizeof *doc);
  next(&ps);
  if (ps.kind == T_EOF) fail(&ps, "empty document");
  while (ps.kind != T_EOF) {
    if (ps.kind == T_NAME && strcmp(ps.text, "fragment") == 0) parse_fragment_def(&ps, doc);
    else parse_operation(&ps, doc);
  }
  for (size_t i = 0; i < doc->nops; i++) flatten(&ps, doc, &doc->ops[i].sel, 0);
  doc->arena = ps.arena;
  return doc;
}

void gql_free(gql_document *doc) {
  if (!doc) return;
  gql_arena *a = doc->arena;
  while (a) {
    gql_arena *n = a->next;
    free(a);
    a = n;
  }
}

const gql_operation *gql_pick_operation(const gql_document *doc, const char *name) {
  if (name && *name) {
    for (size_t i = 0; i < doc->nops; i++)
      if (doc->ops[i].name && strcmp(doc->ops[i].name, name) == 0) return &doc->ops[i];
    return NULL;
  }
  return doc->nops == 1 ? &doc->ops[0] : NULL;
}

const gql_arg *gql_find_arg(const gql_arg *args, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(args[i].name, name) == 0) return &args[i];
  return NULL;
}

const gql_directive *gql_find_directive(const gql_field *f, const char *name) {
  for (size_t i = 0; i < f->ndirs; i++)
    if (strcmp(f->dirs[i].name, name) == 0) return &f->dirs[i];
  return NULL;
}

static const gql_vardef *find_vardef(const gql_operation *op, const char *name) {
  for (size_t i = 0; i < op->nvars; i++)
    if (strcmp(op->vars[i].name, name) == 0) return &op->vars[i];
  return NULL;
}

cJSON *gql_value_json(const gql_value *v, const gql_operation *op, const cJSON *vars) {
  switch (v->kind) {
    case GQL_NULL: return cJSON_CreateNull();
    case GQL_INT:
    case GQL_FLOAT: return cJSON_CreateNumber(strtod(v->text, NULL));
    case GQL_STRING:
    case GQL_ENUM: return cJSON_CreateString(v->text);
    case GQL_BOOL: return cJSON_CreateBool(v->boolean);
    case GQL_VAR: {
      const cJSON *given = cJSON_GetObjectItemCaseSensitive(vars, v->text);
      if (given) return cJSON_Duplicate(given, 1);
      const gql_vardef *vd = op ? find_vardef(op, v->text) : NULL;
      return (vd && vd->defval) ? gql_value_json(vd->defval, op, vars) : NULL;
    }
    case GQL_LIST: {
      cJSON *arr = cJSON_CreateArray();
      for (size_t i = 0; i < v->n; i++) {
        cJSON *item = gql_value_json(v->items[i], op, vars);
        cJSON_AddItemToArray(arr, item ? item : cJSON_CreateNull());
      }
      return arr;
    }
    case GQL_OBJECT: {
      cJSON *obj = cJSON_CreateObject();
      for (size_t i = 0; i < v->n; i++) {
        cJSON *item = gql_value_json(v->items[i], op, vars);
        if (item) cJSON_AddItemToObject(obj, v->keys[i], item);
      }
      return obj;
    }
  }
  return NULL;
}

static bool check_value_vars(const gql_value *v, const gql_operation *op, char *err, size_t errlen) {
  if (v->kind == GQL_VAR && !find_vardef(op, v->text)) {
    snprintf(err, errlen, "Variable $%s is used by %s but not declared", v->text,
             op->name ? op->name : "anonymous operation");
    return false;
  }
  for (size_t i = 0; (v->kind == GQL_LIST || v->kind == GQL_OBJECT) && i < v->n; i++)
    if (!check_value_vars(v->items[i], op, err, errlen)) return false;
  return true;
}

static bool check_args_vars(const gql_arg *args, size_t n, const gql_operation *op, char *err, size_t errlen) {
  for (size_t i = 0; i < n; i++)
    if (!check_value_vars(args[i].value, op, err, errlen)) return false;
  return true;
}

static bool check_selset_vars(const gql_selset *sel, const gql_operation *op, char *err, size_t errlen) {
  for (size_t i = 0; i < sel->n; i++) {
    const gql_field *f = &sel->fields[i];
    if (!check_args_vars(f->args, f->nargs, op, err, errlen)) return false;
    for (size_t d = 0; d < f->ndirs; d++)
      if (!check_args_vars(f->dirs[d].args, f->dirs[d].nargs, op, err, errlen)) return false;
    if (!check_selset_vars(&f->sel, op, err, errlen)) return false;
  }
  return true;
}

bool gql_check_variables(const gql_operation *op, const cJSON *vars, char *err, size_t errlen) {
  for (size_t i = 0; i < op->nvars; i++) {
    const gql_vardef *vd = &op->vars[i];
    size_t tl = strlen(vd->type);
    bool required = tl && vd->type[tl - 1] == '!';
    const cJSON *given = cJSON_GetObjectItemCaseSensitive(vars, vd->name);
    if (required && !vd->defval && (!given || cJSON_IsNull(given))) {
      snprintf(err, errlen, "Variable $%s of type %s was provided invalid value", vd->name, vd->type);
      return false;
    }
  }
  return check_selset_vars(&op->sel, op, err, errlen);
}
