/* Mutation root fields. Validation runs fully before anything is applied, so
 * a userError means nothing changed. Idempotency: the @idempotent(key:)
 * directive on the mutation field; a key seen before returns the stored
 * first answer without applying again. */
#include <stdio.h>
#include <stdlib.h>

#include "orders.h"
#include "shopify_internal.h"
#include "util.h"
#include "webhooks.h"

#define IS(n) FIELD_IS(f, n)
#define MAX_INPUT 250

/* ---- payload building ---- */

static cJSON *user_error(const char *code, const char *message, cJSON *field) {
  cJSON *e = cJSON_CreateObject();
  cJSON_AddItemToObject(e, "field", field ? field : cJSON_CreateNull());
  cJSON_AddStringToObject(e, "message", message);
  if (code) cJSON_AddStringToObject(e, "code", code);
  return e;
}

static cJSON *field_path(const char *a, const char *b, int index, const char *d) {
  cJSON *p = cJSON_CreateArray();
  if (a) cJSON_AddItemToArray(p, cJSON_CreateString(a));
  if (b) cJSON_AddItemToArray(p, cJSON_CreateString(b));
  if (index >= 0) {
    char buf[16];
    snprintf(buf, sizeof buf, "%d", index);
    cJSON_AddItemToArray(p, cJSON_CreateString(buf));
  }
  if (d) cJSON_AddItemToArray(p, cJSON_CreateString(d));
  return p;
}

/* Selects the payload's fields: userErrors from `errors`, others from `fn`. */
typedef cJSON *(*payload_fn)(gctx *c, void *ctx, const gql_field *f);

static cJSON *payload(gctx *c, const gql_field *f, cJSON *errors, payload_fn fn, void *ctx) {
  cJSON *out = cJSON_CreateObject();
  for (size_t i = 0; i < f->sel.n; i++) {
    const gql_field *sub = &f->sel.fields[i];
    cJSON *v;
    if (FIELD_IS(sub, "userErrors")) v = project(c, errors, &sub->sel);
    else if (FIELD_IS(sub, "__typename")) v = cJSON_CreateString("Payload");
    else v = (fn && cJSON_GetArraySize(errors) == 0) ? fn(c, ctx, sub) : NULL;
    cJSON_AddItemToObject(out, gql_key(sub), v ? v : cJSON_CreateNull());
  }
  cJSON_Delete(errors);
  return out;
}

/* ---- inventory ---- */

typedef struct {
  variant_t *v;
  int loc;
  long delta, after;
} change_t;

typedef struct {
  const char *name, *reason, *uri;
  change_t *changes;
  size_t n;
} adjustment_t;

static const char *reasons[] = {"correction", "cycle_count_available", "damaged", "movement_created",
                                "movement_updated", "movement_received", "movement_canceled", "other",
                                "promotion", "quality_control", "received", "reservation_created",
                                "reservation_deleted", "reservation_updated", "restock", "safety_stock",
                                "shrinkage", NULL};

static bool valid_reason(const char *r) {
  for (int i = 0; r && reasons[i]; i++)
    if (strcmp(reasons[i], r) == 0) return true;
  return false;
}

static cJSON *change_json(gctx *c, adjustment_t *adj, size_t i, const gql_field *f) {
  change_t *ch = &adj->changes[i];
  cJSON *out = cJSON_CreateObject();
  for (size_t k = 0; k < f->sel.n; k++) {
    const gql_field *sub = &f->sel.fields[k];
    cJSON *v = NULL;
    if (FIELD_IS(sub, "name")) v = cJSON_CreateString(adj->name);
    else if (FIELD_IS(sub, "delta")) v = cJSON_CreateNumber((double)ch->delta);
    else if (FIELD_IS(sub, "quantityAfterChange")) v = cJSON_CreateNumber((double)ch->after);
    else if (FIELD_IS(sub, "item")) v = resolve_object(c, "InventoryItem", field_inventory_item, ch->v, &sub->sel);
    else if (FIELD_IS(sub, "location")) v = resolve_object(c, "Location", field_location, &c->s->locations[ch->loc], &sub->sel);
    else if (FIELD_IS(sub, "ledgerDocumentUri")) v = cJSON_CreateNull();
    cJSON_AddItemToObject(out, gql_key(sub), v ? v : cJSON_CreateNull());
  }
  return out;
}

static cJSON *adjustment_group(gctx *c, void *ctx, const gql_field *f) {
  adjustment_t *adj = ctx;
  if (!FIELD_IS(f, "inventoryAdjustmentGroup")) return NULL;
  cJSON *out = cJSON_CreateObject();
  for (size_t k = 0; k < f->sel.n; k++) {
    const gql_field *sub = &f->sel.fields[k];
    cJSON *v = NULL;
    if (FIELD_IS(sub, "id")) v = gid_json("InventoryAdjustmentGroup", store_next_id(c->s));
    else if (FIELD_IS(sub, "createdAt")) v = time_json(now_ms());
    else if (FIELD_IS(sub, "reason")) v = cJSON_CreateString(adj->reason);
    else if (FIELD_IS(sub, "referenceDocumentUri")) v = adj->uri ? cJSON_CreateString(adj->uri) : cJSON_CreateNull();
    else if (FIELD_IS(sub, "changes")) {
      v = cJSON_CreateArray();
      for (size_t i = 0; i < adj->n; i++) cJSON_AddItemToArray(v, change_json(c, adj, i, sub));
    }
    cJSON_AddItemToObject(out, gql_key(sub), v ? v : cJSON_CreateNull());
  }
  return out;
}

