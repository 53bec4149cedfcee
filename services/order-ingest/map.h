/* Shop order JSON -> the canonical shop.orders.v1 message (wb_order_msg).
 * Pure functions: no I/O, no clock. Shopify's REST order (the body of the
 * orders/create, orders/updated and orders/cancelled webhooks) and
 * WooCommerce's REST v3 order (the body of order.created / order.updated, and
 * what GET /orders returns) each have one mapper; the rules that decide
 * whether and as what an order goes out live in rules.h.
 *
 * What goes where (the Ongoing WMS field mapping is the floor):
 *   customer  the delivery address (billing when the order has none); name is
 *             the company when set, else first + last name, and contact is
 *             first + last name when name is a company; email is the
 *             customer's (Shopify order email) else the billing email.
 *   invoice   the billing address (the delivery address when there is none).
 *   delivery  the first shipping line: Shopify code/title, WooCommerce
 *             method_id/method_title; left out without a shipping line.
 *   lines     line id, sku, name, quantity; unit_price is the undiscounted
 *             unit price as the shop lists it (Shopify price; WooCommerce
 *             subtotal / quantity), line_total what the customer pays for the
 *             line: after discounts, with tax (Shopify price * quantity -
 *             discount allocations, + line taxes when prices exclude tax;
 *             WooCommerce total + total_tax).
 *   version   the shop's modification time in ms (Shopify updated_at,
 *             WooCommerce date_modified_gmt).
 * Text longer than the schema allows is cut at a character boundary;
 * optional values the schema would refuse (an email without '@') are left
 * out. A line without a SKU, or a required value missing, makes the order
 * unmappable: it goes to the dead-letter topic with the reason. */
#ifndef OI_MAP_H
#define OI_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "wb/proto.h"

typedef struct oi_order {
    wb_order_msg msg;   /* type CREATED, or CANCELLED when the shop says so */
    bool cancelled;     /* Shopify cancelled_at; WooCommerce cancelled/refunded/failed/trash */
    char *status;       /* WooCommerce status */
    char *financial_status, *fulfillment_status; /* Shopify; fulfillment null -> "unfulfilled" */
    char *shop_location; /* Shopify: the first fulfillment order's assigned location (gid), when known */
    bool nothing_open;  /* Shopify: every line's current_quantity is 0 (refunded, returned or
                           edited away); msg.lines are the lines as placed. It can go out as a
                           cancellation, not as a new order or an update (oi_ingest: dead letter) */
    /* msg as oi_map_* validated and encoded it (type json_type); whoever
     * changes msg afterwards frees it (NULL), except for the type and the
     * warehouse, which their setters check themselves: then it is encoded
     * again without the schema check (wb_order_msg_reencode). The producer
     * reuses it when the type going out is json_type. One checked encode
     * per order, not two or three. */
    char *json;
    wb_order_type json_type;
} oi_order;

enum { OI_MAP_OK = 0, OI_MAP_UNMAPPABLE = 1, OI_MAP_MALFORMED = -1 };

/* Map a raw webhook / REST body. Returns OI_MAP_OK with *out filled
 * (oi_order_free() it), OI_MAP_UNMAPPABLE (valid JSON, but not an order the
 * WMS can take: reason in err, *order_id the shop's order id when known,
 * malloc'd, else NULL) or OI_MAP_MALFORMED (not a JSON object: reason in err).
 * On failure *out is left empty. order_id may be NULL. */
int oi_map_shopify(const char *store_id, const char *json, size_t len, oi_order *out,
                   char **order_id, char *err, size_t errlen);
int oi_map_woocommerce(const char *store_id, const char *json, size_t len, oi_order *out,
                       char **order_id, char *err, size_t errlen);

/* The same from an already parsed object (the reconciler's pages). */
struct cJSON;
int oi_map_shopify_json(const char *store_id, const struct cJSON *o, oi_order *out,
                        char **order_id, char *err, size_t errlen);
int oi_map_woocommerce_json(const char *store_id, const struct cJSON *o, oi_order *out,
                            char **order_id, char *err, size_t errlen);

/* A Shopify GraphQL order (a node of wb_gql_reconcile_orders), its lines
 * past the first page in extra_lines (GraphQL line nodes, may be NULL):
 * rewritten into the webhook's REST shape and mapped by oi_map_shopify_json,
 * so both give the same message for the same version. Also sets
 * shop_location. */
int oi_map_shopify_gql(const char *store_id, const struct cJSON *o, const struct cJSON *extra_lines,
                       oi_order *out, char **order_id, char *err, size_t errlen);
/* The REST-shaped copy (cJSON_Delete it), exposed for the unit tests. */
struct cJSON *oi_shopify_gql_to_rest(const struct cJSON *o, const struct cJSON *extra_lines);
/* The first fulfillment order's assigned location id of a GraphQL order, or NULL. */
const char *oi_shopify_gql_location(const struct cJSON *o);

void oi_order_free(oi_order *o);

/* ---- helpers, exposed for the unit tests ---- */

/* "12.50" -> 12500000 (millionths); numbers with more than 6 decimals are
 * rounded half up. Returns 0, or -1 for anything but a non-negative decimal. */
int oi_decimal_parse(const char *s, int64_t *micros);
/* 12500000 -> "12.50": at least two decimals, trailing zeros beyond dropped. */
void oi_decimal_format(int64_t micros, char out[32]);
/* RFC 3339 date-time -> ms since 1970. A value without a zone is read as UTC
 * only when assume_utc (WooCommerce's *_gmt fields). Returns 0 or -1. */
int oi_parse_time_ms(const char *s, bool assume_utc, int64_t *ms);
/* A malloc'd copy of s cut to at most max_chars UTF-8 characters, with
 * surrounding spaces trimmed; NULL when s is NULL or ends up empty. */
char *oi_text(const char *s, size_t max_chars);

#endif
