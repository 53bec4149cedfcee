/* The fulfilment path's Shopify documents, defined and registered (with
 * example variables for the schema test) in libshared/src/shopify_documents.c. */
#ifndef FR_GQL_H
#define FR_GQL_H

extern const char wb_gql_fulfilment_state[];           /* fulfillments + open fulfillment orders */
extern const char wb_gql_fulfilment_lines[];           /* fulfillments' lines (pending untracked shipment) */
extern const char wb_gql_fulfillment_create[];         /* fulfillmentCreate @idempotent */
extern const char wb_gql_fulfillment_tracking_update[]; /* fulfillmentTrackingInfoUpdate */
extern const char wb_gql_return_state[];   /* an order's lines, payment, fulfilled items, returns */
extern const char wb_gql_return_create[];  /* returnCreate */
extern const char wb_gql_return_process[]; /* returnProcess: dispositions, shipping, refund */
extern const char wb_gql_order_close[];    /* orderClose */
extern const char wb_gql_order_cancel[];   /* orderCancel (refund, restock) */
extern const char wb_gql_order_tags_add[]; /* tagsAdd */
extern const char wb_gql_order_cancelled_state[]; /* cancelledAt, tags */

#endif
