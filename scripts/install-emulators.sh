#!/usr/bin/env bash
# Installs the third-party emulators the emulator tests use into .cache/emulators (idempotent):
#   local-kms (Go module proxy, pinned pseudo-version; the main package is the module root)
#   moto[server] (Secrets Manager) and cfn-lint (PyPI, pinned) in a Python virtualenv
set -euo pipefail
cd "$(dirname "$0")/.."

LOCAL_KMS_VERSION=v0.0.0-20260228092603-2a5e92d09ab6
MOTO_VERSION=5.2.5
CFN_LINT_VERSION=1.58.0
dir=.cache/emulators
mkdir -p "$dir/bin"

stamp="$dir/bin/local-kms.version"
if [ ! -x "$dir/bin/local-kms" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$LOCAL_KMS_VERSION" ]; then
  echo "installing local-kms $LOCAL_KMS_VERSION (needs Go)"
  GOBIN="$PWD/$dir/bin" GOFLAGS=-mod=mod go install "github.com/nsmithuk/local-kms@$LOCAL_KMS_VERSION"
  echo "$LOCAL_KMS_VERSION" > "$stamp"
fi

stamp="$dir/venv/versions"
want="moto[server]==$MOTO_VERSION cfn-lint==$CFN_LINT_VERSION"
if [ ! -x "$dir/venv/bin/moto_server" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "installing $want (needs Python 3)"
  python3 -m venv "$dir/venv"
  "$dir/venv/bin/pip" install --quiet --disable-pip-version-check $want
  echo "$want" > "$stamp"
fi
echo "emulators ready in $dir: local-kms $LOCAL_KMS_VERSION, moto $MOTO_VERSION, cfn-lint $CFN_LINT_VERSION"
