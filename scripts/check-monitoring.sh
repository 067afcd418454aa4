#!/usr/bin/env bash
# The alert rules and the Prometheus configuration, checked by promtool (Debian's
# `prometheus` package, installed once), and the rules' unit tests run. That every metric
# the dashboards and rules use is exported is checked against a running `hcp up` by
# e2e/tests/console_cli.rs.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v promtool >/dev/null; then
  echo "check-monitoring: installing promtool (Debian package prometheus)" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
promtool check rules infra/prometheus/rules/*.yml
promtool check config --syntax-only infra/prometheus/prometheus.yml
promtool test rules infra/prometheus/tests/*.yml
