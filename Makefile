# HCP: the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
CARGO ?= cargo
export NATS_URL ?= nats://127.0.0.1:4222

.PHONY: run test lint unit nats mqtt kafka pyasic pytools console chromium monitoring deploy-check bench build release fmt clean

## run: the platform on its embedded defaults: `hcp up` (event store, simulated fleet, agents, discovery,
## pricing, optimization, routing, execution, the gateway), built in release. The store is in the data
## directory (HCP_DATA_DIR, default ~/.local/share/hcp).
run: release console
	./target/release/hcp up

## release: the binaries, optimized (what `make run` starts).
release:
	$(CARGO) build --release -p hcp -p hcp-simulator -p hcp-agent

## build: the binaries, for the tests.
build:
	$(CARGO) build -p hcp -p hcp-simulator -p hcp-agent

## test: formatting, lints and every test, the JetStream suite against $(NATS_URL).
test: nats mqtt kafka pyasic pytools console chromium monitoring deploy-check lint unit

## console: the web console (React + TypeScript, Vite) built from its lock file into
## console/dist, which the gateway serves at `/` (needs Node.js and npm).
console:
	@scripts/ensure-console.sh

## monitoring: the Prometheus alert rules and configuration checked by promtool, and the
## rules' unit tests (infra/prometheus/tests).
monitoring:
	@scripts/check-monitoring.sh

## deploy-check: docker-compose.yml and infra/k8s validated without an engine or a cluster
## (Debian's docker-compose; kubernetes-validate, strict, against Kubernetes 1.30).
deploy-check:
	@scripts/check-compose.sh
	@scripts/check-k8s.sh

## chromium: Debian's Chromium, for the console's browser tests (playwright-core drives it).
chromium:
	@scripts/ensure-chromium.sh

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy -p hcp-proto --features grpc -- -D warnings
	$(CARGO) clippy -p hcp-agent --features nvml --all-targets -- -D warnings

unit: build
	@if command -v cargo-nextest >/dev/null; then \
	  $(CARGO) nextest run --workspace --no-fail-fast; \
	else \
	  $(CARGO) test --workspace --no-fail-fast; \
	fi

## mqtt: make sure an MQTT broker (Mosquitto) answers at 127.0.0.1:1883.
mqtt:
	@scripts/ensure-mosquitto.sh

## kafka: the Kafka-protocol broker the metering tests start (tansu 0.6.0 with its SQLite store,
## `cargo install`ed once); `scripts/ensure-tansu.sh` without `--install-only` also starts one on
## 127.0.0.1:KAFKA_PORT (default 9092) for `[metering.kafka]`.
kafka:
	@scripts/ensure-tansu.sh --install-only

## pyasic: the pinned pyasic in .venv-pyasic (the test that reads the simulated miners with it).
pyasic:
	@scripts/ensure-pyasic.sh

## pytools: the pinned schemathesis, mypy, standardwebhooks and aiosmtpd, each in its own venv (the tests that
## fuzz the gateway, type-check and run the Python SDK against it, check webhook signatures, and relay email).
pytools:
	@scripts/ensure-schemathesis.sh
	@scripts/ensure-mypy.sh
	@scripts/ensure-standardwebhooks.sh
	@scripts/ensure-aiosmtpd.sh

## nats: make sure a JetStream server answers at $(NATS_URL).
nats:
	@scripts/ensure-nats.sh

## bench: every benchmark, one `bench: <name> = <value> <unit>` line per figure.
# The store bench runs last: right after it, the fleet bench's list latency was 2-3x its
# figure alone (likely nats-server still deleting the store bench's large streams).
bench: nats kafka console chromium
	@scripts/ensure-wrk.sh
	$(CARGO) bench -p hcp-optimizer --bench economics
	$(CARGO) bench -p hcp-placement --bench placement
	$(CARGO) bench -p hcp-discovery --bench fleet
	$(CARGO) bench -p hcp --bench runtime
	$(CARGO) bench -p hcp --bench workloads
	$(CARGO) bench -p hcp-e2e --bench dispatch
	$(CARGO) bench -p hcp-e2e --bench miners
	$(CARGO) bench -p hcp-gateway --bench gateway
	$(CARGO) bench -p hcp-billing --bench books
	$(CARGO) bench -p hcp-metering --bench metering
	$(CARGO) bench -p hcp-notifications --bench webhooks
	$(CARGO) bench -p hcp-e2e --bench up
	$(CARGO) bench -p hcp-e2e --bench console
	$(CARGO) bench -p hcp --bench store

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
