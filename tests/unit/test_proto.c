/* The C side of the topic contracts (wb/proto.h) against proto/examples:
 * every valid example decodes, every invalid one is rejected with an error
 * naming the field listed in invalid/expected-fields.txt, and every valid one
 * survives decode -> encode -> decode unchanged. The same folder verdicts are
 * asserted by tests/proto/test_schemas.py with python-jsonschema, which also
 * runs this program as a checker:
 *   test_proto --check TOPIC FILE...   prints "FILE<TAB>ok" or "FILE<TAB>error"
 *   test_proto --encode TOPIC FILE...  prints "FILE<TAB>encoder output"
 * Runs with cwd = the repository root. */
#include <dirent.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "testlib.h"
#include "wb/proto.h"

#define EXAMPLES "proto/examples"

/* ---------------------------------------------------------- one codec per topic */

/* Decodes json and, when that works, encodes the struct again into *encoded.
 * Returns 0, -1 when decoding failed, -2 when encoding did (err says why). */
typedef int (*roundtrip_fn)(const char *json, size_t len, char **encoded, char *err,
                            size_t errlen);

#define ROUNDTRIP(type)                                                                 \
    static int type##_roundtrip(const char *json, size_t len, char **encoded, char *err, \
                                size_t errlen) {                                        \
        type m;                                                                         \
        *encoded = NULL;                                                                \
        if (type##_decode(json, len, &m, err, errlen))                                  \
            return -1;                                                                  \
        *encoded = type##_encode_err(&m, err, errlen);                                  \
        type##_free(&m);                                                                \
        return *encoded ? 0 : -2;                                                       \
    }

ROUNDTRIP(wb_order_msg)
ROUNDTRIP(wb_catalog_msg)
ROUNDTRIP(wb_stock_msg)
ROUNDTRIP(wb_fulfilment_msg)
ROUNDTRIP(wb_deadletter_msg)

static const struct {
    const char *topic;
    roundtrip_fn roundtrip;
} codecs[] = {
    {"shop.orders.v1", wb_order_msg_roundtrip},
    {"shop.catalog.v1", wb_catalog_msg_roundtrip},
    {"wms.stock.v1", wb_stock_msg_roundtrip},
    {"wms.fulfilment.v1", wb_fulfilment_msg_roundtrip},
    {"bridge.deadletter.v1", wb_deadletter_msg_roundtrip},
};
#define N_CODECS (sizeof codecs / sizeof codecs[0])

static roundtrip_fn codec_for(const char *topic) {
    for (size_t i = 0; i < N_CODECS; i++)
        if (strcmp(codecs[i].topic, topic) == 0)
            return codecs[i].roundtrip;
    return NULL;
}

/* ---------------------------------------------------------------- files */

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 4096 > cap) {
            char *bigger = realloc(buf, cap = 2 * cap + 4096);
            if (!bigger)
                break;
            buf = bigger;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    *len = n;
    return buf;
}

typedef struct names {
    char **v;
    size_t n;
} names;

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.json files in dir, sorted. */
static names list_json(const char *dir) {
    names out = {NULL, 0};
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        char **bigger = realloc(out.v, (out.n + 1) * sizeof *out.v);
        if (!bigger)
            break;
        out.v = bigger;
        out.v[out.n++] = strdup(e->d_name);
    }
    if (d)
        closedir(d);
    if (out.n)
        qsort(out.v, out.n, sizeof *out.v, by_name);
    return out;
}

static void free_names(names *n) {
    for (size_t i = 0; i < n->n; i++)
        free(n->v[i]);
    free(n->v);
}

/* The field expected-fields.txt lists for file (malloc'd), or NULL. */
static char *expected_field(const char *dir, const char *file) {
    char path[512], line[512], name[256], field[256];
    snprintf(path, sizeof path, "%s/expected-fields.txt", dir);
    FILE *f = fopen(path, "r");
    char *found = NULL;
    while (f && !found && fgets(line, sizeof line, f)) {
        if (line[0] != '#' && sscanf(line, "%255s %255s", name, field) == 2 &&
            strcmp(name, file) == 0)
            found = strdup(field);
    }
    if (f)
        fclose(f);
    return found;
}

static void report(const char *name, const char *why) {
    if (why) {
        wb_test_failures++;
        printf("FAIL %s: %s\n", name, why);
    } else {
        printf("PASS %s\n", name);
    }
    fflush(stdout);
}

