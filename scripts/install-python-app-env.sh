#!/usr/bin/env bash
# Installs the Python side of the Python smoke test (test/package/python.test.ts), idempotent, keyed on the
# pinned versions:
#   .cache/python-app/venv: aws-cdk-lib and constructs from PyPI, plus the jsii Python runtime; the
#     test reinstalls only this library's wheel into it on each run.
#   .cache/python-app/build: the build-system requirements jsii-pacmak pins for Python packages
#     (setuptools, build), so the test builds the wheel from pacmak's generated sources without
#     pacmak creating and filling a fresh virtualenv on every run (that alone takes ~25 s).
set -euo pipefail
cd "$(dirname "$0")/.."

AWS_CDK_LIB_VERSION=2.275.0   # the newest aws-cdk-lib on PyPI
CONSTRUCTS_VERSION=10.8.1
JSII_RUNTIME_VERSION=1.142.0  # aws-cdk-lib 2.275.0 needs >= 1.142.0; the wheel asks >= 1.140.0
dir=.cache/python-app
stamp="$dir/venv/versions"
want="aws-cdk-lib==$AWS_CDK_LIB_VERSION constructs==$CONSTRUCTS_VERSION jsii==$JSII_RUNTIME_VERSION"
if [ ! -x "$dir/venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "installing $want into $dir/venv (needs Python 3)"
  rm -rf "$dir/venv"
  mkdir -p "$dir"
  python3 -m venv "$dir/venv"
  "$dir/venv/bin/pip" install --quiet --disable-pip-version-check $want
  echo "$want" > "$stamp"
fi
requirements=node_modules/jsii-pacmak/lib/targets/python/requirements-dev.txt
stamp="$dir/build/versions"
build_want=$(grep '# build-system' "$requirements" | sed 's/ *#.*//' | tr '\n' ' ')
if [ ! -x "$dir/build/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$build_want" ]; then
  echo "installing $build_want into $dir/build (jsii-pacmak's Python build requirements)"
  rm -rf "$dir/build"
  python3 -m venv "$dir/build"
  "$dir/build/bin/pip" install --quiet --disable-pip-version-check $build_want
  echo "$build_want" > "$stamp"
fi
echo "python build env ready in $dir/build: $build_want"
echo "python app env ready in $dir/venv: $want"
