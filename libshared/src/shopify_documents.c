/* The bridge's Shopify GraphQL documents (see wb/shopify_documents.h). */
#include "wb/shopify_documents.h"

const char wb_gql_inventory_set[] =
    "mutation SetStock($input: InventorySetQuantitiesInput!, $key: String!) {\n"
    "  inventorySetQuantities(input: $input) @idempotent(key: $key) {\n"
    "    inventoryAdjustmentGroup { id }\n"
    "    userErrors { field message code }\n"
    "  }\n"
    "}\n";

const char wb_gql_inventory_adjust[] =
    "mutation AdjustStock($input: InventoryAdjustQuantitiesInput!, $key: String!) {\n"
    "  inventoryAdjustQuantities(input: $input) @idempotent(key: $key) {\n"
    "    inventoryAdjustmentGroup { id }\n"
    "    userErrors { field message code }\n"
    "  }\n"
    "}\n";

/* One location per query and at most 100 ids (WB_GQL_LEVELS_MAX_IDS): the
 * cost grows with every id, and a single level per item keeps it small. */
const char wb_gql_inventory_levels[] =
    "query StockLevels($ids: [ID!]!, $locationId: ID!) {\n"
    "  nodes(ids: $ids) {\n"
    "    ... on InventoryItem {\n"
    "      id\n"
    "      inventoryLevel(locationId: $locationId) {\n"
    "        quantities(names: [\"available\"]) { name quantity }\n"
    "      }\n"
    "    }\n"
    "  }\n"
    "}\n";

/* catalog-ingest: every variant of the store by cursor, with what an article
 * needs of its product and inventory item. Also used with a query
 * (`product_id:N`) for one product after a webhook. About 5 points per
 * variant: 100 a page keeps a page well inside a 1000-point bucket. */
const char wb_gql_catalog_variants[] =
    "query CatalogVariants($first: Int!, $after: String, $query: String) {\n"
    "  productVariants(first: $first, after: $after, query: $query, sortKey: ID) {\n"
    "    nodes {\n"
    "      id\n"
    "      title\n"
    "      sku\n"
    "      barcode\n"
    "      updatedAt\n"
    "      product { id title status productType updatedAt }\n"
    "      inventoryItem {\n"
    "        id\n"
    "        requiresShipping\n"
    "        measurement { weight { value unit } }\n"
    "      }\n"
    "    }\n"
    "    pageInfo { hasNextPage endCursor }\n"
    "  }\n"
    "}\n";

/* fulfilment-reporter (declared in services/fulfilment-reporter/gql.h) */
const char wb_gql_fulfilment_state[] =
    "query FulfilmentState($id: ID!) {\n"
    "  order(id: $id) {\n"
    "    id\n"
    "    fulfillments(first: 20) { id trackingInfo { company number url } }\n"
    "    fulfillmentOrders(first: 5) {\n"
    "      nodes {\n"
    "        id\n"
    "        status\n"
    "        lineItems(first: 50) { nodes { id remainingQuantity lineItem { id } } }\n"
    "      }\n"
    "    }\n"
    "  }\n"
    "}\n";

const char wb_gql_fulfillment_create[] =
    "mutation FulfilShipment($fulfillment: FulfillmentInput!, $key: String!) {\n"
    "  fulfillmentCreate(fulfillment: $fulfillment) @idempotent(key: $key) {\n"
    "    fulfillment { id status trackingInfo { company number url } }\n"
    "    userErrors { field message }\n"
    "  }\n"
    "}\n";

const char wb_gql_fulfillment_tracking_update[] =
    "mutation UpdateTracking($fulfillmentId: ID!, $trackingInfoInput: FulfillmentTrackingInput!,\n"
    "                        $notifyCustomer: Boolean) {\n"
    "  fulfillmentTrackingInfoUpdate(fulfillmentId: $fulfillmentId, trackingInfoInput: $trackingInfoInput,\n"
    "                                notifyCustomer: $notifyCustomer) {\n"
    "    fulfillment { id trackingInfo { company number url } }\n"
    "    userErrors { field message }\n"
    "  }\n"
    "}\n";

const wb_gql_document wb_gql_documents[] = {
    {"inventory_set", wb_gql_inventory_set,
     "{\"input\":{\"name\":\"available\",\"reason\":\"correction\","
     "\"referenceDocumentUri\":\"wmsbridge://stock/0123456789abcdef\",\"quantities\":["
     "{\"inventoryItemId\":\"gid://shopify/InventoryItem/1\",\"locationId\":\"gid://shopify/Location/1\","
     "\"quantity\":5,\"changeFromQuantity\":null},"
     "{\"inventoryItemId\":\"gid://shopify/InventoryItem/2\",\"locationId\":\"gid://shopify/Location/1\","
     "\"quantity\":0,\"changeFromQuantity\":3}]},\"key\":\"0123456789abcdef0123456789abcdef\"}"},
    {"inventory_adjust", wb_gql_inventory_adjust,
     "{\"input\":{\"name\":\"available\",\"reason\":\"correction\","
     "\"referenceDocumentUri\":\"wmsbridge://stock/0123456789abcdef\",\"changes\":["
     "{\"inventoryItemId\":\"gid://shopify/InventoryItem/1\",\"locationId\":\"gid://shopify/Location/1\","
     "\"delta\":-2,\"changeFromQuantity\":null}]},\"key\":\"0123456789abcdef0123456789abcdef\"}"},
    {"inventory_levels", wb_gql_inventory_levels,
     "{\"ids\":[\"gid://shopify/InventoryItem/1\",\"gid://shopify/InventoryItem/2\"],"
     "\"locationId\":\"gid://shopify/Location/1\"}"},
    {"catalog_variants", wb_gql_catalog_variants,
     "{\"first\":100,\"after\":\"eyJsYXN0X2lkIjoxMjN9\",\"query\":\"product_status:active\"}"},
    /* fulfilment-reporter */
    {"fulfilment_state", wb_gql_fulfilment_state, "{\"id\":\"gid://shopify/Order/1\"}"},
    {"fulfillment_create", wb_gql_fulfillment_create,
     "{\"fulfillment\":{\"lineItemsByFulfillmentOrder\":[{\"fulfillmentOrderId\":\"gid://shopify/FulfillmentOrder/1\","
     "\"fulfillmentOrderLineItems\":[{\"id\":\"gid://shopify/FulfillmentOrderLineItem/1\",\"quantity\":2}]}],"
     "\"trackingInfo\":{\"company\":\"DHL\",\"number\":\"JJD000123\",\"url\":\"https://dhl.example/t/JJD000123\"},"
     "\"notifyCustomer\":true},\"key\":\"0123456789abcdef0123456789abcdef\"}"},
    {"fulfillment_tracking_update", wb_gql_fulfillment_tracking_update,
     "{\"fulfillmentId\":\"gid://shopify/Fulfillment/1\",\"trackingInfoInput\":{\"company\":\"DHL\","
     "\"number\":\"JJD000124\",\"url\":\"https://dhl.example/t/JJD000124\"},\"notifyCustomer\":true}"},
};
const int wb_gql_document_count = sizeof wb_gql_documents / sizeof wb_gql_documents[0];
