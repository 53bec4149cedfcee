/* The fulfilment path's Shopify documents, defined and registered (with
 * example variables for the schema test) in libshared/src/shopify_documents.c. */
#ifndef FR_GQL_H
#define FR_GQL_H

extern const char wb_gql_fulfilment_state[];           /* fulfillments + open fulfillment orders */
extern const char wb_gql_fulfillment_create[];         /* fulfillmentCreate @idempotent */
extern const char wb_gql_fulfillment_tracking_update[]; /* fulfillmentTrackingInfoUpdate */

#endif
