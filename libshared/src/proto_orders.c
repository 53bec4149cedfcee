/* shop.orders.v1 (proto/shop.orders.v1.schema.json): decoder, encoder, free,
 * and the deterministic event id. */
#include "wb/proto.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include <openssl/evp.h>

static const char *const order_types[] = {"created", "updated", "cancelled", NULL};

const char *wb_order_type_name(wb_order_type t) {
    return (unsigned)t < 3 ? order_types[t] : "?";
}

/* SHA-256 fetched once: EVP_sha256() in a digest init looks the algorithm
 * up in OpenSSL 3's provider store on every call, which cost several times
 * the digest of a few bytes. NULL when it cannot be fetched (then looked up
 * per call, as before). */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static void sha256_fetch(void) { sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL); }

void wb_order_event_id(const char *store_id, const char *order_id, int64_t version,
                       char out[65]) {
    static const char hex[] = "0123456789abcdef";
    char ver[24];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    snprintf(ver, sizeof ver, "%" PRId64, version);
    out[0] = '\0';
    pthread_once(&sha256_once, sha256_fetch);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx && EVP_DigestInit_ex(ctx, sha256_md ? sha256_md : EVP_sha256(), NULL) &&
        EVP_DigestUpdate(ctx, store_id, strlen(store_id)) && EVP_DigestUpdate(ctx, "\n", 1) &&
        EVP_DigestUpdate(ctx, order_id, strlen(order_id)) && EVP_DigestUpdate(ctx, "\n", 1) &&
        EVP_DigestUpdate(ctx, ver, strlen(ver)) && EVP_DigestFinal_ex(ctx, md, &md_len)) {
        unsigned int i = 0;
        for (; i < md_len && i < 32; i++) {
            out[2 * i] = hex[md[i] >> 4];
            out[2 * i + 1] = hex[md[i] & 15];
        }
        out[2 * i] = '\0';
    }
    EVP_MD_CTX_free(ctx);
}

/* ---------------------------------------------------------------- decoding */

/* The delivery (customer) address must be shippable; the invoice address may
 * be as thin as a name and a country. */
static int decode_address(wb_pv *v, const cJSON *o, const char *path, bool delivery,
                          wb_address *a) {
    static const char *const fields[] = {"name", "contact", "address1", "address2", "postcode",
                                         "city", "state", "country_code", "email", "phone", NULL};
    int street = delivery ? WB_PV_REQUIRED : WB_PV_OPTIONAL;
    if (wb_pv_object(v, o, path, fields) ||
        wb_pv_string(v, o, path, "name", WB_PV_REQUIRED, &wb_pv_text, &a->name) ||
        wb_pv_string(v, o, path, "contact", 0, &wb_pv_text, &a->contact) ||
        wb_pv_string(v, o, path, "address1", street, &wb_pv_text, &a->address1) ||
        wb_pv_string(v, o, path, "address2", 0, &wb_pv_text, &a->address2) ||
        wb_pv_string(v, o, path, "postcode", 0, &wb_pv_short, &a->postcode) ||
        wb_pv_string(v, o, path, "city", street, &wb_pv_text, &a->city) ||
        wb_pv_string(v, o, path, "state", 0, &wb_pv_text, &a->state) ||
        wb_pv_string(v, o, path, "country_code", WB_PV_REQUIRED, &wb_pv_country, &a->country_code) ||
        wb_pv_string(v, o, path, "email", 0, &wb_pv_email, &a->email) ||
        wb_pv_string(v, o, path, "phone", 0, &wb_pv_short, &a->phone))
        return -1;
    return 0;
}

static int decode_delivery(wb_pv *v, const cJSON *o, const char *path, wb_order_msg *m) {
    static const char *const fields[] = {"code", "name", NULL};
    if (wb_pv_object(v, o, path, fields) ||
        wb_pv_string(v, o, path, "code", WB_PV_REQUIRED, &wb_pv_short, &m->delivery_method.code) ||
        wb_pv_string(v, o, path, "name", WB_PV_REQUIRED, &wb_pv_text, &m->delivery_method.name))
        return -1;
    return 0;
}

