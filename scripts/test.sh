#!/usr/bin/env bash
# The whole test suite: prepares the environment, builds, type-checks, lints and runs every tier.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/test-env.sh
[ -d node_modules ] || npm ci
npm run build
npx tsc -p tsconfig.json --noEmit
npx eslint .
npx vitest run "$@"
