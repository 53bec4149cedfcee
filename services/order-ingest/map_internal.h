/* What map_shopify.c and map_woocommerce.c share (map_common.c). */
#ifndef OI_MAP_INTERNAL_H
#define OI_MAP_INTERNAL_H

#include <cjson/cJSON.h>
#include "map.h"

/* cJSON_GetObjectItemCaseSensitive (the first member named key; NULL when o
 * is not an object), comparing the first byte before calling strcmp: the
 * mappers look up some 30 keys in an order of 25, a strcmp per member
 * passed was the larger part of a lookup. */
const cJSON *oi_jget(const cJSON *o, const char *key);
/* A string field that is present and not empty, else NULL. */
const char *oi_jstr(const cJSON *o, const char *key);

/* Parses a raw body and hands it to a platform's mapper: OI_MAP_MALFORMED
 * when it is not JSON. */
typedef int (*oi_json_mapper)(const char *store_id, const cJSON *o, oi_order *out, char **order_id,
                              char *err, size_t errlen);
int oi_map_raw(oi_json_mapper map, const char *store_id, const char *json, size_t len, oi_order *out,
               char **order_id, char *err, size_t errlen);
/* An id given as a JSON integer or a string, written to buf; NULL when
 * absent, empty, negative or not a whole number below 2^53. */
const char *oi_jid(const cJSON *o, const char *key, char *buf, size_t size);
/* A JSON number as an integer (fraction cut), held to +-(2^53 - 1) so that a
 * quantity of 1e300 becomes a value the schema refuses by name instead of an
 * undefined conversion; 0 when n is not a number. */
int64_t oi_jint(const cJSON *n);
/* shop.orders.v1's largest line quantity. */
#define OI_MAX_QUANTITY 1000000
/* An amount given as a decimal string or a JSON number, in millionths. */
int oi_jamount(const cJSON *o, const char *key, int64_t *micros);

/* One address as the shop has it; any field may be NULL. */
typedef struct oi_addr_in {
    const char *first, *last, *company, *full_name;
    const char *address1, *address2, *postcode, *city, *state, *country;
    const char *email, *phone;
} oi_addr_in;

/* True when it has a street or a city: an address worth delivering to. */
bool oi_addr_present(const oi_addr_in *in);
/* Fills out per the rules in map.h (company vs first + last name). */
void oi_addr_build(const oi_addr_in *in, wb_address *out);
void oi_addr_free(wb_address *a);

/* Checks the finished message with the encoder (the schema's rules):
 * OI_MAP_OK or OI_MAP_UNMAPPABLE with the field named in err. */
int oi_map_finish(oi_order *o, char *err, size_t errlen);

#endif
