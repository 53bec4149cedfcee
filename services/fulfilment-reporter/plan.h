/* The pure parts of the fulfilment path: which fulfillment order lines a
 * shipment fulfils, the text of a tracking note, refund amounts. No I/O. */
#ifndef FR_PLAN_H
#define FR_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "wb/proto.h"

/* One open line of a Shopify fulfillment order, flattened; entries of one
 * fulfillment order are next to each other. line_id is the order's line item
 * id (the digits of gid://shopify/LineItem/N, as in the shipment lines). */
typedef struct fr_fo_line {
    const char *fo_id, *fo_line_id, *line_id;
    int64_t remaining;
} fr_fo_line;

typedef struct fr_alloc {
    const char *fo_id, *fo_line_id;
    int64_t quantity;
} fr_alloc;

/* Spreads the shipment's lines over the open fulfillment order lines, in
 * their order. *out (malloc'd, grouped by fulfillment order as fol is) gets
 * what to fulfil. Returns 0, or -1 with err when a line is unknown or asks
 * for more than is open. */
int fr_match_lines(const fr_fo_line *fol, size_t n_fol, const wb_shipment_line *lines,
                   size_t n_lines, fr_alloc **out, size_t *n_out, char *err, size_t errlen);

/* What a Shopify return asks of one fulfillment line item: quantity in all,
 * restock of it to put back on stock. */
typedef struct fr_ret_alloc {
    const char *fli_id, *line_id;
    int64_t quantity, restock;
} fr_ret_alloc;

/* Spreads a return's lines over the fulfilled line items (fl: fo_line_id =
 * the fulfillment line item id, line_id = the order line, remaining = what
 * is fulfilled and not yet returned), in their order; a fulfillment line item
 * that gets lines with and without restock carries both. *out (malloc'd)
 * gets one entry per fulfillment line item used. Returns 0, or -1 with err
 * when a line asks for more than is fulfilled and not yet returned. */
int fr_match_return(const fr_fo_line *fl, size_t n_fl, const wb_return *ret, fr_ret_alloc **out,
                    size_t *n_out, char *err, size_t errlen);

/* The marker a note carries so it is recognised later: "[shipment S1]". */
void fr_note_marker(const char *shipment_id, char *buf, size_t size);
/* malloc'd note text for a shipment: "Shipped with dhl, tracking number 123:
 * https://... [shipment S1]" (parts left out when absent). */
char *fr_note_text(const wb_shipment *s);

/* "12.50" -> 1250 cents; -1 when it is not a decimal with at most two
 * places (a third place and beyond must be zero). */
int64_t fr_parse_cents(const char *s);
/* 1250 -> "12.50" (buf >= 32). */
void fr_format_cents(int64_t cents, char *buf, size_t size);
/* What `returned` of `quantity` units of a line that cost `total_cents` in
 * all is worth: total * returned / quantity, half a cent rounded up. */
int64_t fr_line_refund_cents(int64_t total_cents, int64_t quantity, int64_t returned);

#endif
