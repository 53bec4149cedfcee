/* Shopify bulk query operations (shopify_bulk.c): the control side. */
#ifndef SHOPSIM_SHOPIFY_BULK_H
#define SHOPSIM_SHOPIFY_BULK_H
#include "http.h"
#include "store.h"

/* /_sim/stores/{id}/bulk[/{n}.jsonl], store lock held: GET lists the
 * operations, PUT sets how the next ones behave ({fail, fail_after,
 * chunk_delay_ms, concurrency}), GET {n}.jsonl downloads a result (the URL
 * Shopify would hand out on its storage). */
void bulk_control(store_t *s, const char *method, const char *file, const cJSON *body, http_reply *rep);
#endif
