#!/usr/bin/env bash
# Measures shopsim's requests per second on "simple requests": one
# WooCommerce product read, one small Shopify GraphQL query, and the control
# API's health check, each with keep-alive connections from bench_shopsim.
#
# usage: sim/bench_shopsim.sh [BUILD_DIR] [SECONDS] [CONNECTIONS]
#   BUILD_DIR defaults to build-sim-rel (a Release build: the figure in
#   docs/shopsim.md); an ASan build (build-sim) works too, slower.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-sim-rel}
secs=${2:-5}
conns=${3:-8}
sim=$build/sim/shopsim/shopsim
bench=$build/sim/bench_shopsim
port=${WB_SHOPSIM_BENCH_PORT:-18799}
log=$(mktemp)

"$sim" --port "$port" --threads "${WB_SHOPSIM_THREADS:-2}" >"$log" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/_sim/health" >/dev/null && break; sleep 0.1; done

ctl() { curl -sf -X "$1" "http://127.0.0.1:$port/_sim$2" -d "$3" >/dev/null; }
# The Shopify store gets a bucket that never runs dry: this measures the
# simulator, not the throttle.
ctl POST /stores '{"id":"bench-shop","platform":"shopify","bucket_size":1000000,"restore_rate":100000000,"seed":{"products":100,"variants":3}}'
ctl POST /stores '{"id":"bench-woo","platform":"woocommerce","seed":{"products":100}}'
pid_woo=$(curl -sf "http://127.0.0.1:$port/_sim/stores/bench-woo/products" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
auth="Authorization: Basic $(printf 'ck_bench-woo:cs_bench-woo' | base64)"

echo "woocommerce GET products/{id}:"
"$bench" 127.0.0.1 "$port" "/bench-woo/wp-json/wc/v3/products/$pid_woo" "$conns" "$secs" GET "" "$auth"
echo "shopify graphql { shop { name } }:"
"$bench" 127.0.0.1 "$port" /bench-shop/admin/api/2026-07/graphql.json "$conns" "$secs" POST \
  '{"query":"{ shop { name } }"}' "X-Shopify-Access-Token: shpat_bench-shop"
echo "shopify graphql productVariants(first: 10, query: sku) via variables:"
"$bench" 127.0.0.1 "$port" /bench-shop/admin/api/2026-07/graphql.json "$conns" "$secs" POST \
  '{"query":"query V($q: String) { productVariants(first: 10, query: $q) { nodes { id sku inventoryItem { id } } } }","variables":{"q":"sku:SKU-00042-2"}}' \
  "X-Shopify-Access-Token: shpat_bench-shop"
echo "control GET /_sim/health:"
"$bench" 127.0.0.1 "$port" /_sim/health "$conns" "$secs" GET ""
