/* Requested query cost, following Shopify's calculated cost:
 * - a scalar or enum field costs 0;
 * - an object field costs 1 plus its selection;
 * - a connection (a field with a first or last argument) costs 2 plus
 *   N times the cost of one node, N being first or last;
 * - each mutation root field costs 10, whatever it selects.
 * The actual cost counts what was really returned (objects 1, connections 2)
 * and the difference is given back to the bucket, as Shopify does. */
#include "shopify_internal.h"

static double selset_cost(gctx *c, const gql_selset *sel);

/* Cost of one node of a connection: what edges{node{...}} and nodes{...} select. */
static double node_cost(gctx *c, const gql_field *conn) {
  double cost = 0;
  for (size_t i = 0; i < conn->sel.n; i++) {
    const gql_field *f = &conn->sel.fields[i];
    if (FIELD_IS(f, "nodes")) {
      cost += 1 + selset_cost(c, &f->sel);
    } else if (FIELD_IS(f, "edges")) {
      for (size_t k = 0; k < f->sel.n; k++)
        if (FIELD_IS(&f->sel.fields[k], "node")) cost += 1 + selset_cost(c, &f->sel.fields[k].sel);
    }
  }
  return cost;
}

static double field_cost(gctx *c, const gql_field *f) {
  if (f->sel.n == 0) return 0;
  long first = arg_int(c, f, "first", -1), last = arg_int(c, f, "last", -1);
  long n = first >= 0 ? first : last;
  if (n >= 0) {
    bool is_connection = false;
    for (size_t i = 0; i < f->sel.n; i++)
      if (FIELD_IS(&f->sel.fields[i], "edges") || FIELD_IS(&f->sel.fields[i], "nodes") ||
          FIELD_IS(&f->sel.fields[i], "pageInfo"))
        is_connection = true;
    if (is_connection) return 2 + (double)n * node_cost(c, f);
    return 1 + (double)n * selset_cost(c, &f->sel); /* a plain list with first: */
  }
  return 1 + selset_cost(c, &f->sel);
}

static double selset_cost(gctx *c, const gql_selset *sel) {
  double cost = 0;
  for (size_t i = 0; i < sel->n; i++) cost += field_cost(c, &sel->fields[i]);
  return cost;
}

int query_cost(gctx *c, const gql_operation *op) {
  if (op->kind == GQL_MUTATION) return 10 * (int)op->sel.n;
  double cost = selset_cost(c, &op->sel);
  /* Nested connections multiply; the cap keeps the figure an int. */
  return cost < 1 ? 1 : cost > 1e9 ? 1000000000 : (int)cost;
}