/* Reads one quantity/change entry; adds userErrors on bad ids or stale
 * changeFromQuantity. `absolute` is inventorySetQuantities. */
static void read_change(gctx *c, const cJSON *q, int i, const char *list, const char *name, bool absolute,
                        change_t *out, cJSON *errors) {
  uint64_t item = gid_parse(jstr(q, "inventoryItemId"), "InventoryItem");
  uint64_t loc = gid_parse(jstr(q, "locationId"), "Location");
  out->v = item ? store_lookup(c->s, OBJ_INV_ITEM, item) : NULL;
  out->loc = loc ? store_location_index(c->s, loc) : -1;
  if (!out->v) {
    cJSON_AddItemToArray(errors, user_error("INVALID_INVENTORY_ITEM", "The specified inventory item could not be found.",
                                            field_path("input", list, i, "inventoryItemId")));
    return;
  }
  if (out->loc < 0) {
    cJSON_AddItemToArray(errors, user_error("INVALID_LOCATION", "The specified location could not be found.",
                                            field_path("input", list, i, "locationId")));
    return;
  }
  long current = level_get(&out->v->levels[out->loc], name);
  double amount = 0;
  jnum(q, absolute ? "quantity" : "delta", &amount);
  out->delta = absolute ? clamp_long(amount) - current : clamp_long(amount);
  out->after = current + out->delta;
  const cJSON *cfq = cJSON_GetObjectItemCaseSensitive(q, "changeFromQuantity");
  if (cJSON_IsNumber(cfq) && clamp_long(cfq->valuedouble) != current)
    cJSON_AddItemToArray(errors, user_error("CHANGE_FROM_QUANTITY_STALE",
                                            "The specified changeFromQuantity does not match the current quantity.",
                                            field_path("input", list, i, "changeFromQuantity")));
}

static void apply_changes(gctx *c, adjustment_t *adj) {
  for (size_t i = 0; i < adj->n; i++) {
    change_t *ch = &adj->changes[i];
    level_t *l = &ch->v->levels[ch->loc];
    level_set(l, adj->name, level_get(l, adj->name) + ch->delta);
    ch->v->updated_ms = now_ms();
  }
  c->s->counters.quantities_set += adj->n;
}

/* Array checks that Shopify reports as top-level errors (nothing runs). */
static bool check_list(gctx *c, const gql_field *f, const cJSON *list, const char *name, bool need_cfq) {
  if (!cJSON_IsArray(list)) {
    add_error(c, f, "INVALID_VARIABLE", "input.%s is required", name);
    return false;
  }
  int n = cJSON_GetArraySize(list);
  if (n > MAX_INPUT) {
    add_error(c, f, "MAX_INPUT_SIZE_EXCEEDED", "The input array size of %d is greater than the maximum allowed of %d.",
              n, MAX_INPUT);
    return false;
  }
  int i = 0;
  const cJSON *q;
  cJSON_ArrayForEach(q, list) {
    if (need_cfq && !cJSON_GetObjectItemCaseSensitive(q, "changeFromQuantity")) {
      add_error(c, f, "INVALID_VARIABLE",
                "input.%s.%d.changeFromQuantity is required (pass null to skip the compare check)", name, i);
      return false;
    }
    i++;
  }
  return true;
}

static cJSON *inventory_mutation(gctx *c, const gql_field *f, bool absolute) {
  cJSON *input = arg_json(c, f, "input");
  const char *list_name = absolute ? "quantities" : "changes";
  const cJSON *list = cJSON_GetObjectItemCaseSensitive(input, list_name);
  if (!check_list(c, f, list, list_name, absolute)) {
    cJSON_Delete(input);
    return NULL;
  }
  adjustment_t adj = {.name = jstr(input, "name"), .reason = jstr(input, "reason"),
                      .uri = jstr(input, "referenceDocumentUri")};
  cJSON *errors = cJSON_CreateArray();
  if (!adj.name || (strcmp(adj.name, "available") != 0 && strcmp(adj.name, "on_hand") != 0))
    cJSON_AddItemToArray(errors, user_error("INVALID_NAME", "The quantity name must be either 'available' or 'on_hand'.",
                                            field_path("input", "name", -1, NULL)));
  if (!valid_reason(adj.reason))
    cJSON_AddItemToArray(errors, user_error("INVALID_REASON", "The specified reason is invalid.",
                                            field_path("input", "reason", -1, NULL)));
  adj.changes = xcalloc((size_t)cJSON_GetArraySize(list), sizeof *adj.changes);
  if (cJSON_GetArraySize(errors) == 0) {
    const cJSON *q;
    cJSON_ArrayForEach(q, list) {
      read_change(c, q, (int)adj.n, list_name, adj.name, absolute, &adj.changes[adj.n], errors);
      adj.n++;
    }
  }
  if (cJSON_GetArraySize(errors) == 0) apply_changes(c, &adj);
  cJSON *out = payload(c, f, errors, adjustment_group, &adj);
  free(adj.changes);
  cJSON_Delete(input);
  return out;
}

/* ---- fulfilment ---- */

typedef struct {
  order_t *order;
  size_t index;
} ful_ctx;

static cJSON *fulfillment_field(gctx *c, void *ctx, const gql_field *f) {
  ful_ctx *fc = ctx;
  if (!FIELD_IS(f, "fulfillment")) return NULL;
  order_child ref = {fc->order, fc->index, 0};
  return resolve_object(c, "Fulfillment", field_fulfillment, &ref, &f->sel);
}

typedef struct {
  ffo_t *fo;
  uint64_t line;
  long qty;
} ful_part;

