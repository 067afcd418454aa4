#!/usr/bin/env bash
# mypy, pinned, in $MYPY_VENV (default .venv-mypy), for the test that type-checks the Python SDK.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
exec "$root/scripts/ensure-venv.sh" "${MYPY_VENV:-$root/.venv-mypy}" mypy 1.18.2
