/* Every GraphQL document the bridge sends to Shopify, in one place, so that
 * one test can validate each of them, with example variables, against
 * Shopify's published Admin schema for the API version the bridge speaks
 * (tests/shopify-schema). A service that needs a new operation adds it here. */
#ifndef WB_SHOPIFY_DOCUMENTS_H
#define WB_SHOPIFY_DOCUMENTS_H

extern const char wb_gql_inventory_set[];    /* inventorySetQuantities with @idempotent */
extern const char wb_gql_inventory_adjust[]; /* inventoryAdjustQuantities (delta mode) */
extern const char wb_gql_inventory_levels[]; /* available quantities of items at one location */
#define WB_GQL_LEVELS_MAX_IDS 100

/* order-ingest */
extern const char wb_gql_reconcile_orders[];      /* orders changed since a time, every page */
extern const char wb_gql_reconcile_order_lines[]; /* one order's lines past the first page */
extern const char wb_gql_order_locations[];       /* one order's fulfillment orders' locations */
extern const char wb_gql_webhook_subscriptions[];
extern const char wb_gql_webhook_subscription_create[];
#define WB_GQL_RECONCILE_ORDERS_PAGE 8

/* bridgectl: store test, store remove, the install */
extern const char wb_gql_store_check[];                 /* shop and the app's granted scopes */
extern const char wb_gql_webhook_subscription_delete[];
/* The access scopes the bridge asks for when it is installed: exactly what
 * the documents above need (orders, products, inventory, locations,
 * merchant-managed fulfillment orders, returns; refunds and orderClose need
 * write_orders). A write scope implies its read scope. */
extern const char wb_shopify_scopes[];

typedef struct wb_gql_document {
    const char *name;
    const char *document;
    const char *example_variables; /* JSON the bridge could send */
} wb_gql_document;

extern const wb_gql_document wb_gql_documents[];
extern const int wb_gql_document_count;

#endif
