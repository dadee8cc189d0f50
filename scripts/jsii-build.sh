#!/usr/bin/env bash
# Compiles lib/ with jsii into build/ (JS + typings) and the .jsii assembly (the public API every
# jsii language reads). jsii writes its compiler settings to tsconfig.jsii.json (generated, git-ignored)
# so the repo's own tsconfig.json (tests, lambda, bench, example) stays untouched. Any jsii warning fails.
set -euo pipefail
cd "$(dirname "$0")/.."
# Silenced, on purpose: JSII6 asks for devDependencies pinned to the peer ranges' floors. The repo
# develops and tests against the newest aws-cdk-lib (devDependencies); the floors (peerDependencies)
# are proven by test/package/package.test.ts, which installs the packed library with both.
# Node 20 is past end-of-life: jsii says so on every run; that is not a compiler warning.
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1 JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
npx jsii --fail-on-warnings --generate-tsconfig tsconfig.jsii.json --silence-warnings metadata/missing-dev-dependency "$@"
