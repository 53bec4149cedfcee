/* wms.stock.v1 (proto/wms.stock.v1.schema.json): decoder, encoder, free. */
#include "wb/proto.h"

#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

static const char *const movements[] = {"receiving", "picking", "adjustment", "transfer",
                                        "count", "return", "reservation", "snapshot", NULL};
#define N_MOVEMENTS 8

const char *wb_movement_name(wb_movement m) {
    return (unsigned)m < N_MOVEMENTS ? movements[m] : "?";
}

static int decode_stock(wb_pv *v, const cJSON *root, void *out) {
    static const char *const fields[] = {"goods_owner", "warehouse", "sku", "on_hand", "reserved",
                                         "version", "movement", "occurred_at", NULL};
    wb_stock_msg *m = out;
    int movement = 0;
    if (wb_pv_object(v, root, "", fields) ||
        wb_pv_string(v, root, "", "goods_owner", WB_PV_REQUIRED, &wb_pv_keypart, &m->goods_owner) ||
        wb_pv_string(v, root, "", "warehouse", WB_PV_REQUIRED, &wb_pv_keypart, &m->warehouse) ||
        wb_pv_string(v, root, "", "sku", WB_PV_REQUIRED, &wb_pv_text, &m->sku) ||
        wb_pv_int(v, root, "", "on_hand", WB_PV_REQUIRED, -WB_PV_INT_MAX, WB_PV_INT_MAX,
                  &m->on_hand) ||
        wb_pv_int(v, root, "", "reserved", WB_PV_REQUIRED, 0, WB_PV_INT_MAX, &m->reserved) ||
        wb_pv_int(v, root, "", "version", WB_PV_REQUIRED, 1, WB_PV_INT_MAX, &m->version) ||
        wb_pv_enum(v, root, "", "movement", WB_PV_REQUIRED, movements, &movement) ||
        wb_pv_string(v, root, "", "occurred_at", WB_PV_REQUIRED, &wb_pv_date_time,
                     &m->occurred_at))
        return -1;
    m->movement = (wb_movement)movement;
    return 0;
}

void wb_stock_msg_free(wb_stock_msg *m) {
    if (!m)
        return;
    free(m->goods_owner);
    free(m->warehouse);
    free(m->sku);
    free(m->occurred_at);
    memset(m, 0, sizeof *m);
}

int wb_stock_msg_decode(const char *json, size_t len, wb_stock_msg *out, char *err,
                        size_t errlen) {
    memset(out, 0, sizeof *out);
    if (wb_pv_decode(json, len, decode_stock, out, err, errlen) == 0)
        return 0;
    wb_stock_msg_free(out);
    return -1;
}

static cJSON *encode_stock(const wb_stock_msg *m) {
    cJSON *o = cJSON_CreateObject();
    if (!o || wb_pv_put_str(o, "goods_owner", m->goods_owner) ||
        wb_pv_put_str(o, "warehouse", m->warehouse) || wb_pv_put_str(o, "sku", m->sku) ||
        wb_pv_put_int(o, "on_hand", m->on_hand) || wb_pv_put_int(o, "reserved", m->reserved) ||
        wb_pv_put_int(o, "version", m->version) ||
        wb_pv_put_enum(o, "movement", movements, N_MOVEMENTS, (int)m->movement) ||
        wb_pv_put_str(o, "occurred_at", m->occurred_at)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static int check_stock(const char *json, size_t len, char *err, size_t errlen) {
    wb_stock_msg tmp;
    int rc = wb_stock_msg_decode(json, len, &tmp, err, errlen);
    wb_stock_msg_free(&tmp);
    return rc;
}

char *wb_stock_msg_encode_err(const wb_stock_msg *m, char *err, size_t errlen) {
    return wb_pv_encode(encode_stock(m), check_stock, err, errlen);
}

char *wb_stock_msg_encode(const wb_stock_msg *m) {
    return wb_stock_msg_encode_err(m, NULL, 0);
}