/* Collects and checks every requested line before anything is fulfilled. */
static size_t plan_fulfilment(gctx *c, const cJSON *groups, order_t **order, ful_part *parts, size_t max,
                              cJSON *errors) {
  size_t n = 0;
  int gi = 0;
  const cJSON *g;
  cJSON_ArrayForEach(g, groups) {
    order_t *o = NULL;
    ffo_t *fo = order_find_fo(c->s, gid_parse(jstr(g, "fulfillmentOrderId"), "FulfillmentOrder"), &o);
    if (!fo || strcmp(fo->status, "CLOSED") == 0 || strcmp(fo->status, "CANCELLED") == 0) {
      cJSON_AddItemToArray(errors, user_error(NULL, fo ? "Fulfillment order is not in a fulfillable state." : "Fulfillment order does not exist.",
                                              field_path("fulfillment", "lineItemsByFulfillmentOrder", gi, "fulfillmentOrderId")));
      return 0;
    }
    if (*order && *order != o) {
      cJSON_AddItemToArray(errors, user_error(NULL, "All fulfillment orders must belong to the same order.", field_path("fulfillment", NULL, -1, NULL)));
      return 0;
    }
    *order = o;
    const cJSON *lines = cJSON_GetObjectItemCaseSensitive(g, "fulfillmentOrderLineItems");
    if (!cJSON_IsArray(lines)) { /* no lines given: everything that remains */
      for (size_t k = 0; k < fo->nlines && n < max; k++)
        if (fo->lines[k].qty > 0) parts[n++] = (ful_part){fo, fo->lines[k].id, fo->lines[k].qty};
    } else {
      const cJSON *l;
      cJSON_ArrayForEach(l, lines) {
        if (n >= max) break;
        parts[n++] = (ful_part){fo, gid_parse(jstr(l, "id"), "FulfillmentOrderLineItem"), jint(l, "quantity", 0)};
      }
    }
    gi++;
  }
  for (size_t i = 0; i < n; i++) { /* quantities against what remains, summed per line */
    long want = 0, remaining = -1;
    for (size_t k = 0; k < n; k++)
      if (parts[k].line == parts[i].line) want += parts[k].qty;
    for (size_t k = 0; k < parts[i].fo->nlines; k++)
      if (parts[i].fo->lines[k].id == parts[i].line) remaining = parts[i].fo->lines[k].qty;
    if (remaining < 0 || parts[i].qty < 1 || want > remaining) {
      cJSON_AddItemToArray(errors, user_error(NULL, remaining < 0 ? "Fulfillment order line item does not exist."
                                                                  : "Invalid fulfillment order line item quantity requested.",
                                              field_path("fulfillment", "lineItemsByFulfillmentOrder", -1, NULL)));
      return 0;
    }
  }
  return n;
}

static void set_tracking(fulfillment_t *fu, const cJSON *t) {
  if (!cJSON_IsObject(t)) return;
  if (jstr(t, "company")) set_str(&fu->company, jstr(t, "company"));
  const char *number = jstr(t, "number");
  const cJSON *numbers = cJSON_GetObjectItemCaseSensitive(t, "numbers");
  if (!number && cJSON_IsArray(numbers) && cJSON_IsString(numbers->child)) number = numbers->child->valuestring;
  if (number) set_str(&fu->number, number);
  const char *url = jstr(t, "url");
  const cJSON *urls = cJSON_GetObjectItemCaseSensitive(t, "urls");
  if (!url && cJSON_IsArray(urls) && cJSON_IsString(urls->child)) url = urls->child->valuestring;
  if (url) set_str(&fu->url, url);
  fu->updated_ms = now_ms();
}

static cJSON *fulfillment_create(gctx *c, const gql_field *f) {
  cJSON *input = arg_json(c, f, "fulfillment");
  const cJSON *groups = cJSON_GetObjectItemCaseSensitive(input, "lineItemsByFulfillmentOrder");
  cJSON *errors = cJSON_CreateArray();
  order_t *o = NULL;
  ful_part parts[256];
  size_t n = 0;
  if (!cJSON_IsArray(groups) || cJSON_GetArraySize(groups) == 0)
    cJSON_AddItemToArray(errors, user_error(NULL, "lineItemsByFulfillmentOrder is required", field_path("fulfillment", "lineItemsByFulfillmentOrder", -1, NULL)));
  else
    n = plan_fulfilment(c, groups, &o, parts, 256, errors);
  ful_ctx fc = {o, 0};
  if (cJSON_GetArraySize(errors) == 0 && n > 0) {
    fulfillment_t *fu = order_new_fulfillment(c->s, o);
    fc.index = o->nfuls - 1;
    char err[200];
    for (size_t i = 0; i < n; i++) order_fulfil_line(c->s, o, parts[i].fo, parts[i].line, parts[i].qty, fu, err, sizeof err);
    for (size_t i = 0; i < o->nfos; i++) order_update_fo_status(&o->fos[i]);
    set_tracking(fu, cJSON_GetObjectItemCaseSensitive(input, "trackingInfo"));
    o->updated_ms = now_ms();
    webhooks_emit(c->s, EV_ORDER_UPDATED, o->id);
  }
  cJSON *out = payload(c, f, errors, fulfillment_field, &fc);
  cJSON_Delete(input);
  return out;
}

static bool find_fulfillment(store_t *s, uint64_t id, ful_ctx *out) {
  for (size_t i = 0; i < s->norders; i++)
    for (size_t k = 0; k < s->orders[i]->nfuls; k++)
      if (s->orders[i]->fuls[k].id == id) {
        *out = (ful_ctx){s->orders[i], k};
        return true;
      }
  return false;
}

