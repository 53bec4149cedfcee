/* gqldocs: prints every Shopify GraphQL document the bridge sends, with its
 * example variables, as one JSON array, for tests/shopify-schema. */
#include <stdio.h>
#include <cjson/cJSON.h>

#include "wb/shopify_documents.h"

int main(void) {
    cJSON *out = cJSON_CreateArray();
    for (int i = 0; i < wb_gql_document_count; i++) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "name", wb_gql_documents[i].name);
        cJSON_AddStringToObject(d, "document", wb_gql_documents[i].document);
        cJSON *vars = cJSON_Parse(wb_gql_documents[i].example_variables);
        if (!vars) {
            fprintf(stderr, "gqldocs: example variables of %s are not JSON\n", wb_gql_documents[i].name);
            cJSON_Delete(out);
            return 1;
        }
        cJSON_AddItemToObject(d, "variables", vars);
        cJSON_AddItemToArray(out, d);
    }
    char *text = cJSON_Print(out);
    printf("%s\n", text);
    cJSON_free(text);
    cJSON_Delete(out);
    return 0;
}
