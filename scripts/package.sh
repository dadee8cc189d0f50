#!/usr/bin/env bash
# `npm run package`: build (handler bundle + jsii), then jsii-pacmak packages the assembly for every
# jsii language into dist/<lang>, the layout Construct Hub and projen's release workflows expect:
#   dist/js (npm tarball), dist/python (wheel + sdist), dist/java (Maven repository),
#   dist/go (Go module sources), dist/dotnet (NuGet package; only where the dotnet CLI is installed).
# Each language package embeds the npm tarball, so the handler bundle ships in all of them.
# Needs: python3 (pacmak builds the wheel in a fresh virtualenv, from PyPI), a JDK + Maven (Maven
# Central), Go (the Go proxy). Pass targets to package fewer: `npm run package -- js python`.
set -euo pipefail
cd "$(dirname "$0")/.."
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(js python java go)
  if command -v dotnet >/dev/null; then targets+=(dotnet); else echo "no dotnet CLI: skipping the .NET package (dist/dotnet)" >&2; fi
fi
npm run --silent build
rm -rf dist
npx jsii-pacmak --no-npmignore --targets "${targets[@]}"
# The Go module requires the peer ranges' floors, not the devDependencies pacmak read (the Java pom
# already takes the ranges): a Go user is not forced onto the newest aws-cdk-lib.
if [ -f dist/go/importedkmskey/go.mod ]; then node scripts/pin-go-module.mjs dist/go/importedkmskey; fi
ls -R dist | head -40
