#!/usr/bin/env bash
# `make lint`: requirements.lock must be what `make lock` makes of pyproject.toml today, so that a
# dependency added to pyproject.toml without `make lock` fails here, not on someone's machine.
set -euo pipefail
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp requirements.lock "$tmp/requirements.lock"
"$bin/uv" pip compile pyproject.toml requirements-build.in --extra test \
  --generate-hashes --universal --python-version 3.11 --quiet -o "$tmp/requirements.lock"
# uv writes its own command line into the header: compare the pins and hashes only.
if ! diff -q <(grep -v '^#' requirements.lock) <(grep -v '^#' "$tmp/requirements.lock") >/dev/null; then
  echo "requirements.lock is out of date with pyproject.toml: run 'make lock' and commit it" >&2
  diff <(grep -v '^#' requirements.lock) <(grep -v '^#' "$tmp/requirements.lock") | head -20 >&2
  exit 1
fi
echo "requirements.lock matches pyproject.toml"
