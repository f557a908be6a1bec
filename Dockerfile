# Multi-stage build of apogee-gateway.
FROM rust:1.95-bookworm AS build
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends libssl-dev pkg-config && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cargo build --release --locked -p apogee-gateway

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl libssl3 && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /data gateway && mkdir -p /data && chown gateway /data
COPY --from=build /src/target/release/apogee-gateway /usr/local/bin/apogee-gateway
USER gateway
ENV APOGEE_BIND=0.0.0.0:8080 APOGEE_DATA_DIR=/data
EXPOSE 8080
VOLUME ["/data"]
ENTRYPOINT ["apogee-gateway"]
CMD ["serve"]
