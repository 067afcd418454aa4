#!/usr/bin/env bash
# Makes sure pyasic (a widely used open-source miner client, pinned) is installed in a
# venv at $PYASIC_VENV (default .venv-pyasic in the repository), for the test that reads
# the simulated miners with it. Idempotent: nothing happens when the pinned version is
# there. Installs python3-venv (Debian) if venvs cannot be made.
set -euo pipefail

version="0.79.0"
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${PYASIC_VENV:-$root/.venv-pyasic}"

if [[ -x "$venv/bin/python" ]] && "$venv/bin/python" -c "import pyasic, importlib.metadata as m; assert m.version('pyasic') == '$version'" 2>/dev/null; then
  exit 0
fi
if ! python3 -m venv --help >/dev/null 2>&1; then
  echo "ensure-pyasic: installing python3-venv (Debian package)" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
fi
echo "ensure-pyasic: installing pyasic $version in $venv" >&2
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check "pyasic==$version"