static cJSON *tracking_update(gctx *c, const gql_field *f) {
  char buf[160];
  const char *id = arg_str(c, f, "fulfillmentId", buf, sizeof buf);
  ful_ctx fc = {0};
  cJSON *errors = cJSON_CreateArray();
  if (!id || !find_fulfillment(c->s, gid_parse(id, "Fulfillment"), &fc)) {
    cJSON_AddItemToArray(errors, user_error(NULL, "Fulfillment does not exist.", field_path("fulfillmentId", NULL, -1, NULL)));
  } else {
    cJSON *t = arg_json(c, f, "trackingInfoInput");
    set_tracking(&fc.order->fuls[fc.index], t);
    cJSON_Delete(t);
    fc.order->updated_ms = now_ms();
    webhooks_emit(c->s, EV_ORDER_UPDATED, fc.order->id);
  }
  return payload(c, f, errors, fulfillment_field, &fc);
}

/* ---- returns and refunds ---- */

static cJSON *return_field(gctx *c, void *ctx, const gql_field *f) {
  ful_ctx *rc = ctx;
  if (!FIELD_IS(f, "return")) return NULL;
  order_child ref = {rc->order, rc->index, 0};
  return resolve_object(c, "Return", field_return, &ref, &f->sel);
}

/* The fulfilled quantity of a fulfillment line item not yet returned. */
static long returnable(order_t *o, uint64_t ful_line, uint64_t *line_out) {
  long qty = -1;
  for (size_t i = 0; i < o->nfuls; i++)
    for (size_t k = 0; k < o->fuls[i].nlines; k++)
      if (o->fuls[i].lines[k].id == ful_line) {
        qty = o->fuls[i].lines[k].qty;
        *line_out = o->fuls[i].lines[k].ref;
      }
  for (size_t i = 0; qty >= 0 && i < o->nreturns; i++)
    for (size_t k = 0; k < o->returns[i].nlines; k++)
      if (o->returns[i].lines[k].ref == ful_line) qty -= o->returns[i].lines[k].qty;
  return qty;
}

static cJSON *return_create(gctx *c, const gql_field *f) {
  cJSON *input = arg_json(c, f, "returnInput");
  cJSON *errors = cJSON_CreateArray();
  order_t *o = store_lookup(c->s, OBJ_ORDER, gid_parse(jstr(input, "orderId"), "Order"));
  const cJSON *lines = cJSON_GetObjectItemCaseSensitive(input, "returnLineItems");
  ful_ctx rc = {o, 0};
  if (!o) cJSON_AddItemToArray(errors, user_error("NOT_FOUND", "Order does not exist.", field_path("returnInput", "orderId", -1, NULL)));
  else if (!cJSON_IsArray(lines) || cJSON_GetArraySize(lines) == 0)
    cJSON_AddItemToArray(errors, user_error("BLANK", "returnLineItems is required", field_path("returnInput", "returnLineItems", -1, NULL)));
  int i = 0;
  const cJSON *l;
  cJSON_ArrayForEach(l, lines) {
    uint64_t line = 0;
    if (!o) break;
    long avail = returnable(o, gid_parse(jstr(l, "fulfillmentLineItemId"), "FulfillmentLineItem"), &line);
    long q = jint(l, "quantity", 0);
    const char *note = jstr(l, "returnReasonNote");
    if (note && strlen(note) > 255)
      cJSON_AddItemToArray(errors, user_error("TOO_LONG", "Return reason note is too long (maximum is 255 characters)",
                                              field_path("returnInput", "returnLineItems", i, "returnReasonNote")));
    if (avail < 0 || q < 1 || q > avail)
      cJSON_AddItemToArray(errors, user_error("INVALID", avail < 0 ? "Fulfillment line item does not exist." : "Quantity is not returnable.",
                                              field_path("returnInput", "returnLineItems", i, "quantity")));
    i++;
  }
  if (cJSON_GetArraySize(errors) == 0) {
    return_t *rt = VEC_PUSH(o->returns, o->nreturns);
    rt->id = store_next_id(c->s);
    rt->status = xstrdup("OPEN");
    rt->created_ms = now_ms();
    cJSON_ArrayForEach(l, lines) {
      qty_ref_t *r = VEC_PUSH(rt->lines, rt->nlines);
      r->id = store_next_id(c->s);
      r->ref = gid_parse(jstr(l, "fulfillmentLineItemId"), "FulfillmentLineItem");
      r->qty = jint(l, "quantity", 0);
    }
    rt->processed = xcalloc(rt->nlines, sizeof *rt->processed);
    rt->notes = xcalloc(rt->nlines, sizeof *rt->notes);
    size_t k = 0;
    cJSON_ArrayForEach(l, lines) {
      const char *note = jstr(l, "returnReasonNote");
      if (note) rt->notes[k] = xstrdup(note);
      k++;
    }
    rc.index = o->nreturns - 1;
    o->closed = false; /* as Shopify: a return on an archived order unarchives it */
    o->updated_ms = now_ms();
  }
  cJSON *out = payload(c, f, errors, return_field, &rc);
  cJSON_Delete(input);
  return out;
}

static bool find_return(store_t *s, uint64_t id, ful_ctx *out) {
  for (size_t i = 0; i < s->norders; i++)
    for (size_t k = 0; k < s->orders[i]->nreturns; k++)
      if (s->orders[i]->returns[k].id == id) {
        *out = (ful_ctx){s->orders[i], k};
        return true;
      }
  return false;
}

