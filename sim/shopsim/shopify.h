/* Shopify Admin GraphQL API 2026-07 for one store:
 * POST /<store>/admin/api/2026-07/graphql.json */
#ifndef SHOPSIM_SHOPIFY_H
#define SHOPSIM_SHOPIFY_H
#include "http.h"
#include "store.h"

#define SHOPIFY_API_VERSION "2026-07"

void shopify_handle(store_t *s, http_request *req, http_reply *rep);
#endif
