# HCP: the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
CARGO ?= cargo
export NATS_URL ?= nats://127.0.0.1:4222

.PHONY: run test lint unit nats mqtt pyasic schemathesis bench build release fmt clean

## run: the platform on its embedded defaults: `hcp up` (event store, simulated fleet, agents, discovery,
## pricing, optimization). The store is in the data directory (HCP_DATA_DIR, default ~/.local/share/hcp).
run: build
	./target/debug/hcp up

build:
	$(CARGO) build -p hcp -p hcp-simulator -p hcp-agent

## test: formatting, lints and every test, the JetStream suite against $(NATS_URL).
test: nats mqtt pyasic schemathesis lint unit

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

## pyasic: the pinned pyasic in .venv-pyasic (the test that reads the simulated miners with it).
pyasic:
	@scripts/ensure-pyasic.sh

## schemathesis: the pinned schemathesis in .venv-schemathesis (the test that fuzzes the gateway with it).
schemathesis:
	@scripts/ensure-schemathesis.sh

## nats: make sure a JetStream server answers at $(NATS_URL).
nats:
	@scripts/ensure-nats.sh

## bench: every benchmark, one `bench: <name> = <value> <unit>` line per figure.
# The store bench runs last: right after it, the fleet bench's list latency was 2-3x its
# figure alone (likely nats-server still deleting the store bench's large streams).
bench: nats
	$(CARGO) bench -p hcp-optimizer --bench economics
	$(CARGO) bench -p hcp-placement --bench placement
	$(CARGO) bench -p hcp-discovery --bench fleet
	$(CARGO) bench -p hcp --bench runtime
	$(CARGO) bench -p hcp --bench workloads
	$(CARGO) bench -p hcp-e2e --bench dispatch
	$(CARGO) bench -p hcp-e2e --bench miners
	$(CARGO) bench -p hcp --bench store

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
