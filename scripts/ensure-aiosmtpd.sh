#!/usr/bin/env bash
# aiosmtpd (an SMTP server from PyPI), pinned, in $AIOSMTPD_VENV (default .venv-aiosmtpd):
# the test that sends email notifications starts one as the relay.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
exec "$root/scripts/ensure-venv.sh" "${AIOSMTPD_VENV:-$root/.venv-aiosmtpd}" aiosmtpd 1.4.6