/* The quantity of a returnProcess line that its dispositions restock, or -1
 * when a disposition is invalid (why in *err): as Shopify checks them, each
 * names the line's reverse fulfillment order line item, RESTOCKED needs a
 * location of the store, and together they dispose of at most the line's
 * quantity. */
static long restocked_quantity(store_t *s, const cJSON *line, uint64_t rfo_line, long qty, const char **err) {
  const cJSON *d;
  long restock = 0, disposed = 0;
  cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(line, "dispositions")) {
    const char *type = jstr(d, "dispositionType");
    long q = jint(d, "quantity", 0);
    if (gid_parse(jstr(d, "reverseFulfillmentOrderLineItemId"), "ReverseFulfillmentOrderLineItem") != rfo_line) {
      *err = "Reverse fulfillment order line item does not belong to the return line item.";
      return -1;
    }
    if (!type || (strcmp(type, "RESTOCKED") != 0 && strcmp(type, "NOT_RESTOCKED") != 0 &&
                  strcmp(type, "MISSING") != 0 && strcmp(type, "PROCESSING_REQUIRED") != 0) || q < 1) {
      *err = "Disposition is invalid.";
      return -1;
    }
    if (strcmp(type, "RESTOCKED") == 0) {
      if (store_location_index(s, gid_parse(jstr(d, "locationId"), "Location")) < 0) {
        *err = "Location is required to restock and must exist.";
        return -1;
      }
      restock += q;
    }
    disposed += q;
  }
  if (disposed > qty) {
    *err = "Disposed quantity exceeds the quantity to process.";
    return -1;
  }
  return restock;
}

static void process_return_line(gctx *c, order_t *o, return_t *rt, size_t k, long q, long restock) {
  rt->processed[k] += q;
  uint64_t line = 0;
  for (size_t i = 0; i < o->nfuls; i++)
    for (size_t j = 0; j < o->fuls[i].nlines; j++)
      if (o->fuls[i].lines[j].id == rt->lines[k].ref) line = o->fuls[i].lines[j].ref;
  line_t *l = order_find_line(o, line);
  if (!l) return;
  l->returned += q;
  if (restock > 0) order_restock(c->s, o, l, restock);
}

static long money_input_cents(const cJSON *m) {
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(m, "amount");
  if (cJSON_IsString(a)) return money_parse(a->valuestring);
  if (cJSON_IsNumber(a)) return clamp_long(a->valuedouble * 100 + 0.5);
  return 0;
}

static long refunded_cents(const order_t *o) {
  long sum = 0;
  for (size_t i = 0; i < o->nrefunds; i++) sum += money_parse(o->refunds[i].amount);
  return sum;
}

/* financialTransfer.issueRefund: the money of a processed return, drawn
 * from the order's SALE transaction (gid://shopify/OrderTransaction/<order>),
 * never more than is left to refund unless allowOverRefunding. -1 with *err
 * when invalid, else the cents to refund (0: no refund). */
static long issue_refund_cents(const cJSON *input, const order_t *o, const char **err) {
  const cJSON *issue = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(input, "financialTransfer"),
                                                        "issueRefund");
  if (!issue) return 0;
  long cents = 0;
  const cJSON *t;
  cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(issue, "orderTransactions")) {
    if (gid_parse(jstr(t, "parentId"), "OrderTransaction") != o->id) {
      *err = "Parent transaction does not exist or is not a SALE or CAPTURE of the order.";
      return -1;
    }
    cents += money_input_cents(cJSON_GetObjectItemCaseSensitive(t, "transactionAmount"));
  }
  if (!jbool(issue, "allowOverRefunding", false) && cents > order_total_cents(o) - refunded_cents(o)) {
    *err = "Refund amount exceeds the refundable amount.";
    return -1;
  }
  return cents;
}

