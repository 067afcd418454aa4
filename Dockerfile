# syntax=docker/dockerfile:1
# The `hcp` image: the release binary and the web console, run as an unprivileged user.
# docker-compose.yml and infra/k8s run every service from it (`hcp serve <service>`).
#   docker build -t hcp .
# Three stages: the Rust build, the console build (Node), and a small Debian runtime with
# nothing in it but CA certificates (for https:// feeds, OTLP and OIDC issuers).

# The binary, from the lock file. The registry and target folders are BuildKit caches, so a
# rebuild after a source change compiles only what changed; the binary is copied out of the
# cached target folder in the same step, as the cache is not part of the image.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release -p hcp --locked \
    && cp target/release/hcp /usr/local/bin/hcp

# The console, from its lock file (as scripts/ensure-console.sh builds it): dependencies
# first, so that a source change does not reinstall them.
FROM node:20-bookworm-slim AS console
WORKDIR /console
COPY console/package.json console/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY console/ ./
RUN npm run build

FROM debian:bookworm-slim
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
# uid and gid 10001: no user of the base image has them, and infra/k8s runs as them.
RUN groupadd --system --gid 10001 hcp \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/hcp --shell /usr/sbin/nologin hcp \
    && install -d -o 10001 -g 10001 -m 0750 /var/lib/hcp
COPY --from=build /usr/local/bin/hcp /usr/local/bin/hcp
COPY --from=console /console/dist /usr/share/hcp/console
# State (the SQLite store when no NATS is set, caches, notification keys) lives in the
# data directory; the gateway serves the console from its build.
ENV HCP_DATA_DIR=/var/lib/hcp \
    HCP_GATEWAY__CONSOLE_DIR=/usr/share/hcp/console
VOLUME ["/var/lib/hcp"]
WORKDIR /var/lib/hcp
# gRPC 50051-50058 and HTTP 9471-9478, discovery to gateway (infra/hcp.example.toml).
EXPOSE 50051-50058 9471-9478
USER 10001:10001
ENTRYPOINT ["hcp"]
CMD ["--help"]