static int decode_notification(wb_pv *v, const cJSON *o, const char *path, wb_order_msg *m) {
    static const char *const fields[] = {"email", "mobile", "by_email", "by_sms", NULL};
    if (wb_pv_object(v, o, path, fields) ||
        wb_pv_string(v, o, path, "email", 0, &wb_pv_email, &m->notification.email) ||
        wb_pv_string(v, o, path, "mobile", 0, &wb_pv_short, &m->notification.mobile) ||
        wb_pv_bool(v, o, path, "by_email", WB_PV_REQUIRED, &m->notification.by_email) ||
        wb_pv_bool(v, o, path, "by_sms", WB_PV_REQUIRED, &m->notification.by_sms))
        return -1;
    /* A flag without the contact to use would be a promise nobody can keep. */
    if (m->notification.by_email &&
        wb_pv_needs(v, o, path, "email", "when by_email is true"))
        return -1;
    if (m->notification.by_sms && wb_pv_needs(v, o, path, "mobile", "when by_sms is true"))
        return -1;
    return 0;
}

static int decode_line(wb_pv *v, const cJSON *o, const char *path, void *item) {
    static const char *const fields[] = {"line_id", "sku", "name", "quantity",
                                         "unit_price", "line_total", NULL};
    wb_order_line *l = item;
    if (wb_pv_object(v, o, path, fields) ||
        wb_pv_string(v, o, path, "line_id", WB_PV_REQUIRED, &wb_pv_short, &l->line_id) ||
        wb_pv_string(v, o, path, "sku", WB_PV_REQUIRED, &wb_pv_text, &l->sku) ||
        wb_pv_string(v, o, path, "name", WB_PV_REQUIRED, &wb_pv_text, &l->name) ||
        wb_pv_int(v, o, path, "quantity", WB_PV_REQUIRED, 1, 1000000, &l->quantity) ||
        wb_pv_string(v, o, path, "unit_price", WB_PV_REQUIRED, &wb_pv_decimal, &l->unit_price) ||
        wb_pv_string(v, o, path, "line_total", WB_PV_REQUIRED, &wb_pv_decimal, &l->line_total))
        return -1;
    return 0;
}

static int decode_lines(wb_pv *v, const cJSON *root, wb_order_msg *m) {
    void *lines = NULL;
    int rc = wb_pv_list(v, root, "", "lines", WB_PV_REQUIRED, 1, 1000, sizeof *m->lines,
                        decode_line, &lines, &m->n_lines);
    m->lines = lines;
    return rc;
}

/* The nested objects: customer, invoice, notification, delivery_method. */
static int decode_parts(wb_pv *v, const cJSON *root, wb_order_msg *m) {
    char p[WB_PV_PATH];
    const cJSON *node;
    if (wb_pv_field(v, root, "", "delivery_method", 0, p, &node) ||
        (node && decode_delivery(v, node, p, m)) ||
        wb_pv_field(v, root, "", "customer", WB_PV_REQUIRED, p, &node) ||
        decode_address(v, node, p, true, &m->customer) ||
        wb_pv_field(v, root, "", "invoice", WB_PV_REQUIRED, p, &node) ||
        decode_address(v, node, p, false, &m->invoice) ||
        wb_pv_field(v, root, "", "notification", WB_PV_REQUIRED, p, &node) ||
        decode_notification(v, node, p, m))
        return -1;
    return 0;
}