/* ------------------------------------------------------- example folders */

static void check_valid(const char *topic, roundtrip_fn rt, const char *path, const char *name) {
    char err[512] = "", why[700] = "", label[300];
    snprintf(label, sizeof label, "c_valid/%s/%s", topic, name);
    size_t len = 0;
    char *json = read_file(path, &len), *encoded = NULL;
    int rc = json ? rt(json, len, &encoded, err, sizeof err) : 0;
    if (!json)
        snprintf(why, sizeof why, "cannot read %s", path);
    else if (rc)
        snprintf(why, sizeof why, "%s: %s", rc == -1 ? "rejected" : "encode failed", err);
    report(label, why[0] ? why : NULL);
    free(encoded);
    free(json);
}

static void check_invalid(const char *topic, roundtrip_fn rt, const char *dir, const char *name) {
    char path[512], err[512] = "", why[700] = "", label[300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(label, sizeof label, "c_invalid/%s/%s", topic, name);
    size_t len = 0;
    char *json = read_file(path, &len), *encoded = NULL;
    char *field = expected_field(dir, name);
    int rc = json ? rt(json, len, &encoded, err, sizeof err) : 0;
    size_t flen = field ? strlen(field) : 0;
    if (!json || !field)
        snprintf(why, sizeof why, "cannot read %s or its expected-fields.txt entry", path);
    else if (rc != -1)
        snprintf(why, sizeof why, "accepted, but should be rejected on %s", field);
    else if (strncmp(err, field, flen) != 0 || strncmp(err + flen, ": ", 2) != 0)
        snprintf(why, sizeof why, "error \"%s\" does not name %s", err, field);
    report(label, why[0] ? why : NULL);
    free(field);
    free(encoded);
    free(json);
}

static void check_topic_examples(const char *topic, roundtrip_fn rt) {
    char dir[300], path[600];
    snprintf(dir, sizeof dir, EXAMPLES "/%s/valid", topic);
    names valid = list_json(dir);
    for (size_t i = 0; i < valid.n; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, valid.v[i]);
        check_valid(topic, rt, path, valid.v[i]);
    }
    snprintf(dir, sizeof dir, EXAMPLES "/%s/invalid", topic);
    names invalid = list_json(dir);
    for (size_t i = 0; i < invalid.n; i++)
        check_invalid(topic, rt, dir, invalid.v[i]);
    snprintf(path, sizeof path, "c_examples_present/%s", topic);
    report(path, valid.n && invalid.n ? NULL : "no valid or no invalid examples");
    free_names(&valid);
    free_names(&invalid);
}

/* decode -> encode gives the example back (as JSON values), and encoding the
 * decoded output again gives the same bytes: the struct lost nothing. */
static const char *roundtrip_problem(roundtrip_fn rt, const char *json, size_t len) {
    static char why[600];
    char err[512];
    char *once = NULL, *twice = NULL;
    cJSON *orig = cJSON_ParseWithLength(json, len), *back = NULL;
    const char *problem = NULL;
    if (rt(json, len, &once, err, sizeof err) || rt(once, strlen(once), &twice, err, sizeof err)) {
        snprintf(why, sizeof why, "round trip failed: %s", err);
        problem = why;
    } else if (strcmp(once, twice) != 0) {
        problem = "second encoding differs from the first";
    } else if (!(back = cJSON_Parse(once)) || !cJSON_Compare(orig, back, true)) {
        problem = "encoder output differs from the example";
    }
    cJSON_Delete(orig);
    cJSON_Delete(back);
    free(once);
    free(twice);
    return problem;
}

static void check_topic_roundtrips(const char *topic, roundtrip_fn rt) {
    char dir[300], path[600], label[300];
    snprintf(dir, sizeof dir, EXAMPLES "/%s/valid", topic);
    names valid = list_json(dir);
    for (size_t i = 0; i < valid.n; i++) {
        size_t len = 0;
        snprintf(path, sizeof path, "%s/%s", dir, valid.v[i]);
        snprintf(label, sizeof label, "c_roundtrip/%s/%s", topic, valid.v[i]);
        char *json = read_file(path, &len);
        report(label, json ? roundtrip_problem(rt, json, len) : "cannot read");
        free(json);
    }
    free_names(&valid);
}

/* ------------------------------------------------------------ format cases */

