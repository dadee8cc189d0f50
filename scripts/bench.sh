#!/usr/bin/env bash
# `npm run bench`: build the bundle, install the emulators, run the benchmark (bench/run.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
npm run --silent build
bash scripts/install-emulators.sh
npx ts-node --transpile-only bench/run.ts