static cJSON *return_process(gctx *c, const gql_field *f) {
  cJSON *input = arg_json(c, f, "input");
  cJSON *errors = cJSON_CreateArray();
  ful_ctx rc = {0};
  if (!find_return(c->s, gid_parse(jstr(input, "returnId"), "Return"), &rc)) {
    cJSON_AddItemToArray(errors, user_error("NOT_FOUND", "Return does not exist.", field_path("input", "returnId", -1, NULL)));
    cJSON_Delete(input);
    return payload(c, f, errors, NULL, NULL);
  }
  return_t *rt = &rc.order->returns[rc.index];
  const cJSON *lines = cJSON_GetObjectItemCaseSensitive(input, "returnLineItems");
  size_t idx[MAX_INPUT];
  long qty[MAX_INPUT], restock[MAX_INPUT];
  size_t n = 0;
  const cJSON *l;
  cJSON_ArrayForEach(l, lines) {
    uint64_t id = gid_parse(jstr(l, "id"), "ReturnLineItem");
    size_t k = 0;
    while (k < rt->nlines && rt->lines[k].id != id) k++;
    long q = jint(l, "quantity", 0);
    const char *why = NULL;
    if (k == rt->nlines || n >= MAX_INPUT || q < 1 || q > rt->lines[k].qty - rt->processed[k])
      why = "Return line item does not exist or quantity is not processable.";
    long rq = why ? 0 : restocked_quantity(c->s, l, rt->lines[k].id, q, &why);
    if (why) {
      cJSON_AddItemToArray(errors, user_error("INVALID", why, field_path("input", "returnLineItems", (int)n, NULL)));
      break;
    }
    idx[n] = k;
    restock[n] = rq;
    qty[n++] = q;
  }
  const char *why = NULL;
  long cents = cJSON_GetArraySize(errors) == 0 ? issue_refund_cents(input, rc.order, &why) : 0;
  if (why) cJSON_AddItemToArray(errors, user_error("INVALID", why, field_path("input", "financialTransfer", -1, NULL)));
  if (cJSON_GetArraySize(errors) == 0) {
    for (size_t i = 0; i < n; i++) process_return_line(c, rc.order, rt, idx[i], qty[i], restock[i]);
    if (cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(input, "financialTransfer"), "issueRefund")) {
      /* The refund of the processed lines, with the return's note. */
      order_t *o = rc.order;
      refund_t *rf = VEC_PUSH(o->refunds, o->nrefunds);
      rf->id = store_next_id(c->s);
      rf->created_ms = now_ms();
      char amount[32];
      money_fmt(cents, amount);
      rf->amount = xstrdup(amount);
      rf->reason = xstrdup(jstr(input, "note"));
      for (size_t i = 0; i < n; i++) {
        uint64_t line = 0;
        for (size_t a = 0; a < o->nfuls; a++)
          for (size_t b = 0; b < o->fuls[a].nlines; b++)
            if (o->fuls[a].lines[b].id == rt->lines[idx[i]].ref) line = o->fuls[a].lines[b].ref;
        line_t *li = order_find_line(o, line);
        if (!li) continue;
        qty_ref_t *r = VEC_PUSH(rf->lines, rf->nlines);
        r->id = store_next_id(c->s);
        r->ref = li->id;
        r->qty = qty[i];
        li->refunded += qty[i];
        if (restock[i] > 0) rf->restock = true;
      }
      set_str(&o->financial_status, refunded_cents(o) >= order_total_cents(o) ? "REFUNDED" : "PARTIALLY_REFUNDED");
    }
    bool done = true;
    for (size_t k = 0; k < rt->nlines; k++) done = done && rt->processed[k] >= rt->lines[k].qty;
    if (done) set_str(&rt->status, "CLOSED");
    rc.order->updated_ms = now_ms();
    webhooks_emit(c->s, EV_ORDER_UPDATED, rc.order->id);
  }
  cJSON_Delete(input);
  return payload(c, f, errors, return_field, &rc);
}

static cJSON *refund_field(gctx *c, void *ctx, const gql_field *f) {
  ful_ctx *rc = ctx;
  order_child ref = {rc->order, rc->index, 0};
  if (FIELD_IS(f, "refund")) return resolve_object(c, "Refund", field_refund, &ref, &f->sel);
  if (FIELD_IS(f, "order")) return resolve_object(c, "Order", field_order, rc->order, &f->sel);
  return NULL;
}

static long refund_amount(const cJSON *input, order_t *o) {
  long cents = 0;
  const cJSON *t;
  cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(input, "transactions")) {
    double a;
    if (jnum(t, "amount", &a)) cents += clamp_long(a * 100 + 0.5);
  }
  if (cents) return cents;
  const cJSON *l;
  cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(input, "refundLineItems")) {
    line_t *li = order_find_line(o, gid_parse(jstr(l, "lineItemId"), "LineItem"));
    if (li) cents += money_parse(li->price) * jint(l, "quantity", 0);
  }
  const cJSON *ship = cJSON_GetObjectItemCaseSensitive(input, "shipping");
  double sa;
  if (jbool(ship, "fullRefund", false)) cents += money_parse(o->shipping_total);
  else if (jnum(ship, "amount", &sa)) cents += clamp_long(sa * 100 + 0.5);
  return cents;
}

static cJSON *refund_create(gctx *c, const gql_field *f) {
  cJSON *input = arg_json(c, f, "input");
  cJSON *errors = cJSON_CreateArray();
  order_t *o = store_lookup(c->s, OBJ_ORDER, gid_parse(jstr(input, "orderId"), "Order"));
  ful_ctx rc = {o, 0};
  const cJSON *lines = cJSON_GetObjectItemCaseSensitive(input, "refundLineItems");
  if (!o) cJSON_AddItemToArray(errors, user_error(NULL, "Order does not exist.", field_path("input", "orderId", -1, NULL)));
  int i = 0;
  const cJSON *l;
  cJSON_ArrayForEach(l, lines) {
    line_t *li = o ? order_find_line(o, gid_parse(jstr(l, "lineItemId"), "LineItem")) : NULL;
    long q = jint(l, "quantity", 0);
    if (o && (!li || q < 1 || q > li->quantity - li->refunded))
      cJSON_AddItemToArray(errors, user_error(NULL, li ? "Quantity cannot refund more items than were purchased." : "Line item does not exist.",
                                              field_path("input", "refundLineItems", i, "quantity")));
    i++;
  }
  if (cJSON_GetArraySize(errors) == 0) {
    refund_t *rf = VEC_PUSH(o->refunds, o->nrefunds);
    rf->id = store_next_id(c->s);
    rf->created_ms = now_ms();
    char amount[32];
    money_fmt(refund_amount(input, o), amount);
    rf->amount = xstrdup(amount);
    rf->reason = xstrdup(jstr(input, "note"));
    cJSON_ArrayForEach(l, lines) {
      line_t *li = order_find_line(o, gid_parse(jstr(l, "lineItemId"), "LineItem"));
      long q = jint(l, "quantity", 0);
      const char *restock = jstr(l, "restockType");
      qty_ref_t *r = VEC_PUSH(rf->lines, rf->nlines);
      r->id = store_next_id(c->s);
      r->ref = li->id;
      r->qty = q;
      li->refunded += q;
      if (restock && strcmp(restock, "NO_RESTOCK") != 0) {
        rf->restock = true;
        order_restock(c->s, o, li, q);
      }
    }
    set_str(&o->financial_status, "PARTIALLY_REFUNDED");
    rc.index = o->nrefunds - 1;
    o->updated_ms = now_ms();
    webhooks_emit(c->s, EV_ORDER_UPDATED, o->id);
  }
  cJSON *out = payload(c, f, errors, refund_field, &rc);
  cJSON_Delete(input);
  return out;
}

