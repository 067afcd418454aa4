#!/usr/bin/env bash
# The Standard Webhooks reference implementation (the `standardwebhooks` package from
# PyPI), pinned, in $STANDARDWEBHOOKS_VENV (default .venv-standardwebhooks): the test
# that checks our webhook signatures with it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
exec "$root/scripts/ensure-venv.sh" "${STANDARDWEBHOOKS_VENV:-$root/.venv-standardwebhooks}" standardwebhooks 1.3.0
