/* wms.fulfilment.v1 (proto/wms.fulfilment.v1.schema.json): decoder, encoder, free. */
#include "wb/proto.h"

#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

static const char *const types[] = {"accepted", "picking_started", "packed", "dispatched",
                                    "tracking_updated", "returned", "cancelled", NULL};
#define N_TYPES 7

const char *wb_fulfilment_type_name(wb_fulfilment_type t) {
    return (unsigned)t < N_TYPES ? types[t] : "?";
}

/* ---------------------------------------------------------------- decoding */

static int decode_shipment_line(wb_pv *v, const cJSON *o, const char *path, void *item) {
    static const char *const fields[] = {"line_id", "sku", "quantity", NULL};
    wb_shipment_line *l = item;
    if (wb_pv_object(v, o, path, fields) ||
        wb_pv_string(v, o, path, "line_id", WB_PV_REQUIRED, &wb_pv_short, &l->line_id) ||
        wb_pv_string(v, o, path, "sku", WB_PV_REQUIRED, &wb_pv_text, &l->sku) ||
        wb_pv_int(v, o, path, "quantity", WB_PV_REQUIRED, 1, 1000000, &l->quantity))
        return -1;
    return 0;
}

static int decode_return_line(wb_pv *v, const cJSON *o, const char *path, void *item) {
    static const char *const fields[] = {"line_id", "sku", "quantity", "restock", NULL};
    wb_return_line *l = item;
    if (wb_pv_object(v, o, path, fields) ||
        wb_pv_string(v, o, path, "line_id", WB_PV_REQUIRED, &wb_pv_short, &l->line_id) ||
        wb_pv_string(v, o, path, "sku", WB_PV_REQUIRED, &wb_pv_text, &l->sku) ||
        wb_pv_int(v, o, path, "quantity", WB_PV_REQUIRED, 1, 1000000, &l->quantity) ||
        wb_pv_bool(v, o, path, "restock", WB_PV_REQUIRED, &l->restock))
        return -1;
    return 0;
}

static int decode_shipment(wb_pv *v, const cJSON *o, const char *path, void *item) {
    static const char *const fields[] = {"id", "carrier", "tracking_number", "tracking_url",
                                         "lines", NULL};
    wb_shipment *s = item;
    void *lines = NULL;
    int rc = wb_pv_object(v, o, path, fields) ||
             wb_pv_string(v, o, path, "id", WB_PV_REQUIRED, &wb_pv_short, &s->id) ||
             wb_pv_string(v, o, path, "carrier", WB_PV_REQUIRED, &wb_pv_short, &s->carrier) ||
             wb_pv_string(v, o, path, "tracking_number", 0, &wb_pv_short, &s->tracking_number) ||
             wb_pv_string(v, o, path, "tracking_url", 0, &wb_pv_url, &s->tracking_url) ||
             wb_pv_list(v, o, path, "lines", WB_PV_REQUIRED, 1, 1000, sizeof *s->lines,
                        decode_shipment_line, &lines, &s->n_lines);
    s->lines = lines;
    return rc ? -1 : 0;
}

static int decode_return(wb_pv *v, const cJSON *o, const char *path, void *item) {
    static const char *const fields[] = {"id", "reason_code", "lines", NULL};
    wb_return *r = item;
    void *lines = NULL;
    int rc = wb_pv_object(v, o, path, fields) ||
             wb_pv_string(v, o, path, "id", WB_PV_REQUIRED, &wb_pv_short, &r->id) ||
             wb_pv_string(v, o, path, "reason_code", WB_PV_REQUIRED, &wb_pv_short,
                          &r->reason_code) ||
             wb_pv_list(v, o, path, "lines", WB_PV_REQUIRED, 1, 1000, sizeof *r->lines,
                        decode_return_line, &lines, &r->n_lines);
    r->lines = lines;
    return rc ? -1 : 0;
}

static int decode_lists(wb_pv *v, const cJSON *root, wb_fulfilment_msg *m) {
    void *shipments = NULL, *returns = NULL;
    int rc = wb_pv_list(v, root, "", "shipments", 0, 1, 100, sizeof *m->shipments,
                        decode_shipment, &shipments, &m->n_shipments);
    m->shipments = shipments;
    if (rc)
        return -1;
    rc = wb_pv_list(v, root, "", "returns", 0, 1, 100, sizeof *m->returns, decode_return,
                    &returns, &m->n_returns);
    m->returns = returns;
    return rc;
}

/* What the shop is told needs something to tell: a dispatch or a tracking
 * update needs its shipments, a return its returns. */
static int check_type_needs(wb_pv *v, const cJSON *root, const wb_fulfilment_msg *m) {
    if (m->type == WB_FULFILMENT_DISPATCHED)
        return wb_pv_needs(v, root, "", "shipments", "when type is dispatched");
    if (m->type == WB_FULFILMENT_TRACKING_UPDATED)
        return wb_pv_needs(v, root, "", "shipments", "when type is tracking_updated");
    if (m->type == WB_FULFILMENT_RETURNED)
        return wb_pv_needs(v, root, "", "returns", "when type is returned");
    return 0;
}

