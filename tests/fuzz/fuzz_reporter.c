/* fulfilment-reporter's handling of the shop's answers (the real woo.c,
 * shopify.c, shopify_return.c, shopify_cancel.c and plan.c, through the real
 * shop client) under libFuzzer: one WMS fulfilment event, then the shop's
 * answers played by fake_shop.h. The numbers the reporter reads from a shop
 * (remaining quantities, line quantities, ids) go through wb_json_int, so a
 * shop answering 1e300 or a fraction is an error, never undefined behaviour.
 *
 * The input's first part, up to the first line "=====", is the event as it
 * comes from wms.fulfilment.v1 (one JSON object; an input whose event does
 * not decode is skipped); the rest are the answers. PostgreSQL's bookkeeping
 * (db.c) is replaced by stubs: every report is new and every claim granted,
 * so each event goes to the shop. A function added to db.c needs its stub
 * here (the link says which: db.c's object would define the others twice). One target per platform
 * (WB_FUZZ_REPORTER_SHOPIFY / _WOO): the two clients do not share a file. */
#include "fake_shop.h"
#include "shop_http.c"
#ifdef WB_FUZZ_REPORTER_SHOPIFY
#include "shopify.c"
#else
#include "woocommerce.c"
#endif

#include <stdio.h>
#include "reporter.h"
#include "wb/log.h"

/* ---- db.c, replaced: no PostgreSQL in a fuzz target */
int fr_record_state(wb_pg *pg, const wb_fulfilment_msg *m) {
    (void)pg, (void)m;
    return 0;
}
fr_report_state fr_report_begin(wb_pg *pg, const char *store, const char *order, const char *kind,
                                const char *report_id, char *shop_ref, size_t ref_size) {
    (void)pg, (void)store, (void)order, (void)kind, (void)report_id;
    if (ref_size) shop_ref[0] = 0;
    return FR_REPORT_NEW;
}
int fr_report_finish(wb_pg *pg, const char *store, const char *order, const char *kind,
                     const char *report_id, const char *state, const char *shop_ref,
                     const char *detail) {
    (void)pg, (void)store, (void)order, (void)kind, (void)report_id, (void)state, (void)shop_ref,
        (void)detail;
    return 0;
}
int fr_report_ref(wb_pg *pg, const char *store, const char *order, const char *kind,
                  const char *report_id, char *shop_ref, size_t ref_size) {
    (void)pg, (void)store, (void)order, (void)kind, (void)report_id, (void)shop_ref, (void)ref_size;
    return 1;
}
int fr_report_ref_claimed(wb_pg *pg, const char *store, const char *order, const char *kind,
                          const char *report_id, const char *shop_ref) {
    (void)pg, (void)store, (void)order, (void)kind, (void)report_id, (void)shop_ref;
    return 0;
}
void fr_settings_load(wb_pg *pg, const char *store, fr_settings *out) {
    (void)pg, (void)store;
    *out = (fr_settings){.notify_customer = true, .cancelled_report = "note"};
}
int fr_claim_shipping(wb_pg *pg, const char *store, const char *order, const char *kind,
                      const char *report_id) {
    (void)pg, (void)store, (void)order, (void)kind, (void)report_id;
    return 1;
}
int fr_refund_shipping(wb_pg *pg, const char *store, const char *reason_code) {
    (void)pg, (void)store, (void)reason_code;
    return 1;
}
int fr_stock_published(wb_pg *pg, const wb_store *store, const char *sku) {
    (void)pg, (void)store, (void)sku;
    return (int)(strlen(sku) & 1); /* both ways: restock or not */
}
void fr_after_send(reporter *r) {
    (void)r;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    wb_log_init("fuzz", WB_LOG_ERROR);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *sep = memmem(data, size, "\n=====\n", 7);
    if (!sep) return 0;
    size_t event_len = (size_t)(sep - (const char *)data);
    wb_fulfilment_msg m;
    char why[512];
    if (wb_fulfilment_msg_decode((const char *)data, event_len, &m, why, sizeof why) != 0) return 0;
    fz_feed((const uint8_t *)sep + 7, size - event_len - 7);
    wb_service svc = {0};
    reporter r = {.svc = &svc};
    fr_settings set;
    fr_settings_load(NULL, m.store_id, &set);
    set.auto_close = size & 1;
    snprintf(set.cancelled_report, sizeof set.cancelled_report, "%s",
             size % 3 == 0 ? "cancel" : size % 3 == 1 ? "note" : "record");
#ifdef WB_FUZZ_REPORTER_SHOPIFY
    wb_store store = {.id = m.store_id, .platform = "shopify", .base_url = "https://s1.example",
                      .enabled = true, .stock_sync = true};
    wb_shopify *shop = wb_shopify_new(m.store_id, "https://s1.example", "shpat_fuzz_token", NULL);
    if (shop) {
        fr_shopify_event(&r, &store, shop, &m, &set, why, sizeof why);
        wb_shopify_free(shop);
    }
#else
    wb_store store = {.id = m.store_id, .platform = "woocommerce", .base_url = "https://s1.example",
                      .enabled = true, .stock_sync = true, .complete_on_dispatch = size & 2,
                      .note_visibility = size & 8 ? "customer" : "private",
                      .shipment_tracking = size & 4};
    wb_woo *woo = wb_woo_new(m.store_id, "https://s1.example", "ck_fuzz", "cs_fuzz_secret", NULL);
    if (woo) {
        fr_woo_event(&r, &store, woo, &m, &set, why, sizeof why);
        wb_woo_free(woo);
    }
#endif
    wb_fulfilment_msg_free(&m);
    return 0;
}