static const wb_pv_rule *rule_named(const char *name) {
    static const struct {
        const char *name;
        const wb_pv_rule *rule;
    } rules[] = {
        {"date_time", &wb_pv_date_time}, {"decimal", &wb_pv_decimal}, {"keypart", &wb_pv_keypart},
        {"email", &wb_pv_email},         {"country", &wb_pv_country}, {"currency", &wb_pv_currency},
        {"hex64", &wb_pv_hex64},         {"url", &wb_pv_url},         {"base64", &wb_pv_base64},
        {"text", &wb_pv_text},
    };
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (strcmp(rules[i].name, name) == 0)
            return rules[i].rule;
    return NULL;
}

static bool rule_accepts(const wb_pv_rule *rule, const cJSON *s) {
    char err[200];
    char *copy = NULL;
    wb_pv v = {err, sizeof err, false};
    int rc = wb_pv_string_node(&v, s, "x", rule, &copy);
    free(copy);
    return rc == 0;
}

/* The verdicts of the cases in list that are not `expect` go to wrong. */
static void collect_wrong(const wb_pv_rule *rule, const cJSON *list, bool expect, char *wrong,
                          size_t size) {
    const cJSON *s;
    cJSON_ArrayForEach(s, list) {
        if (rule_accepts(rule, s) != expect) {
            size_t used = strlen(wrong);
            snprintf(wrong + used, size - used, " \"%s\"", s->valuestring);
        }
    }
}

TEST(format_cases_agree_with_schema) {
    size_t len = 0;
    char *text = read_file("tests/proto/format-cases.json", &len);
    cJSON *doc = text ? cJSON_ParseWithLength(text, len) : NULL;
    free(text);
    if (!doc)
        FAILF("cannot read tests/proto/format-cases.json");
    char wrong[1024] = "";
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "cases")) {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(c, "rule"));
        const wb_pv_rule *rule = name ? rule_named(name) : NULL;
        if (!rule) {
            snprintf(wrong, sizeof wrong, "unknown rule %s", name ? name : "(none)");
            break;
        }
        collect_wrong(rule, cJSON_GetObjectItem(c, "valid"), true, wrong, sizeof wrong);
        collect_wrong(rule, cJSON_GetObjectItem(c, "invalid"), false, wrong, sizeof wrong);
    }
    cJSON_Delete(doc);
    if (wrong[0])
        FAILF("wrong verdict for%s", wrong);
}

/* ------------------------------------------------------------ unit cases */

TEST(event_id_is_sha256_of_store_order_version) {
    char id[65], again[65];
    wb_order_event_id("nordic-bikes", "5734523158582", 1763643791000, id);
    wb_order_event_id("nordic-bikes", "5734523158582", 1763643791000, again);
    /* hashlib.sha256(b"nordic-bikes\n5734523158582\n1763643791000").hexdigest() */
    CHECK_STR(id, "db8214578e67b758352816d5f7fa3cdf3f41d9dca33f4b4886990f07f597a5f3");
    CHECK_STR(again, id);
    wb_order_event_id("nordic-bikes", "5734523158582", 1763643791001, again);
    CHECK(strcmp(again, id) != 0);
}

TEST(event_ids_in_order_examples_match) {
    names valid = list_json(EXAMPLES "/shop.orders.v1/valid");
    CHECK(valid.n > 0);
    for (size_t i = 0; i < valid.n; i++) {
        char path[512], err[256], id[65];
        size_t len = 0;
        wb_order_msg m;
        snprintf(path, sizeof path, EXAMPLES "/shop.orders.v1/valid/%s", valid.v[i]);
        char *json = read_file(path, &len);
        int rc = json ? wb_order_msg_decode(json, len, &m, err, sizeof err) : -1;
        free(json);
        if (rc == 0) {
            wb_order_event_id(m.store_id, m.order_id, m.version, id);
            rc = strcmp(id, m.event_id) ? -1 : 0;
            wb_order_msg_free(&m);
        }
        if (rc) {
            char name[256];
            snprintf(name, sizeof name, "%s", valid.v[i]);
            free_names(&valid);
            FAILF("%s: event_id is not wb_order_event_id(store, order, version)", name);
        }
    }
    free_names(&valid);
}