static int decode_order(wb_pv *v, const cJSON *root, void *out) {
    static const char *const fields[] = {
        "event_id", "type", "store_id", "platform", "order_id", "order_number", "version",
        "created_at", "currency", "delivery_method", "remark", "warehouse", "customer", "invoice",
        "notification", "lines", NULL};
    wb_order_msg *m = out;
    int type = 0, platform = 0;
    if (wb_pv_object(v, root, "", fields) ||
        wb_pv_string(v, root, "", "event_id", WB_PV_REQUIRED, &wb_pv_hex64, &m->event_id) ||
        wb_pv_enum(v, root, "", "type", WB_PV_REQUIRED, order_types, &type) ||
        wb_pv_string(v, root, "", "store_id", WB_PV_REQUIRED, &wb_pv_keypart, &m->store_id) ||
        wb_pv_enum(v, root, "", "platform", WB_PV_REQUIRED, wb_pv_platforms, &platform) ||
        wb_pv_string(v, root, "", "order_id", WB_PV_REQUIRED, &wb_pv_short, &m->order_id) ||
        wb_pv_string(v, root, "", "order_number", WB_PV_REQUIRED, &wb_pv_short, &m->order_number) ||
        wb_pv_int(v, root, "", "version", WB_PV_REQUIRED, 1, WB_PV_INT_MAX, &m->version) ||
        wb_pv_string(v, root, "", "created_at", WB_PV_REQUIRED, &wb_pv_date_time, &m->created_at) ||
        wb_pv_string(v, root, "", "currency", WB_PV_REQUIRED, &wb_pv_currency, &m->currency) ||
        wb_pv_string(v, root, "", "remark", 0, &wb_pv_long, &m->remark) ||
        wb_pv_string(v, root, "", "warehouse", 0, &wb_pv_keypart, &m->warehouse) ||
        decode_parts(v, root, m) || decode_lines(v, root, m))
        return -1;
    m->type = (wb_order_type)type;
    m->platform = (wb_platform)platform;
    return 0;
}

static void free_address(wb_address *a) {
    free(a->name);
    free(a->contact);
    free(a->address1);
    free(a->address2);
    free(a->postcode);
    free(a->city);
    free(a->state);
    free(a->country_code);
    free(a->email);
    free(a->phone);
}

void wb_order_msg_free(wb_order_msg *m) {
    if (!m)
        return;
    for (size_t i = 0; i < m->n_lines; i++) {
        wb_order_line *l = &m->lines[i];
        free(l->line_id);
        free(l->sku);
        free(l->name);
        free(l->unit_price);
        free(l->line_total);
    }
    free(m->lines);
    free_address(&m->customer);
    free_address(&m->invoice);
    free(m->notification.email);
    free(m->notification.mobile);
    free(m->delivery_method.code);
    free(m->delivery_method.name);
    free(m->event_id);
    free(m->store_id);
    free(m->order_id);
    free(m->order_number);
    free(m->created_at);
    free(m->currency);
    free(m->remark);
    free(m->warehouse);
    memset(m, 0, sizeof *m);
}

int wb_order_msg_decode(const char *json, size_t len, wb_order_msg *out, char *err,
                        size_t errlen) {
    memset(out, 0, sizeof *out);
    if (wb_pv_decode(json, len, decode_order, out, err, errlen) == 0)
        return 0;
    wb_order_msg_free(out);
    return -1;
}

/* ---------------------------------------------------------------- encoding */

