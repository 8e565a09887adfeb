#!/usr/bin/env bash
# The whole test suite: prepares the environment, builds, type-checks, lints and runs every tier.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/test-env.sh
[ -d node_modules ] || npm ci
npm run build
# The docker executor's tests need a real Docker Engine, a registry and the offline-built images
# (the helper image packs dist/, so this runs after the build).
bash scripts/docker-env.sh
npx tsc -p tsconfig.json --noEmit
npx eslint .
npx vitest run "$@"