static const char stock_ok[] =
    "{\"goods_owner\":\"G\",\"warehouse\":\"W1\",\"sku\":\"S\",\"on_hand\":5,\"reserved\":0,\"version\":3,"
    "\"movement\":\"count\",\"occurred_at\":\"2026-11-25T10:00:00Z\"}";

static int stock_decode(const char *json, char *err, size_t errlen) {
    wb_stock_msg m;
    int rc = wb_stock_msg_decode(json, strlen(json), &m, err, errlen);
    wb_stock_msg_free(&m);
    return rc;
}

TEST(not_json_or_not_an_object_is_rejected) {
    char err[256];
    CHECK_INT(stock_decode(stock_ok, err, sizeof err), 0);
    CHECK_INT(stock_decode("", err, sizeof err), -1);
    CHECK_STR(err, "(root): not valid JSON");
    CHECK_INT(stock_decode("{\"warehouse\":", err, sizeof err), -1);
    CHECK_STR(err, "(root): not valid JSON");
    CHECK_INT(stock_decode("[]", err, sizeof err), -1);
    CHECK_STR(err, "(root): must be an object");
    /* Python's json refuses trailing data and a byte order mark: so do we. */
    char trailing[sizeof stock_ok + 8];
    snprintf(trailing, sizeof trailing, "%s {}", stock_ok);
    CHECK_INT(stock_decode(trailing, err, sizeof err), -1);
    snprintf(trailing, sizeof trailing, "\xEF\xBB\xBF%s", stock_ok);
    CHECK_INT(stock_decode(trailing, err, sizeof err), -1);
    snprintf(trailing, sizeof trailing, "%s \r\n\t", stock_ok);
    CHECK_INT(stock_decode(trailing, err, sizeof err), 0);
    wb_stock_msg m;
    CHECK_INT(wb_stock_msg_decode(NULL, 0, &m, err, sizeof err), -1);
}

TEST(decode_reads_json_the_way_python_does) {
    char err[256];
    /* 5.0 is an integer in JSON Schema; a repeated key takes its last value. */
    CHECK_INT(stock_decode("{\"goods_owner\":\"G\",\"warehouse\":\"W/1\",\"warehouse\":\"W1\",\"sku\":\"S\","
                           "\"on_hand\":5.0,\"reserved\":0,\"version\":3e0,\"movement\":\"count\","
                           "\"occurred_at\":\"2026-11-25T10:00:00Z\"}",
                           err, sizeof err),
              0);
    CHECK_INT(stock_decode("{\"goods_owner\":\"G\",\"warehouse\":\"W1\",\"sku\":\"S\",\"on_hand\":1e400,\"reserved\":0,"
                           "\"version\":3,\"movement\":\"count\","
                           "\"occurred_at\":\"2026-11-25T10:00:00Z\"}",
                           err, sizeof err),
              -1);
    CHECK_STR(err, "on_hand: must be an integer");
    /* Not UTF-8: cJSON would pass it on, a JSON reader must not. */
    CHECK_INT(stock_decode("{\"goods_owner\":\"G\",\"warehouse\":\"W1\",\"sku\":\"\xC3(\",\"on_hand\":1,\"reserved\":0,"
                           "\"version\":3,\"movement\":\"count\","
                           "\"occurred_at\":\"2026-11-25T10:00:00Z\"}",
                           err, sizeof err),
              -1);
    CHECK_STR(err, "sku: must be valid UTF-8");
}

TEST(short_error_buffer_is_cut_not_overrun) {
    char err[8];
    memset(err, 'x', sizeof err);
    CHECK_INT(stock_decode("[]", err, sizeof err), -1);
    CHECK_STR(err, "(root):");
    CHECK_INT(stock_decode("[]", NULL, 0), -1);
}

