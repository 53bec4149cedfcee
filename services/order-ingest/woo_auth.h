/* order-ingest receives the keys of WooCommerce's key-granting flow
 * (/wc-auth/v1/authorize posts them to callback_url) that `bridgectl store
 * add --platform woocommerce --authorize` starts: POST
 * /woocommerce/auth/callback. */
#ifndef OI_WOO_AUTH_H
#define OI_WOO_AUTH_H

#include "ingest.h"
#include "wb/http.h"

void oi_woo_auth_add_routes(wb_http_server *http, oi_ctx *ctx);

#endif