static cJSON *order_field(gctx *c, void *ctx, const gql_field *f) {
  if (!FIELD_IS(f, "order")) return NULL;
  return resolve_object(c, "Order", field_order, ctx, &f->sel);
}

static cJSON *order_close(gctx *c, const gql_field *f) {
  cJSON *input = arg_json(c, f, "input");
  order_t *o = store_lookup(c->s, OBJ_ORDER, gid_parse(jstr(input, "id"), "Order"));
  cJSON_Delete(input);
  cJSON *errors = cJSON_CreateArray();
  if (!o) {
    cJSON_AddItemToArray(errors, user_error(NULL, "Order does not exist", field_path("id", NULL, -1, NULL)));
  } else {
    o->closed = true;
    o->updated_ms = now_ms();
    webhooks_emit(c->s, EV_ORDER_UPDATED, o->id);
  }
  return payload(c, f, errors, order_field, o);
}

/* orderCancel(orderId, reason, restock, refund, notifyCustomer, staffNote):
 * Shopify cancels asynchronously and answers a job; the sim cancels at once
 * (stock released, as on the control API) and answers a job that is done.
 * An order cancelled before is an orderCancelUserError. */
static cJSON *cancel_field(gctx *c, void *ctx, const gql_field *f) {
  order_t *o = ctx;
  if (!FIELD_IS(f, "job")) return NULL;
  cJSON *job = cJSON_CreateObject();
  cJSON_AddItemToObject(job, "id", gid_json("Job", o->id));
  cJSON_AddBoolToObject(job, "done", true);
  cJSON *out = project(c, job, &f->sel);
  cJSON_Delete(job);
  return out;
}

static cJSON *order_cancel_mutation(gctx *c, const gql_field *f) {
  char id[160], reason[32];
  order_t *o = arg_str(c, f, "orderId", id, sizeof id) ? store_lookup(c->s, OBJ_ORDER, gid_parse(id, "Order")) : NULL;
  const char *why = NULL;
  if (!o) why = "Order does not exist.";
  else if (o->cancelled_ms) why = "Order has already been cancelled.";
  else if (!arg_str(c, f, "reason", reason, sizeof reason)) why = "Reason is required.";
  cJSON *errors = cJSON_CreateArray();
  if (why) {
    cJSON_AddItemToArray(errors, user_error("INVALID", why, field_path("orderId", NULL, -1, NULL)));
  } else {
    order_cancel(c->s, o, reason);
    cJSON *method = arg_json(c, f, "refundMethod");
    bool refund = arg_bool(c, f, "refund", false) || jbool(method, "originalPaymentMethodsRefund", false);
    cJSON_Delete(method);
    if (refund) {
      long left = order_total_cents(o) - refunded_cents(o);
      if (left > 0) {
        refund_t *rf = VEC_PUSH(o->refunds, o->nrefunds);
        rf->id = store_next_id(c->s);
        rf->created_ms = now_ms();
        char amount[32];
        money_fmt(left, amount);
        rf->amount = xstrdup(amount);
        rf->reason = xstrdup("Order canceled");
        set_str(&o->financial_status, "REFUNDED");
      }
    }
    webhooks_emit(c->s, EV_ORDER_CANCELLED, o->id);
    webhooks_emit(c->s, EV_ORDER_UPDATED, o->id);
  }
  /* The payload's errors are orderCancelUserErrors (userErrors is deprecated). */
  cJSON *out = cJSON_CreateObject();
  for (size_t i = 0; i < f->sel.n; i++) {
    const gql_field *sub = &f->sel.fields[i];
    cJSON *v = NULL;
    if (FIELD_IS(sub, "orderCancelUserErrors") || FIELD_IS(sub, "userErrors")) v = project(c, errors, &sub->sel);
    else if (!why) v = cancel_field(c, o, sub);
    cJSON_AddItemToObject(out, gql_key(sub), v ? v : cJSON_CreateNull());
  }
  cJSON_Delete(errors);
  return out;
}

/* tagsAdd(id, tags) on an order: tags are kept once each. */
static cJSON *tags_field(gctx *c, void *ctx, const gql_field *f) {
  if (!FIELD_IS(f, "node")) return NULL;
  return resolve_object(c, "Order", field_order, ctx, &f->sel);
}

static cJSON *tags_add(gctx *c, const gql_field *f) {
  char id[160];
  order_t *o = arg_str(c, f, "id", id, sizeof id) ? store_lookup(c->s, OBJ_ORDER, gid_parse(id, "Order")) : NULL;
  cJSON *tags = arg_json(c, f, "tags");
  cJSON *errors = cJSON_CreateArray();
  if (!o) {
    cJSON_AddItemToArray(errors, user_error(NULL, "Resource not found", field_path("id", NULL, -1, NULL)));
  } else {
    if (!o->tags) o->tags = cJSON_CreateArray();
    const cJSON *t, *have;
    cJSON_ArrayForEach(t, tags) {
      if (!cJSON_IsString(t)) continue;
      bool seen = false;
      cJSON_ArrayForEach(have, o->tags) seen = seen || strcmp(have->valuestring, t->valuestring) == 0;
      if (!seen) cJSON_AddItemToArray(o->tags, cJSON_CreateString(t->valuestring));
    }
    o->updated_ms = now_ms();
    webhooks_emit(c->s, EV_ORDER_UPDATED, o->id);
  }
  cJSON_Delete(tags);
  return payload(c, f, errors, tags_field, o);
}

