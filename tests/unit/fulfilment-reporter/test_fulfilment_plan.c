/* The pure parts of fulfilment-reporter: which fulfillment order lines a
 * (partial) shipment fulfils, the note text, refund amounts. */
#include "plan.h"
#include "testlib.h"

static const fr_fo_line two_orders[] = {
    {"FO1", "FOL1", "101", 2},  /* line 101: 2 open at the first location */
    {"FO1", "FOL2", "102", 1},
    {"FO2", "FOL3", "101", 3},  /* line 101: 3 more at the second */
    {"FO2", "FOL4", "103", 0},  /* nothing left of line 103 */
};

TEST(partial_shipment_takes_only_its_lines) {
    wb_shipment_line lines[] = {{"102", "SKU-2", 1}};
    fr_alloc *a;
    size_t n;
    char err[256] = "";
    CHECK_INT(fr_match_lines(two_orders, 4, lines, 1, &a, &n, err, sizeof err), 0);
    CHECK_INT(n, 1);
    CHECK_STR(a[0].fo_id, "FO1");
    CHECK_STR(a[0].fo_line_id, "FOL2");
    CHECK_INT(a[0].quantity, 1);
    free(a);
}

TEST(quantity_spread_over_fulfillment_orders_in_order) {
    wb_shipment_line lines[] = {{"101", "SKU-1", 4}, {"102", "SKU-2", 1}};
    fr_alloc *a;
    size_t n;
    char err[256] = "";
    CHECK_INT(fr_match_lines(two_orders, 4, lines, 2, &a, &n, err, sizeof err), 0);
    CHECK_INT(n, 3);
    /* grouped by fulfillment order: FO1's two lines, then FO2's */
    CHECK_STR(a[0].fo_line_id, "FOL1");
    CHECK_INT(a[0].quantity, 2);
    CHECK_STR(a[1].fo_line_id, "FOL2");
    CHECK_STR(a[2].fo_id, "FO2");
    CHECK_INT(a[2].quantity, 2);
    free(a);
}

TEST(split_shipment_lines_of_one_order_line_add_up) {
    wb_shipment_line lines[] = {{"101", "SKU-1", 1}, {"101", "SKU-1", 2}};
    fr_alloc *a;
    size_t n;
    char err[256] = "";
    CHECK_INT(fr_match_lines(two_orders, 4, lines, 2, &a, &n, err, sizeof err), 0);
    CHECK_INT(n, 2);
    CHECK_INT(a[0].quantity + a[1].quantity, 3);
    free(a);
}

TEST(more_than_open_or_unknown_line_is_refused) {
    wb_shipment_line over[] = {{"101", "SKU-1", 6}};
    wb_shipment_line gone[] = {{"103", "SKU-3", 1}};
    wb_shipment_line unknown[] = {{"999", "SKU-9", 1}};
    fr_alloc *a;
    size_t n;
    char err[256] = "";
    CHECK_INT(fr_match_lines(two_orders, 4, over, 1, &a, &n, err, sizeof err), -1);
    CHECK_CONTAINS(err, "line 101");
    CHECK_CONTAINS(err, "1 more");
    CHECK(a == NULL);
    CHECK_INT(fr_match_lines(two_orders, 4, gone, 1, &a, &n, err, sizeof err), -1);
    CHECK_INT(fr_match_lines(two_orders, 4, unknown, 1, &a, &n, err, sizeof err), -1);
}

TEST(note_text_with_and_without_tracking) {
    wb_shipment s = {.id = "S1", .carrier = "dhl", .tracking_number = "JJD123",
                     .tracking_url = "https://dhl.example/t/JJD123"};
    char *t = fr_note_text(&s);
    CHECK_STR(t, "Shipped with dhl, tracking number JJD123: https://dhl.example/t/JJD123 [shipment S1]");
    free(t);
    wb_shipment bare = {.id = "S2", .carrier = "postnord"};
    t = fr_note_text(&bare);
    CHECK_STR(t, "Shipped with postnord [shipment S2]");
    char marker[64];
    fr_note_marker("S2", marker, sizeof marker);
    CHECK_CONTAINS(t, marker);
    free(t);
}

