/* OAuth 1.0a one-legged signing as WooCommerce checks it over plain HTTP.
 *
 * The expected values were computed independently with Python's standard
 * library (quote(s, safe='~') is RFC 3986 encoding, parse_qsl decodes a
 * query with '+' as a space):
 *
 *   python3 - <<'EOF'
 *   import hmac, hashlib, base64, urllib.parse as u
 *   def enc(s): return u.quote(s, safe='~')
 *   def sig(method, base, query, secret):
 *       ps = u.parse_qsl(query, keep_blank_values=True)
 *       norm = '&'.join(f'{k}={v}' for k, v in sorted((enc(k), enc(v)) for k, v in ps))
 *       bs = '&'.join([method, enc(base), enc(norm)])
 *       mac = hmac.new((secret + '&').encode(), bs.encode(), hashlib.sha256).digest()
 *       return norm, base64.b64encode(mac).decode()
 *   print(sig('POST', 'http://example.com/request', 'b5=%3D%253D&a3=a&c%40=&a2=r%20b&c2'
 *       '&a3=2+q&oauth_consumer_key=9djdj82h48djs9d2&oauth_token=kkk9d7dh3k39sjv7'
 *       '&oauth_signature_method=HMAC-SHA1&oauth_timestamp=137131201&oauth_nonce=7d8f3e4a',
 *       'j49sk3j29djd'))
 *   print(sig('GET', 'http://shop.example.com/wp-json/wc/v3/orders', 'status=processing'
 *       '&per_page=100&modified_after=2026-11-25T10%3A00%3A00&search=caf%C3%A9+au+lait'
 *       '&oauth_consumer_key=ck_test123&oauth_nonce=abc123nonce'
 *       '&oauth_signature_method=HMAC-SHA256&oauth_timestamp=1764064800', 'cs_secret456'))
 *   EOF
 *
 * The first holds the parameters of RFC 5849's example (section 3.4.1), whose
 * normalized form the RFC prints in 3.4.1.3.2 (and Python agrees); it is
 * signed with HMAC-SHA256 and no token secret, as WooCommerce signs. */
#include <stdlib.h>

#include "testlib.h"
#include "wb/shopclient.h"

#define RFC_QUERY                                                                    \
    "b5=%3D%253D&a3=a&c%40=&a2=r%20b&c2&a3=2+q&oauth_consumer_key=9djdj82h48djs9d2"  \
    "&oauth_token=kkk9d7dh3k39sjv7&oauth_signature_method=HMAC-SHA1"                 \
    "&oauth_timestamp=137131201&oauth_nonce=7d8f3e4a"

#define WOO_QUERY                                                                    \
    "status=processing&per_page=100&modified_after=2026-11-25T10%3A00%3A00"          \
    "&search=caf%C3%A9+au+lait"

static int check_encode(const char *in, const char *expected) {
    char *out = wb_oauth1_encode(in);
    int ok = out && strcmp(out, expected) == 0;
    if (!ok) printf("# encode(\"%s\") = \"%s\", expected \"%s\"\n", in, out, expected);
    free(out);
    return ok;
}

static int check_normalize(const char *in, const char *expected) {
    char *out = wb_oauth1_normalize(in);
    int ok = expected ? out && strcmp(out, expected) == 0 : out == NULL;
    if (!ok) printf("# normalize(\"%s\") = \"%s\", expected \"%s\"\n", in, out, expected);
    free(out);
    return ok;
}

TEST(encode_keeps_only_unreserved) {
    CHECK(check_encode("", ""));
    CHECK(check_encode("AZaz09-._~", "AZaz09-._~"));
    CHECK(check_encode("a b+c/d", "a%20b%2Bc%2Fd"));
    CHECK(check_encode("!*'();:@&=$,?#[]%", "%21%2A%27%28%29%3B%3A%40%26%3D%24%2C%3F%23%5B%5D%25"));
    CHECK(check_encode("caf\xc3\xa9", "caf%C3%A9"));
}

TEST(normalize_matches_rfc5849_example) {
    CHECK(check_normalize(RFC_QUERY,
                          "a2=r%20b&a3=2%20q&a3=a&b5=%3D%253D&c%40=&c2=&"
                          "oauth_consumer_key=9djdj82h48djs9d2&oauth_nonce=7d8f3e4a&"
                          "oauth_signature_method=HMAC-SHA1&oauth_timestamp=137131201&"
                          "oauth_token=kkk9d7dh3k39sjv7"));
}

