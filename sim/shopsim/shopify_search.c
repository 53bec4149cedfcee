/* Shopify's search syntax for `query:` arguments, the subset a sync client
 * uses: space-separated terms `key:value`, `key:>value`, `key:>=value`,
 * `key:<value`, `key:<=value`, values in single or double quotes, `-key:`
 * or `NOT key:` to negate, AND implicit (the word AND is skipped). Unknown
 * keys are ignored, as Shopify ignores invalid filters. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "shopify_internal.h"
#include "util.h"

static const char *read_value(const char *p, char *out, size_t len) {
  size_t n = 0;
  if (*p == '\'' || *p == '"') {
    char q = *p++;
    while (*p && *p != q) {
      if (n + 1 < len) out[n++] = *p;
      p++;
    }
    if (*p) p++;
  } else {
    while (*p && !isspace((unsigned char)*p)) {
      if (n + 1 < len) out[n++] = *p;
      p++;
    }
  }
  out[n] = '\0';
  return p;
}

int search_parse(const char *q, search_term *terms, int max) {
  int count = 0;
  const char *p = q ? q : "";
  bool negate_next = false;
  while (*p && count < max) {
    while (isspace((unsigned char)*p)) p++;
    if (!*p) break;
    if (strncmp(p, "AND ", 4) == 0) {
      p += 4;
      continue;
    }
    if (strncmp(p, "NOT ", 4) == 0) {
      negate_next = true;
      p += 4;
      continue;
    }
    search_term *t = &terms[count];
    memset(t, 0, sizeof *t);
    t->negate = negate_next;
    negate_next = false;
    if (*p == '-') {
      t->negate = true;
      p++;
    }
    size_t k = 0;
    while (*p && *p != ':' && !isspace((unsigned char)*p)) {
      if (k + 1 < sizeof t->key) t->key[k++] = *p;
      p++;
    }
    t->key[k] = '\0';
    if (*p != ':') { /* a bare word: free text, ignored */
      continue;
    }
    p++;
    if ((p[0] == '>' || p[0] == '<') && p[1] == '=') {
      snprintf(t->op, sizeof t->op, "%c=", p[0]);
      p += 2;
    } else if (p[0] == '>' || p[0] == '<') {
      snprintf(t->op, sizeof t->op, "%c", p[0]);
      p++;
    } else {
      snprintf(t->op, sizeof t->op, ":");
    }
    p = read_value(p, t->value, sizeof t->value);
    count++;
  }
  return count;
}

static bool compare(const char *op, int cmp) {
  bool r;
  if (strcmp(op, ">") == 0) r = cmp > 0;
  else if (strcmp(op, ">=") == 0) r = cmp >= 0;
  else if (strcmp(op, "<") == 0) r = cmp < 0;
  else if (strcmp(op, "<=") == 0) r = cmp <= 0;
  else r = cmp == 0;
  return r;
}

bool search_time(const search_term *t, int64_t ms) {
  int64_t ref = parse_time(t->value);
  if (ref < 0) return true;
  /* Shopify compares at second precision. */
  int64_t a = ms / 1000, b = ref / 1000;
  bool r = compare(t->op, a < b ? -1 : a > b ? 1 : 0);
  return t->negate ? !r : r;
}

bool search_text(const search_term *t, const char *value) {
  size_t n = strlen(t->value);
  bool r;
  if (n && t->value[n - 1] == '*') r = strncasecmp(value ? value : "", t->value, n - 1) == 0;
  else r = strcasecmp(value ? value : "", t->value) == 0;
  return t->negate ? !r : r;
}

bool search_num(const search_term *t, uint64_t value) {
  uint64_t ref = gid_parse(t->value, NULL);
  if (!ref) ref = strtoull(t->value, NULL, 10);
  bool r = compare(t->op, value < ref ? -1 : value > ref ? 1 : 0);
  return t->negate ? !r : r;
}
