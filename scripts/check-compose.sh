#!/usr/bin/env bash
# Validates docker-compose.yml without a Docker engine:
#   scripts/check-compose.sh [FILE]
# `docker-compose config` (Debian's docker-compose, installed if missing) checks the file
# against the Compose specification's schema (unknown keys, wrong types, services that
# depend on undefined ones, undefined volumes) and resolves it; then every file and folder
# it binds into a container, and the build context's Dockerfile, must exist (config itself
# does not look). FILE (default docker-compose.yml) lets a copy be checked; its relative
# paths are from the repository root. Idempotent: nothing is installed twice.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
file="$(realpath "${1:-$root/docker-compose.yml}")"

if ! command -v docker-compose >/dev/null; then
  echo "check-compose: installing docker-compose (Debian package)" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null
fi

# The file refuses to resolve without the agents' enrolment token; any value does here.
export HCP_ENROLMENT_TOKEN="${HCP_ENROLMENT_TOKEN:-validation-only-token}"
resolved="$(docker-compose --project-directory "$root" -f "$file" config)" || {
  echo "check-compose: $file is not a valid Compose file" >&2
  exit 1
}

missing=0
# Bind mounts resolve to absolute host paths ("- /abs/path:/in/container[:ro]"); named
# volumes do not start with "/".
while IFS= read -r source; do
  if [[ ! -e "$source" ]]; then
    echo "check-compose: $file binds $source, which does not exist" >&2
    missing=1
  fi
done < <(sed -n -E 's#^ *- (/[^:]+):/.*#\1#p' <<<"$resolved" | sort -u)
while IFS= read -r context; do
  if [[ ! -f "$context/Dockerfile" ]]; then
    echo "check-compose: $file builds $context, which has no Dockerfile" >&2
    missing=1
  fi
done < <(sed -n -E 's#^ +context: (.*)$#\1#p' <<<"$resolved" | sort -u)
if [[ $missing -ne 0 ]]; then
  exit 1
fi
services="$(docker-compose --project-directory "$root" -f "$file" config --services | wc -l)"
echo "check-compose: $(basename "$file") valid ($services services)"
