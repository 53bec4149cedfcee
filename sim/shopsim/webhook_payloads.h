#ifndef SHOPSIM_WEBHOOK_PAYLOADS_H
#define SHOPSIM_WEBHOOK_PAYLOADS_H
#include "store.h"
/* The body for a topic and resource, or NULL when the resource is gone.
 * Store lock held. */
char *webhook_body(store_t *s, const char *topic, uint64_t resource_id);
#endif
