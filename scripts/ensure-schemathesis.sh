#!/usr/bin/env bash
# schemathesis (the OpenAPI fuzzer), pinned, in $SCHEMATHESIS_VENV (default
# .venv-schemathesis), for the test that runs it against the gateway of a live `hcp up`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
exec "$root/scripts/ensure-venv.sh" "${SCHEMATHESIS_VENV:-$root/.venv-schemathesis}" schemathesis 4.32.5
