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

/* What an article needs of a variant, its product and its inventory item:
 * one list for the paged query and the bulk one, so a bulk line parses
 * exactly like a page's node and the content hashes agree. One line without
 * quotes, so the bulk example below can quote it inside a JSON string. */
#define CATALOG_VARIANT_FIELDS                                                      \
    "id title sku barcode updatedAt product { id title status productType updatedAt } " \
    "inventoryItem { id requiresShipping measurement { weight { value unit } } }"

/* catalog-ingest: every variant of the store by cursor, with what an article
 * needs of its product and inventory item. Also used with a query
 * (`product_id:N`) for one product after a webhook. 5 points per variant
 * (the node, product, inventoryItem, measurement, weight) plus 3 a page:
 * 199 a page is the most within Shopify's 1000-point cap on one query. */
const char wb_gql_catalog_variants[] =
    "query CatalogVariants($first: Int!, $after: String, $query: String) {\n"
    "  productVariants(first: $first, after: $after, query: $query, sortKey: ID) {\n"
    "    nodes { " CATALOG_VARIANT_FIELDS " }\n"
    "    pageInfo { hasNextPage endCursor }\n"
    "  }\n"
    "}\n";

/* An incremental poll: the products changed since a time (the store's
 * cursor minus an overlap), oldest change first; each is then read as a
 * product sync (wb_gql_catalog_variants with product_id:N). Drafts and
 * archived ones too, so a product unpublished since is reported. */
const char wb_gql_catalog_changed_products[] =
    "query CatalogChangedProducts($first: Int!, $after: String, $query: String) {\n"
    "  products(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {\n"
    "    nodes { id }\n"
    "    pageInfo { hasNextPage endCursor }\n"
    "  }\n"
    "}\n";

/* catalog-ingest: the progress bar's total at the start of a full sync.
 * The sync pages variants, so productVariantsCount is its total (it has no
 * search fields: drafts' variants are counted too); productsCount of the
 * active products is logged beside it. limit: null lifts the default cap
 * of 10000. 2 points. */
const char wb_gql_catalog_counts[] =
    "query CatalogCounts($query: String) {\n"
    "  productsCount(query: $query, limit: null) { count precision }\n"
    "  productVariantsCount(limit: null) { count precision }\n"
    "}\n";

/* catalog-ingest: a large store's full sync in one bulk operation
 * (bulkOperationRunQuery): the same variant fields as
 * wb_gql_catalog_variants, so a line of the result is parsed as a node of a
 * page and the articles and their content hashes are the same. One root
 * connection and no nested one: each JSONL line is one variant with its
 * product and inventory item inline (no __parentId to join), and the
 * client reads it one line at a time. first/after are ignored in bulk, so
 * there are none. */
const char wb_gql_catalog_bulk_variants[] =
    "{\n"
    "  productVariants(query: \"product_status:active\") {\n"
    "    edges {\n"
    "      node { " CATALOG_VARIANT_FIELDS " }\n"
    "    }\n"
    "  }\n"
    "}\n";

/* Starts wb_gql_catalog_bulk_variants ($query). A bulk operation is charged
 * as this mutation (10 points), whatever it reads. */
const char wb_gql_catalog_bulk_start[] =
    "mutation CatalogBulkStart($query: String!) {\n"
    "  bulkOperationRunQuery(query: $query) {\n"
    "    bulkOperation { id status }\n"
    "    userErrors { field message code }\n"
    "  }\n"
    "}\n";

/* Polls one operation by id (currentBulkOperation is deprecated in 2026-07). */
const char wb_gql_catalog_bulk_status[] =
    "query CatalogBulkStatus($id: ID!) {\n"
    "  bulkOperation(id: $id) {\n"
    "    id\n"
    "    status\n"
    "    errorCode\n"
    "    objectCount\n"
    "    url\n"
    "  }\n"
    "}\n";

/* The app's newest bulk query operations, when starting one is refused
 * (LIMIT_REACHED, OPERATION_IN_PROGRESS): one of them running our query is
 * adopted instead of started again. */
