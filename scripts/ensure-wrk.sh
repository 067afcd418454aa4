#!/usr/bin/env bash
# wrk (the HTTP load generator), from Debian's packages, for the gateway's benchmark.
# Idempotent: nothing happens when it is installed.
set -euo pipefail
if command -v wrk >/dev/null; then
  exit 0
fi
echo "ensure-wrk: installing wrk (Debian package)" >&2
apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
