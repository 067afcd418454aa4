#!/usr/bin/env bash
# pyasic (a widely used open-source miner client), pinned, in $PYASIC_VENV (default
# .venv-pyasic), for the test that reads the simulated miners with it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
exec "$root/scripts/ensure-venv.sh" "${PYASIC_VENV:-$root/.venv-pyasic}" pyasic 0.79.0
