/* order-ingest serves the end of a Shopify install: the OAuth callback
 * (authorization code grant) that `bridgectl store add --platform shopify
 * --shop NAME.myshopify.com` starts. It reads WB_SHOPIFY_CLIENT_ID and
 * WB_SHOPIFY_CLIENT_SECRET (the app's credentials; both or neither) and
 * WB_CATALOG_PUBLIC_URL (where catalog-ingest's product webhooks go). */
#ifndef OI_OAUTH_H
#define OI_OAUTH_H

#include "ingest.h"
#include "wb/config.h"
#include "wb/http.h"

void oi_oauth_config_read(wb_env *env);
/* GET /shopify/oauth/callback; uses ctx's PostgreSQL pool. */
void oi_oauth_add_routes(wb_http_server *http, oi_ctx *ctx);

#endif
