#!/usr/bin/env bash
# Installs the third-party emulators the emulator tests use into .cache/emulators (idempotent):
#   local-kms (Go module proxy, pinned pseudo-version; the main package is the module root)
#   moto[server] (Secrets Manager) and cfn-lint (PyPI, pinned) in a Python virtualenv
#   localstack-core (PyPI, pinned, with scripts/localstack-constraints.txt) in a Python 3.13 virtualenv
#   ministack (PyPI, pinned, with cryptography and scripts/ministack-constraints.txt) in its own virtualenv
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
# LocalStack needs Python 3.13 (3.11 and 3.12 fail at import): take python3.13 from PATH, else from pyenv.
LOCALSTACK_VERSION=2026.3.0
stamp="$dir/localstack/versions"
want="localstack-core[base-runtime]==$LOCALSTACK_VERSION $(grep -v '^#' scripts/localstack-constraints.txt | tr '\n' ' ')"
if [ ! -x "$dir/localstack/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  python313=$(command -v python3.13 || true)
  if [ -z "$python313" ] || ! "$python313" --version >/dev/null 2>&1; then
    pyenv_root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
    python313=$(ls -d "$pyenv_root"/versions/3.13*/bin/python3.13 2>/dev/null | sort -V | tail -n 1 || true)
  fi
  if [ -z "$python313" ]; then
    echo "LocalStack (localstack-core $LOCALSTACK_VERSION) needs Python 3.13, and none was found on PATH (python3.13) or under pyenv: install Python 3.13" >&2
    exit 1
  fi
  echo "installing localstack-core $LOCALSTACK_VERSION with $python313"
  rm -rf "$dir/localstack"
  "$python313" -m venv "$dir/localstack"
  "$dir/localstack/bin/pip" install --quiet --disable-pip-version-check -c scripts/localstack-constraints.txt \
    "localstack-core[base-runtime]==$LOCALSTACK_VERSION" service-identity
  echo "$want" > "$stamp"
fi
# MiniStack (CloudFormation with Lambda-backed custom resources run as local processes, test/deploy).
# cryptography is one of its optional extras; its KMS needs it for GetParametersForImport.
MINISTACK_VERSION=1.5.33
stamp="$dir/ministack/versions"
want="ministack==$MINISTACK_VERSION cryptography $(grep -v '^#' scripts/ministack-constraints.txt | tr '\n' ' ')"
if [ ! -x "$dir/ministack/bin/ministack" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "installing ministack $MINISTACK_VERSION (needs Python >= 3.10)"
  rm -rf "$dir/ministack"
  python3 -m venv "$dir/ministack"
  "$dir/ministack/bin/pip" install --quiet --disable-pip-version-check -c scripts/ministack-constraints.txt \
    "ministack==$MINISTACK_VERSION" cryptography
  echo "$want" > "$stamp"
fi
echo "emulators ready in $dir: local-kms $LOCAL_KMS_VERSION, moto $MOTO_VERSION, cfn-lint $CFN_LINT_VERSION, localstack-core $LOCALSTACK_VERSION, ministack $MINISTACK_VERSION"
