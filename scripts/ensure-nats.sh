#!/usr/bin/env bash
# Makes sure a NATS server with JetStream answers at $NATS_URL (default
# nats://127.0.0.1:4222): installs Debian's nats-server if missing and starts it.
# Idempotent. Under CI=true a server that cannot be started is a failure.
set -euo pipefail

url="${NATS_URL:-nats://127.0.0.1:4222}"
hostport="${url#*://}"
host="${hostport%:*}"
port="${hostport##*:}"

answers() { (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; }

if answers; then
  exit 0
fi
if [[ "$host" != "127.0.0.1" && "$host" != "localhost" ]]; then
  echo "ensure-nats: nothing answers at $url and it is not local; start it there" >&2
  exit 1
fi
if ! command -v nats-server >/dev/null && [[ ! -x /usr/sbin/nats-server ]]; then
  echo "ensure-nats: installing nats-server (Debian package)" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server >/dev/null
fi
bin="$(command -v nats-server || echo /usr/sbin/nats-server)"
store="${NATS_STORE_DIR:-/var/lib/nats-server}"
log="${NATS_LOG:-/var/log/nats-server.log}"
mkdir -p "$store" "$(dirname "$log")"
echo "ensure-nats: starting $bin on $host:$port (JetStream in $store)" >&2
if command -v start-stop-daemon >/dev/null; then
  start-stop-daemon --start --oknodo --background --exec "$bin" -- -a "$host" -p "$port" -js -sd "$store" -l "$log"
else
  nohup "$bin" -a "$host" -p "$port" -js -sd "$store" -l "$log" >/dev/null 2>&1 &
fi
for _ in $(seq 1 50); do
  if answers; then
    exit 0
  fi
  sleep 0.2
done
echo "ensure-nats: nats-server did not come up at $url; see $log" >&2
exit 1
