/* Shared by the Shopify executor, its resolvers and its mutations. */
#ifndef SHOPSIM_SHOPIFY_INTERNAL_H
#define SHOPSIM_SHOPIFY_INTERNAL_H
#include <string.h>

#include "gql.h"
#include "store.h"

typedef struct {
  store_t *s;
  const gql_operation *op;
  const cJSON *vars;
  cJSON *errors; /* top-level GraphQL errors */
  int actual_cost;
  const char *host;       /* the request's Host header: where a bulk result is served */
  struct bulk_run *bulk;  /* set while a bulk operation runs its query (shopify_bulk.c) */
} gctx;

/* Resolves one field of an object of some type; returns NULL for null. */
typedef cJSON *(*field_fn)(gctx *c, void *obj, const gql_field *f);

#define FIELD_IS(f, n) (strcmp((f)->name, (n)) == 0)

cJSON *resolve_object(gctx *c, const char *type, field_fn fn, void *obj, const gql_selset *sel);
/* Copies the selected keys out of a plain JSON value (objects, arrays of objects). */
cJSON *project(gctx *c, const cJSON *src, const gql_selset *sel);
/* Argument as JSON (owned by caller), NULL when absent. */
cJSON *arg_json(gctx *c, const gql_field *f, const char *name);
const char *arg_str(gctx *c, const gql_field *f, const char *name, char *buf, size_t len);
long arg_int(gctx *c, const gql_field *f, const char *name, long dflt);
bool arg_bool(gctx *c, const gql_field *f, const char *name, bool dflt);
/* Adds a top-level error tied to field f. */
void add_error(gctx *c, const gql_field *f, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
cJSON *gid_json(const char *type, uint64_t id);
cJSON *time_json(int64_t ms);
cJSON *money_bag(gctx *c, long cents, const char *currency, const gql_field *f);

typedef struct {
  void *obj;
  uint64_t id;
  int64_t sort;
} conn_item;

/* Cursor pagination over items already sorted by (sort, id) ascending:
 * first/after/last/before/reverse, edges{cursor node}, nodes, pageInfo. */
cJSON *connection(gctx *c, const gql_field *f, conn_item *items, size_t n, const char *type, field_fn fn);

/* Query cost: see cost rule in docs/shopsim.md. */
int query_cost(gctx *c, const gql_operation *op);

/* Shopify search syntax for the `query:` argument. */
typedef struct {
  char key[32];
  char op[3]; /* ":", ">", ">=", "<", "<=" */
  char value[128];
  bool negate;
} search_term;
int search_parse(const char *q, search_term *terms, int max);
bool search_time(const search_term *t, int64_t ms);
bool search_text(const search_term *t, const char *value);
bool search_num(const search_term *t, uint64_t value);

/* Type resolvers (shopify_types.c). */
cJSON *field_product(gctx *c, void *obj, const gql_field *f);
cJSON *field_variant(gctx *c, void *obj, const gql_field *f);
cJSON *field_inventory_item(gctx *c, void *obj, const gql_field *f);
cJSON *field_location(gctx *c, void *obj, const gql_field *f);
cJSON *field_order(gctx *c, void *obj, const gql_field *f);
cJSON *field_fulfillment_order(gctx *c, void *obj, const gql_field *f);
cJSON *field_webhook(gctx *c, void *obj, const gql_field *f);
/* Fulfillment and Return resolve with their order: pass a fulfillment_ref. */
typedef struct {
  order_t *order;
  size_t index; /* fulfillment order, fulfillment, return, refund or line */
  size_t sub;   /* line within it */
} order_child;
/* An inventory level: an item (variant) at a location index. */
typedef struct {
  variant_t *v;
  int loc;
} level_ref;
cJSON *field_level(gctx *c, void *obj, const gql_field *f);
cJSON *field_line_item(gctx *c, void *obj, const gql_field *f);
cJSON *address_json(gctx *c, const cJSON *addr, const gql_field *f);
cJSON *field_fulfillment(gctx *c, void *obj, const gql_field *f);
cJSON *field_return(gctx *c, void *obj, const gql_field *f);
cJSON *field_refund(gctx *c, void *obj, const gql_field *f);

/* Bulk operations (shopify_bulk.c): the bulkOperationRunQuery and
 * bulkOperationCancel mutations, the bulkOperation(id:), bulkOperations and
 * currentBulkOperation queries, and, while an operation runs, the hook by
 * which connection() hands it the root connection's items instead of a page. */
cJSON *bulk_mutation(gctx *c, const gql_field *f); /* NULL when f is not a bulk mutation */
cJSON *bulk_query(gctx *c, const gql_field *f, bool *handled);
bool bulk_take_root(gctx *c, const gql_field *f, conn_item *items, size_t n, const char *type, field_fn fn);

cJSON *query_root(gctx *c, const gql_field *f);  /* shopify_query.c */
cJSON *mutation_root(gctx *c, const gql_field *f); /* shopify_mutations.c */
#endif
