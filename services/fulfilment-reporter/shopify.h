/* The Shopify side of the fulfilment path, shared by shopify.c (fulfilments,
 * tracking) and shopify_return.c (returns, closing): one event's context and
 * the call helpers. */
#ifndef FR_SHOPIFY_H
#define FR_SHOPIFY_H

#include <cjson/cJSON.h>
#include "reporter.h"

typedef struct sh_ctx {
    reporter *r;
    const wb_store *store;
    wb_shopify *shop;
    const wb_fulfilment_msg *m;
    char *why;
    size_t whylen;
    bool notify;
    bool auto_close;
} sh_ctx;

const cJSON *sh_path_get(const cJSON *o, const char *a, const char *b, const char *c);
const char *sh_jstr(const cJSON *o, const char *name);
/* "gid://shopify/LineItem/12" -> "12" ("" for NULL). */
const char *sh_gid_tail(const char *gid);
/* Runs a document; 0 with *doc holding data, or -1 with why and *bad (a
 * transport error or top-level errors: FR_RETRY). */
int sh_run(sh_ctx *c, const char *document, const cJSON *vars, double cost, cJSON **doc, fr_outcome *bad);
/* The order read through `document` (a query taking $id), or NULL with why. */
cJSON *sh_read_order(sh_ctx *c, const char *document, fr_outcome *bad);
/* -1 with why when the payload has userErrors, else 0. */
int sh_user_errors(sh_ctx *c, const cJSON *payload);

/* `cancelled` (shopify_cancel.c): mode "cancel" (orderCancel) or "note" (a tag). */
fr_outcome fr_shopify_cancel(sh_ctx *c, const char *mode);
/* `returned` (shopify_return.c). */
fr_outcome fr_shopify_returns(sh_ctx *c);
/* orderClose when the store enables it and `order` (with closed,
 * displayFulfillmentStatus, displayFinancialStatus) is done; FR_DONE when
 * nothing is to be done. */
fr_outcome fr_shopify_maybe_close(sh_ctx *c, const cJSON *order);

#endif
