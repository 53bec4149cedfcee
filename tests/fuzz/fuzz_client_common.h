/* What both shop client targets do with the articles a fetch produced: map
 * each to its shop.catalog.v1 message as sync.c does, encode it and hash it.
 * An article the contract refuses is the encoder's to say (sync.c reports it),
 * so only crashes, leaks and undefined behaviour count here. */
#ifndef WB_FUZZ_CLIENT_COMMON_H
#define WB_FUZZ_CLIENT_COMMON_H

#include <stdlib.h>
#include "catalog.h"
#include "wb/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    wb_log_init("fuzz", WB_LOG_ERROR);
    return 0;
}

static void fz_articles_out(ci_articles *list, wb_platform platform) {
    ci_article_opts opts = {.store_id = "s1", .unit = "st", .platform = platform,
                            .categories = true, .virtual_as_non_stock = true};
    for (size_t i = 0; i < list->count; i++) {
        const ci_article *a = &list->items[i];
        wb_catalog_msg msg;
        ci_article_msg(a, a->sku && *a->sku ? a->sku : "FALLBACK-SKU", &opts, &msg);
        char *json = wb_catalog_msg_encode(&msg);
        char hash[65];
        if (json) ci_msg_hash(&msg, hash);
        free(json);
        ci_msg_release(&msg);
    }
    ci_articles_free(list);
}

#endif
