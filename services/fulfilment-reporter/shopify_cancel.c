/* Shopify: a WMS cancellation reported per store setting. "cancel" is
 * orderCancel (reason OTHER, restock, refund to the original payment, the
 * customer told per notify_customer): the warehouse will not ship, so the
 * order is over and the customer gets the money back, as when the merchant
 * cancels in the admin. "note" tags the order `wms-cancelled` for the merchant
 * to decide: Shopify has no API for a timeline comment, and the order's note
 * field is the customer's. Both are read first (cancelledAt, tags), so a
 * redelivery changes nothing. */
#include <stdio.h>
#include <string.h>

#include "gql.h"
#include "shopify.h"
#include "wb/log.h"

#define FR_CANCEL_TAG "wms-cancelled"

fr_outcome fr_shopify_cancel(sh_ctx *c, const char *mode) {
    const wb_fulfilment_msg *m = c->m;
    char gid[128];
    snprintf(gid, sizeof gid, "gid://shopify/Order/%s", m->order_id);
    cJSON *vars = cJSON_CreateObject();
    cJSON_AddStringToObject(vars, "id", gid);
    cJSON *doc;
    fr_outcome bad = FR_RETRY;
    int rc = sh_run(c, wb_gql_order_cancelled_state, vars, 0, &doc, &bad);
    cJSON_Delete(vars);
    if (rc != 0) return bad;
    const cJSON *order = sh_path_get(doc, "data", "order", NULL);
    if (!cJSON_IsObject(order)) {
        cJSON_Delete(doc);
        snprintf(c->why, c->whylen, "order %s not found in the shop", m->order_id);
        return FR_FAIL;
    }
    bool cancel = strcmp(mode, "cancel") == 0;
    bool done = cancel ? cJSON_IsString(cJSON_GetObjectItemCaseSensitive(order, "cancelledAt")) : false;
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(order, "tags"))
        if (!cancel && cJSON_IsString(t) && strcmp(t->valuestring, FR_CANCEL_TAG) == 0) done = true;
    cJSON_Delete(doc);
    if (done) {
        wb_info(m->store_id, "order %s: %s in the shop already", m->order_id, cancel ? "cancelled" : "tagged");
        return FR_DONE;
    }
    vars = cJSON_CreateObject();
    const char *payload_name, *errors_name;
    if (cancel) {
        cJSON_AddStringToObject(vars, "orderId", gid);
        cJSON_AddBoolToObject(vars, "notifyCustomer", c->notify);
        cJSON_AddStringToObject(vars, "staffNote", "Cancelled by the warehouse (wmsbridge)");
        rc = sh_run(c, wb_gql_order_cancel, vars, 10, &doc, &bad);
        payload_name = "orderCancel", errors_name = "orderCancelUserErrors";
    } else {
        cJSON_AddStringToObject(vars, "id", gid);
        cJSON_AddItemToArray(cJSON_AddArrayToObject(vars, "tags"), cJSON_CreateString(FR_CANCEL_TAG));
        rc = sh_run(c, wb_gql_order_tags_add, vars, 10, &doc, &bad);
        payload_name = "tagsAdd", errors_name = "userErrors";
    }
    cJSON_Delete(vars);
    if (rc != 0) return bad;
    fr_after_send(c->r);
    const cJSON *errs = sh_path_get(doc, "data", payload_name, errors_name);
    fr_outcome out = FR_DONE;
    if (cJSON_GetArraySize(errs) > 0) {
        char *txt = cJSON_PrintUnformatted(errs);
        snprintf(c->why, c->whylen, "shopify %s: %.300s", payload_name, txt ? txt : "?");
        cJSON_free(txt);
        out = FR_FAIL;
    } else {
        wb_info(m->store_id, "order %s: WMS cancellation reported (%s)", m->order_id, cancel ? "orderCancel" : "tag");
    }
    cJSON_Delete(doc);
    return out;
}
