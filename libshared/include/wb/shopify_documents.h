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

typedef struct wb_gql_document {
    const char *name;
    const char *document;
    const char *example_variables; /* JSON the bridge could send */
} wb_gql_document;

extern const wb_gql_document wb_gql_documents[];
extern const int wb_gql_document_count;

#endif