/* ---- webhook subscriptions ---- */

static cJSON *subscription_field(gctx *c, void *ctx, const gql_field *f) {
  if (FIELD_IS(f, "webhookSubscription")) return resolve_object(c, "WebhookSubscription", field_webhook, ctx, &f->sel);
  return NULL;
}

static cJSON *subscription_create(gctx *c, const gql_field *f) {
  char topic[64];
  cJSON *sub = arg_json(c, f, "webhookSubscription");
  const char *uri = jstr(sub, "uri") ? jstr(sub, "uri") : jstr(sub, "callbackUrl");
  cJSON *errors = cJSON_CreateArray();
  webhook_t *w = NULL;
  if (!arg_str(c, f, "topic", topic, sizeof topic) || !uri)
    cJSON_AddItemToArray(errors, user_error(NULL, "topic and webhookSubscription.uri are required", field_path("webhookSubscription", "uri", -1, NULL)));
  else
    w = webhook_add(c->s, topic, uri, NULL, NULL);
  cJSON_Delete(sub);
  return payload(c, f, errors, subscription_field, w);
}

static cJSON *deleted_field(gctx *c, void *ctx, const gql_field *f) {
  (void)c;
  if (FIELD_IS(f, "deletedWebhookSubscriptionId")) return cJSON_CreateString(ctx);
  return NULL;
}

static cJSON *subscription_delete(gctx *c, const gql_field *f) {
  char id[160];
  cJSON *errors = cJSON_CreateArray();
  uint64_t wid = arg_str(c, f, "id", id, sizeof id) ? gid_parse(id, "WebhookSubscription") : 0;
  if (!wid || !store_find_webhook(c->s, wid))
    cJSON_AddItemToArray(errors, user_error(NULL, "Webhook subscription does not exist", field_path("id", NULL, -1, NULL)));
  else
    store_remove_webhook(c->s, wid);
  return payload(c, f, errors, deleted_field, id);
}

/* ---- dispatch with idempotency ---- */

static bool needs_key(const gql_field *f) {
  return IS("inventorySetQuantities") || IS("inventoryAdjustQuantities") || IS("refundCreate");
}

/* As in 2026-07, the key is honoured only by the mutations whose description
 * offers it; on any other (fulfillmentCreate, returnCreate, ...) the directive
 * changes nothing, so a client must not count on it there. */
static bool honours_key(const gql_field *f) {
  return needs_key(f) || IS("inventoryActivate") || IS("inventoryMoveQuantities") ||
         IS("inventorySetOnHandQuantities");
}

static cJSON *dispatch(gctx *c, const gql_field *f) {
  if (IS("inventorySetQuantities")) return inventory_mutation(c, f, true);
  if (IS("inventoryAdjustQuantities")) return inventory_mutation(c, f, false);
  if (IS("fulfillmentCreate")) return fulfillment_create(c, f);
  if (IS("fulfillmentTrackingInfoUpdate")) return tracking_update(c, f);
  if (IS("returnCreate")) return return_create(c, f);
  if (IS("returnProcess")) return return_process(c, f);
  if (IS("refundCreate")) return refund_create(c, f);
  if (IS("orderClose")) return order_close(c, f);
  if (IS("orderCancel")) return order_cancel_mutation(c, f);
  if (IS("tagsAdd")) return tags_add(c, f);
  if (IS("webhookSubscriptionCreate")) return subscription_create(c, f);
  if (IS("webhookSubscriptionDelete")) return subscription_delete(c, f);
  if (IS("bulkOperationRunQuery") || IS("bulkOperationCancel")) return bulk_mutation(c, f);
  add_error(c, f, "undefinedField", "Field '%s' doesn't exist on type 'Mutation'", f->name);
  return NULL;
}

static bool idempotency_key(gctx *c, const gql_field *f, char *key, size_t len) {
  const gql_directive *d = gql_find_directive(f, "idempotent");
  const gql_arg *a = d ? gql_find_arg(d->args, d->nargs, "key") : NULL;
  cJSON *v = a ? gql_value_json(a->value, c->op, c->vars) : NULL;
  bool ok = cJSON_IsString(v) && v->valuestring[0];
  if (ok) snprintf(key, len, "%s:%s", f->name, v->valuestring);
  cJSON_Delete(v);
  return ok;
}

cJSON *mutation_root(gctx *c, const gql_field *f) {
  char key[300];
  bool has_key = honours_key(f) && idempotency_key(c, f, key, sizeof key);
  if (!has_key && needs_key(f)) {
    add_error(c, f, "BAD_REQUEST", "The @idempotent directive with a non-empty key is required for %s.", f->name);
    return NULL;
  }
  if (has_key) {
    const char *seen = store_idem_get(c->s, key);
    if (seen) {
      c->s->counters.idempotent_replays++;
      return cJSON_Parse(seen);
    }
  }
  int errors_before = cJSON_GetArraySize(c->errors);
  cJSON *out = dispatch(c, f);
  /* Only answers that reached the resolver are remembered: a request that
   * failed validation may be retried with the same key once fixed. */
  if (has_key && out && cJSON_GetArraySize(c->errors) == errors_before) {
    char *text = json_print(out);
    store_idem_put(c->s, key, text);
    free(text);
  }
  return out;
}
