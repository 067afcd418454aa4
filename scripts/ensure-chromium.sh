#!/usr/bin/env bash
# Debian's Chromium, which the console's browser tests drive with playwright-core (a test
# tool's own browser download cannot reach the network here). Idempotent: nothing happens
# when /usr/bin/chromium is there. CHROMIUM names another binary.
set -euo pipefail
if [ -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  exit 0
fi
echo "ensure-chromium: installing chromium (Debian package)" >&2
apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