const char wb_gql_catalog_bulk_running[] =
    "query CatalogBulkRunning {\n"
    "  bulkOperations(first: 10, query: \"operation_type:query\") {\n"
    "    nodes { id status query }\n"
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

/* Only for a pending shipment without a tracking number (a crash between
 * fulfillmentCreate and its record): the fulfillments' lines, to find it
 * again by its exact lines. Kept out of wb_gql_fulfilment_state, which it
 * would make cost nearly the 1000-point cap on every dispatch. */
const char wb_gql_fulfilment_lines[] =
    "query FulfilmentLines($id: ID!) {\n"
    "  order(id: $id) {\n"
    "    id\n"
    "    fulfillments(first: 20) {\n"
    "      id trackingInfo { number }\n"
    "      fulfillmentLineItems(first: 10) { nodes { quantity lineItem { id } } }\n"
    "    }\n"
    "  }\n"
    "}\n";

/* fulfillmentCreate takes no @idempotent in 2026-07 (its description does not
 * offer one, and the directive is only honoured where it does), so the read
 * above is what keeps a shipment single: a pending report first looks for its
 * fulfillment by tracking number, else by its exact lines. */
const char wb_gql_fulfillment_create[] =
    "mutation FulfilShipment($fulfillment: FulfillmentInput!) {\n"
    "  fulfillmentCreate(fulfillment: $fulfillment) {\n"
    "    fulfillment { id status trackingInfo { company number url }\n"
    "                  order { id closed displayFulfillmentStatus displayFinancialStatus } }\n"
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

/* fulfilment-reporter, Shopify returns (services/fulfilment-reporter/shopify_return.c):
 * what a return needs, read before every send so nothing is sent twice: the
 * lines' prices, the payment to refund from, the fulfilled line items, the
 * location to restock at, and the order's newest returns (the one being
 * reported is among them) with the bridge's marker in returnReasonNote.
 * About 700 points at these page sizes. */
#define WB_GQL_RETURN_FIELDS \
    "        id\n" \
    "        status\n" \
    "        returnLineItems(first: 10) {\n" \
    "          nodes { id quantity processedQuantity returnReasonNote\n" \
    "                  ... on ReturnLineItem { fulfillmentLineItem { id lineItem { id } } } }\n" \
    "        }\n" \
    "        reverseFulfillmentOrders(first: 1) {\n" \
    "          nodes { lineItems(first: 10) { nodes { id fulfillmentLineItem { id } } } }\n" \
    "        }\n"

const char wb_gql_return_state[] =
    "query ReturnState($id: ID!) {\n"
    "  order(id: $id) {\n"
    "    id\n"
    "    closed\n"
    "    displayFulfillmentStatus\n"
    "    displayFinancialStatus\n"
    "    totalShippingPriceSet { presentmentMoney { amount currencyCode } }\n"
    "    transactions(first: 5) { id kind status }\n"
    "    lineItems(first: 50) {\n"
    "      nodes { id quantity discountedTotalSet { presentmentMoney { amount } }\n"
    "              taxLines { priceSet { presentmentMoney { amount } } } }\n"
    "    }\n"
    "    fulfillmentOrders(first: 5) { nodes { assignedLocation { location { id } } } }\n"
    "    fulfillments(first: 10) { fulfillmentLineItems(first: 10) { nodes { id quantity lineItem { id } } } }\n"
    "    returns(first: 5, reverse: true) {\n"
    "      nodes {\n" WB_GQL_RETURN_FIELDS "      }\n"
    "    }\n"
    "  }\n"
    "}\n";

/* A return the warehouse has received: created OPEN, then processed. Neither
 * mutation documents idempotency support (@idempotent is only accepted where
 * the mutation's description says so), so the read above is what keeps them
 * single. */
const char wb_gql_return_create[] =
    "mutation CreateReturn($input: ReturnInput!) {\n"
    "  returnCreate(returnInput: $input) {\n"
    "    return {\n" WB_GQL_RETURN_FIELDS "    }\n"
    "    userErrors { field message }\n"
    "  }\n"
    "}\n";