static int decode_fulfilment(wb_pv *v, const cJSON *root, void *out) {
    static const char *const fields[] = {"type", "store_id", "order_id", "occurred_at",
                                         "shipments", "returns", NULL};
    wb_fulfilment_msg *m = out;
    int type = 0;
    if (wb_pv_object(v, root, "", fields) ||
        wb_pv_enum(v, root, "", "type", WB_PV_REQUIRED, types, &type) ||
        wb_pv_string(v, root, "", "store_id", WB_PV_REQUIRED, &wb_pv_keypart, &m->store_id) ||
        wb_pv_string(v, root, "", "order_id", WB_PV_REQUIRED, &wb_pv_short, &m->order_id) ||
        wb_pv_string(v, root, "", "occurred_at", WB_PV_REQUIRED, &wb_pv_date_time,
                     &m->occurred_at) ||
        decode_lists(v, root, m))
        return -1;
    m->type = (wb_fulfilment_type)type;
    return check_type_needs(v, root, m);
}

void wb_fulfilment_msg_free(wb_fulfilment_msg *m) {
    if (!m)
        return;
    for (size_t i = 0; i < m->n_shipments; i++) {
        wb_shipment *s = &m->shipments[i];
        for (size_t j = 0; j < s->n_lines; j++) {
            free(s->lines[j].line_id);
            free(s->lines[j].sku);
        }
        free(s->lines);
        free(s->id);
        free(s->carrier);
        free(s->tracking_number);
        free(s->tracking_url);
    }
    for (size_t i = 0; i < m->n_returns; i++) {
        wb_return *r = &m->returns[i];
        for (size_t j = 0; j < r->n_lines; j++) {
            free(r->lines[j].line_id);
            free(r->lines[j].sku);
        }
        free(r->lines);
        free(r->id);
        free(r->reason_code);
    }
    free(m->shipments);
    free(m->returns);
    free(m->store_id);
    free(m->order_id);
    free(m->occurred_at);
    memset(m, 0, sizeof *m);
}

int wb_fulfilment_msg_decode(const char *json, size_t len, wb_fulfilment_msg *out, char *err,
                             size_t errlen) {
    memset(out, 0, sizeof *out);
    if (wb_pv_decode(json, len, decode_fulfilment, out, err, errlen) == 0)
        return 0;
    wb_fulfilment_msg_free(out);
    return -1;
}

/* ---------------------------------------------------------------- encoding */

static cJSON *encode_shipment_line(const void *item) {
    const wb_shipment_line *l = item;
    cJSON *o = cJSON_CreateObject();
    if (!o || wb_pv_put_str(o, "line_id", l->line_id) || wb_pv_put_str(o, "sku", l->sku) ||
        wb_pv_put_int(o, "quantity", l->quantity)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *encode_return_line(const void *item) {
    const wb_return_line *l = item;
    cJSON *o = cJSON_CreateObject();
    if (!o || wb_pv_put_str(o, "line_id", l->line_id) || wb_pv_put_str(o, "sku", l->sku) ||
        wb_pv_put_int(o, "quantity", l->quantity) || wb_pv_put_bool(o, "restock", l->restock)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *encode_shipment(const void *item) {
    const wb_shipment *s = item;
    cJSON *o = cJSON_CreateObject();
    if (!o || wb_pv_put_str(o, "id", s->id) || wb_pv_put_str(o, "carrier", s->carrier) ||
        wb_pv_put_str(o, "tracking_number", s->tracking_number) ||
        wb_pv_put_str(o, "tracking_url", s->tracking_url) ||
        wb_pv_put_child(o, "lines", wb_pv_encode_list(s->lines, s->n_lines, sizeof *s->lines,
                                                      encode_shipment_line))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *encode_return(const void *item) {
    const wb_return *r = item;
    cJSON *o = cJSON_CreateObject();
    if (!o || wb_pv_put_str(o, "id", r->id) || wb_pv_put_str(o, "reason_code", r->reason_code) ||
        wb_pv_put_child(o, "lines", wb_pv_encode_list(r->lines, r->n_lines, sizeof *r->lines,
                                                      encode_return_line))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *encode_fulfilment(const wb_fulfilment_msg *m) {
    cJSON *o = cJSON_CreateObject();
    if (!o || wb_pv_put_enum(o, "type", types, N_TYPES, (int)m->type) ||
        wb_pv_put_str(o, "store_id", m->store_id) || wb_pv_put_str(o, "order_id", m->order_id) ||
        wb_pv_put_str(o, "occurred_at", m->occurred_at) ||
        (m->n_shipments &&
         wb_pv_put_child(o, "shipments", wb_pv_encode_list(m->shipments, m->n_shipments,
                                                           sizeof *m->shipments, encode_shipment))) ||
        (m->n_returns &&
         wb_pv_put_child(o, "returns", wb_pv_encode_list(m->returns, m->n_returns,
                                                         sizeof *m->returns, encode_return)))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static int check_fulfilment(const char *json, size_t len, char *err, size_t errlen) {
    wb_fulfilment_msg tmp;
    int rc = wb_fulfilment_msg_decode(json, len, &tmp, err, errlen);
    wb_fulfilment_msg_free(&tmp);
    return rc;
}

char *wb_fulfilment_msg_encode_err(const wb_fulfilment_msg *m, char *err, size_t errlen) {
    return wb_pv_encode(encode_fulfilment(m), check_fulfilment, err, errlen);
}

char *wb_fulfilment_msg_encode(const wb_fulfilment_msg *m) {
    return wb_fulfilment_msg_encode_err(m, NULL, 0);
}
