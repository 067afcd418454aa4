#!/usr/bin/env bash
# Makes sure a public Python tool, pinned, is installed in its own venv:
#   scripts/ensure-venv.sh VENV_DIR PACKAGE VERSION
# Idempotent: nothing happens when the pinned version is there. Installs python3-venv
# (Debian) if venvs cannot be made. Used for pyasic (the miner client the simulator is
# checked with) and schemathesis (the API fuzzer the gateway is checked with).
set -euo pipefail

venv="$1"
package="$2"
version="$3"

if [[ -x "$venv/bin/python" ]] && "$venv/bin/python" -c "import importlib.metadata as m; assert m.version('$package') == '$version'" 2>/dev/null; then
  exit 0
fi
if ! python3 -m venv --help >/dev/null 2>&1; then
  echo "ensure-venv: installing python3-venv (Debian package)" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
fi
echo "ensure-venv: installing $package $version in $venv" >&2
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check "$package==$version"