static cJSON *encode_address(const wb_address *a) {
    cJSON *o = cJSON_CreateObject();
    if (!o || wb_pv_put_str(o, "name", a->name) || wb_pv_put_str(o, "contact", a->contact) ||
        wb_pv_put_str(o, "address1", a->address1) || wb_pv_put_str(o, "address2", a->address2) ||
        wb_pv_put_str(o, "postcode", a->postcode) || wb_pv_put_str(o, "city", a->city) ||
        wb_pv_put_str(o, "state", a->state) ||
        wb_pv_put_str(o, "country_code", a->country_code) ||
        wb_pv_put_str(o, "email", a->email) || wb_pv_put_str(o, "phone", a->phone)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *encode_delivery(const wb_order_msg *m) {
    cJSON *o = cJSON_CreateObject();
    if (!o || wb_pv_put_str(o, "code", m->delivery_method.code) ||
        wb_pv_put_str(o, "name", m->delivery_method.name)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *encode_notification(const wb_order_msg *m) {
    cJSON *o = cJSON_CreateObject();
    if (!o || wb_pv_put_str(o, "email", m->notification.email) ||
        wb_pv_put_str(o, "mobile", m->notification.mobile) ||
        wb_pv_put_bool(o, "by_email", m->notification.by_email) ||
        wb_pv_put_bool(o, "by_sms", m->notification.by_sms)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *encode_line(const void *item) {
    const wb_order_line *l = item;
    cJSON *o = cJSON_CreateObject();
    if (!o || wb_pv_put_str(o, "line_id", l->line_id) || wb_pv_put_str(o, "sku", l->sku) ||
        wb_pv_put_str(o, "name", l->name) || wb_pv_put_int(o, "quantity", l->quantity) ||
        wb_pv_put_str(o, "unit_price", l->unit_price) ||
        wb_pv_put_str(o, "line_total", l->line_total)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static bool has_delivery(const wb_order_msg *m) {
    return m->delivery_method.code || m->delivery_method.name;
}

static cJSON *encode_order(const wb_order_msg *m) {
    cJSON *o = cJSON_CreateObject();
    if (!o || wb_pv_put_str(o, "event_id", m->event_id) ||
        wb_pv_put_enum(o, "type", order_types, 3, (int)m->type) ||
        wb_pv_put_str(o, "store_id", m->store_id) ||
        wb_pv_put_enum(o, "platform", wb_pv_platforms, 2, (int)m->platform) ||
        wb_pv_put_str(o, "order_id", m->order_id) ||
        wb_pv_put_str(o, "order_number", m->order_number) ||
        wb_pv_put_int(o, "version", m->version) || wb_pv_put_str(o, "created_at", m->created_at) ||
        wb_pv_put_str(o, "currency", m->currency) ||
        (has_delivery(m) && wb_pv_put_child(o, "delivery_method", encode_delivery(m))) ||
        wb_pv_put_str(o, "remark", m->remark) ||
        wb_pv_put_str(o, "warehouse", m->warehouse) ||
        wb_pv_put_child(o, "customer", encode_address(&m->customer)) ||
        wb_pv_put_child(o, "invoice", encode_address(&m->invoice)) ||
        wb_pv_put_child(o, "notification", encode_notification(m)) ||
        wb_pv_put_child(o, "lines", wb_pv_encode_list(m->lines, m->n_lines, sizeof *m->lines,
                                                      encode_line))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* The decoder's verdict on the tree the encoder built (see
 * wb_pv_encode_tree); nothing is copied but the lines' array. */
static int check_order(const cJSON *doc, char *err, size_t errlen) {
    wb_pv v = {err, errlen, true};
    wb_order_msg tmp = {0};
    int rc = decode_order(&v, doc, &tmp);
    wb_order_msg_free(&tmp);
    return rc;
}

char *wb_order_msg_encode_err(const wb_order_msg *m, char *err, size_t errlen) {
    return wb_pv_encode_tree(encode_order(m), check_order, err, errlen);
}

char *wb_order_msg_encode(const wb_order_msg *m) {
    return wb_order_msg_encode_err(m, NULL, 0);
}

/* In compact JSON from the encoder, a '"' inside a string is written \",
 * so `,"key":` can only be a member's key; no nested object of an order has
 * a "customer" or a "warehouse". */
char *wb_order_json_set_warehouse(const char *json, const char *warehouse) {
    const char *at = json && warehouse ? strstr(json, ",\"customer\":{") : NULL;
    if (!at || strstr(json, ",\"warehouse\":"))
        return NULL;
    cJSON node = {0};
    node.type = cJSON_String | cJSON_IsReference;
    node.valuestring = (char *)warehouse;
    char *value = wb_pv_print(&node);
    if (!value)
        return NULL;
    static const char key[] = ",\"warehouse\":";
    size_t head = (size_t)(at - json), klen = sizeof key - 1, vlen = strlen(value), rest = strlen(at);
    char *out = malloc(head + klen + vlen + rest + 1);
    if (out) {
        memcpy(out, json, head);
        memcpy(out + head, key, klen);
        memcpy(out + head + klen, value, vlen);
        memcpy(out + head + klen + vlen, at, rest + 1);
    }
    free(value);
    return out;
}

char *wb_order_msg_reencode(const wb_order_msg *m) {
    cJSON *doc = encode_order(m);
    char *json = wb_pv_print(doc);
    cJSON_Delete(doc);
    return json;
}
