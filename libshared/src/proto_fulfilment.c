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

/* A shipment line, or a return line when restock is not NULL. */
static int decode_line(wb_pv *v, const cJSON *o, const char *path, char **line_id, char **sku,
                       int64_t *quantity, bool *restock) {
    static const char *const shipment_fields[] = {"line_id", "sku", "quantity", NULL};
    static const char *const return_fields[] = {"line_id", "sku", "quantity", "restock", NULL};
    if (wb_pv_object(v, o, path, restock ? return_fields : shipment_fields) ||
        wb_pv_string(v, o, path, "line_id", WB_PV_REQUIRED, &wb_pv_short, line_id) ||
        wb_pv_string(v, o, path, "sku", WB_PV_REQUIRED, &wb_pv_text, sku) ||
        wb_pv_int(v, o, path, "quantity", WB_PV_REQUIRED, 1, 1000000, quantity) ||
        (restock && wb_pv_bool(v, o, path, "restock", WB_PV_REQUIRED, restock)))
        return -1;
    return 0;
}

static int decode_shipment_lines(wb_pv *v, const cJSON *o, const char *path, wb_shipment *s) {
    const cJSON *item;
    size_t n;
    if (wb_pv_array(v, o, path, "lines", WB_PV_REQUIRED, 1, 1000, &item, &n))
        return -1;
    char p[WB_PV_PATH];
    wb_pv_join(p, path, "lines");
    if (!(s->lines = calloc(n, sizeof *s->lines)))
        return wb_pv_fail(v, p, "out of memory");
    s->n_lines = n;
    for (size_t i = 0; i < n; i++, item = item->next) {
        char ip[WB_PV_PATH];
        wb_shipment_line *l = &s->lines[i];
        wb_pv_index(ip, p, i);
        if (decode_line(v, item, ip, &l->line_id, &l->sku, &l->quantity, NULL))
            return -1;
    }
    return 0;
}

static int decode_return_lines(wb_pv *v, const cJSON *o, const char *path, wb_return *r) {
    const cJSON *item;
    size_t n;
    if (wb_pv_array(v, o, path, "lines", WB_PV_REQUIRED, 1, 1000, &item, &n))
        return -1;
    char p[WB_PV_PATH];
    wb_pv_join(p, path, "lines");
    if (!(r->lines = calloc(n, sizeof *r->lines)))
        return wb_pv_fail(v, p, "out of memory");
    r->n_lines = n;
    for (size_t i = 0; i < n; i++, item = item->next) {
        char ip[WB_PV_PATH];
        wb_return_line *l = &r->lines[i];
        wb_pv_index(ip, p, i);
        if (decode_line(v, item, ip, &l->line_id, &l->sku, &l->quantity, &l->restock))
            return -1;
    }
    return 0;
}

static int decode_shipment(wb_pv *v, const cJSON *o, const char *path, wb_shipment *s) {
    static const char *const fields[] = {"id", "carrier", "tracking_number", "tracking_url",
                                         "lines", NULL};
    if (wb_pv_object(v, o, path, fields) ||
        wb_pv_string(v, o, path, "id", WB_PV_REQUIRED, &wb_pv_short, &s->id) ||
        wb_pv_string(v, o, path, "carrier", WB_PV_REQUIRED, &wb_pv_short, &s->carrier) ||
        wb_pv_string(v, o, path, "tracking_number", 0, &wb_pv_short, &s->tracking_number) ||
        wb_pv_string(v, o, path, "tracking_url", 0, &wb_pv_url, &s->tracking_url) ||
        decode_shipment_lines(v, o, path, s))
        return -1;
    return 0;
}

static int decode_return(wb_pv *v, const cJSON *o, const char *path, wb_return *r) {
    static const char *const fields[] = {"id", "reason_code", "lines", NULL};
    if (wb_pv_object(v, o, path, fields) ||
        wb_pv_string(v, o, path, "id", WB_PV_REQUIRED, &wb_pv_short, &r->id) ||
        wb_pv_string(v, o, path, "reason_code", WB_PV_REQUIRED, &wb_pv_short, &r->reason_code) ||
        decode_return_lines(v, o, path, r))
        return -1;
    return 0;
}