TEST(encoder_refuses_an_invalid_struct_and_names_the_field) {
    char err[256];
    wb_stock_msg m = {.goods_owner = "G", .warehouse = "W1", .sku = "S", .on_hand = -3, .reserved = 0,
                      .version = 0, .movement = WB_MOVEMENT_COUNT,
                      .occurred_at = "2026-11-25T10:00:00Z"};
    CHECK(wb_stock_msg_encode(&m) == NULL);
    CHECK(wb_stock_msg_encode_err(&m, err, sizeof err) == NULL);
    CHECK_STR(err, "version: must be an integer >= 1");
    m.version = 7;
    m.movement = (wb_movement)42;
    CHECK(wb_stock_msg_encode_err(&m, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "movement: must be one of: receiving,");
    m.movement = WB_MOVEMENT_SNAPSHOT;
    char *json = wb_stock_msg_encode(&m);
    CHECK_STR(json, "{\"goods_owner\":\"G\",\"warehouse\":\"W1\",\"sku\":\"S\",\"on_hand\":-3,\"reserved\":0,"
                    "\"version\":7,\"movement\":\"snapshot\","
                    "\"occurred_at\":\"2026-11-25T10:00:00Z\"}");
    free(json);
}

TEST(large_integers_are_written_as_digits) {
    wb_stock_msg m = {.goods_owner = "G", .warehouse = "W1", .sku = "S", .on_hand = 1000000000000000LL,
                      .version = WB_PV_INT_MAX, .movement = WB_MOVEMENT_COUNT,
                      .occurred_at = "2026-11-25T10:00:00Z"};
    char *json = wb_stock_msg_encode(&m);
    CHECK_CONTAINS(json, "\"on_hand\":1000000000000000,");
    CHECK_CONTAINS(json, "\"version\":9007199254740991,");
    free(json);
    m.version = WB_PV_INT_MAX + 1;
    CHECK(wb_stock_msg_encode(&m) == NULL);
}

/* A new order of one line, as built in code, with its event id in id. */
static wb_order_msg small_order(wb_order_line *line, char id[65]) {
    wb_order_msg m = {.type = WB_ORDER_CREATED, .store_id = "s1", .platform = WB_PLATFORM_SHOPIFY,
                      .order_id = "42", .order_number = "#42", .version = 5,
                      .created_at = "2026-11-25T10:00:00+01:00", .currency = "EUR",
                      .customer = {.name = "A B", .address1 = "Street 1", .city = "Town",
                                   .country_code = "SE"},
                      .invoice = {.name = "A B", .country_code = "SE"},
                      .lines = line, .n_lines = 1};
    wb_order_event_id(m.store_id, m.order_id, m.version, id);
    m.event_id = id;
    return m;
}

TEST(order_built_in_code_encodes_with_event_id) {
    char id[65], err[256];
    wb_order_line line = {.line_id = "1", .sku = "SKU-1", .name = "Item", .quantity = 2,
                          .unit_price = "5.00", .line_total = "10.00"};
    wb_order_msg m = small_order(&line, id);
    char *json = wb_order_msg_encode_err(&m, err, sizeof err);
    CHECK_STR(err, "");
    CHECK_CONTAINS(json, "\"notification\":{\"by_email\":false,\"by_sms\":false}");
    free(json);
    m.notification.by_sms = true;
    CHECK(wb_order_msg_encode_err(&m, err, sizeof err) == NULL);
    CHECK_STR(err, "notification.mobile: is required when by_sms is true");
    m.notification.by_sms = false;
    line.quantity = 0;
    CHECK(wb_order_msg_encode_err(&m, err, sizeof err) == NULL);
    CHECK_STR(err, "lines[0].quantity: must be an integer from 1 to 1000000");
}

/* wb_pv_print writes what cJSON_PrintUnformatted writes (the messages on
 * the topics must not change): every escape, UTF-8, nesting, raw digits,
 * booleans, null, empty containers and strings. */
TEST(print_matches_cjson_byte_for_byte) {
    char all[160];
    size_t n = 0;
    for (int c = 1; c < 128; c++) all[n++] = (char)c;
    strcpy(all + n, "\xC3\xA5\xE2\x82\xAC\xF0\x9F\x9A\xB2\xFF");
    cJSON *doc = cJSON_CreateObject();
    wb_pv_put_str(doc, "all", all);
    wb_pv_put_str(doc, "empty", "");
    wb_pv_put_str(doc, "k\"ey\n", "v");
    wb_pv_put_int(doc, "neg", -12);
    wb_pv_put_int(doc, "big", WB_PV_INT_MAX);
    wb_pv_put_bool(doc, "t", true);
    wb_pv_put_bool(doc, "f", false);
    wb_pv_put_nullable(doc, "n", NULL);
    wb_pv_put_child(doc, "eo", cJSON_CreateObject());
    cJSON *arr = cJSON_CreateArray();
    wb_pv_append(arr, cJSON_CreateArray());
    wb_pv_append(arr, cJSON_CreateString("x\ty"));
    cJSON *inner = cJSON_CreateObject();
    wb_pv_put_str(inner, "a", "\\/");
    wb_pv_append(arr, inner);
    wb_pv_put_child(doc, "arr", arr);
    char *mine = wb_pv_print(doc), *theirs = cJSON_PrintUnformatted(doc);
    CHECK_STR(mine, theirs);
    free(mine);
    free(theirs);
    /* A number node, which the encoders do not make, is printed by cJSON. */
    cJSON_AddNumberToObject(doc, "num", 1.5);
    mine = wb_pv_print(doc);
    theirs = cJSON_PrintUnformatted(doc);
    CHECK_STR(mine, theirs);
    free(mine);
    free(theirs);
    cJSON_Delete(doc);
}

/* The checked encoding checks the tree it prints: its verdicts and reasons
 * are the decoder's on the printed text. */
TEST(tree_check_agrees_with_decoding_the_text) {
    char id[65], err[256], derr[256];
    wb_order_line line = {.line_id = "1", .sku = "SKU-\"1\"\n", .name = "It\xC3\xA9m", .quantity = 2,
                          .unit_price = "5.00", .line_total = "10.00"};
    wb_order_msg m = small_order(&line, id);
    char *json = wb_order_msg_encode_err(&m, err, sizeof err);
    CHECK(json != NULL);
    wb_order_msg back;
    CHECK_INT(wb_order_msg_decode(json, strlen(json), &back, derr, sizeof derr), 0);
    CHECK_STR(back.lines[0].sku, line.sku);
    wb_order_msg_free(&back);
    char *plain = wb_order_msg_reencode(&m);
    CHECK_STR(plain, json);
    free(plain);
    free(json);
    /* Each broken field is refused with the reason decoding its text gives. */
    struct { char **field; char *bad; } cases[] = {
        {&line.name, "bad \xC3("}, {&line.unit_price, "5.0000001"}, {&m.currency, "eur"},
        {&m.created_at, "2026-11-25"}, {&m.customer.country_code, "S"}, {&m.store_id, "a/b"},
        {&m.customer.email, "no-at"}, {&m.invoice.name, ""}, {&m.customer.city, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *keep = *cases[i].field;
        *cases[i].field = cases[i].bad;
        CHECK(wb_order_msg_encode_err(&m, err, sizeof err) == NULL);
        plain = wb_order_msg_reencode(&m);
        CHECK(plain != NULL);
        CHECK_INT(wb_order_msg_decode(plain, strlen(plain), &back, derr, sizeof derr), -1);
        CHECK_STR(err, derr);
        free(plain);
        *cases[i].field = keep;
    }
    int64_t ints[] = {0, -1, WB_PV_INT_MAX + 1, INT64_MIN};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        m.version = ints[i];
        CHECK(wb_order_msg_encode_err(&m, err, sizeof err) == NULL);
        plain = wb_order_msg_reencode(&m);
        CHECK_INT(wb_order_msg_decode(plain, strlen(plain), &back, derr, sizeof derr), -1);
        CHECK_STR(err, derr);
        free(plain);
    }
}

TEST(names_of_enum_values) {
    CHECK_STR(wb_platform_name(WB_PLATFORM_WOOCOMMERCE), "woocommerce");
    CHECK_STR(wb_order_type_name(WB_ORDER_CANCELLED), "cancelled");
    CHECK_STR(wb_movement_name(WB_MOVEMENT_SNAPSHOT), "snapshot");
    CHECK_STR(wb_fulfilment_type_name(WB_FULFILMENT_TRACKING_UPDATED), "tracking_updated");
    CHECK_STR(wb_source_kind_name(WB_SOURCE_POLL), "poll");
    CHECK_STR(wb_movement_name((wb_movement)99), "?");
}

/* ------------------------------------------------------------ checker mode */

static int checker(const char *mode, const char *topic, int n, char **files) {
    roundtrip_fn rt = codec_for(topic);
    if (!rt) {
        fprintf(stderr, "unknown topic %s\n", topic);
        return 2;
    }
    for (int i = 0; i < n; i++) {
        char err[512] = "";
        size_t len = 0;
        char *json = read_file(files[i], &len), *encoded = NULL;
        int rc = json ? rt(json, len, &encoded, err, sizeof err) : -1;
        if (!json)
            snprintf(err, sizeof err, "cannot read");
        if (strcmp(mode, "--encode") == 0)
            printf("%s\t%s\n", files[i], encoded ? encoded : err);
        else
            printf("%s\t%s\n", files[i], rc == 0 ? "ok" : err);
        free(encoded);
        free(json);
    }
    return 0;
}

/* wb_json_int: the one checked conversion of a JSON number (a shop's
 * answer) to an integer; a plain cast of NaN, infinity or a huge double is
 * undefined behaviour, which UBSan would report here. */
TEST(json_int_refuses_what_a_cast_would_get_wrong) {
    int64_t out = 42;
    cJSON *n = cJSON_CreateNumber(7.0);
    CHECK(wb_json_int(n, 0, WB_JSON_INT_MAX, &out));
    CHECK_INT(out, 7);
    cJSON_SetNumberValue(n, -3);
    CHECK(wb_json_int(n, -WB_JSON_INT_MAX, WB_JSON_INT_MAX, &out));
    CHECK_INT(out, -3);
    CHECK(!wb_json_int(n, 0, 10, &out)); /* below min */
    cJSON_SetNumberValue(n, (double)WB_JSON_INT_MAX);
    CHECK(wb_json_int(n, 0, WB_JSON_INT_MAX, &out));
    CHECK_INT(out, WB_JSON_INT_MAX);
    out = 42;
    cJSON_SetNumberValue(n, 9007199254740994.0); /* past 2^53: not exact */
    CHECK(!wb_json_int(n, -WB_JSON_INT_MAX, WB_JSON_INT_MAX, &out));
    const double bad[] = {NAN, INFINITY, -INFINITY, 1e300, -1e300, 0x1p63, -0x1p64, 2.5};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON_SetNumberValue(n, bad[i]);
        CHECK(!wb_json_int(n, -WB_JSON_INT_MAX, WB_JSON_INT_MAX, &out));
        /* even with the widest bounds a careless caller could pass */
        CHECK(!wb_json_int(n, INT64_MIN, INT64_MAX, &out));
    }
    CHECK_INT(out, 42); /* left alone on every refusal */
    cJSON_Delete(n);
    cJSON *parsed = cJSON_Parse("[1e999, \"7\", null, true, 12]");
    CHECK(!wb_json_int(cJSON_GetArrayItem(parsed, 0), 0, WB_JSON_INT_MAX, &out)); /* inf */
    CHECK(!wb_json_int(cJSON_GetArrayItem(parsed, 1), 0, WB_JSON_INT_MAX, &out)); /* a string */
    CHECK(!wb_json_int(cJSON_GetArrayItem(parsed, 2), 0, WB_JSON_INT_MAX, &out));
    CHECK(!wb_json_int(cJSON_GetArrayItem(parsed, 3), 0, WB_JSON_INT_MAX, &out));
    CHECK(!wb_json_int(NULL, 0, WB_JSON_INT_MAX, &out));
    CHECK(wb_json_int(cJSON_GetArrayItem(parsed, 4), 0, WB_JSON_INT_MAX, &out));
    CHECK_INT(out, 12);
    cJSON_Delete(parsed);
}

int main(int argc, char **argv) {
    if (argc >= 3 && (strcmp(argv[1], "--check") == 0 || strcmp(argv[1], "--encode") == 0))
        return checker(argv[1], argv[2], argc - 3, argv + 3);

    for (size_t i = 0; i < N_CODECS; i++) {
        check_topic_examples(codecs[i].topic, codecs[i].roundtrip);
        check_topic_roundtrips(codecs[i].topic, codecs[i].roundtrip);
    }
    RUN(format_cases_agree_with_schema);
    RUN(event_id_is_sha256_of_store_order_version);
    RUN(event_ids_in_order_examples_match);
    RUN(not_json_or_not_an_object_is_rejected);
    RUN(decode_reads_json_the_way_python_does);
    RUN(short_error_buffer_is_cut_not_overrun);
    RUN(encoder_refuses_an_invalid_struct_and_names_the_field);
    RUN(large_integers_are_written_as_digits);
    RUN(order_built_in_code_encodes_with_event_id);
    RUN(print_matches_cjson_byte_for_byte);
    RUN(tree_check_agrees_with_decoding_the_text);
    RUN(names_of_enum_values);
    RUN(json_int_refuses_what_a_cast_would_get_wrong);
    TEST_EXIT();
}
