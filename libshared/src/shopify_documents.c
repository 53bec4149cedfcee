/* The bridge's Shopify GraphQL documents (see wb/shopify_documents.h). */
#include "wb/shopify_documents.h"

const char wb_gql_inventory_set[] =
    "mutation SetStock($input: InventorySetQuantitiesInput!, $key: String!) {\n"
    "  inventorySetQuantities(input: $input) @idempotent(key: $key) {\n"
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

const wb_gql_document wb_gql_documents[] = {
    {"inventory_set", wb_gql_inventory_set,
     "{\"input\":{\"name\":\"available\",\"reason\":\"correction\","
     "\"referenceDocumentUri\":\"wmsbridge://stock/0123456789abcdef\",\"quantities\":["
     "{\"inventoryItemId\":\"gid://shopify/InventoryItem/1\",\"locationId\":\"gid://shopify/Location/1\","
     "\"quantity\":5,\"changeFromQuantity\":null},"
     "{\"inventoryItemId\":\"gid://shopify/InventoryItem/2\",\"locationId\":\"gid://shopify/Location/1\","
     "\"quantity\":0,\"changeFromQuantity\":3}]},\"key\":\"0123456789abcdef0123456789abcdef\"}"},
    {"inventory_levels", wb_gql_inventory_levels,
     "{\"ids\":[\"gid://shopify/InventoryItem/1\",\"gid://shopify/InventoryItem/2\"],"
     "\"locationId\":\"gid://shopify/Location/1\"}"},
};
const int wb_gql_document_count = sizeof wb_gql_documents / sizeof wb_gql_documents[0];