const char wb_gql_return_process[] =
    "mutation ProcessReturn($input: ReturnProcessInput!) {\n"
    "  returnProcess(input: $input) {\n"
    "    return { id status order { id closed displayFulfillmentStatus displayFinancialStatus } }\n"
    "    userErrors { field message }\n"
    "  }\n"
    "}\n";

/* A WMS `cancelled` reported to Shopify (fulfilment_settings.cancelled_report):
 * cancel, or tag the order for the merchant. */
const char wb_gql_order_cancel[] =
    "mutation CancelOrder($orderId: ID!, $notifyCustomer: Boolean, $staffNote: String) {\n"
    "  orderCancel(orderId: $orderId, reason: OTHER, restock: true,\n"
    "              refundMethod: { originalPaymentMethodsRefund: true },\n"
    "              notifyCustomer: $notifyCustomer, staffNote: $staffNote) {\n"
    "    job { id done }\n"
    "    orderCancelUserErrors { field message code }\n"
    "  }\n"
    "}\n";

const char wb_gql_order_tags_add[] =
    "mutation TagOrder($id: ID!, $tags: [String!]!) {\n"
    "  tagsAdd(id: $id, tags: $tags) {\n"
    "    node { id }\n"
    "    userErrors { field message }\n"
    "  }\n"
    "}\n";

const char wb_gql_order_cancelled_state[] =
    "query OrderCancelled($id: ID!) {\n"
    "  order(id: $id) { id cancelledAt tags }\n"
    "}\n";

const char wb_gql_order_close[] =
    "mutation CloseOrder($input: OrderCloseInput!) {\n"
    "  orderClose(input: $input) {\n"
    "    order { id closed }\n"
    "    userErrors { field message }\n"
    "  }\n"
    "}\n";

/* order-ingest's reconciler (services/order-ingest/reconcile_shopify.c):
 * orders changed since the cursor, oldest change first, every page. The
 * cost is about 2 + first * (23 + 9 * lines): 8 orders of 10 lines ~ 930,
 * within a 1000-point bucket; an order with more lines pages on through
 * ReconcileOrderLines. The fulfillment orders' assigned locations name the
 * warehouse. */
#define WB_GQL_ORDER_LINE_FIELDS \
    "        id\n" \
    "        name\n" \
    "        sku\n" \
    "        quantity\n" \
    "        currentQuantity\n" \
    "        originalUnitPriceSet { shopMoney { amount } }\n" \
    "        discountAllocations { allocatedAmountSet { shopMoney { amount } } }\n" \
    "        taxLines { priceSet { shopMoney { amount } } }\n"
#define WB_GQL_ADDRESS_FIELDS "firstName lastName company address1 address2 city zip province countryCodeV2 phone"

const char wb_gql_reconcile_orders[] =
    "query ReconcileOrders($first: Int!, $after: String, $query: String) {\n"
    "  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {\n"
    "    nodes {\n"
    "      id\n"
    "      name\n"
    "      email\n"
    "      phone\n"
    "      note\n"
    "      currencyCode\n"
    "      createdAt\n"
    "      updatedAt\n"
    "      cancelledAt\n"
    "      taxesIncluded\n"
    "      displayFinancialStatus\n"
    "      displayFulfillmentStatus\n"
    "      shippingAddress { " WB_GQL_ADDRESS_FIELDS " }\n"
    "      billingAddress { " WB_GQL_ADDRESS_FIELDS " }\n"
    "      shippingLine { code title }\n"
    "      lineItems(first: 10) {\n"
    "        nodes {\n" WB_GQL_ORDER_LINE_FIELDS "        }\n"
    "        pageInfo { hasNextPage endCursor }\n"
    "      }\n"
    "      fulfillmentOrders(first: 5) { nodes { assignedLocation { location { id } } } }\n"
    "    }\n"
    "    pageInfo { hasNextPage endCursor }\n"
    "  }\n"
    "}\n";

