/* shop.catalog.v1 (proto/shop.catalog.v1.schema.json): decoder, encoder, free. */
#include "wb/proto.h"

#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

static const char *const weight_units[] = {"g", "kg", "oz", "lb", NULL};
static const char *const length_units[] = {"mm", "cm", "m", "in", NULL};
static const char *const removed_reasons[] = {"deleted", "unpublished", NULL};

/* ---------------------------------------------------------------- decoding */

/* Units stay strings in the struct (they are only passed on), so the enum
 * index is checked and then the name copied. */
static int decode_unit(wb_pv *v, const cJSON *o, const char *path, const char *const units[],
                       char **out) {
    int unit = 0;
    if (wb_pv_enum(v, o, path, "unit", WB_PV_REQUIRED, units, &unit))
        return -1;
    if (!(*out = strdup(units[unit])))
        return wb_pv_fail(v, path, "out of memory");
    return 0;
}

static int decode_weight(wb_pv *v, const cJSON *o, const char *path, wb_catalog_msg *m) {
    static const char *const fields[] = {"value", "unit", NULL};
    if (wb_pv_object(v, o, path, fields) ||
        wb_pv_string(v, o, path, "value", WB_PV_REQUIRED, &wb_pv_decimal, &m->weight.value) ||
        decode_unit(v, o, path, weight_units, &m->weight.unit))
        return -1;
    return 0;
}

static int decode_dimensions(wb_pv *v, const cJSON *o, const char *path, wb_catalog_msg *m) {
    static const char *const fields[] = {"length", "width", "height", "unit", NULL};
    if (wb_pv_object(v, o, path, fields) ||
        wb_pv_string(v, o, path, "length", WB_PV_REQUIRED, &wb_pv_decimal, &m->dimensions.length) ||
        wb_pv_string(v, o, path, "width", WB_PV_REQUIRED, &wb_pv_decimal, &m->dimensions.width) ||
        wb_pv_string(v, o, path, "height", WB_PV_REQUIRED, &wb_pv_decimal, &m->dimensions.height) ||
        decode_unit(v, o, path, length_units, &m->dimensions.unit))
        return -1;
    return 0;
}

static int decode_category(wb_pv *v, const cJSON *node, const char *path, void *item) {
    return wb_pv_string_node(v, node, path, &wb_pv_text, item);
}

static int decode_categories(wb_pv *v, const cJSON *root, wb_catalog_msg *m) {
    void *categories = NULL;
    int rc = wb_pv_list(v, root, "", "categories", 0, 1, 50, sizeof *m->categories,
                        decode_category, &categories, &m->n_categories);
    m->categories = categories;
    return rc;
}

static int decode_measures(wb_pv *v, const cJSON *root, wb_catalog_msg *m) {
    char p[WB_PV_PATH];
    const cJSON *node;
    if (wb_pv_field(v, root, "", "weight", 0, p, &node) || (node && decode_weight(v, node, p, m)) ||
        wb_pv_field(v, root, "", "dimensions", 0, p, &node) ||
        (node && decode_dimensions(v, node, p, m)))
        return -1;
    return 0;
}

static int decode_catalog(wb_pv *v, const cJSON *root, void *out) {
    static const char *const fields[] = {
        "store_id", "platform", "sku", "name", "product_id", "variant_id", "barcode", "unit",
        "categories", "is_stock_article", "weight", "dimensions", "updated_at", "removed", NULL};
    wb_catalog_msg *m = out;
    int platform = 0, removed = -1;
    if (wb_pv_object(v, root, "", fields) ||
        wb_pv_string(v, root, "", "store_id", WB_PV_REQUIRED, &wb_pv_keypart, &m->store_id) ||
        wb_pv_enum(v, root, "", "platform", WB_PV_REQUIRED, wb_pv_platforms, &platform) ||
        wb_pv_string(v, root, "", "sku", WB_PV_REQUIRED, &wb_pv_text, &m->sku) ||
        wb_pv_string(v, root, "", "name", WB_PV_REQUIRED, &wb_pv_text, &m->name) ||
        wb_pv_string(v, root, "", "product_id", WB_PV_REQUIRED, &wb_pv_short, &m->product_id) ||
        wb_pv_string(v, root, "", "variant_id", 0, &wb_pv_short, &m->variant_id) ||
        wb_pv_string(v, root, "", "barcode", 0, &wb_pv_short, &m->barcode) ||
        wb_pv_string(v, root, "", "unit", 0, &wb_pv_short, &m->unit) ||
        decode_categories(v, root, m) ||
        wb_pv_bool(v, root, "", "is_stock_article", WB_PV_REQUIRED, &m->is_stock_article) ||
        decode_measures(v, root, m) ||
        wb_pv_string(v, root, "", "updated_at", WB_PV_REQUIRED, &wb_pv_date_time, &m->updated_at) ||
        wb_pv_enum(v, root, "", "removed", 0, removed_reasons, &removed))
        return -1;
    if (removed >= 0 && !(m->removed = strdup(removed_reasons[removed])))
        return wb_pv_fail(v, "removed", "out of memory");
    m->platform = (wb_platform)platform;
    return 0;
}

