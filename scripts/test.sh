#!/usr/bin/env bash
# `npm test`: type-check, lint (eslint.config.mjs), build (bundle the handler, compile lib/ with
# jsii), install the emulators and the Python app's virtualenvs (idempotent), run every jest suite
# (unit, construct, openssl, cdk-nag, cfn-lint, emulator lifecycle, npm package and consumers, Python,
# Go and Java apps, API.md), and end with one line `N passed, N failed`.
set -uo pipefail
cd "$(dirname "$0")/.."

npx tsc --noEmit -p . || { echo "0 passed, 1 failed"; exit 1; }
npx eslint --max-warnings 0 . || { echo "0 passed, 1 failed"; exit 1; }
npm run --silent build || { echo "0 passed, 1 failed"; exit 1; }
bash scripts/install-emulators.sh || { echo "0 passed, 1 failed"; exit 1; }
bash scripts/install-python-app-env.sh || { echo "0 passed, 1 failed"; exit 1; }

summary=$(mktemp)
SUMMARY_FILE="$summary" npx jest "$@"
status=$?
# The summary reporter writes the line; repeat it last so it closes the output.
if [ -s "$summary" ]; then cat "$summary"; else echo "0 passed, 1 failed"; status=1; fi
rm -f "$summary"
exit $status