/* The lines of one order past the first page (about 2 + 100 * 9 points). */
const char wb_gql_reconcile_order_lines[] =
    "query ReconcileOrderLines($id: ID!, $after: String) {\n"
    "  order(id: $id) {\n"
    "    lineItems(first: 100, after: $after) {\n"
    "      nodes {\n" WB_GQL_ORDER_LINE_FIELDS "      }\n"
    "      pageInfo { hasNextPage endCursor }\n"
    "    }\n"
    "  }\n"
    "}\n";

/* The fulfillment orders' assigned locations of one order: which warehouse
 * fulfils an order that came by webhook, when the store maps several
 * locations (the webhook body does not carry them). */
const char wb_gql_order_locations[] =
    "query OrderLocations($id: ID!) {\n"
    "  order(id: $id) {\n"
    "    fulfillmentOrders(first: 5) { nodes { assignedLocation { location { id } } } }\n"
    "  }\n"
    "}\n";

const char wb_gql_webhook_subscriptions[] =
    "query WebhookSubscriptions($first: Int!, $after: String) {\n"
    "  webhookSubscriptions(first: $first, after: $after) {\n"
    "    nodes { id topic uri }\n"
    "    pageInfo { hasNextPage endCursor }\n"
    "  }\n"
    "}\n";

const char wb_gql_webhook_subscription_create[] =
    "mutation CreateWebhook($topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!) {\n"
    "  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {\n"
    "    webhookSubscription { id topic uri }\n"
    "    userErrors { field message }\n"
    "  }\n"
    "}\n";

/* bridgectl */
const char wb_gql_store_check[] =
    "query StoreCheck {\n"
    "  shop { name myshopifyDomain }\n"
    "  currentAppInstallation { accessScopes { handle } }\n"
    "}\n";

const char wb_gql_webhook_subscription_delete[] =
    "mutation DeleteWebhook($id: ID!) {\n"
    "  webhookSubscriptionDelete(id: $id) {\n"
    "    deletedWebhookSubscriptionId\n"
    "    userErrors { field message }\n"
    "  }\n"
    "}\n";