TEST(cents_parse_and_format) {
    CHECK_INT(fr_parse_cents("12.50"), 1250);
    CHECK_INT(fr_parse_cents("12.5"), 1250);
    CHECK_INT(fr_parse_cents("7"), 700);
    CHECK_INT(fr_parse_cents("0.990000"), 99);
    CHECK_INT(fr_parse_cents("0.995"), -1);
    CHECK_INT(fr_parse_cents("abc"), -1);
    CHECK_INT(fr_parse_cents(""), -1);
    char buf[32];
    fr_format_cents(1250, buf, sizeof buf);
    CHECK_STR(buf, "12.50");
    fr_format_cents(5, buf, sizeof buf);
    CHECK_STR(buf, "0.05");
}

TEST(refund_amount_is_the_returned_share) {
    CHECK_INT(fr_line_refund_cents(3000, 3, 1), 1000);  /* 30.00 for 3, one back */
    CHECK_INT(fr_line_refund_cents(1000, 3, 1), 333);   /* 3.333.. -> 3.33 */
    CHECK_INT(fr_line_refund_cents(1000, 3, 2), 667);   /* 6.666.. -> 6.67 */
    CHECK_INT(fr_line_refund_cents(1000, 3, 3), 1000);  /* all back: exactly what was paid */
    CHECK_INT(fr_line_refund_cents(1000, 3, 0), 0);
}

/* Fulfilled line items of two shipments: line 101 in both, 102 once. */
static const fr_fo_line fulfilled[] = {
    {NULL, "FLI1", "101", 1},
    {NULL, "FLI2", "102", 2},
    {NULL, "FLI3", "101", 2},
};

TEST(return_spread_over_fulfilled_items_with_restock_per_line) {
    /* 2 of line 101 back, one to restock and one not; 1 of 102 restocked. */
    wb_return_line lines[] = {{"101", "SKU-1", 1, true}, {"101", "SKU-1", 1, false}, {"102", "SKU-2", 1, true}};
    wb_return ret = {"R1", "damaged", lines, 3};
    fr_ret_alloc *a;
    size_t n;
    char err[256] = "";
    CHECK_INT(fr_match_return(fulfilled, 3, &ret, &a, &n, err, sizeof err), 0);
    CHECK_INT(n, 3);
    CHECK_STR(a[0].fli_id, "FLI1"); /* the first restocked unit fills FLI1 */
    CHECK_INT(a[0].quantity, 1);
    CHECK_INT(a[0].restock, 1);
    CHECK_STR(a[1].fli_id, "FLI2");
    CHECK_INT(a[1].quantity, 1);
    CHECK_INT(a[1].restock, 1);
    CHECK_STR(a[2].fli_id, "FLI3"); /* the kept unit goes on to the next one */
    CHECK_INT(a[2].quantity, 1);
    CHECK_INT(a[2].restock, 0);
    free(a);
}

TEST(return_of_more_than_fulfilled_is_refused) {
    wb_return_line over[] = {{"101", "SKU-1", 4, true}};
    wb_return_line unknown[] = {{"999", "SKU-9", 1, false}};
    wb_return r1 = {"R1", "damaged", over, 1}, r2 = {"R2", "unwanted", unknown, 1};
    fr_ret_alloc *a;
    size_t n;
    char err[256] = "";
    CHECK_INT(fr_match_return(fulfilled, 3, &r1, &a, &n, err, sizeof err), -1);
    CHECK_CONTAINS(err, "return R1: line 101");
    CHECK_CONTAINS(err, "1 more");
    CHECK(a == NULL);
    CHECK_INT(fr_match_return(fulfilled, 3, &r2, &a, &n, err, sizeof err), -1);
    CHECK_CONTAINS(err, "line 999");
}

int main(void) {
    RUN(return_spread_over_fulfilled_items_with_restock_per_line);
    RUN(return_of_more_than_fulfilled_is_refused);
    RUN(partial_shipment_takes_only_its_lines);
    RUN(quantity_spread_over_fulfillment_orders_in_order);
    RUN(split_shipment_lines_of_one_order_line_add_up);
    RUN(more_than_open_or_unknown_line_is_refused);
    RUN(note_text_with_and_without_tracking);
    RUN(cents_parse_and_format);
    RUN(refund_amount_is_the_returned_share);
    TEST_EXIT();
}
