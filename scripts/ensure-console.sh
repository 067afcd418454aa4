#!/usr/bin/env bash
# The web console, built into console/dist from its lock file: `npm ci` when node_modules is
# missing or older than package-lock.json, then `npm run build` (type check, Vite, and the
# pre-compressed .br/.gz beside each asset) when any source is newer than the build.
# Idempotent and safe to run from several tests at once (a lock).
set -euo pipefail
cd "$(dirname "$0")/../console"
if ! command -v npm >/dev/null; then
  echo "ensure-console: npm (Node.js 20 or later) is required to build the console" >&2
  exit 1
fi
exec 9>.build.lock
flock 9
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "ensure-console: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
stale=0
if [ ! -f dist/index.html ]; then
  stale=1
elif [ -n "$(find src index.html package-lock.json vite.config.ts tsconfig.json scripts -newer dist/index.html -print -quit)" ]; then
  stale=1
fi
if [ "$stale" = 1 ]; then
  echo "ensure-console: building the console" >&2
  npm run --silent build >&2
fi
