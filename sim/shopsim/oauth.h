/* Shopify's authorization code grant, as a shop serves it:
 *   GET  /admin/oauth/authorize      the merchant approves at once: 302 to
 *                                    redirect_uri with code, hmac, host,
 *                                    shop, state, timestamp
 *   POST /admin/oauth/access_token   {client_id, client_secret, code} ->
 *                                    {access_token, scope}
 * See docs/shopsim.md. */
#ifndef SHOPSIM_OAUTH_H
#define SHOPSIM_OAUTH_H
#include <stdbool.h>

#include "http.h"
#include "store.h"

/* True when the request was an OAuth one and is answered. */
bool oauth_handle(store_t *s, http_request *req, http_reply *rep);
void oauth_codes_free(store_t *s);
#endif
