#!/usr/bin/env bash
# Makes sure a Kafka-protocol broker answers at 127.0.0.1:${KAFKA_PORT:-9092} (metering
# publishes usage records to it): installs the `tansu` broker from crates.io once (with
# its SQLite storage engine; the default features store nothing) and starts it from its
# data directory. Idempotent: nothing is installed when tansu 0.6.0 is on PATH, and
# nothing is started when the port answers. Under CI=true a broker that cannot be started
# is a failure. `ensure-tansu.sh --install-only` installs and starts nothing.
set -euo pipefail

version=0.6.0
port="${KAFKA_PORT:-9092}"
data="${TANSU_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/hcp-tansu}"
log="${TANSU_LOG:-$data/tansu.log}"
bin_dir="${CARGO_HOME:-$HOME/.cargo}/bin"
export PATH="$bin_dir:$PATH"

installed() { command -v tansu >/dev/null && tansu --version 2>/dev/null | grep -q "$version"; }
answers() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

if ! installed; then
  # One install at a time: tests run in parallel each call this script, and two
  # `cargo install`s at once build tansu twice on the same cores.
  mkdir -p "$data"
  exec 9>"$data/install.lock"
  flock 9
  if ! installed; then
    echo "ensure-tansu: installing tansu $version from crates.io (once; a few minutes)" >&2
    cargo install tansu --version "$version" --locked --features dynostore,libsql --quiet
  fi
  flock -u 9
fi
if [[ "${1:-}" == "--install-only" ]] || answers; then
  exit 0
fi
mkdir -p "$data"
echo "ensure-tansu: starting tansu on 127.0.0.1:$port (SQLite store in $data)" >&2
(
  cd "$data"
  nohup tansu broker \
    --listener-url "tcp://127.0.0.1:$port" \
    --advertised-listener-url "tcp://127.0.0.1:$port" \
    --storage-engine "sqlite://tansu.db" >"$log" 2>&1 &
)
for _ in $(seq 1 100); do
  answers && exit 0
  sleep 0.1
done
echo "ensure-tansu: tansu did not answer on 127.0.0.1:$port; see $log" >&2
exit 1
