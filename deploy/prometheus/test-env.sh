#!/usr/bin/env bash
# Installs Prometheus and promtool (Debian's `prometheus` package) for the observability tests,
# idempotently. The package's service is not started: the tests run their own instance.
set -euo pipefail

if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
  exit 0
fi
printf '[prometheus-env] installing prometheus (prometheus, promtool)\n'
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1
