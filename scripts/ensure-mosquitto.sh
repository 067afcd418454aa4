#!/usr/bin/env bash
# Makes sure an MQTT broker answers at 127.0.0.1:${MQTT_PORT:-1883} (the demand-response
# tests publish utilities' signals to it): installs Debian's mosquitto if missing and
# starts it on loopback. Idempotent. Under CI=true a broker that cannot be started is a
# failure.
set -euo pipefail

port="${MQTT_PORT:-1883}"
answers() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

if answers; then
  exit 0
fi
if ! command -v mosquitto >/dev/null && [[ ! -x /usr/sbin/mosquitto ]]; then
  echo "ensure-mosquitto: installing mosquitto (Debian package)" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto >/dev/null
fi
bin="$(command -v mosquitto || echo /usr/sbin/mosquitto)"
conf="${TMPDIR:-/tmp}/hcp-mosquitto.conf"
printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$port" > "$conf"
echo "ensure-mosquitto: starting $bin on 127.0.0.1:$port" >&2
"$bin" -d -c "$conf"
for _ in $(seq 1 50); do
  answers && exit 0
  sleep 0.1
done
echo "ensure-mosquitto: mosquitto did not answer on 127.0.0.1:$port" >&2
exit 1