void wb_catalog_msg_free(wb_catalog_msg *m) {
    if (!m)
        return;
    for (size_t i = 0; i < m->n_categories; i++)
        free(m->categories[i]);
    free(m->categories);
    free(m->store_id);
    free(m->sku);
    free(m->name);
    free(m->product_id);
    free(m->variant_id);
    free(m->barcode);
    free(m->unit);
    free(m->weight.value);
    free(m->weight.unit);
    free(m->dimensions.length);
    free(m->dimensions.width);
    free(m->dimensions.height);
    free(m->dimensions.unit);
    free(m->updated_at);
    free(m->removed);
    memset(m, 0, sizeof *m);
}

int wb_catalog_msg_decode(const char *json, size_t len, wb_catalog_msg *out, char *err,
                          size_t errlen) {
    memset(out, 0, sizeof *out);
    if (wb_pv_decode(json, len, decode_catalog, out, err, errlen) == 0)
        return 0;
    wb_catalog_msg_free(out);
    return -1;
}

/* ---------------------------------------------------------------- encoding */

static cJSON *encode_weight(const wb_catalog_msg *m) {
    cJSON *o = cJSON_CreateObject();
    if (!o || wb_pv_put_str(o, "value", m->weight.value) ||
        wb_pv_put_str(o, "unit", m->weight.unit)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *encode_dimensions(const wb_catalog_msg *m) {
    cJSON *o = cJSON_CreateObject();
    if (!o || wb_pv_put_str(o, "length", m->dimensions.length) ||
        wb_pv_put_str(o, "width", m->dimensions.width) ||
        wb_pv_put_str(o, "height", m->dimensions.height) ||
        wb_pv_put_str(o, "unit", m->dimensions.unit)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* A NULL category goes out as "", which the check then names. */
static cJSON *encode_category(const void *item) {
    const char *const *name = item;
    return cJSON_CreateString(*name ? *name : "");
}

static bool has_weight(const wb_catalog_msg *m) { return m->weight.value || m->weight.unit; }

static bool has_dimensions(const wb_catalog_msg *m) {
    return m->dimensions.length || m->dimensions.width || m->dimensions.height ||
           m->dimensions.unit;
}

static cJSON *encode_catalog(const wb_catalog_msg *m) {
    cJSON *o = cJSON_CreateObject();
    if (!o || wb_pv_put_str(o, "store_id", m->store_id) ||
        wb_pv_put_enum(o, "platform", wb_pv_platforms, 2, (int)m->platform) ||
        wb_pv_put_str(o, "sku", m->sku) || wb_pv_put_str(o, "name", m->name) ||
        wb_pv_put_str(o, "product_id", m->product_id) ||
        wb_pv_put_str(o, "variant_id", m->variant_id) ||
        wb_pv_put_str(o, "barcode", m->barcode) || wb_pv_put_str(o, "unit", m->unit) ||
        (m->n_categories && wb_pv_put_child(o, "categories", wb_pv_encode_list(m->categories, m->n_categories,
                                                            sizeof *m->categories,
                                                            encode_category))) ||
        wb_pv_put_bool(o, "is_stock_article", m->is_stock_article) ||
        (has_weight(m) && wb_pv_put_child(o, "weight", encode_weight(m))) ||
        (has_dimensions(m) && wb_pv_put_child(o, "dimensions", encode_dimensions(m))) ||
        wb_pv_put_str(o, "updated_at", m->updated_at) || wb_pv_put_str(o, "removed", m->removed)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static int check_catalog(const char *json, size_t len, char *err, size_t errlen) {
    wb_catalog_msg tmp;
    int rc = wb_catalog_msg_decode(json, len, &tmp, err, errlen);
    wb_catalog_msg_free(&tmp);
    return rc;
}

char *wb_catalog_msg_encode_err(const wb_catalog_msg *m, char *err, size_t errlen) {
    return wb_pv_encode(encode_catalog(m), check_catalog, err, errlen);
}

char *wb_catalog_msg_encode(const wb_catalog_msg *m) {
    return wb_catalog_msg_encode_err(m, NULL, 0);
}