const char wb_shopify_scopes[] =
    "read_orders,write_orders,read_products,read_inventory,write_inventory,read_locations,"
    "read_merchant_managed_fulfillment_orders,write_merchant_managed_fulfillment_orders,"
    "read_returns,write_returns";

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
     "{\"first\":199,\"after\":\"eyJsYXN0X2lkIjoxMjN9\",\"query\":\"product_status:active\"}"},
    {"catalog_counts", wb_gql_catalog_counts, "{\"query\":\"status:active\"}"},
    {"catalog_changed_products", wb_gql_catalog_changed_products,
     "{\"first\":250,\"after\":null,\"query\":\"updated_at:>'2026-11-25T10:00:00Z'\"}"},
    {"catalog_bulk_variants", wb_gql_catalog_bulk_variants, "{}"},
    {"catalog_bulk_start", wb_gql_catalog_bulk_start,
     "{\"query\":\"{\\n  productVariants(query: \\\"product_status:active\\\") {\\n    edges {\\n      node { " CATALOG_VARIANT_FIELDS " }\\n    }\\n  }\\n}\\n\"}"},
    {"catalog_bulk_status", wb_gql_catalog_bulk_status, "{\"id\":\"gid://shopify/BulkOperation/1\"}"},
    {"catalog_bulk_running", wb_gql_catalog_bulk_running, "{}"},
    /* fulfilment-reporter */
    {"fulfilment_state", wb_gql_fulfilment_state, "{\"id\":\"gid://shopify/Order/1\"}"},
    {"fulfilment_lines", wb_gql_fulfilment_lines, "{\"id\":\"gid://shopify/Order/1\"}"},
    {"fulfillment_create", wb_gql_fulfillment_create,
     "{\"fulfillment\":{\"lineItemsByFulfillmentOrder\":[{\"fulfillmentOrderId\":\"gid://shopify/FulfillmentOrder/1\","
     "\"fulfillmentOrderLineItems\":[{\"id\":\"gid://shopify/FulfillmentOrderLineItem/1\",\"quantity\":2}]}],"
     "\"trackingInfo\":{\"company\":\"DHL\",\"number\":\"JJD000123\",\"url\":\"https://dhl.example/t/JJD000123\"},"
     "\"notifyCustomer\":true}}"},
    {"fulfillment_tracking_update", wb_gql_fulfillment_tracking_update,
     "{\"fulfillmentId\":\"gid://shopify/Fulfillment/1\",\"trackingInfoInput\":{\"company\":\"DHL\","
     "\"number\":\"JJD000124\",\"url\":\"https://dhl.example/t/JJD000124\"},\"notifyCustomer\":true}"},
    {"return_state", wb_gql_return_state, "{\"id\":\"gid://shopify/Order/1\"}"},
    {"return_create", wb_gql_return_create,
     "{\"input\":{\"orderId\":\"gid://shopify/Order/1\",\"returnLineItems\":[{\"fulfillmentLineItemId\":"
     "\"gid://shopify/FulfillmentLineItem/1\",\"quantity\":1,\"returnReasonNote\":\"damaged [return R1]\"}]}}"},
    {"return_process", wb_gql_return_process,
     "{\"input\":{\"returnId\":\"gid://shopify/Return/1\",\"returnLineItems\":[{\"id\":\"gid://shopify/ReturnLineItem/1\","
     "\"quantity\":1,\"dispositions\":[{\"reverseFulfillmentOrderLineItemId\":"
     "\"gid://shopify/ReverseFulfillmentOrderLineItem/1\",\"quantity\":1,\"dispositionType\":\"RESTOCKED\","
     "\"locationId\":\"gid://shopify/Location/1\"}]}],\"refundShipping\":{\"fullRefund\":true},"
     "\"financialTransfer\":{\"issueRefund\":{\"orderTransactions\":[{\"parentId\":\"gid://shopify/OrderTransaction/1\","
     "\"transactionAmount\":{\"amount\":\"24.90\",\"currencyCode\":\"EUR\"}}]}},"
     "\"note\":\"Return R1 (damaged) [return R1]\",\"notifyCustomer\":true}}"},
    {"order_close", wb_gql_order_close, "{\"input\":{\"id\":\"gid://shopify/Order/1\"}}"},
    {"order_cancel", wb_gql_order_cancel,
     "{\"orderId\":\"gid://shopify/Order/1\",\"notifyCustomer\":true,\"staffNote\":\"Cancelled by the warehouse\"}"},
    {"order_tags_add", wb_gql_order_tags_add, "{\"id\":\"gid://shopify/Order/1\",\"tags\":[\"wms-cancelled\"]}"},
    {"order_cancelled_state", wb_gql_order_cancelled_state, "{\"id\":\"gid://shopify/Order/1\"}"},
    /* order-ingest */
    {"reconcile_orders", wb_gql_reconcile_orders,
     "{\"first\":8,\"after\":\"eyJsYXN0X2lkIjoxMjN9\",\"query\":\"updated_at:>='2026-11-25T10:00:00Z'\"}"},
    {"reconcile_order_lines", wb_gql_reconcile_order_lines,
     "{\"id\":\"gid://shopify/Order/1\",\"after\":\"eyJsYXN0X2lkIjoxMjN9\"}"},
    {"order_locations", wb_gql_order_locations, "{\"id\":\"gid://shopify/Order/1\"}"},
    {"webhook_subscriptions", wb_gql_webhook_subscriptions, "{\"first\":100,\"after\":null}"},
    {"webhook_subscription_create", wb_gql_webhook_subscription_create,
     "{\"topic\":\"ORDERS_CREATE\",\"webhookSubscription\":{\"uri\":\"https://bridge.example/webhooks/shopify/shop-1\","
     "\"format\":\"JSON\"}}"},
    /* bridgectl */
    {"store_check", wb_gql_store_check, "{}"},
    {"webhook_subscription_delete", wb_gql_webhook_subscription_delete,
     "{\"id\":\"gid://shopify/WebhookSubscription/1\"}"},
};
const int wb_gql_document_count = sizeof wb_gql_documents / sizeof wb_gql_documents[0];
