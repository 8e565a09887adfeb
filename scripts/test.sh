#!/usr/bin/env bash
# The whole test suite: prepares the environment, builds, type-checks, lints and runs every tier.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/test-env.sh
# Prometheus and promtool for the alert-rule tests and the discovery integration test.
bash deploy/prometheus/test-env.sh
[ -d node_modules ] || npm ci
npm run build
# The docker and autoscaler tests need a real Docker Engine, a registry, the offline-built images
# and network namespaces (netns-env.sh runs docker-env.sh)
# (the helper image packs dist/, so this runs after the build).
bash scripts/netns-env.sh
npx tsc -p tsconfig.json --noEmit
npx eslint .
# The fuzz tests' fixed seed (src/pipeline/pipeline-fuzz.test.ts, test/integration/api-fuzz.test.ts).
export FLOTILLA_FUZZ_SEED="${FLOTILLA_FUZZ_SEED:-20261205}"
npx vitest run "$@"