TEST(normalize_edge_cases) {
    CHECK(check_normalize("", ""));
    CHECK(check_normalize("&&a=1&", "a=1"));
    CHECK(check_normalize("flag", "flag="));
    CHECK(check_normalize("a=z&a=b", "a=b&a=z"));       /* same name: by value */
    CHECK(check_normalize("b=1&B=2", "B=2&b=1"));       /* byte order, not case-folded */
    CHECK(check_normalize("x=%c3%a9", "x=%C3%A9"));     /* escapes re-encoded uppercase */
    CHECK(check_normalize("x=a+b%2Bc", "x=a%20b%2Bc")); /* '+' is a space, %2B a plus */
    CHECK(check_normalize("x=1=2", "x=1%3D2"));         /* only the first '=' splits */
    CHECK(check_normalize("a=%zz", NULL));
    CHECK(check_normalize("a=%4", NULL));
    CHECK(check_normalize("a=%", NULL));
}

/* Copies a malloc'd result and frees it, so a failing CHECK leaks nothing. */
static const char *keep(char *s) {
    static char buf[512];
    snprintf(buf, sizeof buf, "%s", s ? s : "(null)");
    free(s);
    return buf;
}

TEST(signature_matches_reference_for_rfc_parameters) {
    char *params = wb_oauth1_normalize(RFC_QUERY);
    char *sig = wb_oauth1_signature("POST", "http://example.com/request", params, "j49sk3j29djd");
    free(params);
    CHECK_STR(keep(sig), "FaTbwkSAPdnQXoVGjhfzVgj49vjCyfrzLt9zx8mZm5Y=");
}

TEST(signature_url_is_normalized) {
    const char *p = "a=1";
    char *ref = wb_oauth1_signature("GET", "https://example.com/r%20v/X", p, "s3cret");
    char *same = wb_oauth1_signature("GET", "HTTPS://Example.COM:443/r%20v/X?id=1#frag", p, "s3cret");
    char *root = wb_oauth1_signature("GET", "https://example.com", p, "s3cret");
    char *root_slash = wb_oauth1_signature("GET", "https://example.com/", p, "s3cret");
    char *port = wb_oauth1_signature("GET", "https://example.com:8443/r%20v/X", p, "s3cret");
    int ok = ref && same && root && root_slash && port && strcmp(ref, same) == 0 &&
             strcmp(root, root_slash) == 0 && strcmp(ref, port) != 0;
    free(ref), free(same), free(root), free(root_slash), free(port);
    CHECK(ok);
}

TEST(signed_query_matches_reference_for_woocommerce_request) {
    const char *q = keep(wb_oauth1_signed_query(
        "GET", "http://Shop.Example.com:80/wp-json/wc/v3/orders", WOO_QUERY, "ck_test123",
        "cs_secret456", 1764064800LL, "abc123nonce"));
    CHECK_STR(q, WOO_QUERY "&oauth_consumer_key=ck_test123&oauth_nonce=abc123nonce"
                           "&oauth_signature_method=HMAC-SHA256&oauth_timestamp=1764064800"
                           "&oauth_signature=fkggFAL5nLpm8%2FyMVFQ3JudoFddGAvdbCwZ5suV7%2Bmw%3D");
    CHECK_NOT_CONTAINS(q, "cs_secret456");
}

TEST(signed_query_without_query_and_changes_with_nonce) {
    char *a = wb_oauth1_signed_query("GET", "http://h/p", NULL, "ck", "cs_secret", 1, "n1");
    char *b = wb_oauth1_signed_query("GET", "http://h/p", "", "ck", "cs_secret", 1, "n2");
    int ok = a && b && strncmp(a, "oauth_consumer_key=ck&oauth_nonce=n1&", 37) == 0 &&
             strcmp(strstr(a, "oauth_signature="), strstr(b, "oauth_signature=")) != 0;
    free(a), free(b);
    CHECK(ok);
}

TEST(signed_query_refuses_bad_escape) {
    char *q = wb_oauth1_signed_query("GET", "http://h/p", "a=%G1", "ck", "cs", 1, "n");
    CHECK(q == NULL);
}

int main(void) {
    RUN(encode_keeps_only_unreserved);
    RUN(normalize_matches_rfc5849_example);
    RUN(normalize_edge_cases);
    RUN(signature_matches_reference_for_rfc_parameters);
    RUN(signature_url_is_normalized);
    RUN(signed_query_matches_reference_for_woocommerce_request);
    RUN(signed_query_without_query_and_changes_with_nonce);
    RUN(signed_query_refuses_bad_escape);
    TEST_EXIT();
}