static int decode_shipments(wb_pv *v, const cJSON *root, wb_fulfilment_msg *m) {
    const cJSON *item;
    size_t n;
    if (wb_pv_array(v, root, "", "shipments", 0, 1, 100, &item, &n))
        return -1;
    if (n && !(m->shipments = calloc(n, sizeof *m->shipments)))
        return wb_pv_fail(v, "shipments", "out of memory");
    m->n_shipments = n;
    for (size_t i = 0; i < n; i++, item = item->next) {
        char p[WB_PV_PATH];
        wb_pv_index(p, "shipments", i);
        if (decode_shipment(v, item, p, &m->shipments[i]))
            return -1;
    }
    return 0;
}

static int decode_returns(wb_pv *v, const cJSON *root, wb_fulfilment_msg *m) {
    const cJSON *item;
    size_t n;
    if (wb_pv_array(v, root, "", "returns", 0, 1, 100, &item, &n))
        return -1;
    if (n && !(m->returns = calloc(n, sizeof *m->returns)))
        return wb_pv_fail(v, "returns", "out of memory");
    m->n_returns = n;
    for (size_t i = 0; i < n; i++, item = item->next) {
        char p[WB_PV_PATH];
        wb_pv_index(p, "returns", i);
        if (decode_return(v, item, p, &m->returns[i]))
            return -1;
    }
    return 0;
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
        decode_shipments(v, root, m) || decode_returns(v, root, m))
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

static cJSON *encode_line(const char *line_id, const char *sku, int64_t quantity,
                          const bool *restock) {
    cJSON *o = cJSON_CreateObject();
    if (!o || wb_pv_put_str(o, "line_id", line_id) || wb_pv_put_str(o, "sku", sku) ||
        wb_pv_put_int(o, "quantity", quantity) ||
        (restock && wb_pv_put_bool(o, "restock", *restock))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *encode_shipment(const wb_shipment *s) {
    cJSON *o = cJSON_CreateObject();
    cJSON *lines = cJSON_CreateArray();
    for (size_t i = 0; lines && i < s->n_lines; i++) {
        const wb_shipment_line *l = &s->lines[i];
        if (wb_pv_append(lines, encode_line(l->line_id, l->sku, l->quantity, NULL))) {
            cJSON_Delete(lines);
            lines = NULL;
        }
    }
    if (!o || wb_pv_put_str(o, "id", s->id) || wb_pv_put_str(o, "carrier", s->carrier) ||
        wb_pv_put_str(o, "tracking_number", s->tracking_number) ||
        wb_pv_put_str(o, "tracking_url", s->tracking_url) ||
        wb_pv_put_child(o, "lines", lines)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *encode_return(const wb_return *r) {
    cJSON *o = cJSON_CreateObject();
    cJSON *lines = cJSON_CreateArray();
    for (size_t i = 0; lines && i < r->n_lines; i++) {
        const wb_return_line *l = &r->lines[i];
        if (wb_pv_append(lines, encode_line(l->line_id, l->sku, l->quantity, &l->restock))) {
            cJSON_Delete(lines);
            lines = NULL;
        }
    }
    if (!o || wb_pv_put_str(o, "id", r->id) || wb_pv_put_str(o, "reason_code", r->reason_code) ||
        wb_pv_put_child(o, "lines", lines)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *encode_shipments(const wb_fulfilment_msg *m) {
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < m->n_shipments; i++) {
        if (wb_pv_append(a, encode_shipment(&m->shipments[i]))) {
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

static cJSON *encode_returns(const wb_fulfilment_msg *m) {
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < m->n_returns; i++) {
        if (wb_pv_append(a, encode_return(&m->returns[i]))) {
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

static cJSON *encode_fulfilment(const wb_fulfilment_msg *m) {
    cJSON *o = cJSON_CreateObject();
    if (!o || wb_pv_put_enum(o, "type", types, N_TYPES, (int)m->type) ||
        wb_pv_put_str(o, "store_id", m->store_id) || wb_pv_put_str(o, "order_id", m->order_id) ||
        wb_pv_put_str(o, "occurred_at", m->occurred_at) ||
        (m->n_shipments && wb_pv_put_child(o, "shipments", encode_shipments(m))) ||
        (m->n_returns && wb_pv_put_child(o, "returns", encode_returns(m)))) {
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
