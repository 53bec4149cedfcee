# syntax=docker/dockerfile:1
# One multi-stage Dockerfile for every wmsbridge image (docs/deploy.md).
# Pick the image with --target:
#   docker build --target order-ingest -t wmsbridge/order-ingest .
# targets: order-ingest catalog-ingest stock-publisher fulfilment-reporter
#          bridgectl (migrations, topics, operations) shopsim wmssim
# The build stage has the -dev packages and cmake; every image derives from
# the slim runtime stage, which has only the shared libraries the binaries
# link (tests/unit/test_compose.py checks the list against ldd).

ARG DEBIAN_RELEASE=bookworm

FROM debian:${DEBIAN_RELEASE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config \
      librdkafka-dev libcurl4-openssl-dev libcjson-dev libhiredis-dev libpq-dev \
      libmicrohttpd-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# .dockerignore keeps build folders, .state/ and node_modules/ out.
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=RelWithDebInfo \
 && cmake --build /build -j"$(nproc)" --target \
      order-ingest catalog-ingest stock-publisher fulfilment-reporter bridgectl shopsim wmssim \
 && mkdir -p /out \
 && cp /build/bin/order-ingest /build/bin/catalog-ingest /build/bin/stock-publisher \
       /build/bin/fulfilment-reporter /build/bin/bridgectl \
       /build/sim/shopsim/shopsim /build/sim/wmssim/wmssim /out/ \
 && strip --strip-debug /out/*

FROM debian:${DEBIAN_RELEASE}-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      librdkafka1 libcurl4 libcjson1 libhiredis0.14 libpq5 libmicrohttpd12 libssl3 \
      ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin wmsbridge
# Logs are JSON lines on stdout; the services listen on 0.0.0.0 by default.
ENV WB_HTTP_BIND=0.0.0.0
USER 10001:10001
STOPSIGNAL SIGTERM

FROM runtime AS order-ingest
COPY --from=build /out/order-ingest /usr/local/bin/
ENV WB_HTTP_PORT=8081
EXPOSE 8081
ENTRYPOINT ["/usr/local/bin/order-ingest"]

FROM runtime AS catalog-ingest
COPY --from=build /out/catalog-ingest /usr/local/bin/
ENV WB_HTTP_PORT=8082
EXPOSE 8082
ENTRYPOINT ["/usr/local/bin/catalog-ingest"]

FROM runtime AS stock-publisher
COPY --from=build /out/stock-publisher /usr/local/bin/
ENV WB_HTTP_PORT=8083
EXPOSE 8083
ENTRYPOINT ["/usr/local/bin/stock-publisher"]

FROM runtime AS fulfilment-reporter
COPY --from=build /out/fulfilment-reporter /usr/local/bin/
ENV WB_HTTP_PORT=8084
EXPOSE 8084
ENTRYPOINT ["/usr/local/bin/fulfilment-reporter"]

FROM runtime AS bridgectl
COPY --from=build /out/bridgectl /usr/local/bin/
ENTRYPOINT ["/usr/local/bin/bridgectl"]

FROM runtime AS shopsim
COPY --from=build /out/shopsim /usr/local/bin/
COPY sim/stores.example.json /etc/wmsbridge/stores.example.json
ENV WB_SHOPSIM_BIND=0.0.0.0 WB_SHOPSIM_PORT=8787
EXPOSE 8787
ENTRYPOINT ["/usr/local/bin/shopsim"]

FROM runtime AS wmssim
COPY --from=build /out/wmssim /usr/local/bin/
ENTRYPOINT ["/usr/local/bin/wmssim"]
